"""Recording what reached Slack: the row done, the card's ``ts``, the ``posted`` event.

The worker that made a call records it at once (:meth:`Completions.done`); the concurrent
workers hand it here instead (:meth:`Completions.later`) and one thread records what they
finished in one unit of work every few milliseconds. On SQLite every unit of work takes the one
writer's turn, and sixty workers each taking it to record one post queued behind each other
(and behind ingest) for most of a drain; batched, a hundred posts cost one turn.

A post recorded late is no risk: until it is, its row stays leased and marked ``needs_check``,
so if the process dies first the next attempt finds the message in Slack instead of posting it
again, and rows of the same mention wait for it as they wait for any pending row.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core import metrics
from bot.core.clock import Clock
from bot.outbox.jobs import Job
from storage import cards, events, outbox
from storage.db import session_scope
from storage.models import EventKind, OutboxKind

log = logging.getLogger(__name__)
Done = tuple[Job, dict[str, Any]]
Extra = Callable[[Session, Job, dict[str, Any], datetime], None]


class Completions:
    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        extra: Extra,
        recorded: Callable[[], None] = lambda: None,
        every: float = 0.01,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.extra = extra  # what else a done row needs recorded (a reply to the citizen)
        self.recorded = recorded  # told after a batch: rows waiting for these may go now
        self.every = every
        self.last_at: datetime | None = None
        self._queue: list[Done] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def done(self, job: Job, result: dict[str, Any]) -> None:
        """Record one finished row now."""
        self._record([(job, result)])

    def later(self, job: Job, result: dict[str, Any]) -> None:
        """Record a finished row with the next batch (see the module docstring)."""
        with self._lock:
            self._queue.append((job, result))
        self._ready.set()

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="engage-completions", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._ready.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._flush()  # whatever came in last

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._ready.wait()
            self._stop.wait(self.every)  # gather a few more
            self._ready.clear()
            self._flush()

    def _flush(self) -> None:
        with self._lock:
            batch, self._queue = self._queue, []
        if not batch:
            return
        try:
            self._record(batch)
        except Exception:  # one bad row must not lose the others: record them one by one
            log.exception("recording a batch of deliveries failed; recording them one by one")
            for one in batch:
                try:
                    self._record([one])
                except Exception:  # left leased and needs_check: the next attempt looks first
                    log.exception("recording a delivery failed", extra={"outbox_id": one[0].id})
        self.recorded()

    def _record(self, batch: list[Done]) -> None:
        now = self.clock.now()
        posts = [
            (job, res)
            for job, res in batch
            if job.kind == OutboxKind.POST_CARD and job.card_id is not None
        ]
        with session_scope(self.engine) as session:
            # One statement for all the rows, one for all the cards, the events in one flush:
            # recording a post costs next to nothing beside the post itself.
            done = [(job.id, result) for job, result in batch]
            outbox.complete_many(session=session, done=done, now=now)
            cards.set_ts_many(
                session=session,
                posted=[
                    (job.card_id, res["channel"], res["ts"])
                    for job, res in posts
                    if job.card_id is not None
                ],
            )
            for job, result in posts:
                events.record(
                    session=session,
                    mention_id=job.mention_id,
                    kind=EventKind.POSTED,
                    at=now,
                    data={"channel": result["channel"], "ts": result["ts"], "card_id": job.card_id},
                )
            for job, result in batch:
                self.extra(session, job, result, now)
        if posts:
            metrics.CARDS_POSTED.inc(len(posts))
        self.last_at = now
