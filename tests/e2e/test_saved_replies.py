"""Saved replies end to end: the comms team adds one in Slack, a staff member picks it in a
card's Answered modal (options loaded by a signed ``block_suggestion``), edits it, and the
edited text reaches Mastodon; the summary names it; 500 of them still make valid Block Kit.

One bot per test over the fake Slack and the loopback Mastodon of the adapter tests.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import select

from bot.app.compose import Engage
from bot.core.slack_ids import ActionId, BlockId, InputId
from bot.sandbox.block_kit import options_problems, view_problems
from bot.sandbox.fake_slack import FakeSlack, wait_until
from storage.answering.tables import SavedReply, SavedReplyChange, SavedReplyUse
from storage.db import session_scope
from tests.factories import settled
from tests.intake.adapters.test_mastodon import (
    T0,
    FakeMastodon,
    make_notification,
    make_status,
)
from tests.intake.adapters.test_mastodon import snowflake as status_id

PW, COMMS, ALICE = "C0PUBWORKS", "U0COMMS01", "U0ALICE01"


@pytest.fixture
def bot(streaming_bot: Engage) -> Engage:
    return streaming_bot


def _top_view(slack: FakeSlack, user: str) -> str:
    return str(wait_until(lambda: [{}, *slack.view_stack(user)][-1].get("id")))


def test_a_saved_reply_added_in_slack_is_picked_edited_and_sent(
    slack: FakeSlack, bot: Engage, mastodon: tuple[FakeMastodon, FakeMastodon]
) -> None:
    rest, streaming = mastodon
    url = f"{bot.url}/slack/events"
    # The comms team adds a saved reply from `/engage replies`.
    slack.slash_command(url, user_id=COMMS, channel=PW, text="replies")
    listing = _top_view(slack, COMMS)
    slack.click_view(url, user_id=COMMS, view_id=listing, action_id=ActionId.REPLIES_ADD)
    form = wait_until(lambda: len(slack.view_stack(COMMS)) == 2 and _top_view(slack, COMMS))
    assert isinstance(form, str)
    result = slack.submit_view(
        url,
        user_id=COMMS,
        view_id=form,
        values={
            "engage.reply.title": {"title": "Pothole repair"},
            "engage.reply.text": {"text": "Hello {author}, {department} will fix it. {link}"},
            "engage.reply.department": {"department": "public-works"},
            "engage.reply.language": {"language": "en"},
            "engage.reply.keywords": {"keywords": "pothole, road"},
        },
    )
    assert result.status == 200 and "errors" not in result.body
    parks = bot.answering.saved.save(
        user=COMMS,
        doc={"title": "Playground", "text": "Thanks!", "department": "parks"},
        reply_id=None,
        token=None,
        request_key="seed-parks",
    )
    assert parks.ok
    with session_scope(bot.engine) as s:
        reply = s.exec(select(SavedReply).where(SavedReply.title == "Pothole repair")).one()
        audit = s.exec(select(SavedReplyChange)).all()
    assert [(a.action, a.actor) for a in audit] == [("added", COMMS), ("added", COMMS)]

    # Anyone finds it with `/engage replies <words>`, as an ephemeral answer.
    found = slack.slash_command(url, user_id=ALICE, channel=PW, text="replies pothole")
    assert "*Pothole repair* · Public Works · en" in found.body

    # A mention arrives; Alice opens Answered and the menu offers what fits the card.
    status = make_status(status_id(T0, 1), "@city there is a pothole on Elm St")
    streaming.push("/api/v1/streaming/user", "notification", make_notification(7, status))
    card = wait_until(lambda: slack.messages(PW), timeout=10)[0]
    slack.click(url, user_id=ALICE, channel=PW, ts=card["ts"], action_id=ActionId.ANSWERED)
    modal = _top_view(slack, ALICE)
    options = slack.suggest(url, user_id=ALICE, view_id=modal, action_id=ActionId.SAVED_REPLY)
    assert [o["value"] for o in options] == [str(reply.id)]  # not the Parks one
    assert (
        slack.suggest(
            url, user_id=ALICE, view_id=modal, action_id=ActionId.SAVED_REPLY, value="zebra"
        )
        == []
    )

    # Choosing it fills the answer (placeholders too); Alice edits it and sends it.
    slack.click_view(
        url, user_id=ALICE, view_id=modal, action_id=ActionId.SAVED_REPLY, value=str(reply.id)
    )
    block = f"{BlockId.ANSWER_TEXT.value}.{reply.id}"
    filled: dict[str, Any] = wait_until(
        lambda: next((b for b in slack.views[modal]["blocks"] if b.get("block_id") == block), {})
    )
    prefill = filled["element"]["initial_value"]
    assert prefill == f"Hello @citizen@town.example, Public Works will fix it. {status['url']}"
    edited = prefill + " Thanks for telling us!"
    slack.submit_view(
        url,
        user_id=ALICE,
        view_id=modal,
        values={
            block: {InputId.ANSWER_TEXT: edited},
            BlockId.REPLY_ON: {InputId.REPLY_ON: ["yes"]},
        },
    )
    post = wait_until(lambda: rest.hits("/api/v1/statuses", "POST"), timeout=10)[0]
    assert post.form["status"][0].endswith(edited)
    settled(bot)
    with session_scope(bot.engine) as s:
        uses = s.exec(select(SavedReplyUse)).all()
    assert [(u.reply_id, u.user_id, u.department) for u in uses] == [
        (reply.id, ALICE, "public-works")
    ]
    report = bot.summaries.report(department="public-works", period="today", lead_view=True)
    assert "*Saved replies used most:* Pothole repair (1)" in report.text


def test_five_hundred_saved_replies_still_make_valid_block_kit(
    slack: FakeSlack, bot: Engage, mastodon: tuple[FakeMastodon, FakeMastodon]
) -> None:
    _, streaming = mastodon
    url = f"{bot.url}/slack/events"
    now = datetime.now(UTC)
    with session_scope(bot.engine) as s:
        for i in range(500):
            s.add(
                SavedReply(
                    # The longest title: with its language and department, over 75 characters.
                    title=f"Reply number {i:03} ".ljust(75, "x"),
                    text=f"Text {i} " + "y" * 2900,
                    department="public-works" if i % 2 else None,
                    language=("en", "fr", None)[i % 3],
                    keywords=["pothole"] if i % 7 == 0 else [],
                    updated_at=now,
                )
            )
    status = make_status(status_id(T0, 2), "@city pothole again")
    streaming.push("/api/v1/streaming/user", "notification", make_notification(8, status))
    card = wait_until(lambda: slack.messages(PW), timeout=10)[0]
    slack.click(url, user_id=ALICE, channel=PW, ts=card["ts"], action_id=ActionId.ANSWERED)
    modal = _top_view(slack, ALICE)
    # views.open was checked by the fake as Slack checks it (the fixture fails on a refusal).
    options = slack.suggest(url, user_id=ALICE, view_id=modal, action_id=ActionId.SAVED_REPLY)
    assert len(options) == 100
    assert all(len(o["text"]["text"]) <= 75 and len(o["value"]) <= 150 for o in options)
    # Best-fitting first: the keyword "pothole" matches every seventh reply.
    assert all(int(o["value"]) % 7 == 1 for o in options[:10])  # ids start at 1
    # The comms team's list is one modal too, within Slack's 100 blocks.
    slack.slash_command(url, user_id=COMMS, channel=PW, text="replies")
    listing = _top_view(slack, COMMS)
    assert len(slack.views[listing]["blocks"]) <= 100
    assert "500 saved replies" in str(slack.views[listing]["blocks"][0])


def test_the_fake_refuses_options_slack_would_refuse() -> None:
    option = {"text": {"type": "plain_text", "text": "A"}, "value": "1"}
    assert options_problems({"options": []}) == []
    assert options_problems({"options": [option] * 100}) == []
    assert options_problems({"options": [option] * 101})
    long_text = {**option, "text": {"type": "plain_text", "text": "x" * 76}}
    assert options_problems({"options": [long_text]})
    assert options_problems({"options": [{**option, "value": "v" * 151}]})
    assert options_problems({"options": [{**option, "text": {"type": "mrkdwn", "text": "A"}}]})
    assert options_problems("not json")


def test_the_fake_checks_external_selects_as_slack_does() -> None:
    def problems(**menu: Any) -> list[str]:
        element = {"type": "external_select", "action_id": "a", **menu}
        view = {
            "type": "modal",
            "title": {"type": "plain_text", "text": "T"},
            "blocks": [{"type": "actions", "elements": [element]}],
        }
        return [p.pointer for p in view_problems(view, "modal")]

    option = {"text": {"type": "plain_text", "text": "A"}, "value": "1"}
    assert problems(min_query_length=0, initial_option=option) == []
    assert problems(min_query_length=-1)
    assert problems(options=[option])  # an external select's options come from the app
    assert problems(initial_option={**option, "value": "v" * 151})
