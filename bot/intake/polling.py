"""Runs polling adapters: lease, fetch, store each mention, then move the cursor.

One replica polls an adapter at a time: it takes the adapter's lease row in storage, for a short
``lease`` (20 s by default, per adapter), and renews it from a heartbeat thread every third of
that while the fetch runs, since a fetch may take longer than the lease. The outcome is written
only if the lease is still this replica's, and gives it back. A replica that dies mid-poll (a
crash, ``kill -9``) renews nothing, so its lease runs out within ``lease`` seconds and another
replica, or the restarted bot with its new owner id, polls at its next tick (every 5 s).

A failed fetch keeps the old cursor and waits longer each time (exponential backoff with jitter,
or the source's own ``Retry-After``); one adapter failing never stops the others, since each
runs as its own job.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy.engine import Engine

from bot.core import metrics
from bot.core.adapter import AdapterError, FetchResult, IncomingMention, PollingAdapter
from bot.core.clock import Clock
from bot.intake.ingest import Ingestor
from storage.db import session_scope
from storage.intake import adapter_states as states

log = logging.getLogger(__name__)
MAX_BACKOFF = 3600.0
LEASE = 20.0  # seconds a poll holds its adapter between heartbeats; see the module docstring


@dataclass(frozen=True)
class Scheduled:
    adapter: PollingAdapter
    every: float  # seconds between successful polls
    stream: bool = False  # the adapter also has stream(on_mentions, stop): run it too
    lease: float = LEASE


class _LeaseLost(Exception):
    """Another replica holds the adapter now: this poll's outcome is not ours to write."""


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
        heartbeat: float | None = None,
    ) -> None:
        self.engine = engine
        self.wake = wake
        self.ingestor = ingestor
        self.clock = clock
        self.owner = owner or uuid.uuid4().hex
        self.heartbeat = heartbeat  # seconds between lease renewals; None: a third of the lease

    def run(self, item: Scheduled, *, force: bool = False) -> int | None:
        """Poll one adapter if it is due; return how many new mentions it stored.

        ``None`` means it did not poll, or not for long: not due yet, another replica holds
        the lease, or took it over while this poll ran (and the cursor stayed where it was).
        """
        adapter = item.adapter
        now = self.clock.now()
        with session_scope(self.engine) as session:
            states.ensure(session=session, name=adapter.name, source=adapter.source)
            state = states.get(session=session, name=adapter.name)
            assert state is not None
            if not force and state.next_run_at is not None and state.next_run_at > now:
                return None
            if not states.acquire(
                session=session, name=adapter.name, owner=self.owner, now=now, seconds=item.lease
            ):
                return None
            cursor = dict(state.cursor) if state.cursor else None
            failures = state.consecutive_failures
        try:
            with self._heartbeat(adapter.name, item.lease):  # fetching and storing may be long
                try:
                    result = adapter.fetch(cursor)
                except Exception as exc:
                    failed: Exception | None = exc
                else:
                    failed = None
                    new = self._store(result.mentions, adapter.name, lease=item.lease)
                    self._succeeded(adapter.name, item, result)
        except _LeaseLost:
            # The cursor stays where the new holder found it: it fetches these mentions again
            # and finds them stored (a mention is stored once, whoever fetched it).
            log.warning("adapter lease lost during the poll", extra={"adapter": adapter.name})
            return None
        if failed is not None:
            retry_after = failed.retry_after if isinstance(failed, AdapterError) else None
            delay = retry_after or min(MAX_BACKOFF, item.every * 2**failures)
            delay *= random.uniform(1.0, 1.25)
            self._failed(adapter.name, f"{type(failed).__name__}: {failed}", delay)
            return 0
        for error in result.errors:
            log.warning(
                "adapter skipped an item",
                extra={"adapter": adapter.name, "item": error.item_id, "reason": error.reason},
            )
        metrics.ADAPTER_RUNS.labels(adapter=adapter.name, outcome="ok").inc()
        log.info(
            "adapter polled",
            extra={"adapter": adapter.name, "new": new, "skipped": len(result.errors)},
        )
        return new

    def _succeeded(self, name: str, item: Scheduled, result: FetchResult) -> None:
        """Move the cursor and give the lease back, if it is still this replica's."""
        with session_scope(self.engine) as session:
            if not states.record_success(
                session=session,
                name=name,
                owner=self.owner,
                cursor=result.cursor,
                items=len(result.mentions),
                item_errors=len(result.errors),
                now=self.clock.now(),
                next_run_at=self.clock.now() + timedelta(seconds=item.every),
            ):
                raise _LeaseLost

    @contextmanager
    def _heartbeat(self, name: str, lease: float) -> Iterator[None]:
        """Renew the lease from a thread of its own while the body runs."""
        stop = threading.Event()
        every = self.heartbeat if self.heartbeat is not None else lease / 3

        def beat() -> None:
            while not stop.wait(every):
                try:
                    with session_scope(self.engine) as session:
                        held = states.renew(
                            session=session,
                            name=name,
                            owner=self.owner,
                            now=self.clock.now(),
                            seconds=lease,
                        )
                except Exception:  # the database may be back by the next beat
                    log.warning("adapter lease not renewed", exc_info=True, extra={"adapter": name})
                    continue
                if not held:
                    return

        thread = threading.Thread(target=beat, name=f"lease-{name}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def streamed(self, adapter: str, items: list[IncomingMention]) -> None:
        """Store what a stream hands over; the polling cursor stays the gap-filler."""
        self._store(items, adapter)

    def start_stream(self, adapter: StreamingAdapter, stop: threading.Event) -> None:
        """Run ``adapter``'s stream in a thread of its own until ``stop`` is set."""

        def run() -> None:
            try:
                adapter.stream(lambda found: self.streamed(adapter.name, found), stop)
            except Exception:  # polling goes on: a dead stream only makes mentions slower
                log.exception("stream stopped", extra={"adapter": adapter.name})

        threading.Thread(target=run, name=f"stream-{adapter.name}", daemon=True).start()

    def _store(
        self, items: Sequence[IncomingMention], adapter: str, *, lease: float | None = None
    ) -> int:
        """Store mentions one short transaction each, waking delivery after each new one.

        One transaction per mention, not per poll: on SQLite a unit of work holds the one
        writer's turn, and a poll of a hundred mentions held it for seconds while delivery (and
        every click) waited. Each renews the poll's ``lease`` as it stores, so a poll that lost
        the lease stores nothing more. A crash part-way is harmless: the cursor has not moved,
        the next poll fetches the same mentions, and those stored already are found so.
        """
        new = 0
        for item in items:
            with session_scope(self.engine) as session:
                if lease is not None and not states.renew(
                    session=session,
                    name=adapter,
                    owner=self.owner,
                    now=self.clock.now(),
                    seconds=lease,
                ):
                    raise _LeaseLost
                stored = self.ingestor.ingest(session=session, items=[item], adapter=adapter)
            if any(not r.duplicate for r in stored):
                new += 1
                self.wake()
        return new

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
                owner=self.owner,
                error=error,
                now=now,
                next_run_at=now + timedelta(seconds=delay),
            )
