"""Per-adapter state: the cursor it gets back next time, its health, and a lease.

The lease says which replica is polling the adapter right now, and until when. It is short and
renewed while the poll runs (see :mod:`bot.intake.polling`), so a replica that dies holding it
holds up the adapter for at most one lease. Only the holder writes the poll's outcome: the
outcome's update checks the owner and gives the lease back in the same statement.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from storage.insert import insert_ignore
from storage.models import AdapterState


def ensure(*, session: Session, name: str, source: str) -> None:
    insert_ignore(session, AdapterState, {"name": name, "source": source, "cursor": {}})


def get(*, session: Session, name: str) -> AdapterState | None:
    return session.get(AdapterState, name, populate_existing=True)


def all_states(*, session: Session) -> list[AdapterState]:
    return list(session.exec(select(AdapterState).order_by(col(AdapterState.name))))


def acquire(*, session: Session, name: str, owner: str, now: datetime, seconds: float) -> bool:
    """Take (or renew) the lease: one replica polls an adapter at a time."""
    stmt = (
        update(AdapterState)
        .execution_options(synchronize_session=False)
        .where(
            col(AdapterState.name) == name,
            or_(
                col(AdapterState.lease_owner).is_(None),
                col(AdapterState.lease_owner) == owner,
                col(AdapterState.lease_until) < now,
            ),
        )
        .values(lease_owner=owner, lease_until=now + timedelta(seconds=seconds))
    )
    return bool(session.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]


def renew(*, session: Session, name: str, owner: str, now: datetime, seconds: float) -> bool:
    """Extend a lease this owner holds (the heartbeat of a running poll); ``False`` if another
    replica has taken it meanwhile."""
    stmt = (
        update(AdapterState)
        .execution_options(synchronize_session=False)
        .where(col(AdapterState.name) == name, col(AdapterState.lease_owner) == owner)
        .values(lease_until=now + timedelta(seconds=seconds))
    )
    return bool(session.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]


def release(*, session: Session, name: str, owner: str) -> None:
    session.execute(
        update(AdapterState)
        .execution_options(synchronize_session=False)
        .where(col(AdapterState.name) == name, col(AdapterState.lease_owner) == owner)
        .values(lease_owner=None, lease_until=None)
    )


def record_success(
    *,
    session: Session,
    name: str,
    owner: str,
    cursor: dict[str, Any],
    items: int,
    item_errors: int,
    now: datetime,
    next_run_at: datetime,
) -> bool:
    """Store a poll's new cursor and give the lease back; ``False`` (nothing written) if
    ``owner`` no longer holds the lease, so a poll that outlived it never moves a cursor that
    the new holder has moved since."""
    stmt = (
        update(AdapterState)
        .execution_options(synchronize_session=False)
        .where(col(AdapterState.name) == name, col(AdapterState.lease_owner) == owner)
        .values(
            cursor=cursor,
            items_seen=col(AdapterState.items_seen) + items,
            item_errors=col(AdapterState.item_errors) + item_errors,
            last_success_at=now,
            consecutive_failures=0,
            next_run_at=next_run_at,
            lease_owner=None,
            lease_until=None,
        )
    )
    return bool(session.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]


def record_failure(
    *, session: Session, name: str, owner: str, error: str, now: datetime, next_run_at: datetime
) -> bool:
    """Record a failed poll and give the lease back; ``False`` if ``owner`` lost the lease."""
    stmt = (
        update(AdapterState)
        .execution_options(synchronize_session=False)
        .where(col(AdapterState.name) == name, col(AdapterState.lease_owner) == owner)
        .values(
            last_error=error[:2000],
            last_error_at=now,
            consecutive_failures=col(AdapterState.consecutive_failures) + 1,
            next_run_at=next_run_at,
            lease_owner=None,
            lease_until=None,
        )
    )
    return bool(session.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]
