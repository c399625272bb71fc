"""The poll lease: short, renewed while a poll runs, and given up by a replica that died.

Time is the test's clock, so leases of 20 seconds run out without waiting; only the heartbeat
runs on real time (every 20 ms here). A crashed replica is one that took the lease and was
never heard of again; ``tests/e2e/test_crash_takeover.py`` kills a real process instead.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.core.adapter import JSON, FetchResult, IncomingMention
from bot.intake.ingest import Ingestor
from bot.intake.polling import LEASE, Poller, Scheduled
from bot.rules.rulebook import Rulebook
from bot.sandbox.fake_slack import wait_until
from storage.db import session_scope
from storage.intake import adapter_states as states
from storage.models import AdapterState, Mention

START = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.at = START

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


class Source:
    """A polling adapter whose fetch can be held open; each fetch brings one new mention."""

    name, source = "city-feed", "rss"

    def __init__(self) -> None:
        self.fetches = 0
        self.started = threading.Event()
        self.hold: threading.Event | None = None

    def fetch(self, cursor: JSON | None) -> FetchResult:
        self.fetches += 1
        self.started.set()
        if self.hold is not None:
            assert self.hold.wait(10)
        n = self.fetches
        mention = IncomingMention(source="rss", external_id=f"e{n}", text=f"pothole {n}")
        return FetchResult(mentions=[mention], cursor={"seen": n})


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def source() -> Iterator[Source]:
    made = Source()
    yield made
    if made.hold is not None:
        made.hold.set()


def _poller(engine: Engine, clock: Clock, owner: str) -> Poller:
    ingestor = Ingestor(rulebook=Rulebook(triage_channel="C0TRIAGE01"), clock=clock)
    return Poller(engine=engine, ingestor=ingestor, clock=clock, owner=owner, heartbeat=0.02)


def _state(engine: Engine) -> AdapterState:
    with session_scope(engine) as s:
        state = s.get(AdapterState, Source.name)
    assert state is not None
    return state


def _crashed_mid_poll(engine: Engine, clock: Clock, item: Scheduled) -> None:
    """A replica took the lease at the clock's time and died: nothing renews or releases it."""
    with session_scope(engine) as s:
        states.ensure(session=s, name=item.adapter.name, source=item.adapter.source)
        assert states.acquire(
            session=s, name=item.adapter.name, owner="dead", now=clock.now(), seconds=item.lease
        )


def test_a_restarted_bot_polls_once_a_dead_replicas_lease_runs_out(
    engine: Engine, clock: Clock, source: Source
) -> None:
    item = Scheduled(source, every=300)
    assert item.lease == LEASE <= 30
    _crashed_mid_poll(engine, clock, item)
    restarted = _poller(engine, clock, owner="restarted")  # a new process: a new owner id
    clock.advance(LEASE - 1)
    assert restarted.run(item) is None and source.fetches == 0
    clock.advance(2)
    assert restarted.run(item) == 1
    assert _state(engine).cursor == {"seen": 1}


def test_a_poll_longer_than_its_lease_keeps_it(
    engine: Engine, clock: Clock, source: Source
) -> None:
    item = Scheduled(source, every=300, lease=20)
    polling, other = _poller(engine, clock, "polling"), _poller(engine, clock, "other")
    source.hold = threading.Event()
    result: list[int | None] = []
    worker = threading.Thread(target=lambda: result.append(polling.run(item)))
    worker.start()
    assert source.started.wait(5)
    for _ in range(3):  # a minute of fetching, three leases long
        clock.advance(20)
        wait_until(lambda: _state(engine).lease_until == clock.now() + timedelta(seconds=20))
        assert other.run(item, force=True) is None
    source.hold.set()
    worker.join(5)
    assert result == [1] and source.fetches == 1
    state = _state(engine)
    assert state.lease_owner is None  # given back with the outcome: the next poll is anyone's
    assert state.cursor == {"seen": 1}


def test_a_poll_that_lost_its_lease_keeps_nothing(
    engine: Engine, clock: Clock, source: Source
) -> None:
    """Renewals failed (say the database was unreachable) and another replica took over."""
    item = Scheduled(source, every=300, lease=20)
    stalled = Poller(
        engine=engine,
        ingestor=Ingestor(rulebook=Rulebook(triage_channel="C0TRIAGE01"), clock=clock),
        clock=clock,
        owner="stalled",
        heartbeat=3600,  # never beats during the test
    )
    source.hold = threading.Event()
    result: list[int | None] = []
    worker = threading.Thread(target=lambda: result.append(stalled.run(item)))
    worker.start()
    assert source.started.wait(5)
    clock.advance(21)
    with session_scope(engine) as s:
        assert states.acquire(session=s, name=source.name, owner="new", now=clock.now(), seconds=20)
    source.hold.set()
    worker.join(5)
    assert result == [None]
    state = _state(engine)
    assert (state.lease_owner, state.cursor, state.items_seen) == ("new", {}, 0)
    with session_scope(engine) as s:
        assert s.exec(select(Mention)).all() == []
