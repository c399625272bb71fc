"""Nudge rows (one per mention and stage, ever), who was asked last, who engaged when, away.

A nudge row's ``target`` records who heard about it (the claimer, a lead) for the audit, but only
the stages the caller names in ``asked_in`` are the rotation's asks: being reminded of your own
claim, or hearing a reminder addressed to the whole channel, is not a turn taken.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy import delete, func, literal, update
from sqlmodel import Session, col, select

from storage.insert import insert_ignore
from storage.models import Away, Event, EventKind, Mention, Nudge


def record(
    *, session: Session, mention_id: int, stage: str, target: str | None, now: datetime
) -> bool:
    """``False`` if this stage was already sent for this mention (by us or another replica)."""
    row = {"mention_id": mention_id, "stage": stage, "target": target, "sent_at": now}
    return insert_ignore(session, Nudge, row) is not None


def set_target(*, session: Session, mention_id: int, stage: str, target: str) -> None:
    session.execute(
        update(Nudge)
        .execution_options(synchronize_session=False)
        .where(col(Nudge.mention_id) == mention_id, col(Nudge.stage) == stage)
        .values(target=target)
    )


def target(*, session: Session, mention_id: int, stage: str) -> str | None:
    """Who (or what) a mention's stage was recorded for; None if not recorded (or no one)."""
    query = select(Nudge.target).where(
        col(Nudge.mention_id) == mention_id, col(Nudge.stage) == stage
    )
    return session.exec(query).first()


def sent_stages(*, session: Session, mention_ids: Collection[int]) -> dict[int, set[str]]:
    """The stages already sent (or skipped), for many mentions in one query."""
    found: dict[int, set[str]] = {i: set() for i in mention_ids}
    query = select(Nudge.mention_id, Nudge.stage).where(col(Nudge.mention_id).in_(list(found)))
    for mention_id, stage in session.exec(query):
        found[mention_id].add(stage)
    return found


def last_target(
    *, session: Session, department: str | None, asked_in: Collection[str]
) -> str | None:
    """Who the rotation named last in this department (a reminder of a stage in ``asked_in``)."""
    same = (
        col(Mention.department).is_(None)
        if department is None
        else col(Mention.department) == department
    )
    query = (
        select(Nudge.target)
        .join(Mention, col(Mention.id) == col(Nudge.mention_id))
        .where(same, col(Nudge.stage).in_(list(asked_in)), col(Nudge.target).like("U%"))
        .order_by(col(Nudge.sent_at).desc(), col(Nudge.id).desc())
        .limit(1)
    )
    return session.exec(query).first()


def last_engaged(
    *, session: Session, users: Collection[str], asked_in: Collection[str]
) -> dict[str, tuple[datetime, int]]:
    """When each person last claimed, answered or was named by a reminder of a stage in
    ``asked_in``, with the turn of that moment: the nudge row's id when they were named (one
    sweep names several people at one time, in the order of its rows), 0 for a claim or an
    answer."""
    if not users:
        return {}
    found: dict[str, tuple[datetime, int]] = {}
    acted = (
        select(Event.actor, func.max(Event.at), literal(0))
        .where(
            col(Event.actor).in_(list(users)),
            col(Event.kind).in_([EventKind.CLAIMED.value, EventKind.ANSWERED.value]),
        )
        .group_by(Event.actor)
    )
    # Ids grow with time, so the largest id is the latest ask's turn.
    asked = (
        select(Nudge.target, func.max(Nudge.sent_at), func.max(Nudge.id))
        .where(col(Nudge.target).in_(list(users)), col(Nudge.stage).in_(list(asked_in)))
        .group_by(Nudge.target)
    )
    for query in (acted, asked):
        for user, at, turn in session.exec(query):
            if user is None or at is None:
                continue
            latest = (_aware(at), int(turn or 0))
            if user not in found or latest > found[user]:
                found[user] = latest
    return found


def away(*, session: Session, users: Collection[str], now: datetime) -> set[str]:
    if not users:
        return set()
    query = select(Away.user_id).where(col(Away.user_id).in_(list(users)), col(Away.until) > now)
    return set(session.exec(query))


def set_away(*, session: Session, user_id: str, until: datetime, now: datetime) -> None:
    row = session.get(Away, user_id) or Away(user_id=user_id, until=until, set_at=now)
    row.until, row.set_at = until, now
    session.add(row)


def clear_away(*, session: Session, user_id: str) -> None:
    session.execute(delete(Away).where(col(Away.user_id) == user_id))


def _aware(value: datetime | str) -> datetime:
    # max() over a column bypasses its type on SQLite: it comes back naive, or as text.
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when if when.tzinfo else when.replace(tzinfo=UTC)
