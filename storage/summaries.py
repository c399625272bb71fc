"""The reads behind a summary: a period's mentions with their timings, backlog and nudges.

Each is one query bounded by the period through the indexes on ``received_at`` (per
department or city-wide) and ``event(kind, at)``; nothing scans the whole history.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from storage.models import OPEN_STATUSES, Event, EventKind, Mention


@dataclass(frozen=True)
class MentionRow:
    id: int
    source: str
    department: str | None
    received_at: datetime
    status: str
    first_claimed_at: datetime | None
    answered_at: datetime | None
    answered_by: str | None
    handed_over: bool
    text: str


def _in(department: str | None, everywhere: bool) -> Any:
    if everywhere:
        return True
    if department is None:
        return col(Mention.department).is_(None)
    return col(Mention.department) == department


def mentions_in(
    *,
    session: Session,
    department: str | None,
    start: datetime,
    end: datetime,
    everywhere: bool = False,
) -> list[MentionRow]:
    """Mentions that matter to [start, end), with their first claim and any hand-over."""
    # What a period's figures need: what arrived in it, what was answered in it (older ones
    # too), and what is still open (the backlog at its end).
    in_period = (
        _in(department, everywhere),
        col(Mention.received_at) < end,
        or_(
            col(Mention.received_at) >= start,
            col(Mention.answered_at) >= start,
            col(Mention.status).in_(OPEN_STATUSES),
        ),
    )
    ids = select(Mention.id).where(*in_period)
    claimed = (
        select(col(Event.mention_id).label("mention_id"), func.min(Event.at).label("first"))
        .where(col(Event.kind) == EventKind.CLAIMED.value, col(Event.mention_id).in_(ids))
        .group_by(col(Event.mention_id))
        .subquery()
    )
    moved = aliased(Event)
    handed = exists().where(
        col(moved.mention_id) == col(Mention.id), col(moved.kind) == EventKind.HANDED_OVER.value
    )
    # Plain columns, not ORM objects: a city-wide month is tens of thousands of rows.
    query = (
        sa_select(
            col(Mention.id),
            col(Mention.source),
            col(Mention.department),
            col(Mention.received_at),
            col(Mention.status),
            claimed.c.first,
            col(Mention.answered_at),
            col(Mention.answered_by),
            handed,
            col(Mention.text),
        )
        .outerjoin(claimed, claimed.c.mention_id == col(Mention.id))
        .where(*in_period)
        .order_by(col(Mention.received_at))
    )
    rows = [
        MentionRow(
            id=int(r[0]),
            source=r[1],
            department=r[2],
            received_at=r[3],
            status=r[4],
            first_claimed_at=_aware(r[5]),
            answered_at=r[6],
            answered_by=r[7],
            handed_over=bool(r[8]),
            text=r[9],
        )
        for r in session.execute(query)
    ]
    return rows


def backlog(
    *, session: Session, department: str | None, everywhere: bool = False
) -> tuple[int, datetime | None]:
    """Open mentions now and when the oldest of them arrived."""
    query = select(func.count(), func.min(Mention.received_at)).where(
        _in(department, everywhere), col(Mention.status).in_(OPEN_STATUSES)
    )
    count, oldest = session.exec(query).one()
    return int(count), _aware(oldest)


def nudge_counts(
    *,
    session: Session,
    department: str | None,
    start: datetime,
    end: datetime,
    everywhere: bool = False,
) -> tuple[int, int]:
    """Reminders and escalations sent in [start, end)."""
    query = (
        select(Event.kind, func.count())
        .join(Mention, col(Mention.id) == col(Event.mention_id))
        .where(
            col(Event.kind).in_([EventKind.NUDGED.value, EventKind.ESCALATED.value]),
            and_(col(Event.at) >= start, col(Event.at) < end),
            _in(department, everywhere),
        )
        .group_by(Event.kind)
    )
    counts = {kind: int(n) for kind, n in session.exec(query)}
    return counts.get(EventKind.NUDGED.value, 0), counts.get(EventKind.ESCALATED.value, 0)


def events_in(*, session: Session, mention_ids: Collection[int]) -> list[Event]:
    """Every event of these mentions (for the export)."""
    if not mention_ids:
        return []
    query = select(Event).where(col(Event.mention_id).in_(list(mention_ids)))
    return list(session.exec(query.order_by(col(Event.id))))


def _aware(value: Any) -> datetime | None:
    # Aggregates bypass the column type on SQLite: they come back naive, or as text.
    if value is None:
        return None
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(when, datetime)
    return when if when.tzinfo else when.replace(tzinfo=UTC)
