"""Under sustained intake every mention still becomes its card: fast feeders on three sources at
once, and delivery keeps going while they feed (it is not starved by ingest's writes).

Every stored mention ends with a card posted to Slack, or folded into another's card for a
reason that applies to it: a near-duplicate of that card's text, or a person's flood.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.app.compose import Engage
from bot.config.file import parse_config
from bot.core.adapter import IncomingMention
from bot.core.sources import PERSON_SOURCES
from bot.intake.screening.fingerprint import near, simhash
from bot.sandbox.fake_slack import FakeSlack, wait_until
from storage.db import FairLock, session_scope
from storage.models import Card, Event, Mention
from tests.conftest import CONFIG, settings_for
from tests.factories import post_webhook, settled

PER_FEEDER = 14
CAMPAIGN = "Stop cutting the bin collection in our street, the pothole crews too! #savebins"
STREETS = ("Elm", "Oak", "Ash", "Birch", "Pine", "Cedar", "Maple", "Walnut", "Cherry", "Willow")


def _feed_news(bot: Engage) -> None:
    """A city news feed: one author, every item its own card."""
    for n in range(PER_FEEDER):
        text = f"Road works: pothole repairs on {STREETS[n % 10]} Street, block {n}, this week"
        item = IncomingMention(source="rss", external_id=f"news-{n}", text=text, author="City")
        bot.poller.streamed("news", [item])


def _feed_people(bot: Engage) -> None:
    """People on Mastodon: a campaign's copies from many accounts, and one person flooding."""
    for n in range(PER_FEEDER):
        if n % 2 == 0:
            text, author = CAMPAIGN, f"@citizen{n}@social.example"
        else:
            text, author = f"pothole at {n} {STREETS[n % 10]} St", "@flooder@social.example"
        item = IncomingMention(source="mastodon", external_id=f"toot-{n}", text=text, author=author)
        bot.poller.streamed("social", [item])


def _feed_form(bot: Engage) -> None:
    """A web form with no author: one card per submission."""
    for n in range(PER_FEEDER):
        text = f"Playground swing broken at {n} {STREETS[n % 10]} Park"
        assert post_webhook(bot.url, {"text": text}).status_code == 202


def test_every_mention_fed_fast_gets_its_card_or_a_fold_that_applies(
    slack: FakeSlack, sqlite: Engine
) -> None:
    bot = Engage(settings_for(slack), parse_config(CONFIG), engine=sqlite, migrate=False)
    bot.start(host="127.0.0.1", port=0)
    try:
        feeders = [
            threading.Thread(target=feed, args=(bot,))
            for feed in (_feed_news, _feed_people, _feed_form)
        ]
        for feeder in feeders:
            feeder.start()
        for feeder in feeders:
            feeder.join(60)
        settled(bot, timeout=30)
    finally:
        bot.stop()

    with session_scope(sqlite) as s:
        stored = {m.id: m for m in s.exec(select(Mention)) if m.id is not None}
        posted = {c.mention_id for c in s.exec(select(Card).where(col(Card.ts).is_not(None)))}
        folds = {e.mention_id: e.data for e in s.exec(select(Event)) if e.kind == "folded"}
    assert len(stored) == 3 * PER_FEEDER
    reasons: Counter[str] = Counter()
    for number, mention in stored.items():
        if mention.folded_into is None:
            assert mention.id in posted, f"no card for {mention.text!r}"
            continue
        reason = folds[mention.id]["reason"]
        reasons[reason] += 1
        root = stored[mention.folded_into]
        assert root.id in posted and root.folded_into is None
        if reason == "near-duplicate":
            assert near(
                simhash(mention.text), simhash(root.text), length=len(mention.text), limit=12
            )
            assert root.author != mention.author or mention.source in PERSON_SOURCES
        else:
            assert reason == "flood" and mention.source in PERSON_SOURCES
            since = mention.received_at - timedelta(hours=1)
            earlier = [
                m
                for n, m in stored.items()
                if m.author == mention.author and n < number and m.received_at >= since
            ]
            assert len(earlier) >= 5  # the default flood_limit
    # The campaign's 7 copies fold into its first card; the flooder's 7 posts after the 5th.
    assert reasons == {"near-duplicate": 6, "flood": 2}

    # Delivery was not starved: cards reached Slack while the feeders were still feeding.
    first_card = min(c.at for c in slack.calls_to("chat.postMessage"))
    last_stored = max(m.received_at for m in stored.values()).timestamp()
    assert first_card < last_stored


def test_units_of_work_on_sqlite_take_turns_in_the_order_they_asked() -> None:
    """The lock behind SQLite's one writer serves waiters first come, first served: a poller
    that asks again at once goes behind whoever was already waiting (delivery, a click)."""
    lock = FairLock()
    order: list[int] = []
    lock.acquire()

    def unit(n: int) -> None:
        with lock:
            order.append(n)

    threads = [threading.Thread(target=unit, args=(n,)) for n in range(6)]

    def queued(count: int) -> Callable[[], bool]:
        return lambda: lock.waiting == count

    for count, thread in enumerate(threads, 1):
        thread.start()
        wait_until(queued(count))  # each is queued before the next one starts
    lock.release()
    for thread in threads:
        thread.join(5)
    assert order == list(range(6))
