"""Approval of sensitive answers end to end: an answer to a *handle with care* mention reaches
Mastodon only once a comms member approves it; one sent back never does; someone outside the
comms team cannot approve; an answer recorded in Slack only needs no approval.

On SQLite: the storage it relies on runs on both databases in tests/storage/test_answering.py.

One bot per test over the fake Slack and the loopback Mastodon of the adapter tests.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.app.compose import Engage
from bot.config.file import parse_config
from bot.core.adapter import IncomingMention
from bot.core.slack_ids import ActionId, BlockId, InputId
from bot.sandbox.fake_slack import FakeSlack, wait_until
from storage.answering.tables import Approval, ApprovalStatus
from storage.db import session_scope
from tests.conftest import CONFIG, settings_for
from tests.factories import events_of, settled
from tests.intake.adapters.test_mastodon import (
    T0,
    FakeMastodon,
    make_notification,
    make_status,
)
from tests.intake.adapters.test_mastodon import snowflake as status_id

TRIAGE, COMMS, ALICE, BOB = "C0TRIAGE01", "U0COMMS01", "U0ALICE01", "U0BOB0001"


@pytest.fixture
def bot(streaming_bot: Engage) -> Engage:
    return streaming_bot


def _mention(streaming: FakeMastodon, slack: FakeSlack, n: int, text: str) -> dict[str, Any]:
    status = make_status(status_id(T0, n), text, acct=f"citizen{n}@town.example")
    streaming.push("/api/v1/streaming/user", "notification", make_notification(n, status))
    words = text.split()[-3:]  # the end of the text: on the card, not on a draft card

    def card() -> dict[str, Any]:
        cards = [m for m in slack.messages(TRIAGE) if ActionId.ANSWERED.value in str(m)]
        return next((m for m in cards if " ".join(words) in str(m["blocks"])), {})

    found: dict[str, Any] = wait_until(card, timeout=10)
    return found


def _answer(slack: FakeSlack, url: str, card: dict[str, Any], text: str, send: bool) -> None:
    slack.click(url, user_id=ALICE, channel=TRIAGE, ts=card["ts"], action_id=ActionId.ANSWERED)
    view = wait_until(lambda: slack.view_stack(ALICE))[-1]["id"]
    values: dict[str, Any] = {BlockId.ANSWER_TEXT: {InputId.ANSWER_TEXT: text}}
    values[BlockId.REPLY_ON] = {InputId.REPLY_ON: ["yes"] if send else []}
    result = slack.submit_view(url, user_id=ALICE, view_id=view, values=values)
    assert result.status == 200 and "errors" not in result.body


def _draft(slack: FakeSlack, approval: int) -> dict[str, Any]:
    """The draft card of an approval, found by its buttons' block."""
    block = f"engage.approval.{approval}"
    found: dict[str, Any] = wait_until(
        lambda: next(
            (
                m
                for m in slack.messages(TRIAGE)
                if any(b.get("block_id") == block for b in m.get("blocks", []))
            ),
            {},
        )
    )
    return found


def _approvals(bot: Engage) -> list[Approval]:
    with session_scope(bot.engine) as s:
        return list(s.exec(select(Approval).order_by(col(Approval.id))))


