"""The sandbox's clock: moving it runs each scheduled job at its own times in between, in order.

A real APScheduler (started paused, as nothing here may run on real time) holds jobs like the
bot's: a sweep every minute and a weekly digest at 9:00 on Mondays in New York. Each job
records what the sandbox clock said when it ran.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.sandbox.clock import GRAIN, JobWalker, MovableClock, fire_times

NY = ZoneInfo("America/New_York")
SUNDAY_EVENING = datetime(2026, 12, 6, 18, 0, tzinfo=NY)


class Outbox:
    """The delivery worker as the walker sees it: counts what the walker asks of it."""

    def __init__(self) -> None:
        self.running, self.drains, self.stops = True, 0, 0

    def start(self) -> None:
        self.running = True

    def stop(self, timeout: float = 30.0) -> None:
        self.running, self.stops = False, self.stops + 1

    def drain(self, timeout: float = 10.0) -> None:
        assert not self.running, "a walk drains the outbox with its thread stopped"
        self.drains += 1


@pytest.fixture
def scheduler() -> Iterator[BackgroundScheduler]:
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.start(paused=True)
    yield scheduler
    scheduler.shutdown(wait=False)


def _clock_at(at: datetime) -> MovableClock:
    return MovableClock(at - datetime.now(UTC))


def test_a_week_long_move_runs_the_digest_once_at_its_hour_and_the_sweep_on_the_way(
    scheduler: BackgroundScheduler,
) -> None:
    clock, outbox = _clock_at(SUNDAY_EVENING), Outbox()
    log: list[tuple[str, datetime]] = []
    queued = [0]

    def digest() -> None:
        log.append(("digest", clock.now()))
        queued[0] += 1  # the digest queues messages: they are delivered before the next job

    scheduler.add_job(lambda: log.append(("sweep", clock.now())), "interval", seconds=60, id="s")
    weekly = CronTrigger(day_of_week="mon", hour=9, timezone="America/New_York")
    scheduler.add_job(digest, weekly, id="digest:parks")
    paused = scheduler.add_job(lambda: log.append(("x", clock.now())), "interval", seconds=60)
    paused.pause()  # someone else paused it: the walker leaves it so
    walker = JobWalker(scheduler, clock, outbox, queued=lambda: queued[0], tick=None)
    walker.start()  # takes the jobs over from APScheduler; only the move below runs them

    ran = walker.advance(timedelta(days=2))

    assert [at for at, _ in ran] == sorted(at for at, _ in ran)  # one timeline, in order
    monday_9 = datetime(2026, 12, 7, 9, 0, tzinfo=NY)
    assert [at for at, job in ran if job == "digest:parks"] == [monday_9]
    [seen] = [at for kind, at in log if kind == "digest"]  # once, whatever the move's length
    assert abs(seen - monday_9) < timedelta(seconds=1)  # the job saw the clock at its time
    sweeps = [at for kind, at in log if kind == "sweep"]
    # Every GRAIN of the two days, each run seeing the clock at its own time.
    assert len(sweeps) == 2 * 24 * 60 // int(GRAIN.total_seconds() // 60)
    assert SUNDAY_EVENING < sweeps[0] <= SUNDAY_EVENING + GRAIN
    gaps = [b - a for a, b in itertools.pairwise(sweeps)]
    assert all(timedelta(0) < gap <= GRAIN + timedelta(minutes=1) for gap in gaps)
    assert not any(kind == "x" for kind, _ in log)
    # The clock ends where the visitor asked; the outbox drained once, after the digest.
    assert abs(clock.now() - (SUNDAY_EVENING + timedelta(days=2))) < timedelta(seconds=5)
    assert (outbox.drains, outbox.stops, outbox.running) == (1, 1, True)
    # Between moves the jobs stay paused in APScheduler: real time never runs them.
    assert scheduler.get_job("s").next_run_time is None
    # A job added again under its id (a config reload) is taken over again, not run twice.
    scheduler.add_job(digest, weekly, id="digest:parks", replace_existing=True)
    ran = walker.advance(timedelta(days=7))
    assert [job for _, job in ran].count("digest:parks") == 1
    assert scheduler.get_job("digest:parks").next_run_time is None
    walker.stop()
    assert walker.advance(timedelta(days=7)) == []  # stopped: the bot may be gone


def test_a_message_sent_during_a_walk_is_placed_at_its_jobs_time() -> None:
    clock = _clock_at(SUNDAY_EVENING)
    monday_9 = datetime(2026, 12, 7, 9, 0, tzinfo=NY)
    before = time.time()
    clock.jump_to(monday_9)
    posted = time.time()  # as Slack stamps a message: real time
    clock.jump_to(monday_9 + timedelta(hours=9))
    assert abs(clock.sandbox_time(posted) - monday_9.timestamp()) < 1
    assert abs(clock.sandbox_time(before) - SUNDAY_EVENING.timestamp()) < 1


def test_the_clock_only_moves_forward(scheduler: BackgroundScheduler) -> None:
    walker = JobWalker(scheduler, _clock_at(SUNDAY_EVENING), Outbox())
    with pytest.raises(ValueError, match="only moves forward"):
        walker.advance(timedelta(minutes=-1))
    with pytest.raises(ValueError, match="only moves forward"):
        MovableClock().advance(timedelta(minutes=-1))


def test_a_very_long_move_runs_a_frequent_job_a_bounded_number_of_times() -> None:
    from apscheduler.triggers.interval import IntervalTrigger

    every_minute = IntervalTrigger(seconds=60, start_date=SUNDAY_EVENING)
    year = fire_times(every_minute, SUNDAY_EVENING, SUNDAY_EVENING + timedelta(days=365))
    assert 0 < len(year) <= 1500
    assert year == sorted(year) and year[-1] > SUNDAY_EVENING + timedelta(days=364)
    weekly = CronTrigger(day_of_week="mon", hour=9, timezone="America/New_York")
    assert len(fire_times(weekly, SUNDAY_EVENING, SUNDAY_EVENING + timedelta(days=364))) == 52
