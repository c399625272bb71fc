"""What one delivery attempt works on, and the two ways it can fail.

A :class:`Job` is a leased outbox row copied out of its session, so the Slack call that follows
holds no database transaction open. :class:`Retry` and :class:`GiveUp` are how the Slack side
(:mod:`bot.outbox.slack_api`) and the worker (:mod:`bot.outbox.delivery`) agree on what a
failure means; they live here so that neither has to import the other to say it.

:func:`take` leases a batch of due rows for the workers, at most one per channel: it looks in
a read (:func:`due`) and leases in a short write (:func:`lease`), so that looking when nothing
is due takes no writer's turn from the clicks being acked (issue 15).
"""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage import outbox
from storage.db import read_scope, session_scope
from storage.models import Outbox, OutboxKind

# Posts that carry their outbox id in metadata and are looked for after an uncertain attempt.
POSTS = (OutboxKind.POST_CARD.value, OutboxKind.THREAD_REPLY.value)
# ... and replies to citizens, which their adapter looks for (see bot/outbox/replies.py).
LOOKED_FOR = (*POSTS, OutboxKind.PLATFORM_REPLY.value)
# Everything that goes through chat.postMessage is paced per channel.
PACED = (*POSTS, OutboxKind.MESSAGE.value)


@dataclass(frozen=True)
class Job:
    """A leased outbox row, copied out of its session."""

    id: int
    kind: str
    channel_id: str
    mention_id: int | None
    card_id: int | None
    payload: dict[str, Any]
    attempts: int
    needs_check: bool
    created_at: datetime
    failures: int = 0
    failing_since: datetime | None = None


class Retry(Exception):
    """Try the row again: ``after`` seconds if that is known, else after a backoff.

    Only a retry without ``after`` is a failure, counted against the row's time budget: a rate
    limit (``rate_limited``, Slack's ``Retry-After``) or a wait for the channel's turn or for
    the card says when to come back and is no failure at all.

    ``ambiguous``: Slack may have acted, so a post must be looked for before it is sent again.
    ``code``: a short name of what went wrong (Slack's error, an HTTP status, an exception's
    type), the key of the triage alert if the row is given up.
    """

    def __init__(
        self,
        reason: str,
        *,
        after: float | None = None,
        ambiguous: bool = False,
        rate_limited: bool = False,
        code: str | None = None,
    ):
        super().__init__(reason)
        self.after = after
        self.ambiguous = ambiguous
        self.rate_limited = rate_limited
        self.code = code

    @property
    def is_failure(self) -> bool:
        return self.after is None


class GiveUp(Exception):
    """The row can never succeed without a change by a person: mark it failed.

    ``code`` (Slack's error, like ``not_in_channel``) means people must hear of it: the triage
    channel gets one alert per channel and code. Without one (the card is gone, the card it
    belongs to failed) the failure is the consequence of another, announced already.
    """

    def __init__(self, reason: str, *, code: str | None = None):
        super().__init__(reason)
        self.code = code


def take(
    engine: Engine,
    *,
    now: datetime,
    pace_now: datetime,
    limit: int,
    lease_seconds: float,
    poll_interval: float,
    busy: Collection[str] = (),
) -> list[Job] | float:
    """Lease up to ``limit`` due rows (:func:`due`, then :func:`lease`); or, if none is due, the
    seconds to wait."""
    with read_scope(engine) as session:
        found = due(
            session, now=now, pace_now=pace_now, limit=limit, busy=busy, poll_interval=poll_interval
        )
    if isinstance(found, float):
        return found
    with session_scope(engine) as session:
        jobs = lease(session, found, now=now, lease_seconds=lease_seconds)
    return jobs if jobs else 0.01


def due(
    session: Session,
    *,
    now: datetime,
    pace_now: datetime,
    limit: int,
    poll_interval: float,
    busy: Collection[str] = (),
) -> list[Job] | float:
    """Up to ``limit`` due rows, at most one per channel and none of ``busy`` channels (a paced
    one only if its channel's turn has come at ``pace_now``), not yet leased (:func:`lease`);
    or, if none is due, the seconds to wait. Reads only: looking when nothing is due (a paced
    channel's turn not come, the usual case after a burst of clicks) takes no writer's turn."""
    rows = outbox.due(
        session=session,
        now=now,
        limit=limit,
        paced_kinds=PACED,
        pace_now=pace_now,
        busy=busy,
        one_per_channel=True,
    )
    if rows:
        return [job_of(row) for row in rows]
    # Sleep until the next row falls due or a channel's turn comes (a wake() is sooner).
    soonest = outbox.soonest(session=session, now=now, pace_now=pace_now)
    return max(0.001, min(poll_interval, soonest if soonest is not None else 1e9))


def lease(session: Session, jobs: list[Job], *, now: datetime, lease_seconds: float) -> list[Job]:
    """The ``jobs`` this worker now holds: one statement leases them all (another worker may
    have taken some since they were read), marking those looked for: if we die during the call,
    whoever retries must look before posting. The turn itself is taken just before the post
    (``ChannelPacer``), so that what reaches Slack is spaced as the turns are, whichever
    replica posts."""
    leased = outbox.lease_many(
        session=session,
        row_ids=[job.id for job in jobs],
        now=now,
        seconds=lease_seconds,
        look_first=LOOKED_FOR,
    )
    return [job for job in jobs if job.id in leased]


def job_of(row: Outbox) -> Job:
    """A leased row, copied out of its session (its needs_check as it was before the lease)."""
    assert row.id is not None
    return Job(
        id=row.id,
        kind=row.kind,
        channel_id=row.channel_id,
        mention_id=row.mention_id,
        card_id=row.card_id,
        payload=dict(row.payload),
        attempts=row.attempts,
        needs_check=row.needs_check,
        created_at=row.created_at,
        failures=row.failures,
        failing_since=row.failing_since,
    )


def backoff(failures: int, first: float) -> float:
    """Seconds before the next try after ``failures`` failures: doubling, up to 5 minutes."""
    doubled = first * 2.0 ** min(failures - 1, 30)  # a budget of weeks must not overflow
    return float(min(300.0, doubled) * random.uniform(0.5, 1.0))
