"""The outbox: Slack calls decided in a transaction, carried out (at least once) by a worker.

A row is leased before its call is made (``leased_until``), so a crashed worker's row comes
back after the lease ends and several replicas never work on the same row at once
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite has one writer anyway). Rows of one mention
go out in order: a row waits while an earlier row of its mention is still pending, so a card
update never overtakes the card itself (replies to the source platform excepted).

:func:`due` leaves paced rows for a channel whose turn has not come (``channelpace``, see
:mod:`storage.delivery`). A row that failed for good stays for a person: :func:`failed` lists
them and :func:`retry_failed` puts them back with a fresh time budget.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, exists, false, func, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, delete, select

from storage.insert import insert_ignore
from storage.models import (
    Card,
    ChannelPace,
    Mention,
    Outbox,
    OutboxKind,
    OutboxStatus,
)

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
    paced_kinds: Collection[str] = (),
    pace_now: datetime | None = None,
    busy: Collection[str] = (),
    one_per_channel: bool = False,
) -> list[Outbox]:
    """Rows ready to go now, oldest first, each the first pending row of its mention.

    Rows of ``paced_kinds`` whose channel's turn has not come at ``pace_now`` (posted to too
    recently, or rate limited) are left for later, so the one row asked for is one that can go.
    Channels in ``busy`` (a row of theirs is in flight) are skipped; ``one_per_channel`` gives
    at most one row per channel, so a batch spreads over many channels instead of filling up
    with one busy channel's queue.
    """
    earlier = aliased(Outbox)
    blocked = exists().where(
        col(earlier.mention_id) == col(Outbox.mention_id),
        col(earlier.id) < col(Outbox.id),
        col(earlier.status) == PENDING,
        col(earlier.kind) != UNORDERED,
    )
    where: list[ColumnElement[bool]] = [
        col(Outbox.status) == PENDING,
        col(Outbox.next_attempt_at) <= now,
        or_(col(Outbox.leased_until).is_(None), col(Outbox.leased_until) < now),
        ~and_(col(Outbox.mention_id).is_not(None), col(Outbox.kind) != UNORDERED, blocked),
    ]
    if paced_kinds:
        waiting = exists().where(
            col(ChannelPace.channel_id) == col(Outbox.channel_id),
            col(ChannelPace.next_at) > (pace_now or now),
        )
        where.append(~and_(col(Outbox.kind).in_(list(paced_kinds)), waiting))
    if busy:
        where.append(col(Outbox.channel_id).not_in(list(busy)))
    order = (col(Outbox.next_attempt_at), col(Outbox.id))
    if one_per_channel:
        # The first due row of each channel (a window function cannot sit beside FOR UPDATE,
        # so it picks the ids and the outer query locks the rows).
        ranked = (
            select(
                col(Outbox.id).label("id"),
                func.row_number()
                .over(partition_by=col(Outbox.channel_id), order_by=order)
                .label("n"),
            )
            .where(*where)
            .subquery()
        )
        firsts = select(ranked.c.id).where(ranked.c.n == 1)
        where = [col(Outbox.id).in_(firsts), col(Outbox.status) == PENDING]
    query = (
        select(Outbox)
        .where(*where)
        .order_by(*order)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Outbox)
    )
    return list(session.exec(query))


def soonest(*, session: Session, now: datetime, pace_now: datetime) -> float | None:
    """Seconds until the next pending row falls due or a channel's turn comes, if any will."""
    next_row = session.exec(
        select(func.min(Outbox.next_attempt_at)).where(
            Outbox.status == PENDING, col(Outbox.next_attempt_at) > now
        )
    ).one()
    next_turn = session.exec(
        select(func.min(ChannelPace.next_at)).where(col(ChannelPace.next_at) > pace_now)
    ).one()
    waits = [
        (_aware(at) - base).total_seconds()
        for at, base in ((next_row, now), (next_turn, pace_now))
        if at is not None
    ]
    return max(0.0, min(waits)) if waits else None


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


def lease_many(
    *,
    session: Session,
    row_ids: Collection[int],
    now: datetime,
    seconds: float,
    look_first: Collection[str] = (),
) -> set[int]:
    """:func:`lease` for several rows in one statement; the ids leased. Rows of the kinds in
    ``look_first`` are marked ``needs_check`` as they are leased (see :func:`mark_needs_check`)."""
    if not row_ids:
        return set()
    kinds = list(look_first) or [""]
    stmt = (
        update(Outbox)
        .execution_options(synchronize_session=False)
        .where(
            col(Outbox.id).in_(list(row_ids)),
            col(Outbox.status) == PENDING,
            or_(col(Outbox.leased_until).is_(None), col(Outbox.leased_until) < now),
        )
        .values(
            leased_until=now + timedelta(seconds=seconds),
            attempts=col(Outbox.attempts) + 1,
            needs_check=or_(col(Outbox.needs_check), col(Outbox.kind).in_(kinds)),
        )
        .returning(col(Outbox.id))
    )
    return {int(i) for i in session.execute(stmt).scalars()}


