"""The core loop end to end: the real bot over HTTP on loopback, the fake Slack at the wire.

Each test runs on SQLite and on PostgreSQL (the ``engine`` fixture behind ``make_bot``).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from sqlmodel import select

from bot.app.compose import Engage
from bot.core.slack_ids import ActionId, BlockId, InputId
from bot.sandbox.fake_slack import FakeSlack, wait_until
from storage import events
from storage.db import session_scope
from storage.models import Mention
from tests.factories import card_in, events_of, opened_view, post_webhook, settled

PW = "C0PUBWORKS"
PARKS = "C0PARKS001"
TRIAGE = "C0TRIAGE01"

MakeBot = Callable[..., Engage]


def _status(slack: FakeSlack, channel: str, ts: str) -> str:
    message = slack.message(channel, ts)
    assert message is not None
    block = next(b for b in message["blocks"] if b.get("block_id") == BlockId.CARD_STATUS)
    return str(block["elements"][0]["text"])


def _buttons(message: dict[str, Any]) -> list[str]:
    empty: dict[str, Any] = {"elements": []}
    actions = next((b for b in message["blocks"] if b["type"] == "actions"), empty)
    return [e["action_id"] for e in actions["elements"]]


def test_webhook_mention_becomes_a_card_in_the_departments_channel(
    make_bot: MakeBot, slack: FakeSlack
) -> None:
    bot = make_bot()
    response = post_webhook(
        bot.url,
        {
            "id": "form-1",
            "text": "Big pothole on Elm St",
            "author": "Ana",
            "url": "https://forms.example/r/1",
        },
    )
    assert response.status_code == 202
    assert response.json()["department"] == "public-works"
    card = card_in(slack, PW, bot=bot)
    text = card["blocks"][0]["text"]["text"]
    meta = card["blocks"][1]["elements"][0]["text"]
    assert "Big pothole on Elm St" in text
    assert "Web form" in meta and "Ana" in meta and "rule *streets*" in meta
    assert _buttons(card) == [
        ActionId.CLAIM,
        ActionId.ANSWERED,
        ActionId.HAND_OVER,
        ActionId.DISMISS,
        ActionId.OPEN_ORIGINAL,
    ]
    assert card["metadata"]["event_type"] == "engage_message"
    assert slack.messages(TRIAGE) == [] and slack.messages(PARKS) == []
    # The same submission again stores nothing and posts nothing.
    again = post_webhook(bot.url, {"id": "form-1", "text": "Big pothole on Elm St"})
    assert again.status_code == 200 and again.json()["duplicate"] is True
    settled(bot)
    assert len(slack.messages(PW)) == 1
    assert len(events_of(bot, "posted")) == 1


def test_unmatched_mention_goes_to_triage(make_bot: MakeBot, slack: FakeSlack) -> None:
    bot = make_bot()
    assert post_webhook(bot.url, {"text": "When is the next council meeting?"}).status_code == 202
    card = card_in(slack, TRIAGE, bot=bot)
    assert "no rule matched" in card["blocks"][1]["elements"][0]["text"]


def test_citizen_text_pings_nobody_and_hides_no_link(make_bot: MakeBot, slack: FakeSlack) -> None:
    bot = make_bot()
    evil = "pothole <!channel> <!here> <@U0LEADPW1> <!subteam^S1> <https://evil.example|click> & co"
    post_webhook(bot.url, {"text": evil, "author": "<!everyone>", "title": "<!channel> title"})
    card = card_in(slack, PW, bot=bot)
    rendered = str(card["blocks"]) + card["text"]
    for raw in (
        "<!channel>",
        "<!here>",
        "<@U0LEADPW1>",
        "<!subteam",
        "<https://evil",
        "<!everyone>",
    ):
        assert raw not in rendered
    assert "&lt;!channel&gt;" in card["blocks"][0]["text"]["text"]
    assert "&lt;https://evil.example|click&gt; &amp; co" in card["blocks"][0]["text"]["text"]
    assert card["blocks"][0]["text"]["verbatim"] is True
    call = slack.calls_to("chat.postMessage")[0]
    assert "link_names" not in call.args and "parse" not in call.args


def test_long_text_is_cut_to_block_kit_limits_with_a_link(
    make_bot: MakeBot, slack: FakeSlack
) -> None:
    bot = make_bot()
    post_webhook(bot.url, {"text": "pothole & " * 1000, "url": "https://forms.example/r/9"})
    card = card_in(slack, PW, bot=bot)
    text = card["blocks"][0]["text"]["text"]
    assert len(text) <= 3000
    assert text.endswith("open the original for the rest)")
    body = text.removesuffix("… (cut: open the original for the rest)")
    assert not re.search(r"&[a-z]*$", body)  # no entity cut in half


def test_claim_updates_the_card_and_notes_it_in_the_thread(
    make_bot: MakeBot, slack: FakeSlack
) -> None:
    bot = make_bot()
    post_webhook(bot.url, {"text": "pothole"})
    ts = card_in(slack, PW, bot=bot)["ts"]
    result = slack.click(
        f"{bot.url}/slack/events", user_id="U0ALICE01", channel=PW, ts=ts, action_id=ActionId.CLAIM
    )
    assert result.status == 200
    wait_until(lambda: "Claimed by <@U0ALICE01>" in _status(slack, PW, ts))
    message = slack.message(PW, ts)
    assert message is not None
    assert _buttons(message)[0] == ActionId.RELEASE
    wait_until(lambda: [r["text"] for r in slack.replies(PW, ts)] == ["<@U0ALICE01> claimed this."])
    # Someone else cannot release it; the claimer can.
    slack.click(
        f"{bot.url}/slack/events",
        user_id="U0BOB0001",
        channel=PW,
        ts=ts,
        action_id=ActionId.RELEASE,
    )
    wait_until(lambda: any("Only <@U0ALICE01>" in e["text"] for e in slack.ephemerals))
    slack.click(
        f"{bot.url}/slack/events",
        user_id="U0ALICE01",
        channel=PW,
        ts=ts,
        action_id=ActionId.RELEASE,
    )
    wait_until(lambda: "Unclaimed" in _status(slack, PW, ts))
    assert [e.actor for e in events_of(bot, "claimed")] == ["U0ALICE01"]
    assert [e.actor for e in events_of(bot, "released")] == ["U0ALICE01"]


def test_two_simultaneous_claims_have_one_winner(make_bot: MakeBot, slack: FakeSlack) -> None:
    bot = make_bot()
    post_webhook(bot.url, {"text": "pothole"})
    ts = card_in(slack, PW, bot=bot)["ts"]
    barrier = threading.Barrier(2)
    users = ["U0ALICE01", "U0BOB0001"]

    def click(user: str) -> None:
        barrier.wait()
        slack.click(
            f"{bot.url}/slack/events", user_id=user, channel=PW, ts=ts, action_id=ActionId.CLAIM
        )

    threads = [threading.Thread(target=click, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = events_of(bot, "claimed")
    assert len(claimed) == 1
    winner = claimed[0].actor
    loser = next(u for u in users if u != winner)
    wait_until(
        lambda: (
            [e["text"] for e in slack.ephemerals if e["user"] == loser]
            == [f"Already claimed by <@{winner}>."]
        )
    )
    wait_until(lambda: f"Claimed by <@{winner}>" in _status(slack, PW, ts))


def test_the_same_slack_request_three_times_has_one_effect(
    make_bot: MakeBot, slack: FakeSlack
) -> None:
    bot = make_bot()
    post_webhook(bot.url, {"text": "pothole"})
    ts = card_in(slack, PW, bot=bot)["ts"]
    first = slack.click(
        f"{bot.url}/slack/events", user_id="U0ALICE01", channel=PW, ts=ts, action_id=ActionId.CLAIM
    )
    for retry in ("1", "2"):
        headers = {
            **slack.signed_headers(first.request_body),
            "X-Slack-Retry-Num": retry,
            "X-Slack-Retry-Reason": "http_timeout",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        assert slack.send_raw(f"{bot.url}/slack/events", first.request_body, headers).status == 200
    settled(bot)
    assert len(events_of(bot, "claimed")) == 1
    assert len(slack.replies(PW, ts)) == 1
    assert slack.ephemerals == []  # a retry is not a second click: nobody is told "already"


def test_thread_reply_claims_and_a_retried_event_counts_once(
    make_bot: MakeBot, slack: FakeSlack
) -> None:
    bot = make_bot()
    post_webhook(bot.url, {"text": "pothole"})
    ts = card_in(slack, PW, bot=bot)["ts"]
    url = f"{bot.url}/slack/events"
    first = slack.post_user_message(
        url, user_id="U0CAROL01", channel=PW, text="On it!", thread_ts=ts
    )
    assert first.status == 200
    for n in (1, 2):
        slack.send_event(url, {}, retry_num=n, body_override=first.request_body)
    wait_until(lambda: "Claimed by <@U0CAROL01>" in _status(slack, PW, ts))
    settled(bot)
    claimed = events_of(bot, "claimed")
    assert len(claimed) == 1 and claimed[0].data == {"via": "thread_reply"}
    # A later reply by someone else does not take it over.
    slack.post_user_message(url, user_id="U0DAVE001", channel=PW, text="me too", thread_ts=ts)
    time.sleep(0.3)
    assert len(events_of(bot, "claimed")) == 1


def test_answer_through_the_modal(make_bot: MakeBot, slack: FakeSlack) -> None:
    bot = make_bot()
    post_webhook(bot.url, {"text": "pothole on Oak", "author": "Ana"})
    ts = card_in(slack, PW, bot=bot)["ts"]
    url = f"{bot.url}/slack/events"
    slack.click(url, user_id="U0ALICE01", channel=PW, ts=ts, action_id=ActionId.ANSWERED)
    view_id = opened_view(slack)
    result = slack.submit_view(
        url,
        user_id="U0ALICE01",
        view_id=view_id,
        values={BlockId.ANSWER_TEXT: {InputId.ANSWER_TEXT: "Thanks Ana, a crew is on the way."}},
    )
    assert result.status == 200 and result.body in ("", "{}")
    wait_until(lambda: "Answered by <@U0ALICE01>" in _status(slack, PW, ts))
    message = slack.message(PW, ts)
    assert (message is not None and _buttons(message) == [ActionId.OPEN_ORIGINAL]) or _buttons(
        message or {"blocks": []}
    ) == []
    with session_scope(bot.engine) as s:
        mention = s.exec(select(Mention)).one()
        assert (mention.status, mention.answer_text) == (
            "answered",
            "Thanks Ana, a crew is on the way.",
        )
        kinds = [e.kind for e in events.for_mention(session=s, mention_id=mention.id or 0)]
    assert kinds == ["received", "routed", "posted", "claimed", "answered"]
    # A second answer from another modal is refused inside that modal.
    slack.click(
        url, user_id="U0BOB0001", channel=PW, ts=ts, action_id=ActionId.ANSWERED
    ) if False else None


def test_hand_over_moves_the_card(make_bot: MakeBot, slack: FakeSlack) -> None:
    bot = make_bot()
    post_webhook(bot.url, {"text": "pothole next to the playground"})
    ts = card_in(slack, PW, bot=bot)["ts"]
    url = f"{bot.url}/slack/events"
    slack.click(url, user_id="U0ALICE01", channel=PW, ts=ts, action_id=ActionId.HAND_OVER)
    view_id = opened_view(slack)
    options = slack.views[view_id]["blocks"][1]["element"]["options"]
    assert [o["value"] for o in options] == ["parks"]
    slack.submit_view(
        url,
        user_id="U0ALICE01",
        view_id=view_id,
        values={
            BlockId.DEPARTMENT: {InputId.DEPARTMENT: "parks"},
            BlockId.NOTE: {InputId.NOTE: "theirs"},
        },
    )
    new_card = card_in(slack, PARKS, bot=bot)
    assert "handed over from *Public Works* by <@U0ALICE01>" in str(new_card["blocks"][1])
    assert ActionId.CLAIM in _buttons(new_card)
    wait_until(lambda: "Handed over to *Parks and Recreation*" in _status(slack, PW, ts))
    old = slack.message(PW, ts)
    assert old is not None and ActionId.CLAIM not in _buttons(old)
    wait_until(lambda: any("handed this over" in r["text"] for r in slack.replies(PW, ts)))
    moved = events_of(bot, "handed_over")
    assert [(e.data["from"], e.data["to"], e.data["note"]) for e in moved] == [
        ("public-works", "parks", "theirs")
    ]


def test_no_action_with_a_reason(make_bot: MakeBot, slack: FakeSlack) -> None:
    bot = make_bot()
    post_webhook(bot.url, {"text": "buy cheap pothole filler at spam.example"})
    ts = card_in(slack, PW, bot=bot)["ts"]
    url = f"{bot.url}/slack/events"
    slack.click(url, user_id="U0ALICE01", channel=PW, ts=ts, action_id=ActionId.DISMISS)
    view_id = opened_view(slack)
    slack.submit_view(
        url, user_id="U0ALICE01", view_id=view_id, values={BlockId.REASON: {InputId.REASON: "spam"}}
    )
    wait_until(lambda: "Closed without action (spam)" in _status(slack, PW, ts))
    assert [e.data["reason"] for e in events_of(bot, "dismissed")] == ["spam"]


def test_forged_or_stale_signatures_are_refused(make_bot: MakeBot, slack: FakeSlack) -> None:
    bot = make_bot()
    post_webhook(bot.url, {"text": "pothole", "url": "https://forms.example/r/2"})
    ts = card_in(slack, PW, bot=bot)["ts"]
    url = f"{bot.url}/slack/events"
    good = slack.click(
        url, user_id="U0ALICE01", channel=PW, ts=ts, action_id=ActionId.OPEN_ORIGINAL
    )
    assert good.status == 200
    # The same request turned into a claim, without the signing secret.
    body = good.request_body.replace(b"engage.open_original", b"engage.claim")
    forged = {
        **slack.signed_headers(good.request_body),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    assert slack.send_raw(url, body, forged).status == 401
    stale = {
        **slack.signed_headers(body, timestamp=int(time.time()) - 600),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    assert slack.send_raw(url, body, stale).status == 401
    time.sleep(0.2)
    assert events_of(bot, "claimed") == []


def test_bad_webhooks_get_clear_errors_and_store_nothing(make_bot: MakeBot) -> None:
    bot = make_bot()
    cases: list[tuple[dict[str, Any] | bytes, dict[str, Any], int, str]] = [
        (b"{not json", {}, 400, "not valid UTF-8 JSON"),
        (b"[1, 2]", {}, 400, "must be a JSON object"),
        ({"author": "x"}, {}, 422, "field 'text' is required"),
        ({"text": "x", "url": "javascript:alert(1)"}, {}, 422, "field 'url'"),
        ({"text": "x", "colour": "red"}, {}, 422, "unknown field(s): colour"),
        ({"text": "pothole"}, {"signature": "sha256=" + "0" * 64}, 401, "does not match"),
        ({"text": "pothole"}, {"signature": ""}, 401, "missing X-Engage-Signature"),
        ({"text": "pothole"}, {"secret": "wrong"}, 401, "does not match"),
    ]
    for payload, kw, status, message in cases:
        response = post_webhook(bot.url, payload, **kw)
        assert response.status_code == status, (payload, response.text)
        assert response.json()["ok"] is False and message in response.json()["error"]
    with session_scope(bot.engine) as s:
        assert s.exec(select(Mention)).all() == []
    assert httpx.get(f"{bot.url}/ingest/webhook").status_code == 405


def test_health_and_metrics(make_bot: MakeBot, slack: FakeSlack) -> None:
    bot = make_bot()
    post_webhook(bot.url, {"text": "pothole"})
    card_in(slack, PW, bot=bot)
    health = httpx.get(f"{bot.url}/healthz")
    assert health.status_code == 200
    assert health.json()["database"] is True and health.json()["slack"] is True
    assert health.json()["last_delivery"] is not None
    text = httpx.get(f"{bot.url}/metrics").text
    assert 'engage_mentions_received_total{source="webhook"}' in text
    assert "engage_outbox_depth 0.0" in text
    assert "engage_cards_posted_total" in text


def test_health_reports_slack_auth_failure(make_bot: MakeBot, slack: FakeSlack) -> None:
    slack.fail_next("auth.test", error="invalid_auth")
    bot = make_bot()
    health = httpx.get(f"{bot.url}/healthz")
    assert health.status_code == 503 and health.json()["slack"] is False
