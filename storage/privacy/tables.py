"""The privacy tables: an audit log of data requests, and a log of retention purges.

Neither holds personal data: a request names its subject only by a keyed hash (the same
person asking again gives the same hash), and a purge records counts and cut-off times.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class PrivacyRequest(SQLModel, table=True):
    """One citizen's data request (export or erase), asked or refused: append-only."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    action: str = Field(max_length=16)  # export, erase
    actor: str = Field(max_length=64)  # a Slack user id, or "cli:<login>"
    subject_hash: str = Field(max_length=64, index=True)
    outcome: str = Field(max_length=16)  # done, refused, nothing (no data found), asked
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class PurgeRun(SQLModel, table=True):
    """One run of the retention purge: its cut-off times and how much it removed."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=64)  # "schedule", or "cli:<login>"
    cutoffs: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
