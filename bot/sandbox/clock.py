"""The sandbox's clock, and the bot's scheduled jobs run on it.

:class:`MovableClock` is real time plus an offset the visitor moves forward. It remembers each
change of the offset, so a message Slack stamped in real time can be placed in sandbox time
(:meth:`MovableClock.sandbox_time`): the page shows a reminder sent during a walk at the time
it was due, not at the time the visitor clicked.

:class:`JobWalker` runs the bot's APScheduler jobs in sandbox time. APScheduler itself keeps real
time, so with the clock a day ahead it would run the Monday digest on the real Monday; the
walker pauses those jobs and, whenever sandbox time passes (a second of real time, or the
visitor's "+1 day"), runs each job at every time its own trigger names in between, in order,
with the clock set to that time, and lets the outbox deliver what it queued before the next.
The outbox's own thread is stopped during a walk: with time jumping under it, a row it was
sending would look abandoned (its lease run out) and be sent twice.
"""

from __future__ import annotations

import bisect
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

log = logging.getLogger(__name__)

# A job due more often than this (the reminder sweep, every minute) runs at most once in each
# such slice of sandbox time during a walk: the first of its own times in the slice. A walk of a
# day stays about a second long, and a reminder shows at most this late.
GRAIN = timedelta(minutes=5)
# A job that would run more often than this in one move (moved a year) runs at this many evenly
# spaced times of its own instead: coalesced, as APScheduler does after a pause.
MAX_FIRES_PER_JOB = 1500
# Jobs that do not read the bot's clock keep running in real time.
REAL_TIME_JOBS = frozenset({"slack-auth"})
TICK = 1.0  # seconds of real time between walks while nobody moves the clock
_TINY = timedelta(microseconds=1)


class MovableClock:
    def __init__(self, offset: timedelta = timedelta()) -> None:
        self._lock = threading.Lock()
        self._changes: list[tuple[float, timedelta]] = [(0.0, offset)]  # (real ts, offset)

    @property
    def _offset(self) -> timedelta:
        return self._changes[-1][1]

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def advance(self, by: timedelta) -> datetime:
        if by < timedelta():
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._set(self._offset + by)
        return self.now()

    def jump_to(self, at: datetime) -> None:
        """Set "now" to ``at`` (the walker, running a job at its time)."""
        with self._lock:
            self._set(at - datetime.now(UTC))

    def _set(self, offset: timedelta) -> None:
        self._changes.append((datetime.now(UTC).timestamp(), offset))

    def sandbox_time(self, real_ts: float) -> float:
        """The sandbox time (epoch seconds) of an instant ``real_ts`` of real time."""
        with self._lock:
            at = bisect.bisect_right(self._changes, real_ts, key=lambda c: c[0]) - 1
            return real_ts + self._changes[max(at, 0)][1].total_seconds()


def fire_times(trigger: Any, after: datetime, until: datetime) -> list[datetime]:
    """When ``trigger`` fires in (``after``, ``until``]: at most once in each ``GRAIN`` slice of
    time (a longer slice on a long move, so ``MAX_FIRES_PER_JOB`` at most), the first time of
    its own in that slice."""
    grain = max(GRAIN, (until - after) / (MAX_FIRES_PER_JOB - 1))
    found: list[datetime] = []
    at: datetime | None = trigger.get_next_fire_time(None, after + _TINY)
    while at is not None and at <= until:
        found.append(at)
        next_slice = after + ((at - after) // grain + 1) * grain
        at = trigger.get_next_fire_time(None, max(at + _TINY, next_slice))
    return found


class Outbox(Protocol):
    """The bot's delivery worker, as the walker uses it."""

    def start(self) -> None: ...
    def stop(self, timeout: float = ...) -> None: ...
    def drain(self, timeout: float = ...) -> None: ...


class JobWalker:
    """Runs a scheduler's jobs at their own times of the sandbox's clock (see the module doc)."""

    def __init__(
        self,
        scheduler: Any,
        clock: MovableClock,
        outbox: Outbox,
        queued: Callable[[], object] = lambda: None,
        tick: float | None = TICK,
    ) -> None:
        """``queued()`` changes when something was queued for delivery (the newest outbox
        row): the outbox is drained after a job only then, as most runs queue nothing.
        ``tick``: seconds between walks as real time passes (None: only ``advance`` walks)."""
        self.scheduler, self.clock, self.outbox, self.queued = scheduler, clock, outbox, queued
        self.tick = tick
        self._lock = threading.Lock()  # one walk at a time: ticks and clicks
        self._walked_to = clock.now()
        self._paused: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._take_over()
        if self.tick is not None:
            self._thread = threading.Thread(target=self._tick, name="sandbox-clock", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop ticking; a move in progress finishes first (it restarts the outbox's thread,
        which the bot's own stop must come after)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        with self._lock:
            pass

    def advance(self, by: timedelta) -> list[tuple[datetime, str]]:
        """Move the clock forward ``by``, running every job due on the way; return what ran."""
        if by < timedelta():
            raise ValueError("the clock only moves forward")
        with self._lock:
            if self._stop.is_set():
                return []  # the sandbox is stopping: the bot may be gone
            return self._walk(self.clock.now() + by)

    def _tick(self) -> None:
        while not self._stop.wait(self.tick):
            try:
                with self._lock:
                    self._walk(self.clock.now())
            except Exception:  # the clock must keep ticking after one bad job
                log.exception("sandbox clock tick failed")

    def _take_over(self) -> None:
        """Pause the jobs that read the bot's clock: from now on they run only in a walk."""
        for job in self.scheduler.get_jobs():
            # Paused already: by us, or by someone else (then it is never walked either). A job
            # added again under the same id (replace_existing) is running: pause it again.
            if job.id not in REAL_TIME_JOBS and job.next_run_time is not None:
                job.pause()
                self._paused.add(job.id)

    def _walk(self, until: datetime) -> list[tuple[datetime, str]]:
        self._take_over()  # jobs added since (a config reload) are walked too
        start = self._walked_to
        due: list[tuple[datetime, int, Any]] = []
        for order, job in enumerate(self.scheduler.get_jobs()):
            if job.id in self._paused:
                due.extend((at, order, job) for at in fire_times(job.trigger, start, until))
        ran: list[tuple[datetime, str]] = []
        if due:
            self.outbox.stop()
        last = self.queued()
        try:
            for at, _, job in sorted(due, key=lambda d: (d[0], d[1])):
                if at > self.clock.now():  # a tick runs what fell due in the last second: as
                    self.clock.jump_to(at)  # late as that, never turning the clock back
                try:
                    job.func(*job.args, **job.kwargs)
                except Exception:  # as APScheduler does: log it, the other jobs still run
                    log.exception("sandbox: scheduled job failed", extra={"job": job.id})
                if (newest := self.queued()) != last or newest is None:
                    self.outbox.drain()
                    last = newest
                ran.append((at, job.id))
        finally:
            if due:
                self.outbox.start()
        if until > self.clock.now():
            self.clock.jump_to(until)
        self._walked_to = until
        return ran
