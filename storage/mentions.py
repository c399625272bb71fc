"""Mentions: insertion deduplicated by ``(source, external_id)`` and atomic state changes.

Every state change is one conditional ``UPDATE ... WHERE <expected state>``: the database,
not a read-then-write in Python, decides who wins when two people click at once. Each
function returns whether it changed the row; the caller records the matching event in the
same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from storage.insert import insert_ignore
from storage.models import OPEN_STATUSES, Mention, MentionStatus


def insert(*, session: Session, values: dict[str, Any]) -> int | None:
    """Insert a mention; ``None`` if ``(source, external_id)`` is already stored."""
    mention_id = insert_ignore(session, Mention, values)
    return int(mention_id) if mention_id is not None else None


def find(*, session: Session, source: str, external_id: str) -> Mention | None:
    query = select(Mention).where(Mention.source == source, Mention.external_id == external_id)
    return session.exec(query).first()


def get(*, session: Session, mention_id: int) -> Mention | None:
    return session.get(Mention, mention_id, populate_existing=True)


def _change(
    session: Session,
    mention_id: int,
    where: list[ColumnElement[bool]],
    *,
    reschedule_at: datetime | None,
    **values: Any,
) -> int | None:
    # Any change of state asks the nudge sweep to work out the schedule again
    # (``reschedule_at``), or stops it for a closed mention (None).
    stmt = (
        update(Mention)
        .execution_options(synchronize_session=False)
        .where(col(Mention.id) == mention_id, *where)
        .values(
            version=col(Mention.version) + 1,
            next_nudge_at=reschedule_at,
            next_nudge_stage=None,
            **values,
        )
    )
    version = session.execute(stmt.returning(col(Mention.version))).scalar_one_or_none()
    return int(version) if version is not None else None


def _first(column: Any, value: Any) -> Any:
    # The first claim and its office time are the citizen's wait: a later claim (after a
    # release or a hand-over) keeps them. A value the caller could not measure (None) is left
    # for the summary to measure.
    return column if value is None else func.coalesce(column, value)


def claim(
    *,
    session: Session,
    mention_id: int,
    user_id: str,
    now: datetime,
    claim_office_us: int | None = None,
) -> int | None:
    """Claim an unclaimed mention; ``claim_office_us`` is the office time since its arrival."""
    return _change(
        session,
        mention_id,
        [col(Mention.status) == MentionStatus.NEW.value, col(Mention.claimed_by).is_(None)],
        reschedule_at=now,
        status=MentionStatus.CLAIMED.value,
        claimed_by=user_id,
        claimed_at=now,
        first_claimed_at=_first(col(Mention.first_claimed_at), now),
        claim_office_us=_first(col(Mention.claim_office_us), claim_office_us),
    )


def release(*, session: Session, mention_id: int, user_id: str, now: datetime) -> int | None:
    return _change(
        session,
        mention_id,
        [col(Mention.status) == MentionStatus.CLAIMED.value, col(Mention.claimed_by) == user_id],
        reschedule_at=now,
        status=MentionStatus.NEW.value,
        claimed_by=None,
        claimed_at=None,
    )


def answer(
    *,
    session: Session,
    mention_id: int,
    user_id: str,
    text: str,
    now: datetime,
    claim_office_us: int | None = None,
    answer_office_us: int | None = None,
) -> int | None:
    """Mark answered from any open state; answering an unclaimed mention claims it too.

    ``claim_office_us`` (kept if the mention was claimed before) and ``answer_office_us`` are
    the office times from its arrival to its first claim and to now.
    """
    return _change(
        session,
        mention_id,
        [col(Mention.status).in_(OPEN_STATUSES)],
        reschedule_at=None,
        status=MentionStatus.ANSWERED.value,
        claimed_by=func.coalesce(col(Mention.claimed_by), user_id),
        claimed_at=func.coalesce(col(Mention.claimed_at), now),
        first_claimed_at=_first(col(Mention.first_claimed_at), now),
        claim_office_us=_first(col(Mention.claim_office_us), claim_office_us),
        answered_by=user_id,
        answered_at=now,
        answer_text=text,
        answer_office_us=answer_office_us,
    )


def dismiss(*, session: Session, mention_id: int, user_id: str, reason: str) -> int | None:
    return _change(
        session,
        mention_id,
        [col(Mention.status).in_(OPEN_STATUSES)],
        reschedule_at=None,
        status=MentionStatus.DISMISSED.value,
        dismissed_by=user_id,
        dismissed_reason=reason,
    )


def hand_over(
    *,
    session: Session,
    mention_id: int,
    from_department: str | None,
    to_department: str,
    now: datetime,
) -> int | None:
    """Move an open mention to another department; it arrives there unclaimed."""
    same_department = (
        col(Mention.department).is_(None)
        if from_department is None
        else col(Mention.department) == from_department
    )
    return _change(
        session,
        mention_id,
        [col(Mention.status).in_(OPEN_STATUSES), same_department],
        reschedule_at=now,
        department=to_department,
        status=MentionStatus.NEW.value,
        claimed_by=None,
        claimed_at=None,
    )


def snooze(*, session: Session, mention_id: int, until: datetime) -> int | None:
    """Push the pending reminder to ``until``; the stage stays what it was."""
    stmt = (
        update(Mention)
        .execution_options(synchronize_session=False)
        .where(col(Mention.id) == mention_id, col(Mention.status).in_(OPEN_STATUSES))
        .values(next_nudge_at=until)
        .returning(col(Mention.version))
    )
    version = session.execute(stmt).scalar_one_or_none()
    return int(version) if version is not None else None


def due_for_nudge(*, session: Session, now: datetime, limit: int) -> list[Mention]:
    """Open mentions whose reminder time has come, oldest first (index on next_nudge_at)."""
    query = (
        select(Mention)
        .where(col(Mention.next_nudge_at) <= now, col(Mention.status).in_(OPEN_STATUSES))
        .order_by(col(Mention.next_nudge_at))
        .limit(limit)
    )
    return list(session.exec(query))


def set_schedule(
    *, session: Session, mention_id: int, version: int, at: datetime | None, stage: str | None
) -> bool:
    """Record the next reminder, unless the mention changed since it was read."""
    stmt = (
        update(Mention)
        .execution_options(synchronize_session=False)
        .where(col(Mention.id) == mention_id, col(Mention.version) == version)
        .values(next_nudge_at=at, next_nudge_stage=stage)
    )
    return bool(session.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]


def claimed_by(*, session: Session, user_id: str, limit: int = 20) -> list[Mention]:
    query = (
        select(Mention)
        .where(
            col(Mention.claimed_by) == user_id, col(Mention.status) == MentionStatus.CLAIMED.value
        )
        .order_by(col(Mention.claimed_at))
        .limit(limit)
    )
    return list(session.exec(query))


def waiting(
    *, session: Session, department: str | None, limit: int = 5
) -> tuple[int, list[Mention]]:
    """Unclaimed mentions of a department (None: triage): how many, and the oldest few."""
    same = (
        col(Mention.department).is_(None)
        if department is None
        else col(Mention.department) == department
    )
    where = (same, col(Mention.status) == MentionStatus.NEW.value)
    count = session.exec(select(func.count()).select_from(Mention).where(*where)).one()
    oldest = session.exec(
        select(Mention).where(*where).order_by(col(Mention.received_at)).limit(limit)
    )
    return int(count), list(oldest)
