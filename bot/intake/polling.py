"""Runs polling adapters: lease, fetch, then store the mentions and the new cursor together.

One replica polls an adapter at a time (a lease row in storage). A failed fetch keeps the old
cursor and waits longer each time (exponential backoff with jitter, or the source's own
``Retry-After``); one adapter failing never stops the others, since each runs as its own job.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy.engine import Engine

from bot.core import metrics
from bot.core.adapter import AdapterError, IncomingMention, PollingAdapter
from bot.core.clock import Clock
from bot.intake.ingest import Ingestor
from storage.db import session_scope
from storage.intake import adapter_states as states

log = logging.getLogger(__name__)
MAX_BACKOFF = 3600.0


@dataclass(frozen=True)
class Scheduled:
    adapter: PollingAdapter
    every: float  # seconds between successful polls
    stream: bool = False  # the adapter also has stream(on_mentions, stop): run it too


class StreamingAdapter(Protocol):
    name: str

    def stream(
        self, on_mentions: Callable[[list[IncomingMention]], None], stop: threading.Event
    ) -> None: ...


class Poller:
    def __init__(
        self,
        *,
        engine: Engine,
        ingestor: Ingestor,
        clock: Clock,
        wake: Callable[[], None] = lambda: None,
        owner: str | None = None,
    ) -> None:
        self.engine = engine
        self.wake = wake
        self.ingestor = ingestor
        self.clock = clock
        self.owner = owner or uuid.uuid4().hex

    def run(self, item: Scheduled, *, force: bool = False) -> int | None:
        """Poll one adapter if it is due; return how many new mentions it stored.

        ``None`` means it did not poll: not due yet, or another replica holds the lease.
        """
        adapter = item.adapter
        now = self.clock.now()
        with session_scope(self.engine) as session:
            states.ensure(session=session, name=adapter.name, source=adapter.source)
            state = states.get(session=session, name=adapter.name)
            assert state is not None
            if not force and state.next_run_at is not None and state.next_run_at > now:
                return None
            lease = max(120.0, item.every * 2)
            if not states.acquire(
                session=session, name=adapter.name, owner=self.owner, now=now, seconds=lease
            ):
                return 0
            cursor = dict(state.cursor) if state.cursor else None
            failures = state.consecutive_failures
        try:
            result = adapter.fetch(cursor)
        except Exception as exc:
            retry_after = exc.retry_after if isinstance(exc, AdapterError) else None
            delay = retry_after or min(MAX_BACKOFF, item.every * 2**failures)
            delay *= random.uniform(1.0, 1.25)
            self._failed(adapter.name, f"{type(exc).__name__}: {exc}", delay)
            return 0
        with session_scope(self.engine) as session:
            stored = self.ingestor.ingest(
                session=session, items=result.mentions, adapter=adapter.name
            )
            states.record_success(
                session=session,
                name=adapter.name,
                cursor=result.cursor,
                items=len(result.mentions),
                item_errors=len(result.errors),
                now=self.clock.now(),
                next_run_at=self.clock.now() + timedelta(seconds=item.every),
            )
        for error in result.errors:
            log.warning(
                "adapter skipped an item",
                extra={"adapter": adapter.name, "item": error.item_id, "reason": error.reason},
            )
        new = sum(1 for r in stored if not r.duplicate)
        if new:
            self.wake()
        metrics.ADAPTER_RUNS.labels(adapter=adapter.name, outcome="ok").inc()
        log.info(
            "adapter polled",
            extra={"adapter": adapter.name, "new": new, "skipped": len(result.errors)},
        )
        return new

    def streamed(self, adapter: str, items: list[IncomingMention]) -> None:
        """Store what a stream hands over; the polling cursor stays the gap-filler."""
        with session_scope(self.engine) as session:
            stored = self.ingestor.ingest(session=session, items=items, adapter=adapter)
        if any(not r.duplicate for r in stored):
            self.wake()

    def release_all(self, names: list[str]) -> None:
        """Give up this process's leases on a clean stop, so another replica takes over now."""
        with session_scope(self.engine) as session:
            for name in names:
                states.release(session=session, name=name, owner=self.owner)

    def _failed(self, name: str, error: str, delay: float) -> None:
        metrics.ADAPTER_RUNS.labels(adapter=name, outcome="error").inc()
        log.warning(
            "adapter fetch failed",
            extra={"adapter": name, "error": error, "retry_in": round(delay)},
        )
        now = self.clock.now()
        with session_scope(self.engine) as session:
            states.record_failure(
                session=session,
                name=name,
                error=error,
                now=now,
                next_run_at=now + timedelta(seconds=delay),
            )
            states.release(session=session, name=name, owner=self.owner)
