"""Triage that resists brigading: folding, floods, muting, "handle with care"."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlmodel import select

from bot.app.compose import Engage
from bot.core.adapter import IncomingMention
from bot.intake.screening.fingerprint import near, simhash
from bot.sandbox.fake_slack import FakeSlack
from storage.db import session_scope
from storage.models import Event, Mention
from tests.conftest import CONFIG
from tests.factories import settled

PW = "C0PUBWORKS"
TRIAGE = "C0TRIAGE01"
COMMS = "U0COMMS01"


def _post(bot: Engage, text: str, author: str, n: int) -> None:
    bot.ingest_one(
        IncomingMention(source="mastodon", external_id=f"post-{n}", text=text, author=author)
    )


@pytest.mark.parametrize(
    ("a", "b", "close"),
    [
        (
            "Stop the bin collection cuts! #savebins",
            "stop the BIN collection cuts!! #SaveBins",
            True,
        ),
        (
            "Stop the bin collection cuts! #savebins https://x.co/1 @mayor",
            "Stop the bin collection cuts! #savebins https://x.co/2 @council",
            True,
        ),
        (
            "The mayor must stop the bike lane on Main St now",
            "The mayor must stop the bike lane on Main Street now",
            True,
        ),
        ("Stop the bin collection cuts! #savebins", "There is a pothole on Elm St", False),
        ("pothole on Elm", "pothole on Oak", False),  # short: two different reports
    ],
)
def test_fingerprints_of_edited_copies_are_close(a: str, b: str, close: bool) -> None:
    assert near(simhash(a), simhash(b), length=len(a), limit=12) is close


def test_a_burst_of_200_near_identical_posts_is_one_card(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot = make_bot()
    base = "Stop cutting the bin collection in our street, the pothole crews too! #savebins"
    for n in range(200):
        variant = base if n % 3 else base.replace("in our street", "on our street")
        _post(bot, f"@city {variant}", f"@citizen{n}@mastodon.social", n)
    settled(bot)
    cards = slack.messages(PW)
    assert len(cards) == 1
    assert "*+199* similar or repeated post(s)" in json.dumps(cards[0]["blocks"])
    assert "@citizen1@mastodon.social" in json.dumps(cards[0]["blocks"])
    with session_scope(bot.engine) as s:
        rows = list(s.exec(select(Mention)))
        folded = [e for e in s.exec(select(Event)) if e.kind == "folded"]
    assert len(rows) == 200 and sum(m.status == "folded" for m in rows) == 199
    assert len(folded) == 199
    # Updates are coalesced: a handful of chat.update calls, not 199.
    assert len(slack.calls_to("chat.update")) < 20


def test_an_author_who_floods_is_folded_into_one_card(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot = make_bot()
    texts = [
        "pothole on Elm",
        "another pothole on Oak",
        "street light out on Pine",
        "bins not collected on Maple",
        "pothole by the school",
        "sidewalk broken on Birch",
        "pothole again on Cedar",
        "street light flickers on Ash",
    ]
    for n, text in enumerate(texts):
        _post(bot, text, "@loud@mastodon.social", n)
    settled(bot)
    assert len(slack.messages(PW)) == 5  # the flood limit
    first = slack.messages(PW)[0]
    assert "*+3* similar or repeated post(s)" in json.dumps(first["blocks"])


def test_the_comms_team_mutes_an_author(make_bot: Callable[..., Engage], slack: FakeSlack) -> None:
    bot = make_bot()
    url = f"{bot.url}/slack/events"
    refused = slack.slash_command(url, user_id="U0BOB0001", channel=PW, text="mute @troll")
    assert "Only the comms team" in refused.body
    done = slack.slash_command(url, user_id=COMMS, channel=TRIAGE, text="mute @troll")
    assert "Muted @troll" in done.body
    _post(bot, "pothole on Elm", "@troll", 1)
    _post(bot, "pothole on Oak", "@someone", 2)
    settled(bot)
    assert len(slack.messages(PW)) == 1
    with session_scope(bot.engine) as s:
        muted = s.exec(select(Mention).where(Mention.author == "@troll")).one()
        kinds = [e.kind for e in s.exec(select(Event).where(Event.mention_id == muted.id))]
    assert muted.status == "dismissed" and muted.dismissed_reason == "muted author"
    assert "muted" in kinds
    assert (
        "Unmuted @troll"
        in slack.slash_command(url, user_id=COMMS, channel=TRIAGE, text="unmute @troll").body
    )


def test_abusive_language_goes_to_the_comms_team_first(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot = make_bot(CONFIG)
    _post(bot, "Fix the pothole on Elm you idiots", "@angry", 1)
    settled(bot)
    assert slack.messages(PW) == []
    card = slack.messages(TRIAGE)[0]
    assert "Handle with care" in json.dumps(card["blocks"])
    with session_scope(bot.engine) as s:
        mention = s.exec(select(Mention)).one()
    assert mention.extra["suggested_department"] == "public-works"
    assert mention.extra["care"] == ["idiots"]


def test_311_reports_with_the_same_text_keep_their_own_cards(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot = make_bot()
    for n in range(3):
        bot.ingest_one(
            IncomingMention(
                source="open311",
                external_id=f"r{n}",
                text="Pothole repair request",
                author="311 request",
                extra={"address": f"{n} Elm St"},
            )
        )
    settled(bot)
    assert len(slack.messages(PW)) == 3
