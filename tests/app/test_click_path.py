"""Claim and release through ``POST /slack/events`` on the click path (``bot.claims.click_queue``
then ``bot.claims.clicks``), on SQLite and PostgreSQL: signed requests into the WSGI app,
outcomes read in the database the moment the ack is back (nothing is decided or delivered in
between: the Engage is built, not started, so its click worker runs only when told to).

What the path must keep: the click is committed before the ack, and decided after it, once,
with its event and the Slack calls that follow; a retried request changes nothing, before or
after the decision; of clicks racing on one card, exactly one wins and every other is told who
did; and the gate's skipped walk still refuses what the walk would have found.
"""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlmodel import col, select

from bot.app.compose import Engage
from bot.core.adapter import IncomingMention
from bot.core.slack_ids import ActionId
from bot.sandbox.fake_slack import FakeSlack
from storage.db import session_scope
from storage.models import Mention, Outbox
from tests.app.test_click_queue import _kept
from tests.app.test_slack_gate import signed_headers
from tests.app.wsgi import Answer, call
from tests.factories import events_of
from tests.handlers.dispatch import click

PW = "C0PUBWORKS"
ALICE, BOB = "U0ALICE01", "U0BOB0001"


def _card(bot: Engage, slack: FakeSlack) -> dict[str, Any]:
    bot.ingest_one(IncomingMention(source="webhook", external_id="f-1", text="pothole on Elm"))
    bot.delivery.drain()
    [card] = slack.messages(PW)
    return card


def _send(bot: Engage, payload: dict[str, Any], *, decide: bool = True) -> tuple[Answer, bytes]:
    """Send a click; ``decide``: then let the click worker decide what was kept."""
    body = urlencode({"payload": json.dumps(payload)}).encode()
    answer = call(bot.web, "/slack/events", body, signed_headers(body))
    if decide:
        bot.click_queue.settle()
    return answer, body


def _state(bot: Engage) -> tuple[str, str | None, list[tuple[str, str]]]:
    with session_scope(bot.engine) as s:
        [m] = s.exec(select(Mention)).all()
        rows = s.exec(select(Outbox.kind, Outbox.idem_key).order_by(col(Outbox.id))).all()
        return m.status, m.claimed_by, [(k, i) for k, i in rows if k != "post_card"]


def test_a_claim_is_committed_before_its_ack_and_a_retry_changes_nothing(
    built_on_both: Engage, slack: FakeSlack
) -> None:
    bot = built_on_both
    card = _card(bot, slack)
    payload = click(ALICE, channel=PW, message=card, action_id=ActionId.CLAIM)

    answer, body = _send(bot, payload, decide=False)

    assert answer.status == 200
    assert _kept(bot.engine) == [("claim", ALICE)]  # committed before the ack...
    assert _state(bot) == ("new", None, [])  # ...and decided after it
    headers = signed_headers(body) | {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "t"}
    assert call(bot.web, "/slack/events", body, headers).status == 200
    assert _kept(bot.engine) == [("claim", ALICE)]  # the retry's key is there: not kept twice

    bot.click_queue.settle()
    status, by, queued = _state(bot)  # read before anything is delivered
    assert (status, by) == ("claimed", ALICE)
    assert [e.actor for e in events_of(bot, "claimed")] == [ALICE]
    assert [kind for kind, _ in queued] == ["update_card", "thread_reply"]
    assert _kept(bot.engine) == []
    # A retry after the decision is kept again, and the decision's inbox key refuses it.
    assert call(bot.web, "/slack/events", body, headers).status == 200
    bot.click_queue.settle()
    assert (_state(bot), _kept(bot.engine)) == ((status, by, queued), [])
    assert len(events_of(bot, "claimed")) == 1

    bot.delivery.drain()
    assert [r["text"] for r in slack.replies(PW, card["ts"])] == [f"<@{ALICE}> claimed this."]
    [shown] = slack.messages(PW)
    # Bob cannot release Alice's claim, and is told why; Alice can.
    refused, _ = _send(bot, click(BOB, channel=PW, message=shown, action_id=ActionId.RELEASE))
    released, _ = _send(bot, click(ALICE, channel=PW, message=shown, action_id=ActionId.RELEASE))
    assert (refused.status, released.status) == (200, 200)
    status, by, queued = _state(bot)
    assert (status, by) == ("new", None)
    assert [e.actor for e in events_of(bot, "released")] == [ALICE]
    bot.delivery.drain()
    assert [e["text"] for e in slack.ephemerals if e["user"] == BOB] == [
        f"Only <@{ALICE}>, who claimed it, can release it."
    ]
    assert slack.replies(PW, card["ts"])[-1]["text"] == (
        f"<@{ALICE}> released this: it is open for anyone to claim."
    )


def test_of_eight_clicks_at_once_one_wins_and_the_others_are_told_who(
    built_on_both: Engage, slack: FakeSlack
) -> None:
    bot = built_on_both
    card = _card(bot, slack)
    users = [f"U0RACE{n:04d}" for n in range(8)]
    barrier = threading.Barrier(len(users))
    statuses: list[int] = []

    def press(user: str) -> None:
        payload = click(user, channel=PW, message=card, action_id=ActionId.CLAIM)
        barrier.wait()
        statuses.append(_send(bot, payload)[0].status)

    threads = [threading.Thread(target=press, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * len(users)
    [claimed] = events_of(bot, "claimed")
    assert _state(bot)[:2] == ("claimed", claimed.actor)
    bot.delivery.drain()
    told = sorted(e["user"] for e in slack.ephemerals)
    assert told == sorted(u for u in users if u != claimed.actor)
    assert {e["text"] for e in slack.ephemerals} == {f"Already claimed by <@{claimed.actor}>."}


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("\x00", "NUL"),
        ("\ud800", "lone surrogate"),
        (float("nan"), "NaN"),
        (10**45, "longer than"),
    ],
)
def test_what_the_walk_finds_in_a_click_is_still_refused(
    built: Engage, slack: FakeSlack, value: Any, what: str
) -> None:
    card = _card(built, slack)
    payload = click(ALICE, channel=PW, message=card, action_id=ActionId.CLAIM)
    payload["message"]["blocks"][0]["extra"] = value  # deep inside a large payload
    answer, _ = _send(built, payload)
    assert answer.status == 400
    assert what in json.loads(answer.body)["error"]
    assert events_of(built, "claimed") == []
