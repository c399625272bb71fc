"""Saved replies as stored: reads, writes, the audit log and the uses summaries count."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.answering.tables import SavedReply, SavedReplyChange, SavedReplyUse
from storage.insert import insert_ignore


def active(*, session: Session) -> list[SavedReply]:
    query = select(SavedReply).where(col(SavedReply.active)).order_by(col(SavedReply.title))
    return list(session.exec(query.order_by(col(SavedReply.id))))


def get(*, session: Session, reply_id: int) -> SavedReply | None:
    return session.get(SavedReply, reply_id)


def put(
    *, session: Session, values: dict[str, Any], now: datetime, row: SavedReply | None
) -> SavedReply:
    if row is None:
        row = SavedReply(**values, updated_at=now)
    else:
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = now
    session.add(row)
    session.flush()
    return row


def retire(*, session: Session, row: SavedReply, now: datetime) -> None:
    row.active = False
    row.updated_at = now
    session.add(row)
    session.flush()


def record(
    *,
    session: Session,
    reply_id: int,
    title: str,
    action: str,
    actor: str | None,
    at: datetime,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    session.add(
        SavedReplyChange(
            reply_id=reply_id,
            title=title[:75],
            action=action,
            actor=actor,
            at=at,
            before=before,
            after=after,
        )
    )


def history(*, session: Session, limit: int = 20) -> list[SavedReplyChange]:
    query = select(SavedReplyChange).order_by(col(SavedReplyChange.id).desc()).limit(limit)
    return list(session.exec(query))


def record_use(
    *,
    session: Session,
    reply_id: int,
    mention_id: int,
    department: str | None,
    user_id: str,
    at: datetime,
) -> None:
    """Once per (mention, reply): a retried submission or a second draft counts once."""
    insert_ignore(
        session,
        SavedReplyUse,
        {
            "reply_id": reply_id,
            "mention_id": mention_id,
            "department": department,
            "user_id": user_id,
            "at": at,
        },
    )


def use_counts(*, session: Session, since: datetime | None = None) -> dict[int, int]:
    """Uses per saved reply (all time, or since ``since``): a tie-break for the fit."""
    query = select(SavedReplyUse.reply_id, func.count()).group_by(col(SavedReplyUse.reply_id))
    if since is not None:
        query = query.where(col(SavedReplyUse.at) >= since)
    return {int(reply): int(n) for reply, n in session.exec(query)}


def most_used(
    *,
    session: Session,
    start: datetime,
    end: datetime,
    department: str | None,
    limit: int = 3,
) -> list[tuple[str, int]]:
    """The saved replies used most in ``[start, end)``, by title (``department`` None: all)."""
    uses = func.count(col(SavedReplyUse.id)).label("uses")
    query = (
        select(SavedReply.title, uses)
        .join(SavedReply, col(SavedReply.id) == col(SavedReplyUse.reply_id))
        .where(col(SavedReplyUse.at) >= start, col(SavedReplyUse.at) < end)
        .group_by(col(SavedReply.id), col(SavedReply.title))
        .order_by(uses.desc(), col(SavedReply.title))
        .limit(limit)
    )
    if department is not None:
        query = query.where(col(SavedReplyUse.department) == department)
    return [(str(title), int(n)) for title, n in session.exec(query)]
