"""What delivery keeps per channel, shared by every replica: whose turn it is, what was told.

``channelpace`` holds, per channel, the time it may next be posted to. :func:`take_turn`
claims a channel's turn in one conditional upsert (only one replica wins it) and
:func:`hold_channel` keeps a channel quiet after a 429; :func:`storage.outbox.due` leaves paced
rows for a channel whose turn has not come. Pace times are the wall clock (the caller's), not
the injectable clock tests and the sandbox move forward.

``deliveryalert`` makes the triage alert about failed deliveries one per (channel, error):
the insert that wins decides who announces it, whichever replica and however many rows fail.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, delete

from storage.insert import insert_ignore
from storage.models import ChannelPace, DeliveryAlert


def take_turn(*, session: Session, channel_id: str, now: datetime, interval: float) -> float:
    """Claim ``channel_id``'s turn to be posted to: 0 if taken (the next waits ``interval``
    seconds), else the seconds until its turn comes.

    One upsert that changes the row only if the turn has come: on PostgreSQL a second replica's
    upsert waits for the first to commit and then finds the turn gone.
    """
    table = ChannelPace.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    build = postgresql.insert if dialect == "postgresql" else sqlite.insert
    new = build(table).values(channel_id=channel_id, next_at=now + timedelta(seconds=interval))
    stmt = new.on_conflict_do_update(
        index_elements=[table.c.channel_id],
        set_={"next_at": new.excluded.next_at},
        where=table.c.next_at <= now,
    ).returning(table.c.channel_id)
    if session.execute(stmt).scalar_one_or_none() is not None:
        return 0.0
    next_at = session.get(ChannelPace, channel_id, populate_existing=True)
    return max(0.0, (next_at.next_at - now).total_seconds()) if next_at else 0.0


def take_turns(
    *, session: Session, channel_ids: Collection[str], now: datetime, interval: float
) -> dict[str, float]:
    """:func:`take_turn` for several channels at once, in two statements: for each channel,
    0 if its turn was taken, else the seconds until its turn comes."""
    if not channel_ids:
        return {}
    table = ChannelPace.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    build = postgresql.insert if dialect == "postgresql" else sqlite.insert
    until = now + timedelta(seconds=interval)
    new = build(table).values([{"channel_id": c, "next_at": until} for c in set(channel_ids)])
    stmt = new.on_conflict_do_update(
        index_elements=[table.c.channel_id],
        set_={"next_at": new.excluded.next_at},
        where=table.c.next_at <= now,
    ).returning(table.c.channel_id)
    won = {str(c) for c in session.execute(stmt).scalars()}
    waits = {c: 0.0 for c in won}
    lost = [c for c in set(channel_ids) if c not in won]
    if lost:
        rows = session.execute(
            select(table.c.channel_id, table.c.next_at).where(table.c.channel_id.in_(lost))
        )
        for channel, next_at in rows:
            waits[str(channel)] = max(0.0, (_utc(next_at) - now).total_seconds())
    return {c: waits.get(c, 0.0) for c in channel_ids}


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def hold_channel(*, session: Session, channel_id: str, until: datetime) -> None:
    """No post to ``channel_id`` before ``until`` (Slack's ``Retry-After``); never shortens."""
    table = ChannelPace.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    build = postgresql.insert if dialect == "postgresql" else sqlite.insert
    new = build(table).values(channel_id=channel_id, next_at=until)
    later = case(
        (table.c.next_at < new.excluded.next_at, new.excluded.next_at), else_=table.c.next_at
    )
    session.execute(
        new.on_conflict_do_update(index_elements=[table.c.channel_id], set_={"next_at": later})
    )


def alert_once(*, session: Session, channel_id: str, error: str, now: datetime) -> bool:
    """Whether this is the first failure of ``error`` in ``channel_id`` to be announced."""
    values = {"channel_id": channel_id, "error": error[:64], "at": now}
    return insert_ignore(session, DeliveryAlert, values) is not None


def rearm_alerts(*, session: Session, channel_ids: Collection[str]) -> None:
    """A person retried these channels' rows: the next failure there is announced again."""
    if channel_ids:
        session.exec(
            delete(DeliveryAlert).where(col(DeliveryAlert.channel_id).in_(list(channel_ids)))
        )
