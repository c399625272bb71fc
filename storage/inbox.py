"""Keys of Slack requests already handled, written in the same transaction as the effect."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, delete

from storage.insert import insert_ignore
from storage.models import SlackInbox


def remember(*, session: Session, key: str, now: datetime) -> bool:
    """Record ``key``; ``False`` when it was already there (a retry or a replay)."""
    return insert_ignore(session, SlackInbox, {"key": key[:255], "received_at": now}) is not None


def forget_before(*, session: Session, cutoff: datetime) -> int:
    result = session.exec(delete(SlackInbox).where(col(SlackInbox.received_at) < cutoff))
    return int(result.rowcount or 0)
