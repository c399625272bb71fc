"""Clicks acked before they are decided: each is kept here until a worker applies it.

Claim and release are what staff click most, and all at once on a busy morning. Deciding one
takes about six statements, and Slack waits for the ack meanwhile; so the ack path only writes
the click here (many clicks in one ``INSERT`` and one commit, :mod:`bot.claims.click_queue`)
and a worker decides each row in order, in the transaction that deletes it. Slack's ack thus
still follows a commit: the click is durable, and what it decides follows from it alone, so a
retry (same key, refused by the unique index) and a restart (the rows are still here) are
harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Text, bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, SQLModel

from storage.db import session_scope
from storage.types import UTCDateTime


class ClickRequest(SQLModel, table=True):
    __tablename__ = "click_request"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=255, unique=True)  # the request's key (a retry has the same)
    action: str = Field(max_length=16)  # "claim" or "release"
    mention_id: int
    user_id: str = Field(sa_type=Text)
    channel_id: str = Field(sa_type=Text)
    received_at: datetime = Field(sa_type=UTCDateTime)


@dataclass(frozen=True)
class Pending:
    id: int
    key: str
    action: str
    mention_id: int
    user_id: str
    channel_id: str


def accept(*, engine: Engine, rows: list[dict[str, Any]]) -> None:
    """Keep ``rows`` (dicts of the columns but ``id``), in one statement and one commit; a row
    whose key is already here is a retry, and is left out."""
    table = ClickRequest.__table__  # type: ignore[attr-defined]
    build = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    with session_scope(engine, first=True) as session:  # Slack is waiting: ahead of the rest
        session.connection().execute(build(table).on_conflict_do_nothing(), rows)


def pending(*, engine: Engine, limit: int, after: int = 0) -> list[Pending]:
    """The oldest clicks not yet applied, in the order they were kept."""
    table = ClickRequest.__table__  # type: ignore[attr-defined]
    c = table.c
    query = (
        select(c.id, c.key, c.action, c.mention_id, c.user_id, c.channel_id)
        .where(c.id > after)
        .order_by(c.id)
        .limit(limit)
    )
    with engine.connect() as conn:
        return [Pending(*row) for row in conn.execute(query)]


def take(conn: Connection, click_id: int) -> bool:
    """Delete the row in the caller's transaction: ``False`` if it was applied already."""
    return conn.execute(_TAKE, {"b_id": click_id}).first() is not None


def drop(*, engine: Engine, click_id: int) -> None:
    """Give up on a row that cannot be applied (logged by the caller)."""
    with session_scope(engine) as session:
        session.connection().execute(_TAKE, {"b_id": click_id})


_TAKE = (
    delete(ClickRequest.__table__)  # type: ignore[attr-defined]
    .where(ClickRequest.__table__.c.id == bindparam("b_id"))  # type: ignore[attr-defined]
    .returning(ClickRequest.__table__.c.id)  # type: ignore[attr-defined]
)
