"""A period's mentions row by row, the backlog, nudges sent, and events (for the export).

Each is one query bounded by the period through the indexes on ``received_at`` (per
department or city-wide), ``answered_at`` and ``event(kind, at)``; nothing scans the whole
history. The predicates here (:func:`in_scope`, :func:`matters_to`, :func:`handed_over`) are
also what :mod:`storage.summaries.totals` aggregates over, so a row-by-row read and a total
always cover the same mentions.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, exists, func, literal, or_, outerjoin
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
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
    claim_office_us: int | None = None  # see Mention: measured when claimed, else None
    answer_office_us: int | None = None


def in_scope(department: str | None, everywhere: bool) -> Any:
    """One department's mentions (None: triage's), or with ``everywhere`` the whole city's."""
    if everywhere:
        return True
    if department is None:
        return col(Mention.department).is_(None)
    return col(Mention.department) == department


def matters_to(scope: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    """Mentions in ``scope`` (an :func:`in_scope`) that a period's figures need: what arrived
    in it, what was answered in it (older ones too), and what is still open (the backlog at its
    end). Each of the three has an index with the department in front (arrival, answer,
    status), so a department's month reads that month's rows, not its whole year."""
    return and_(
        scope,
        col(Mention.received_at) < end,
        or_(
            col(Mention.received_at) >= start,
            col(Mention.answered_at) >= start,
            col(Mention.status).in_(OPEN_STATUSES),
        ),
    )


def handed_over() -> ColumnElement[bool]:
    """Whether the mention was ever handed over (the summaries' ``handed_over`` fact)."""
    moved = aliased(Event)
    return exists().where(
        col(moved.mention_id) == col(Mention.id), col(moved.kind) == EventKind.HANDED_OVER.value
    )


def joined(moved: Any) -> Any:
    """Mentions, each with its row of ``moved`` (a :func:`handed_over_ids`) or none."""
    return outerjoin(Mention, moved, moved.c.mention_id == col(Mention.id))


def handed_over_ids() -> Any:
    """The mentions ever handed over, to join once where :func:`handed_over` would be asked
    many times per row (each mention of an ``EXISTS`` is evaluated on its own)."""
    return (
        sa_select(col(Event.mention_id).label("mention_id"))
        .where(col(Event.kind) == EventKind.HANDED_OVER.value)
        .distinct()
        .subquery("moved")
    )


def mentions_in(
    *,
    session: Session,
    department: str | None,
    start: datetime,
    end: datetime,
    everywhere: bool = False,
) -> list[MentionRow]:
    """Mentions that matter to [start, end), with their first claim and any hand-over."""
    return rows_where(session, matters_to(in_scope(department, everywhere), start, end))


def rows_where(
    session: Session, *conditions: Any, moved: Any = None, texts: bool = True
) -> list[MentionRow]:
    """The mentions meeting ``conditions``, in order of arrival; ``moved``, a
    :func:`handed_over_ids` the conditions use, is joined to them. Without ``texts`` each
    ``text`` is left empty, which spares reading them."""
    handed = handed_over() if moved is None else moved.c.mention_id.is_not(None)
    # Plain columns, not ORM objects: a city-wide month is tens of thousands of rows.
    query = (
        sa_select(
            col(Mention.id),
            col(Mention.source),
            col(Mention.department),
            col(Mention.received_at),
            col(Mention.status),
            col(Mention.first_claimed_at),
            col(Mention.answered_at),
            col(Mention.answered_by),
            handed,
            col(Mention.text) if texts else literal(""),
            col(Mention.claim_office_us),
            col(Mention.answer_office_us),
        )
        .where(*conditions)
        .order_by(col(Mention.received_at))
    )
    if moved is not None:
        query = query.select_from(joined(moved))
    return [
        MentionRow(
            id=int(r[0]),
            source=r[1],
            department=r[2],
            received_at=r[3],
            status=r[4],
            first_claimed_at=r[5],
            answered_at=r[6],
            answered_by=r[7],
            handed_over=bool(r[8]),
            text=r[9],
            claim_office_us=r[10],
            answer_office_us=r[11],
        )
        for r in session.execute(query)
    ]


def backlog(
    *, session: Session, department: str | None, everywhere: bool = False
) -> tuple[int, datetime | None]:
    """Open mentions now and when the oldest of them arrived."""
    query = select(func.count(), func.min(Mention.received_at)).where(
        in_scope(department, everywhere), col(Mention.status).in_(OPEN_STATUSES)
    )
    count, oldest = session.exec(query).one()
    return int(count), aware(oldest)


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
            in_scope(department, everywhere),
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


def aware(value: Any) -> datetime | None:
    """An aggregate's datetime as aware UTC: aggregates bypass the column type on SQLite, so
    they come back naive, or as text."""
    if value is None:
        return None
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(when, datetime)
    return when if when.tzinfo else when.replace(tzinfo=UTC)
