"""The outbox: Slack calls decided in a transaction, carried out (at least once) by a worker.

A row is leased before its call is made (``leased_until``), so a crashed worker's row comes
back after the lease ends and several replicas never work on the same row at once
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite has one writer anyway). Rows of one mention
go out in order: a row waits while an earlier row of its mention is still pending, so a card
update never overtakes the card itself (replies to the source platform excepted).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, delete, select

from storage.insert import insert_ignore
from storage.models import Card, Outbox, OutboxKind, OutboxStatus

PENDING = OutboxStatus.PENDING.value
# A reply to the source platform neither waits for Slack rows nor holds them up: a platform
# that is down for hours must not freeze the card's updates.
UNORDERED = OutboxKind.PLATFORM_REPLY.value


def enqueue(
    *,
    session: Session,
    kind: str,
    idem_key: str,
    channel_id: str,
    now: datetime,
    mention_id: int | None = None,
    card_id: int | None = None,
    payload: dict[str, Any] | None = None,
    not_before: datetime | None = None,
) -> int | None:
    """Add a row; ``None`` if a row with this idempotency key already exists."""
    row_id = insert_ignore(
        session,
        Outbox,
        {
            "idem_key": idem_key[:255],
            "kind": kind,
            "mention_id": mention_id,
            "card_id": card_id,
            "channel_id": channel_id,
            "payload": payload or {},
            "status": PENDING,
            "next_attempt_at": not_before or now,
            "created_at": now,
            "result": {},
        },
    )
    return int(row_id) if row_id is not None else None


def due(
    *,
    session: Session,
    now: datetime,
    limit: int = 20,
    busy_channels: Collection[str] = (),
    paced_kinds: Collection[str] = (),
) -> list[Outbox]:
    """Rows ready to go now, oldest first, each the first pending row of its mention.

    Rows of ``paced_kinds`` for ``busy_channels`` (posted to too recently) are left for later,
    so the one row asked for is one that can go now.
    """
    earlier = aliased(Outbox)
    blocked = exists().where(
        col(earlier.mention_id) == col(Outbox.mention_id),
        col(earlier.id) < col(Outbox.id),
        col(earlier.status) == PENDING,
        col(earlier.kind) != UNORDERED,
    )
    query = (
        select(Outbox)
        .where(
            Outbox.status == PENDING,
            col(Outbox.next_attempt_at) <= now,
            or_(col(Outbox.leased_until).is_(None), col(Outbox.leased_until) < now),
            ~and_(col(Outbox.mention_id).is_not(None), col(Outbox.kind) != UNORDERED, blocked),
        )
        .order_by(col(Outbox.next_attempt_at), col(Outbox.id))
        .limit(limit)
        .with_for_update(skip_locked=True, of=Outbox)
    )
    if busy_channels:
        query = query.where(
            ~and_(
                col(Outbox.kind).in_(list(paced_kinds)),
                col(Outbox.channel_id).in_(list(busy_channels)),
            )
        )
    return list(session.exec(query))


def enqueue_for_card(
    *,
    session: Session,
    card: Card,
    kind: str,
    idem_key: str,
    now: datetime,
    payload: dict[str, Any] | None = None,
    not_before: datetime | None = None,
) -> int | None:
    """A row about a card (an update, a note in its thread): channel and mention are the card's."""
    return enqueue(
        session=session,
        kind=kind,
        idem_key=idem_key,
        channel_id=card.channel_id,
        mention_id=card.mention_id,
        card_id=card.id,
        now=now,
        payload=payload,
        not_before=not_before,
    )


def update_pending(*, session: Session, card_id: int) -> bool:
    """Whether an update of this card is still waiting to be sent (and will show the latest)."""
    query = select(Outbox.id).where(
        Outbox.card_id == card_id,
        Outbox.kind == OutboxKind.UPDATE_CARD.value,
        Outbox.status == PENDING,
        col(Outbox.attempts) == 0,
    )
    return session.exec(query).first() is not None


def lease(*, session: Session, row_id: int, now: datetime, seconds: float) -> bool:
    """Take a row for one attempt; ``False`` if another worker holds it."""
    stmt = (
        update(Outbox)
        .execution_options(synchronize_session=False)
        .where(
            col(Outbox.id) == row_id,
            col(Outbox.status) == PENDING,
            or_(col(Outbox.leased_until).is_(None), col(Outbox.leased_until) < now),
        )
        .values(leased_until=now + timedelta(seconds=seconds), attempts=col(Outbox.attempts) + 1)
    )
    return bool(session.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]


def mark_needs_check(*, session: Session, row_id: int) -> None:
    session.execute(
        update(Outbox)
        .execution_options(synchronize_session=False)
        .where(col(Outbox.id) == row_id)
        .values(needs_check=True)
    )


def complete(*, session: Session, row_id: int, now: datetime, result: dict[str, Any]) -> None:
    session.execute(
        update(Outbox)
        .execution_options(synchronize_session=False)
        .where(col(Outbox.id) == row_id)
        .values(
            status=OutboxStatus.DONE.value,
            done_at=now,
            leased_until=None,
            needs_check=False,
            result=result,
            last_error=None,
        )
    )


def reschedule(
    *, session: Session, row_id: int, at: datetime, error: str, needs_check: bool
) -> None:
    session.execute(
        update(Outbox)
        .execution_options(synchronize_session=False)
        .where(col(Outbox.id) == row_id)
        .values(
            next_attempt_at=at, leased_until=None, last_error=error[:2000], needs_check=needs_check
        )
    )


def fail(*, session: Session, row_id: int, now: datetime, error: str) -> None:
    session.execute(
        update(Outbox)
        .execution_options(synchronize_session=False)
        .where(col(Outbox.id) == row_id)
        .values(
            status=OutboxStatus.FAILED.value,
            done_at=now,
            leased_until=None,
            last_error=error[:2000],
        )
    )


def stats(*, session: Session, now: datetime) -> tuple[int, float]:
    """Pending rows and the age in seconds of the oldest one."""
    query = select(func.count(), func.min(Outbox.created_at)).where(Outbox.status == PENDING)
    count, oldest = session.exec(query).one()
    if oldest is None:
        return int(count), 0.0
    # min() bypasses the column type on some dialects: normalise to aware UTC.
    if isinstance(oldest, str):
        oldest = datetime.fromisoformat(oldest)
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return int(count), max(0.0, (now - oldest).total_seconds())


def purge_finished(*, session: Session, before: datetime) -> int:
    """Delete delivered rows older than ``before``; failed ones stay for a person to look at."""
    result = session.exec(
        delete(Outbox).where(
            col(Outbox.status) == OutboxStatus.DONE.value, col(Outbox.done_at) < before
        )
    )
    return int(result.rowcount or 0)