def test_a_care_answer_reaches_mastodon_only_after_approval(
    slack: FakeSlack, bot: Engage, mastodon: tuple[FakeMastodon, FakeMastodon]
) -> None:
    rest, streaming = mastodon
    url = f"{bot.url}/slack/events"
    card = _mention(streaming, slack, 1, "@city you idiots, the pothole on Elm St is still there")
    assert "Handle with care" in str(card["blocks"])

    _answer(slack, url, card, "Sorry, a crew is on its way.", send=True)
    settled(bot)
    [held] = _approvals(bot)
    assert (held.status, held.author, held.reasons) == ("pending", ALICE, ["abusive language"])
    assert rest.hits("/api/v1/statuses", "POST") == []
    assert "needs the comms team's approval" in slack.direct_messages(ALICE)[-1]["text"]
    draft = _draft(slack, held.id or 0)
    ids = [e["action_id"] for b in draft["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert ids == [ActionId.APPROVAL_APPROVE, ActionId.APPROVAL_EDIT, ActionId.APPROVAL_SEND_BACK]

    # Someone outside the comms team cannot approve: told so, nothing sent.
    slack.click(
        url, user_id=BOB, channel=TRIAGE, ts=draft["ts"], action_id=ActionId.APPROVAL_APPROVE
    )
    settled(bot)
    assert any(e["user"] == BOB and "Only the comms team" in e["text"] for e in slack.ephemerals)
    assert _approvals(bot)[0].status == ApprovalStatus.PENDING
    assert rest.hits("/api/v1/statuses", "POST") == []

    # A comms member approves: the answer is recorded as Alice's and sent, once.
    for _ in range(2):  # a second click (or a colleague's) sends nothing more
        slack.click(
            url, user_id=COMMS, channel=TRIAGE, ts=draft["ts"], action_id=ActionId.APPROVAL_APPROVE
        )
    post = wait_until(lambda: rest.hits("/api/v1/statuses", "POST"), timeout=10)
    settled(bot)
    assert len(rest.hits("/api/v1/statuses", "POST")) == 1
    assert post[0].form["status"][0].endswith("Sorry, a crew is on its way.")
    assert _approvals(bot)[0].status == ApprovalStatus.APPROVED
    assert [e.actor for e in events_of(bot, "approval_requested")] == [ALICE]
    assert [e.actor for e in events_of(bot, "approved")] == [COMMS]
    assert [e.actor for e in events_of(bot, "answered")] == [ALICE]
    wait_until(lambda: events_of(bot, "replied"))
    edited = slack.message(TRIAGE, draft["ts"]) or {}
    assert "Approved by <@U0COMMS01>" in str(edited["blocks"])
    assert not [b for b in edited["blocks"] if b["type"] == "actions"]
    assert "approved your answer" in slack.direct_messages(ALICE)[-1]["text"]


def test_a_sent_back_answer_never_reaches_mastodon_an_edited_one_does(
    slack: FakeSlack, bot: Engage, mastodon: tuple[FakeMastodon, FakeMastodon]
) -> None:
    rest, streaming = mastodon
    url = f"{bot.url}/slack/events"
    card = _mention(streaming, slack, 1, "@city fix this shit, the street light is out")
    _answer(slack, url, card, "Calm down.", send=True)
    settled(bot)
    [held] = _approvals(bot)
    draft = _draft(slack, held.id or 0)

    # Bob cannot even open the send-back form; a comms member can, and sends it back.
    slack.click(
        url, user_id=BOB, channel=TRIAGE, ts=draft["ts"], action_id=ActionId.APPROVAL_SEND_BACK
    )
    slack.click(
        url, user_id=COMMS, channel=TRIAGE, ts=draft["ts"], action_id=ActionId.APPROVAL_SEND_BACK
    )
    assert slack.view_stack(BOB) == []
    form = wait_until(lambda: slack.view_stack(COMMS))[-1]["id"]
    slack.submit_view(
        url,
        user_id=COMMS,
        view_id=form,
        values={"engage.approval.note": {"text": "Too curt: apologise and give a date."}},
    )
    settled(bot)
    assert _approvals(bot)[0].status == ApprovalStatus.SENT_BACK
    assert [(e.actor, e.data["note"]) for e in events_of(bot, "sent_back")] == [
        (COMMS, "Too curt: apologise and give a date.")
    ]
    assert "Too curt" in slack.direct_messages(ALICE)[-1]["text"]
    # The draft card lost its buttons; a click that raced the send-back does nothing.
    assert not [
        b for b in (slack.message(TRIAGE, draft["ts"]) or {})["blocks"] if b["type"] == "actions"
    ]
    late = bot.answering.approvals.approve(
        approval_id=held.id or 0, user_id=COMMS, request_key="late-click", channel_id=TRIAGE
    )
    assert not late.ok and "Sent back" in late.message
    settled(bot)
    assert rest.hits("/api/v1/statuses", "POST") == []
    assert events_of(bot, "answered") == []

    # Alice answers again; a comms member edits it and sends the edited answer.
    _answer(slack, url, card, "Sorry, it will be fixed.", send=True)
    settled(bot)
    again = _approvals(bot)[-1]
    draft = _draft(slack, again.id or 0)
    slack.click(
        url, user_id=COMMS, channel=TRIAGE, ts=draft["ts"], action_id=ActionId.APPROVAL_EDIT
    )
    form = wait_until(lambda: slack.view_stack(COMMS))[-1]
    assert form["blocks"][0]["element"]["initial_value"] == "Sorry, it will be fixed."
    edited = "Sorry about the light: it will be fixed on Friday."
    slack.submit_view(
        url,
        user_id=COMMS,
        view_id=form["id"],
        values={"engage.approval.text": {"text": edited}},
    )
    post = wait_until(lambda: rest.hits("/api/v1/statuses", "POST"), timeout=10)
    assert [p.form["status"][0].endswith(edited) for p in post] == [True]
    approved = events_of(bot, "approved")
    assert [(e.actor, e.data["edited"]) for e in approved] == [(COMMS, True)]

    # Recorded in Slack only, an answer needs no approval: it is the answer at once.
    other = _mention(streaming, slack, 2, "@city what an idiot design, the bin is full")
    _answer(slack, url, other, "Phoned them back; emptied tomorrow.", send=False)
    settled(bot)
    assert [e.actor for e in events_of(bot, "answered")] == [ALICE, ALICE]
    assert len(_approvals(bot)) == 2
    assert len(rest.hits("/api/v1/statuses", "POST")) == 1


def test_press_authors_and_rules_marked_approval_need_it(slack: FakeSlack, sqlite: Engine) -> None:
    config = CONFIG.replace(
        "    keywords: [park, playground]\n",
        "    keywords: [park, playground]\n    approval: true\n",
    ) + ("author_lists:\n  press: {members: ['@reporter@news.social'], priority: true}\n")
    bot = Engage(settings_for(slack), parse_config(config), engine=sqlite)  # never started

    def held(text: str, author: str = "@someone@town.example") -> list[str]:
        item = IncomingMention(source="mastodon", external_id=text, text=text, author=author)
        mention = bot.ingest_one(item).mention_id
        assert mention is not None
        return bot.answering.approvals.needs_approval(mention)

    assert held("the pothole on Elm", author="@reporter@news.social") == ["Press"]
    assert held("the playground swing is broken") == ["rule parks"]
    assert held("a pothole on Main St") == []
