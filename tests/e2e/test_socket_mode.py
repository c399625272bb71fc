"""The core loop over Socket Mode and over HTTP: the same scenarios, both ways Slack reaches a bot.

In ``socket`` mode the bot runs with SLACK_APP_TOKEN set, so ``Engage.start`` opens the fake's
WebSocket through slack_sdk's own Socket Mode client (asking ``apps.connections.open`` at the
fake's API URL), and the fake sends each click, submission, event and command as an envelope
that must be acked within 3 seconds. In ``http`` mode they are signed POSTs, as elsewhere.
Then, Socket Mode only: sockets that drop, refreshes Slack asks for, acks that never arrive.
SQLite only: the storage side of these scenarios runs on both databases in test_scenarios_core.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import Engine

from bot.app.compose import Engage
from bot.cli.common import one_line
from bot.config.file import parse_config
from bot.core.slack_ids import ActionId, BlockId, InputId
from bot.sandbox.fake_slack import FakeSlack, wait_until
from tests.conftest import CONFIG, settings_for
from tests.factories import card_in, events_of, opened_view, post_webhook, settled, start_bot_in

PW, PARKS = "C0PUBWORKS", "C0PARKS001"


@pytest.fixture(params=["http", "socket"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def bot(mode: str, slack: FakeSlack, sqlite: Engine) -> Iterator[Engage]:
    running = start_bot_in(mode, slack, sqlite)
    yield running
    running.stop()
    if mode == "socket":  # every envelope was answered in time, none is left waiting
        assert slack.socket_envelopes and all(
            e.outcome in ("acked", "lost") for e in slack.socket_envelopes
        )


def _status(slack: FakeSlack, ts: str, channel: str = PW) -> str:
    message = slack.message(channel, ts) or {"blocks": []}
    block = next(b for b in message["blocks"] if b.get("block_id") == BlockId.CARD_STATUS)
    return str(block["elements"][0]["text"])


def _card(bot: Engage, slack: FakeSlack, text: str = "pothole on Elm") -> str:
    assert post_webhook(bot.url, {"text": text, "author": "Ana"}).status_code == 202
    return str(card_in(slack, PW, bot=bot)["ts"])


def _url(bot: Engage) -> str:
    return f"{bot.url}/slack/events"  # ignored in socket mode: the socket carries it all


def test_claim_race_has_one_winner(bot: Engage, slack: FakeSlack, mode: str) -> None:
    ts = _card(bot, slack)
    barrier = threading.Barrier(2)
    results: dict[str, int] = {}

    def click(user: str) -> None:
        barrier.wait()
        result = slack.click(_url(bot), user_id=user, channel=PW, ts=ts, action_id=ActionId.CLAIM)
        results[user] = result.status

    threads = [threading.Thread(target=click, args=(u,)) for u in ("U0ALICE01", "U0BOB0001")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {"U0ALICE01": 200, "U0BOB0001": 200}
    claimed = events_of(bot, "claimed")
    assert len(claimed) == 1
    winner = claimed[0].actor
    loser = "U0BOB0001" if winner == "U0ALICE01" else "U0ALICE01"
    wait_until(lambda: f"Claimed by <@{winner}>" in _status(slack, ts))
    told = [f"Already claimed by <@{winner}>."]
    wait_until(lambda: [e["text"] for e in slack.ephemerals if e["user"] == loser] == told)
    if mode == "socket":
        assert [e.type for e in slack.socket_envelopes] == ["interactive", "interactive"]
        assert slack.sockets_opened == 1


def test_a_retried_event_has_one_effect(bot: Engage, slack: FakeSlack) -> None:
    ts = _card(bot, slack)
    first = slack.post_user_message(
        _url(bot), user_id="U0CAROL01", channel=PW, text="On it!", thread_ts=ts
    )
    assert first.status == 200
    for attempt in (1, 2):  # the identical delivery again, as Slack's retries are
        again = slack.send_event(_url(bot), {}, retry_num=attempt, body_override=first.request_body)
        assert again.status == 200
    wait_until(lambda: "Claimed by <@U0CAROL01>" in _status(slack, ts))
    settled(bot)
    assert [e.data for e in events_of(bot, "claimed")] == [{"via": "thread_reply"}]
    assert [r["user"] for r in slack.replies(PW, ts)].count(slack.bot_user_id) == 1


def test_answer_modal_refuses_an_empty_answer_then_records_one(
    bot: Engage, slack: FakeSlack
) -> None:
    ts = _card(bot, slack)
    slack.click(_url(bot), user_id="U0ALICE01", channel=PW, ts=ts, action_id=ActionId.ANSWERED)
    view_id = opened_view(slack)
    empty: dict[str, dict[str, Any]] = {BlockId.ANSWER_TEXT: {InputId.ANSWER_TEXT: "   "}}
    refused = slack.submit_view(_url(bot), user_id="U0ALICE01", view_id=view_id, values=empty)
    assert refused.status == 200
    assert refused.json() == {
        "response_action": "errors",
        "errors": {BlockId.ANSWER_TEXT: "Write the answer you gave the citizen."},
    }
    assert slack.view_stack("U0ALICE01")  # the modal stays open, showing the error
    answer: dict[str, dict[str, Any]] = {
        BlockId.ANSWER_TEXT: {InputId.ANSWER_TEXT: "Thanks Ana, a crew is on the way."}
    }
    done = slack.submit_view(_url(bot), user_id="U0ALICE01", view_id=view_id, values=answer)
    assert done.status == 200 and done.body in ("", "{}")
    assert slack.view_stack("U0ALICE01") == []
    wait_until(lambda: "Answered by <@U0ALICE01>" in _status(slack, ts))
    assert len(events_of(bot, "answered")) == 1


def test_hand_over_moves_the_card(bot: Engage, slack: FakeSlack) -> None:
    ts = _card(bot, slack, "pothole next to the playground")
    slack.click(_url(bot), user_id="U0ALICE01", channel=PW, ts=ts, action_id=ActionId.HAND_OVER)
    values: dict[str, dict[str, Any]] = {
        BlockId.DEPARTMENT: {InputId.DEPARTMENT: "parks"},
        BlockId.NOTE: {InputId.NOTE: "theirs"},
    }
    result = slack.submit_view(
        _url(bot), user_id="U0ALICE01", view_id=opened_view(slack), values=values
    )
    assert result.status == 200
    assert "handed over from *Public Works*" in str(card_in(slack, PARKS)["blocks"][1])
    wait_until(lambda: "Handed over to *Parks and Recreation*" in _status(slack, ts))
    assert [e.data["to"] for e in events_of(bot, "handed_over")] == ["parks"]


def test_slash_command_answers_in_its_ack(bot: Engage, slack: FakeSlack, mode: str) -> None:
    result = slack.slash_command(
        _url(bot), user_id="U0ALICE01", channel=PW, text="route-test big pothole on Elm"
    )
    assert result.status == 200
    # Over HTTP Bolt answers plain text, over the socket {"text": ...}: Slack shows the same.
    shown = result.json()["text"] if mode == "socket" else result.body
    assert shown.startswith("It would go to *Public Works* by rule *streets*")
    if mode == "socket":
        (envelope,) = slack.socket_envelopes
        assert envelope.type == "slash_commands" and envelope.accepts_response_payload
        assert envelope.payload["command"] == "/engage"
        # Nothing came over HTTP: in Socket Mode the bot has no Slack endpoint at all.
        assert httpx.post(_url(bot), content=b"{}").status_code == 404


# ------------------------------------------------------------------ Socket Mode only
@pytest.mark.parametrize("mode", ["socket"])
def test_an_ack_lost_in_a_dropped_socket_is_redelivered_and_done_once(
    bot: Engage, slack: FakeSlack
) -> None:
    ts = _card(bot, slack)
    slack.lose_next_ack()  # the bot claims, acks, and the link dies before Slack reads it
    first = slack.post_user_message(
        _url(bot), user_id="U0CAROL01", channel=PW, text="On it!", thread_ts=ts
    )
    assert (first.status, first.body) == (0, "lost")
    slack.wait_for_socket(opened=2)
    wait_until(lambda: [e.outcome for e in slack.socket_envelopes] == ["lost", "acked"])
    lost, redelivered = slack.socket_envelopes
    assert (redelivered.retry_attempt, redelivered.retry_reason) == (1, "timeout")
    assert redelivered.payload == lost.payload and redelivered.envelope_id != lost.envelope_id
    settled(bot)
    assert len(events_of(bot, "claimed")) == 1
    assert [r["user"] for r in slack.replies(PW, ts)].count(slack.bot_user_id) == 1
    assert len(slack.calls_to("apps.connections.open")) == 2


@pytest.mark.parametrize("mode", ["socket"])
def test_the_bot_reconnects_after_drops_and_misses_nothing(bot: Engage, slack: FakeSlack) -> None:
    ts = _card(bot, slack)
    slack.fail_next("apps.connections.open", status=500)  # the first reconnect fails too
    slack.drop_sockets("reset")  # a dead link: no close frame, a TCP reset
    # An event while no socket is open waits for the next one, as Slack's queue does.
    slack.post_user_message(_url(bot), user_id="U0CAROL01", channel=PW, text="mine", thread_ts=ts)
    slack.wait_for_socket(opened=2)
    wait_until(lambda: "Claimed by <@U0CAROL01>" in _status(slack, ts))
    assert slack.socket_envelopes[0].connection == 2
    slack.drop_sockets("close")  # Slack's end going away politely, with a close frame
    slack.wait_for_socket(opened=3)
    result = slack.click(
        _url(bot), user_id="U0CAROL01", channel=PW, ts=ts, action_id=ActionId.RELEASE
    )
    assert result.status == 200
    wait_until(lambda: "Unclaimed" in _status(slack, ts))
    assert [len(events_of(bot, k)) for k in ("claimed", "released")] == [1, 1]
    assert (slack.sockets_opened, slack.open_sockets) == (3, 1)


@pytest.mark.parametrize("mode", ["socket"])
def test_refresh_requested_moves_to_a_new_socket(bot: Engage, slack: FakeSlack) -> None:
    ts = _card(bot, slack)
    slack.request_socket_refresh()
    slack.wait_for_socket(opened=2)
    wait_until(lambda: slack.open_sockets == 1)  # the old one is closed once the new one is up
    slack.click(_url(bot), user_id="U0ALICE01", channel=PW, ts=ts, action_id=ActionId.CLAIM)
    wait_until(lambda: "Claimed by <@U0ALICE01>" in _status(slack, ts))
    (envelope,) = slack.socket_envelopes
    assert envelope.connection == 2 and envelope.outcome == "acked"
    assert len(slack.calls_to("apps.connections.open")) == 2


@pytest.mark.parametrize("mode", ["socket"])
def test_a_malformed_envelope_is_acked_and_changes_nothing(bot: Engage, slack: FakeSlack) -> None:
    ts = _card(bot, slack)
    good = slack.click(_url(bot), user_id="U0ALICE01", channel=PW, ts=ts, action_id=ActionId.CLAIM)
    settled(bot)
    # Payloads Bolt would trip over (it indexes actions[0], calls team.get): the HTTP gate
    # answers 400; over the socket the bot acks at once (Slack would only redeliver) and does
    # nothing, where Bolt alone raised and left the envelope un-acked.
    changes: list[dict[str, Any]] = [{"actions": []}, {"team": ["T0ENGAGE"]}]
    for change in changes:
        body = urlencode({"payload": json.dumps(good.sent | change)}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        assert slack.send_raw(_url(bot), body, headers).status == 200
    settled(bot)
    assert len(events_of(bot, "claimed")) == 1 and slack.ephemerals == []


def test_a_refused_app_token_stops_the_start_with_one_line(
    slack: FakeSlack, sqlite: Engine
) -> None:
    settings = settings_for(slack, slack_app_token="xapp-1-A0ENGAGE-1-revoked")
    bot = Engage(settings, parse_config(CONFIG), engine=sqlite, migrate=False)
    with pytest.raises(SlackApiError) as refused:
        bot.start(host="127.0.0.1", port=0)
    bot.stop()
    assert one_line(refused.value) == (
        "Slack refused SLACK_APP_TOKEN: invalid_auth (see README, 'Create the Slack app')"
    )
    assert [c.method for c in slack.calls_to("apps.connections.open")] == ["apps.connections.open"]
