"""Who is folded by author: people flooding from their own accounts, never a feed, a web form,
a 311 system or the city's own account, and never an anonymous sender taken as one author.

Mentions go in through the poller's own path (one short transaction each); a card is its row,
queued for Slack (the web form's are posted, through the running bot).
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.app.compose import Engage
from bot.config.file import parse_config
from bot.core.adapter import IncomingMention
from bot.sandbox.fake_slack import FakeSlack
from storage.db import session_scope
from storage.models import Card, Mention
from tests.conftest import CONFIG, settings_for
from tests.factories import post_webhook, settled

PW = "C0PUBWORKS"
ADAPTERS = """
adapters:
  - {type: rss, name: city-311, url: "http://127.0.0.1:9/311.xml"}
  - {type: rss, name: forum, url: "http://127.0.0.1:9/forum.xml", person_accounts: true}
  - type: mastodon
    name: social
    base_url: "http://127.0.0.1:9"
    city_accounts: ["city@social.example"]
"""
# A 311 system's feed: one author, items alike but for the address (near-duplicates by text).
REQUEST = (
    "New service request: pothole reported at {n} Elm Street, ward 3. Status: open. "
    "Follow this request on the city's 311 site."
)


def _bot(slack: FakeSlack, engine: Engine, adapters: str = ADAPTERS) -> Engage:
    env = {"MASTODON_ACCESS_TOKEN": "token"}
    settings = settings_for(slack, env=env)
    return Engage(settings, parse_config(CONFIG + adapters), engine=engine, migrate=False)


def _feed(bot: Engage, adapter: str, source: str, author: str, texts: list[str]) -> None:
    items = [
        IncomingMention(source=source, external_id=f"{adapter}-{author}-{n}", text=t, author=author)
        for n, t in enumerate(texts)
    ]
    bot.poller.streamed(adapter, items)


def _statuses(bot: Engage) -> Counter[tuple[str, str]]:
    with session_scope(bot.engine) as s:
        return Counter((m.adapter, m.status) for m in s.exec(select(Mention)))


def test_feeds_the_city_and_anonymous_senders_are_never_folded_by_author(
    slack: FakeSlack, engine: Engine
) -> None:
    bot = _bot(slack, engine)
    # Twenty items of one 311 feed in an hour: twenty cards, however alike their texts.
    _feed(bot, "city-311", "rss", "City 311", [REQUEST.format(n=n) for n in range(1, 21)])
    # The city's own account and Reddit's deleted authors, eight posts each.
    own = [f"@city pothole on {n} Oak Street is fixed" for n in range(8)]
    _feed(bot, "social", "mastodon", "@city@social.example", own)
    gone = [f"pothole on {n} Birch Street" for n in range(8)]
    _feed(bot, "reddit", "reddit", "[deleted]", gone)
    # A person past the flood limit (5 in an hour) on the same sources is still folded...
    troll = [f"@city pothole on {n} Ash Street!!" for n in range(8)]
    _feed(bot, "social", "mastodon", "@troll@social.example", troll)
    # ... and so is a feed whose adapter says its authors are people (a forum's feed).
    forum = [f"pothole on {n} Pine Street" for n in range(8)]
    _feed(bot, "forum", "rss", "neighbour42", forum)
    statuses = _statuses(bot)
    assert statuses[("city-311", "new")] == 20
    assert statuses[("social", "folded")] == 3  # the troll's 6th to 8th, not the city's
    assert statuses[("reddit", "new")] == 8
    assert (statuses[("forum", "new")], statuses[("forum", "folded")]) == (5, 3)
    with session_scope(bot.engine) as s:
        cards = Counter(c.channel_id for c in s.exec(select(Card)))
    assert cards == {PW: 20 + 8 + 8 + 5 + 5}


def test_a_web_form_without_author_gives_one_card_per_submission(
    slack: FakeSlack, sqlite: Engine
) -> None:
    bot = _bot(slack, sqlite, adapters="")
    bot.start(host="127.0.0.1", port=0)
    try:
        for n in range(8):
            response = post_webhook(bot.url, {"text": f"The street light at {n} Main St is out"})
            assert response.status_code == 202
        # A named sender on a form is not an account either: no flood folding.
        for n in range(8):
            text = f"Pothole in front of {n} Cedar Street"
            assert post_webhook(bot.url, {"text": text, "author": "Ana"}).status_code == 202
        settled(bot)
        assert _statuses(bot) == Counter({("", "new"): 16})
        assert len(slack.messages(PW)) == 16
    finally:
        bot.stop()