def mark_needs_check(*, session: Session, row_id: int) -> None:
    session.execute(
        update(Outbox)
        .execution_options(synchronize_session=False)
        .where(col(Outbox.id) == row_id)
        .values(needs_check=True)
    )


def complete(*, session: Session, row_id: int, now: datetime, result: dict[str, Any]) -> None:
    complete_many(session=session, done=[(row_id, result)], now=now)


def complete_many(
    *, session: Session, done: Collection[tuple[int, dict[str, Any]]], now: datetime
) -> None:
    """:func:`complete` for several rows (id, result): one statement, executed for each."""
    if not done:
        return
    table = Outbox.__table__  # type: ignore[attr-defined]
    stmt = (
        table.update()
        .where(table.c.id == bindparam("row_id"))
        .values(
            status=OutboxStatus.DONE.value,
            done_at=now,
            leased_until=None,
            needs_check=False,
            result=bindparam("row_result", type_=table.c.result.type),
            last_error=None,
        )
    )
    session.execute(stmt, [{"row_id": i, "row_result": result} for i, result in done])


def reschedule(
    *,
    session: Session,
    row_id: int,
    at: datetime,
    error: str,
    needs_check: bool,
    failed_at: datetime | None = None,
) -> None:
    """Try the row again at ``at``; ``failed_at`` counts a real failure (a rate limit is not)."""
    values: dict[str, Any] = {
        "next_attempt_at": at,
        "leased_until": None,
        "last_error": error[:2000],
        "needs_check": needs_check,
    }
    if failed_at is not None:
        values["failures"] = col(Outbox.failures) + 1
        values["failing_since"] = func.coalesce(col(Outbox.failing_since), failed_at)
    session.execute(
        update(Outbox)
        .execution_options(synchronize_session=False)
        .where(col(Outbox.id) == row_id)
        .values(**values)
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


# Rows that failed for good, for a person to see and retry.
def failed(
    *, session: Session, kinds: Collection[str], limit: int | None = None
) -> list[tuple[Outbox, str | None]]:
    """Failed rows of ``kinds``, most recent failure first, with their mention's text."""
    query = (
        select(Outbox, Mention.text)
        .join(Mention, col(Mention.id) == col(Outbox.mention_id), isouter=True)
        .where(Outbox.status == OutboxStatus.FAILED.value, col(Outbox.kind).in_(list(kinds)))
        .order_by(col(Outbox.done_at).desc(), col(Outbox.id).desc())
        .limit(limit)
    )
    return [(row, text) for row, text in session.exec(query)]


def count_failed(*, session: Session, kinds: Collection[str]) -> int:
    query = select(func.count()).where(
        Outbox.status == OutboxStatus.FAILED.value, col(Outbox.kind).in_(list(kinds))
    )
    return int(session.exec(query).one())


def retry_failed(
    *, session: Session, now: datetime, kinds: Collection[str], row_id: int | None = None
) -> list[Outbox]:
    """Put failed rows back in the queue with a fresh time budget; the rows put back.

    ``row_id`` None: every failed row of ``kinds``. A card's post brings back the card's other
    failed rows (its updates and thread notes failed because the card never appeared).
    ``needs_check`` is kept: a post that may have gone out is still looked for first.
    """
    where: list[ColumnElement[bool]] = [
        col(Outbox.status) == OutboxStatus.FAILED.value,
        col(Outbox.kind).in_(list(kinds)),
    ]
    if row_id is not None:
        row = session.get(Outbox, row_id)
        if row is None:
            return []
        same_card = (
            col(Outbox.card_id) == row.card_id
            if row.kind == OutboxKind.POST_CARD.value and row.card_id is not None
            else false()
        )
        where.append(or_(col(Outbox.id) == row_id, same_card))
    rows = list(session.exec(select(Outbox).where(*where).order_by(col(Outbox.id))))
    if rows:
        session.execute(
            update(Outbox)
            .execution_options(synchronize_session=False)
            .where(col(Outbox.id).in_([r.id for r in rows]), *where)
            .values(
                status=PENDING,
                next_attempt_at=now,
                leased_until=None,
                done_at=None,
                failures=0,
                failing_since=None,
            )
        )
    return rows


def stats(*, session: Session, now: datetime) -> tuple[int, float]:
    """Pending rows and the age in seconds of the oldest one."""
    query = select(func.count(), func.min(Outbox.created_at)).where(Outbox.status == PENDING)
    count, oldest = session.exec(query).one()
    if oldest is None:
        return int(count), 0.0
    return int(count), max(0.0, (now - _aware(oldest)).total_seconds())


def _aware(at: datetime | str) -> datetime:
    # min() bypasses the column type on some dialects: normalise to aware UTC.
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def purge_finished(*, session: Session, before: datetime) -> int:
    """Delete delivered rows older than ``before``; failed ones stay for a person to look at."""
    result = session.exec(
        delete(Outbox).where(
            col(Outbox.status) == OutboxStatus.DONE.value, col(Outbox.done_at) < before
        )
    )
    return int(result.rowcount or 0)
