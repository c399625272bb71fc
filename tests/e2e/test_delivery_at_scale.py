"""Delivery under load: a storm of 429s and 5xx loses no card and doubles none, and several
replicas on one database pace each channel together, as one bot would."""

from __future__ import annotations

import itertools
import json
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from email.message import Message
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.app.compose import Engage
from bot.config.file import parse_config
from bot.core.adapter import IncomingMention
from bot.sandbox.fake_slack import FakeSlack, wait_until
from bot.sandbox.wire import Reply
from storage.db import make_engine, session_scope
from storage.models import Outbox
from tests.conftest import CONFIG, PG_URL, settings_for

PW, PARKS, TRIAGE = "C0PUBWORKS", "C0PARKS001", "C0TRIAGE01"
STAFF = "U0BOB0001"
STORMY = ("chat.postMessage", "chat.update")
# What a storm sends back, in equal shares: a rate limit, a 500 that did nothing, a 500 after
# the message was posted anyway (the ambiguous one), a 503.
FAULTS: tuple[dict[str, Any], ...] = (
    {"status": 429, "retry_after": 0},
    {"status": 500, "body": "<html>Internal Server Error</html>"},
    {"status": 500, "error": "internal_error", "apply": True},
    {"status": 503, "error": "service_unavailable"},
)
WORDS = (  # noqa: SIM905 (a list of 35 one-word strings reads worse)
    "broken cracked deep huge dangerous flooded dark noisy blocked missing overflowing "
    "leaning burnt graffiti rusty loose fallen muddy icy slippery smelly empty crowded "
    "corner avenue school library bridge station market square lane gate fence bench"
).split()


class StormySlack(FakeSlack):
    """The fake Slack in a storm: while ``raging``, a share of posts and updates fail with one
    of :data:`FAULTS` (by the fake's own fault scripting), chosen by a seeded die."""

    def __init__(self, rate: float, seed: int) -> None:
        super().__init__(bot_token="xoxb-test", signing_secret="test-secret")
        self.rate = rate
        self.raging = False
        self.faults: Counter[int] = Counter()
        self._die = random.Random(seed)
        self._turn = threading.Lock()

    def _api_request(self, method: str, headers: Message, body: bytes, query: str) -> Reply:
        if not (self.raging and method in STORMY):
            return super()._api_request(method, headers, body, query)
        with self._turn:  # the fault scheduled here is the one this very call meets
            roll = self._die.random()
            if roll < self.rate:
                fault = FAULTS[int(roll / self.rate * len(FAULTS))]
                self.faults[fault["status"]] += 1
                self.fail_next(method, **fault)
            return super()._api_request(method, headers, body, query)


@pytest.fixture
def slack() -> Iterator[StormySlack]:
    fake = StormySlack(rate=0.2, seed=12)
    fake.start()
    yield fake
    fake.stop()


def _cards_by_mention(slack: FakeSlack) -> Counter[int]:
    """How many top-level messages carry each mention's id (a card, as Slack shows it)."""
    seen: Counter[int] = Counter()
    for channel in (PW, PARKS, TRIAGE):
        for message in slack.messages(channel):
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("mention_id"):
                seen[int(payload["mention_id"])] += 1
    return seen


def test_a_storm_of_429s_and_5xx_loses_no_card_and_posts_none_twice(
    make_bot: Callable[..., Engage], slack: StormySlack
) -> None:
    bot = make_bot(CONFIG + "brigading: {distance: 0}\n")  # random texts never fold
    bot.delivery.first_backoff = 0.01
    slack.raging = True
    pick = random.Random(3)
    claimed: dict[int, str] = {}
    for i in range(200):
        topic, channel = [("pothole", PW), ("playground", PARKS), ("noise", TRIAGE)][i % 3]
        words = " ".join(pick.sample(WORDS, 6))
        result = bot.ingest_one(
            IncomingMention(source="webhook", external_id=f"s{i}", text=f"{topic} {words} {i}")
        )
        assert result.mention_id is not None
        if i % 4 == 0:  # a claim: the card is updated and its thread told, in the storm too
            bot.claims.claim(
                mention_id=result.mention_id, user_id=STAFF, request_key=f"k{i}", channel_id=channel
            )
            claimed[result.mention_id] = channel

    def delivered() -> bool:
        with session_scope(bot.engine) as s:
            return all(row.status == "done" for row in s.exec(select(Outbox)))

    wait_until(delivered, timeout=60)
    slack.raging = False
    assert sum(slack.faults.values()) > 30 and slack.faults[429] > 5  # it did storm
    cards = _cards_by_mention(slack)
    assert len(cards) == 200 and set(cards.values()) == {1}  # every card, each once
    for channel in (PW, PARKS, TRIAGE):
        for card in slack.messages(channel):
            mention = card["metadata"]["event_payload"]["mention_id"]
            if mention in claimed:
                assert STAFF in json.dumps(card["blocks"])  # the update got through
                notes = slack.replies(channel, card["ts"])
                assert len([n for n in notes if "claimed this" in n["text"]]) == 1


def _replica_engine(engine: Engine) -> Engine:
    """Another connection pool on the same database, as another process would have."""
    if engine.dialect.name == "sqlite":
        return make_engine(engine.url.render_as_string(hide_password=False))
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    return make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})


def test_replicas_share_each_channels_pace_and_its_rate_limit(
    slack: StormySlack, engine: Engine
) -> None:
    interval = 0.4
    config = parse_config(CONFIG.replace("channel_interval: 0", f"channel_interval: {interval}"))
    engines = [engine, _replica_engine(engine), _replica_engine(engine)]
    replicas = [Engage(settings_for(slack), config, engine=e, migrate=False) for e in engines]
    for i in range(3):
        replicas[0].ingest_one(
            IncomingMention(source="webhook", external_id=f"pw{i}", text=f"pothole {i}")
        )
        replicas[0].ingest_one(
            IncomingMention(source="webhook", external_id=f"p{i}", text=f"playground {i}")
        )
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    for replica in replicas:
        replica.delivery.start()
    try:
        wait_until(lambda: len(slack.messages(PW)) == 3 and len(slack.messages(PARKS)) == 3, 10)
    finally:
        for replica in replicas:
            replica.delivery.stop()
        for extra in engines[1:]:
            extra.dispose()
    calls = slack.calls_to("chat.postMessage")
    throttled = calls[0].args["channel"]
    for channel in (PW, PARKS):
        times = [c.at for c in calls if c.args["channel"] == channel]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        # Never faster than one bot: turns are taken `interval` apart, and what reaches Slack
        # differs from that only by how long each call took to get there.
        assert min(gaps) >= interval / 2, (channel, gaps)
        assert times[-1] - times[0] >= (len(times) - 1) * interval - 0.15, (channel, gaps)
        if channel == throttled:
            assert gaps[0] >= 1.0, gaps  # Retry-After held the channel for every replica
