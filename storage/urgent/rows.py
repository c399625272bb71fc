"""Reads and atomic writes of the urgent lane.

Every change of a paging state is one conditional ``UPDATE`` (acknowledge only what nobody
acknowledged, advance only from the stage read), so two replicas or a double click act once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.insert import insert_ignore
from storage.models import Event, EventKind, Mention
from storage.urgent.tables import OnCallSwap, UrgentMention, UrgentPage


def adopt(*, session: Session, since: datetime) -> int:
    """A paging state for each mention marked urgent at ingest since ``since`` that has none.

    Ingest records the ``urgent`` event in the mention's own transaction; this turns it into a
    schedule the sweep works through (paged at once: ``next_at`` is when it was marked).
    """
    query = (
        select(Event.mention_id, Event.at, Event.data, Mention.department)
        .join(Mention, col(Mention.id) == col(Event.mention_id))
        .outerjoin(UrgentMention, col(UrgentMention.mention_id) == col(Event.mention_id))
        .where(
            col(Event.kind) == EventKind.URGENT.value,
            col(Event.at) >= since,
            col(UrgentMention.mention_id).is_(None),
        )
    )
    adopted = 0
    for mention_id, at, data, department in session.exec(query).all():
        row = {
            "mention_id": mention_id,
            "department": department,
            "reason": str((data or {}).get("reason") or "")[:500],
            "detected_at": at,
            "next_stage": 0,
            "next_at": at,
        }
        if insert_ignore(session, UrgentMention, row) is not None:
            adopted += 1
    return adopted


def due(*, session: Session, now: datetime, limit: int = 200) -> list[UrgentMention]:
    query = (
        select(UrgentMention)
        .where(col(UrgentMention.next_at).is_not(None), col(UrgentMention.next_at) <= now)
        .order_by(col(UrgentMention.next_at))
        .limit(limit)
    )
    return list(session.exec(query).all())


def get(*, session: Session, mention_id: int) -> UrgentMention | None:
    return session.get(UrgentMention, mention_id)


def record_page(
    *, session: Session, mention_id: int, stage: str, targets: Sequence[str], now: datetime
) -> bool:
    """``False`` if this stage was paged already (by us before a restart, or another replica)."""
    row = {"mention_id": mention_id, "stage": stage, "targets": list(targets), "sent_at": now}
    return insert_ignore(session, UrgentPage, row) is not None


def pages(*, session: Session, mention_id: int) -> list[UrgentPage]:
    query = select(UrgentPage).where(col(UrgentPage.mention_id) == mention_id)
    return list(session.exec(query.order_by(col(UrgentPage.id))).all())


def advance(
    *, session: Session, mention_id: int, stage: int, next_stage: int, at: datetime | None
) -> bool:
    """Move the schedule on, only if it is still at ``stage`` (another sweep may have done it)."""
    result = session.execute(
        update(UrgentMention)
        .execution_options(synchronize_session=False)
        .where(col(UrgentMention.mention_id) == mention_id, col(UrgentMention.next_stage) == stage)
        .values(next_stage=next_stage, next_at=at)
    )
    return bool(getattr(result, "rowcount", 0))


def acknowledge(*, session: Session, mention_id: int, user_id: str, now: datetime) -> bool:
    """The first acknowledgement wins and stops the escalation; later clicks change nothing."""
    result = session.execute(
        update(UrgentMention)
        .execution_options(synchronize_session=False)
        .where(
            col(UrgentMention.mention_id) == mention_id,
            col(UrgentMention.acknowledged_at).is_(None),
            col(UrgentMention.downgraded_at).is_(None),
        )
        .values(acknowledged_by=user_id, acknowledged_at=now, next_at=None)
    )
    return bool(getattr(result, "rowcount", 0))


def downgrade(*, session: Session, mention_id: int, user_id: str, now: datetime) -> bool:
    result = session.execute(
        update(UrgentMention)
        .execution_options(synchronize_session=False)
        .where(
            col(UrgentMention.mention_id) == mention_id,
            col(UrgentMention.downgraded_at).is_(None),
        )
        .values(downgraded_by=user_id, downgraded_at=now, next_at=None)
    )
    return bool(getattr(result, "rowcount", 0))


def stop(*, session: Session, mention_id: int) -> None:
    """Nothing more to page (the mention was claimed or closed, or the ladder is done)."""
    session.execute(
        update(UrgentMention)
        .execution_options(synchronize_session=False)
        .where(col(UrgentMention.mention_id) == mention_id)
        .values(next_at=None)
    )


def add_swap(
    *,
    session: Session,
    department: str,
    user_id: str,
    starts: datetime,
    until: datetime,
    by: str,
    now: datetime,
) -> None:
    session.add(
        OnCallSwap(
            department=department, user_id=user_id, starts=starts, until=until, by=by, at=now
        )
    )


def swap_at(*, session: Session, department: str, now: datetime) -> str | None:
    """Who a swap puts on call for ``department`` at ``now``; the latest swap wins."""
    query = (
        select(OnCallSwap.user_id)
        .where(
            col(OnCallSwap.department) == department,
            col(OnCallSwap.starts) <= now,
            col(OnCallSwap.until) > now,
        )
        .order_by(col(OnCallSwap.id).desc())
        .limit(1)
    )
    return session.exec(query).first()


def in_period(
    *, session: Session, department: str | None, start: datetime, end: datetime
) -> list[UrgentMention]:
    """Urgent mentions detected in ``[start, end)``; ``department`` None: the whole city."""
    query = select(UrgentMention).where(
        col(UrgentMention.detected_at) >= start, col(UrgentMention.detected_at) < end
    )
    if department is not None:
        query = query.where(col(UrgentMention.department) == department)
    return list(session.exec(query).all())
