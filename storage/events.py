"""The append-only event log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from storage.models import Event


def record(
    *,
    session: Session,
    mention_id: int | None,
    kind: str,
    at: datetime,
    actor: str | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    event = Event(mention_id=mention_id, kind=kind, actor=actor, at=at, data=data or {})
    session.add(event)
    return event


def for_mention(*, session: Session, mention_id: int) -> list[Event]:
    query = select(Event).where(Event.mention_id == mention_id).order_by(col(Event.id))
    return list(session.exec(query))


def of_kind_since(*, session: Session, mention_id: int, kind: str, since: datetime) -> list[Event]:
    query = (
        select(Event)
        .where(Event.mention_id == mention_id, Event.kind == kind, col(Event.at) >= since)
        .order_by(col(Event.id))
    )
    return list(session.exec(query))
