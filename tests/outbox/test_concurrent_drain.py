"""Many channels drain side by side: every channel's cards keep Slack's spacing, and no channel
waits for another's queue.

Asserted on what the fake Slack recorded (the order of the posts, their spacing per channel,
how many were in flight at once), not on how long the drain took.
"""

from __future__ import annotations

import itertools
import threading
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message

import pytest
from sqlalchemy.engine import Engine

from bot.app.compose import Engage
from bot.config.file import parse_config
from bot.core.adapter import IncomingMention
from bot.sandbox.fake_slack import FakeSlack, wait_until
from bot.sandbox.wire import Reply
from storage import delivery
from storage.db import session_scope
from tests.conftest import settings_for

CHANNELS = 12
CARDS = 3  # per channel
INTERVAL = 1.0  # seconds between posts to one channel, as Slack allows
CONCURRENCY = 8


class CountingSlack(FakeSlack):
    """The fake Slack, answering each post after a short wait and counting those in flight."""

    def __init__(self) -> None:
        super().__init__(bot_token="xoxb-test", signing_secret="test-secret")
        self.in_flight = 0
        self.most_in_flight = 0
        self._count = threading.Lock()

    def _api_request(self, method: str, headers: Message, body: bytes, query: str) -> Reply:
        if method != "chat.postMessage":
            return super()._api_request(method, headers, body, query)
        with self._count:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return super()._api_request(method, headers, body, query)
        finally:
            with self._count:
                self.in_flight -= 1


@pytest.fixture
def counting_slack() -> Iterator[CountingSlack]:
    fake = CountingSlack()
    fake.delay("chat.postMessage", 0.1)  # one post takes 100 ms: a round of 12 alone, 1.2 s
    fake.start()
    yield fake
    fake.stop()


def _config() -> str:
    departments = "".join(
        f"  - {{slug: d{n}, name: Department {n}, channel: C0DEPT{n:04d}}}\n"
        for n in range(CHANNELS)
    )
    rules = "".join(
        f"  - {{name: r{n}, department: d{n}, keywords: [topic{n}]}}\n" for n in range(CHANNELS)
    )
    return (
        "triage: {channel: C0TRIAGE01}\n"
        f"departments:\n{departments}rules:\n{rules}"
        f"delivery: {{channel_interval: {INTERVAL}, concurrency: {CONCURRENCY}}}\n"
    )


def test_many_channels_drain_side_by_side_at_each_channels_pace(
    counting_slack: CountingSlack, sqlite: Engine
) -> None:
    slack = counting_slack
    bot = Engage(settings_for(slack), parse_config(_config()), engine=sqlite, migrate=False)
    # Queued channel by channel (all of one channel's cards first), as a backlog would be.
    for n, k in itertools.product(range(CHANNELS), range(CARDS)):
        text = f"topic{n} report {k}"  # short and distinct: never a near-duplicate
        bot.ingest_one(IncomingMention(source="webhook", external_id=f"{n}-{k}", text=text))
    bot.start(host="127.0.0.1", port=0)
    try:
        total = CHANNELS * CARDS
        wait_until(lambda: len(slack.calls_to("chat.postMessage")) >= total, timeout=30)
    finally:
        bot.stop()

    posts = sorted(slack.calls_to("chat.postMessage"), key=lambda c: c.at)
    assert len(posts) == CHANNELS * CARDS
    times: dict[str, list[float]] = defaultdict(list)
    rounds: list[int] = []  # for each post in arrival order: which of its channel's cards it is
    for call in posts:
        times[call.args["channel"]].append(call.at)
        rounds.append(len(times[call.args["channel"]]))
    assert len(times) == CHANNELS and all(len(t) == CARDS for t in times.values())
    # Each channel keeps Slack's pace (a little under it for the fake's clock and the network).
    for at in times.values():
        assert all(b - a >= INTERVAL * 0.9 for a, b in itertools.pairwise(at))
    # Channels went side by side: every channel's first card before any channel's second, and
    # every second before any third. One after another, the first round alone (12 posts of
    # 100 ms) would outlast a channel's interval and the rounds would interleave.
    assert rounds == sorted(rounds)
    assert 1 < slack.most_in_flight <= CONCURRENCY


def test_turns_asked_together_are_taken_together(engine: Engine) -> None:
    """Workers' turns are taken in one unit of work: each wins its channel's turn once."""
    now = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    channels = ["C1", "C2", "C3"]
    with session_scope(engine) as s:
        assert delivery.take_turns(session=s, channel_ids=channels, now=now, interval=1) == {
            c: 0.0 for c in channels
        }
    later = now + timedelta(seconds=0.25)
    with session_scope(engine) as s:
        delivery.hold_channel(session=s, channel_id="C3", until=now + timedelta(seconds=30))
        waits = delivery.take_turns(session=s, channel_ids=[*channels, "C4"], now=later, interval=1)
    assert waits == {"C1": 0.75, "C2": 0.75, "C3": 29.75, "C4": 0.0}
    with session_scope(engine) as s:  # a turn that has come is taken again
        waits = delivery.take_turns(
            session=s, channel_ids=["C1"], now=now + timedelta(seconds=1), interval=1
        )
    assert waits == {"C1": 0.0}
