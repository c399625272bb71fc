"""Retention, erasure and export end to end: the real bot on loopback, the fake Slack at the wire,
a clock the test moves. Each test runs on SQLite and on PostgreSQL (``make_bot``'s ``engine``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import select

from bot.app.compose import Engage
from bot.core.adapter import IncomingMention
from bot.sandbox.fake_slack import FakeSlack
from storage.db import session_scope
from storage.models import Event, Mention, Muted, Outbox
from storage.privacy.tables import PrivacyRequest, PurgeRun
from tests.conftest import CONFIG
from tests.factories import Clock, settled

MakeBot = Callable[..., Engage]
PW, PARKS = "C0PUBWORKS", "C0PARKS001"
STAFF = ("U0STAFF001", "U0STAFF002")
T0 = datetime(2026, 5, 5, 14, 0, tzinfo=UTC)  # a Tuesday, in office hours in New York
RETENTION = """
retention:
  citizen_data: 180d
  sources: {email: 30d}
  events: 2y
"""
# What the citizens wrote and who they are: none of it may survive a purge or an erasure.
POSTS = [
    ("mastodon", "m1", "@alice@town.social", "Pothole outside number 12 Elm St, my bike broke"),
    ("mastodon", "m2", "@Alice@Town.social", "The street light on Oak Ave is still out"),
    ("email", "e1", "Bob Barker <bob@example.org>", "Overflowing bins behind the library"),
    ("webhook", "w1", "Carla Mendes", "Deep pothole at Pine and 3rd, please fix"),
    ("mastodon", "m3", "@dave@town.social", "The playground swing in Central Park is broken"),
]
ANSWER = "Thanks Alice, a crew is on its way to Elm St today"
SECRETS = [text for *_, text in POSTS] + ["alice", "bob@example.org", "Carla", "dave", ANSWER]


def ingest(bot: Engage, clock: Clock, posts: list[tuple[str, str, str, str]]) -> list[int]:
    ids = []
    for source, external_id, author, text in posts:
        result = bot.ingest_one(
            IncomingMention(
                source=source,
                external_id=external_id,
                text=text,
                author=author,
                url=f"https://{source}.example/{external_id}",
                extra={"lat": 42.36, "lon": -71.06},
            )
        )
        assert result.mention_id is not None
        ids.append(result.mention_id)
        clock.at += timedelta(minutes=5)
    return ids


def work(bot: Engage, clock: Clock, ids: list[int]) -> None:
    """Claim and answer the first, hand over the second, dismiss the third: every kind of event
    and outbox row that carries what a citizen or a member of staff said."""
    clock.at += timedelta(minutes=30)
    assert bot.claims.claim(mention_id=ids[0], user_id=STAFF[0], request_key="c1", channel_id=PW).ok
    clock.at += timedelta(minutes=30)
    assert bot.claims.answer(mention_id=ids[0], user_id=STAFF[0], text=ANSWER, request_key="a1").ok
    assert bot.claims.hand_over(
        mention_id=ids[1],
        user_id=STAFF[1],
        to_department="parks",
        note="Alice asks",
        request_key="h",
    ).ok
    assert bot.claims.dismiss(
        mention_id=ids[2], user_id=STAFF[1], reason="spam", note="bob again", request_key="d"
    ).ok
    settled(bot)


def figures(bot: Engage, department: str | None) -> Any:
    report = bot.summaries.report(
        department=department, period="2026-05-01..2026-05-31", lead_view=True
    )
    # The recurring words are the texts: they are what a purge removes.
    return replace(report.comparison.current, top_terms=[])


def rows(bot: Engage, model: Any) -> list[Any]:
    with session_scope(bot.engine) as session:
        found = list(session.exec(select(model)))
        session.expunge_all()
        return found


def dumped(value: Any) -> str:
    return json.dumps(value, default=str).lower()


def card_messages(slack: FakeSlack) -> str:
    return dumped([slack.messages(channel) for channel in (PW, PARKS, "C0TRIAGE01")])


def test_retention_removes_what_is_past_its_time_and_keeps_the_figures(
    make_bot: MakeBot, slack: FakeSlack
) -> None:
    clock = Clock(T0 - timedelta(days=900))
    bot = make_bot(CONFIG + RETENTION, clock=clock)
    ancient = ingest(bot, clock, [("webhook", "w0", "Zed Old", "An ancient pothole report")])
    clock.at = T0
    old = ingest(bot, clock, POSTS)
    work(bot, clock, old)
    clock.at = T0 + timedelta(days=200)
    fresh = ingest(bot, clock, [("mastodon", "m9", "@erin@town.social", "New pothole on Birch")])
    clock.at += timedelta(days=1)
    settled(bot)
    assert "my bike broke" in card_messages(slack)
    before = {d: figures(bot, d) for d in ("public-works", "parks", None)}
    assert before["public-works"].received == 3 and before[None].answered == 1

    dry = bot.privacy.purge(dry_run=True)
    assert dict(dry.counts.mentions) == {"email": 1, "mastodon": 3, "webhook": 2}
    assert rows(bot, PurgeRun) == [] and all(m.text for m in rows(bot, Mention))

    done = bot.privacy.purge(actor="test")
    settled(bot)
    assert done.counts.total == 6 and done.counts.cards >= 5
    assert done.counts.events > 0  # the ancient mention's records, over two years old

    mentions = {m.id: m for m in rows(bot, Mention)}
    for mention_id in [*ancient, *old]:
        m = mentions[mention_id]
        assert (m.text, m.author, m.url, m.title, m.answer_text) == ("", "", None, None, None)
        assert m.extra["removed"]["reason"] == "retention" and "lat" not in m.extra
        assert len(m.extra["author_hash"]) == 32
    assert mentions[old[0]].extra["author_hash"] == mentions[old[1]].extra["author_hash"]
    assert mentions[fresh[0]].text == "New pothole on Birch"  # within its time: untouched
    stored = dumped([[m.model_dump() for m in rows(bot, t)] for t in (Mention, Event, Outbox)])
    for secret in SECRETS:
        assert secret.lower() not in stored, secret
    assert "new pothole on birch" in stored
    two_years = clock.at - timedelta(days=730)
    ancient_events = [
        e for e in rows(bot, Event) if e.mention_id == ancient[0] and e.at < two_years
    ]
    assert ancient_events and all(e.actor is None and e.data.get("pruned") for e in ancient_events)

    on_slack = card_messages(slack)
    for secret in SECRETS:
        assert secret.lower() not in on_slack, secret
    assert on_slack.count("removed under the retention policy") >= 5
    assert "new pothole on birch" in on_slack

    for department, was in before.items():
        assert figures(bot, department) == was, department
    (run,) = rows(bot, PurgeRun)
    assert run.actor == "test" and run.counts["mentions"] == {
        "email": 1,
        "mastodon": 3,
        "webhook": 2,
    }
    again = bot.privacy.purge()
    assert again.counts.total == 0 and again.counts.cards == 0


def test_erasure_and_export_are_about_one_person_only(make_bot: MakeBot, slack: FakeSlack) -> None:
    clock = Clock(T0)
    bot = make_bot(CONFIG, clock=clock)
    ids = ingest(bot, clock, POSTS)
    work(bot, clock, ids)
    bot.mute("@ALICE@town.social", "U0COMMS01", True)

    data = bot.privacy.export(["alice@town.social"], actor="cli:test")
    texts = [m["text"] for m in data["mentions"]]
    assert texts == [POSTS[0][3], POSTS[1][3]]  # both of Alice's, however the handle is spelled
    assert data["muted"] is True
    assert data["mentions"][0]["answer"] == ANSWER
    assert any(ANSWER in s.get("text", "") for s in data["mentions"][0]["sent"])
    exported = dumped(data)
    for other in ("bob", "carla", "dave", "u0staff", "library", "playground"):
        assert other not in exported, other

    before = {m.id: m for m in rows(bot, Mention)}
    erased = bot.privacy.erase(["@alice@town.social"], actor="cli:test")
    settled(bot)
    assert (erased.mentions, erased.unmuted) == (2, 1) and erased.cards >= 2
    after = {m.id: m for m in rows(bot, Mention)}
    for mention_id in ids[:2]:
        assert after[mention_id].text == "" and after[mention_id].author == ""
        assert after[mention_id].extra["removed"]["reason"] == "erasure"
        assert after[mention_id].status in ("answered", "dismissed")  # nothing left to answer
    for mention_id in ids[2:]:  # everybody else's, exactly as they were
        assert after[mention_id].model_dump() == before[mention_id].model_dump()
    assert rows(bot, Muted) == []
    stored = dumped([[m.model_dump() for m in rows(bot, t)] for t in (Mention, Event, Outbox)])
    assert "alice" not in stored and ANSWER.lower() not in stored
    assert "bob@example.org" in stored and "carla" in stored
    on_slack = card_messages(slack)
    assert "alice" not in on_slack and "my bike broke" not in on_slack
    assert on_slack.count("removed at the author") >= 2
    assert "playground swing" in on_slack

    again = bot.privacy.erase(["alice@town.social"], actor="cli:test")
    assert (again.mentions, again.cards, again.unmuted) == (0, 0, 0)
    assert {m.id: m.model_dump() for m in rows(bot, Mention)} == {
        i: m.model_dump() for i, m in after.items()
    }
    log = rows(bot, PrivacyRequest)
    assert [(r.action, r.outcome) for r in log] == [
        ("export", "done"),
        ("erase", "done"),
        ("erase", "nothing"),
    ]
    assert log[1].subject_hash == log[2].subject_hash == log[0].subject_hash
    assert "alice" not in dumped([r.model_dump() for r in log])
    assert bot.privacy.export(["alice@town.social"], actor="cli:test")["mentions"] == []
