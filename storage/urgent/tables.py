"""The urgent lane's tables.

``UrgentMention`` is the paging state of one urgent mention: which stage of the ladder is next
and when, and who acknowledged or downgraded it. ``UrgentPage`` is one row per (mention,
stage), ever, like ``Nudge``: its unique key, not an application check, decides that a stage
is paged once, whatever the restarts or replicas. ``OnCallSwap`` is a swap made with
``/engage oncall swap``: someone else is on call for a department for a while.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def _utc(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class UrgentMention(SQLModel, table=True):
    __tablename__ = "urgent_mention"

    mention_id: int = Field(primary_key=True, foreign_key="mention.id")
    department: str | None = Field(default=None, max_length=64)
    reason: str = ""
    detected_at: datetime = _utc()
    next_stage: int = 0  # the index of the next stage in the department's ladder
    next_at: datetime | None = _utc(default=None, index=True)  # None: nothing more to page
    acknowledged_by: str | None = Field(default=None, max_length=32)
    acknowledged_at: datetime | None = _utc(default=None)
    downgraded_by: str | None = Field(default=None, max_length=32)
    downgraded_at: datetime | None = _utc(default=None)


class UrgentPage(SQLModel, table=True):
    __tablename__ = "urgent_page"
    __table_args__ = (UniqueConstraint("mention_id", "stage", name="uq_urgent_page_stage"),)

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mention.id", index=True)
    stage: str = Field(max_length=32)
    targets: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    sent_at: datetime = _utc()


class OnCallSwap(SQLModel, table=True):
    __tablename__ = "oncall_swap"

    id: int | None = Field(default=None, primary_key=True)
    department: str = Field(max_length=64, index=True)
    user_id: str = Field(max_length=32)
    starts: datetime = _utc()
    until: datetime = _utc()
    by: str = Field(max_length=32)
    at: datetime = _utc()
