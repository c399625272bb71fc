"""The answering tables: saved replies (with their audit log and their uses) and approvals.

A retired saved reply keeps its row (``active`` false): its uses still count in summaries and
its history still reads. An approval is one answer to a *handle with care* mention, held for
the comms team; its ``status`` moves only forward (pending, then approved, sent back or void),
by conditional updates, so two comms members clicking at once decide it once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class SavedReply(SQLModel, table=True):
    __tablename__ = "saved_reply"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=75)
    text: str = Field(sa_type=Text)
    department: str | None = Field(default=None, max_length=64, index=True)  # None: city-wide
    language: str | None = Field(default=None, max_length=16)  # None: any language
    keywords: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    updated_at: datetime = Field(sa_type=UTCDateTime)


class SavedReplyChange(SQLModel, table=True):
    """The saved replies' audit log, shaped as the rules' (``RuleChange``). Append-only."""

    __tablename__ = "saved_reply_change"

    id: int | None = Field(default=None, primary_key=True)
    reply_id: int = Field(index=True)
    title: str = Field(max_length=75)
    action: str = Field(max_length=32)  # added, edited, retired
    actor: str | None = None
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class SavedReplyUse(SQLModel, table=True):
    """A saved reply an answer started from (once per mention and reply), for summaries."""

    __tablename__ = "saved_reply_use"
    __table_args__ = (UniqueConstraint("mention_id", "reply_id", name="uq_saved_reply_use"),)

    id: int | None = Field(default=None, primary_key=True)
    reply_id: int = Field(index=True)
    mention_id: int = Field(foreign_key="mention.id")
    department: str | None = Field(default=None, max_length=64)
    user_id: str = Field(max_length=32)
    at: datetime = Field(sa_type=UTCDateTime, index=True)


class ApprovalStatus:
    PENDING = "pending"
    APPROVED = "approved"
    SENT_BACK = "sent_back"
    VOID = "void"  # approved, but the mention could no longer be answered (closed meanwhile)


class Approval(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mention.id", index=True)
    author: str = Field(max_length=32)  # who wrote the answer
    text: str = Field(sa_type=Text)
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    saved_reply_id: int | None = None
    status: str = Field(default=ApprovalStatus.PENDING, max_length=16, index=True)
    channel_id: str = Field(max_length=32)  # where the draft card is
    decided_by: str | None = Field(default=None, max_length=32)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    note: str | None = Field(default=None, sa_type=Text)  # why it was sent back, or void
    created_at: datetime = Field(sa_type=UTCDateTime)
