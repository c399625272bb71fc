"""Tests for the fake Slack platform, driven through the real slack_sdk client.

The fake is only useful if the real WebClient cannot tell it from Slack and if bots can verify
its requests like Slack's, so the tests go through those real code paths rather than poking at
internals.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from bot.sandbox.fake_slack import FakeSlack, wait_until

SECRET = "test-secret"
CHANNEL = "C0CARDS"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(signing_secret=SECRET) as slack:
        yield slack


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.api_url, retry_handlers=[])


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]

    def payload(self) -> Any:
        """Interactions arrive as payload=<json>; events and the rest as JSON."""
        if self.body.startswith(b"{"):
            return json.loads(self.body)
        form = {k: v[0] for k, v in parse_qs(self.body.decode()).items()}
        return json.loads(form["payload"]) if "payload" in form else form


@dataclass
class BotStub:
    """A stand-in bot endpoint that checks signatures the way Bolt does."""

    url: str
    received: list[Received] = field(default_factory=list)
    reply: bytes = b""


@pytest.fixture
def bot() -> Iterator[BotStub]:
    stub = BotStub(url="")
    verifier = SignatureVerifier(SECRET)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            headers = dict(self.headers.items())
            if not verifier.is_valid_request(body, headers):
                status, reply = 401, b"invalid signature"
            else:
                stub.received.append(Received(body, headers))
                status, reply = 200, stub.reply
            self.send_response(status)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    stub.url = f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    yield stub
    server.shutdown()
    server.server_close()


def _card_blocks() -> list[dict[str, Any]]:
    button = {"type": "plain_text", "text": "Claim"}
    select = {
        "type": "static_select",
        "action_id": "priority",
        "options": [
            {"text": {"type": "plain_text", "text": "High"}, "value": "high"},
            {"text": {"type": "plain_text", "text": "Low"}, "value": "low"},
        ],
    }
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Citizen asks"}},
        {
            "type": "actions",
            "block_id": "card_actions",
            "elements": [
                {"type": "button", "action_id": "claim", "value": "case-42", "text": button},
                select,
            ],
        },
    ]


# --------------------------------------------------------------------------- Web API


def test_post_then_history_shows_metadata_only_when_asked(client: WebClient) -> None:
    metadata = {"event_type": "engage_card", "event_payload": {"case": 42}}
    posted = client.chat_postMessage(channel=CHANNEL, text="hello", metadata=metadata)
    assert posted["ok"] and posted["channel"] == CHANNEL
    assert posted["message"]["metadata"] == metadata

    plain = client.conversations_history(channel=CHANNEL)
    assert [m["ts"] for m in plain["messages"]] == [posted["ts"]]
    assert "metadata" not in plain["messages"][0]

    full = client.conversations_history(channel=CHANNEL, include_all_metadata=True)
    assert full["messages"][0]["metadata"] == metadata
    assert full["messages"][0]["bot_id"] == "B0BOT"


def test_form_encoded_blocks_and_token_field_are_understood(fake: FakeSlack) -> None:
    blocks = json.dumps([{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}])
    form = {"token": "xoxb-test", "channel": CHANNEL, "text": "t", "blocks": blocks}
    data = httpx.post(fake.api_url + "chat.postMessage", data=form).json()
    assert data["ok"], data
    stored = fake.message(CHANNEL, data["ts"])
    assert stored is not None
    assert stored["blocks"][0]["block_id"]  # Slack fills in missing block ids
    assert "token" not in fake.calls_to("chat.postMessage")[0].args


def test_threads_replies_and_history_hides_replies(client: WebClient, fake: FakeSlack) -> None:
    parent = client.chat_postMessage(channel=CHANNEL, text="card")["ts"]
    r1 = client.chat_postMessage(channel=CHANNEL, text="r1", thread_ts=parent)["ts"]
    r2 = client.chat_postMessage(channel=CHANNEL, text="r2", thread_ts=parent)["ts"]

    history = client.conversations_history(channel=CHANNEL)["messages"]
    assert [m["ts"] for m in history] == [parent]
    assert history[0]["reply_count"] == 2 and history[0]["latest_reply"] == r2

    replies = client.conversations_replies(channel=CHANNEL, ts=parent)["messages"]
    assert [m["ts"] for m in replies] == [parent, r1, r2]
    assert [m["text"] for m in fake.replies(CHANNEL, parent)] == ["r1", "r2"]


def test_history_pagination_and_time_window(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel=CHANNEL, text=str(i))["ts"] for i in range(5)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = client.conversations_history(channel=CHANNEL, limit=2, cursor=cursor)
        seen += [m["ts"] for m in page["messages"]]
        pages += 1
        cursor = page["response_metadata"]["next_cursor"]
        assert page["has_more"] == bool(cursor)
        if not cursor:
            break
    assert pages == 3
    assert seen == stamps[::-1]  # newest first, nothing lost or repeated

    window = client.conversations_history(channel=CHANNEL, oldest=stamps[1], latest=stamps[4])
    assert [m["text"] for m in window["messages"]] == ["3", "2"]  # both bounds exclusive


def test_update_replaces_content_and_unknown_message_fails(client: WebClient) -> None:
    ts = client.chat_postMessage(channel=CHANNEL, text="old")["ts"]
    updated = client.chat_update(channel=CHANNEL, ts=ts, text="new")
    assert updated["text"] == "new"
    with pytest.raises(SlackApiError) as err:
        client.chat_update(channel=CHANNEL, ts="1.000001", text="x")
    assert err.value.response["error"] == "message_not_found"


def test_unknown_channel_and_user(client: WebClient, fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="X123", text="hi")
    assert err.value.response["error"] == "channel_not_found"
    fake.add_user("U1", "ana", real_name="Ana A.", tz="Europe/Lisbon")
    assert client.users_info(user="U1")["user"]["tz"] == "Europe/Lisbon"
    with pytest.raises(SlackApiError) as err:
        client.users_info(user="U404")
    assert err.value.response["error"] == "user_not_found"


def test_rate_limit_surfaces_as_429_with_retry_after(client: WebClient, fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=1)
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel=CHANNEL, text="hi")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "1"
    assert err.value.response["error"] == "ratelimited"
    assert fake.messages(CHANNEL) == []
    assert client.chat_postMessage(channel=CHANNEL, text="hi")["ok"]  # fault consumed


def test_ambiguous_failure_stores_message_but_reports_error(
    client: WebClient, fake: FakeSlack
) -> None:
    fake.fail_next("chat.postMessage", error="internal_error", apply=True)
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel=CHANNEL, text="maybe")
    assert err.value.response["error"] == "internal_error"
    assert [m["text"] for m in fake.messages(CHANNEL)] == ["maybe"]


def test_html_500_and_repeated_faults(client: WebClient, fake: FakeSlack) -> None:
    fake.fail_next("auth.test", status=500, body="<html>oops</html>", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as err:
            client.auth_test()
        assert err.value.response.status_code == 500
    assert client.auth_test()["user_id"] == "U0BOT"


def test_delay_does_the_work_before_answering(client: WebClient, fake: FakeSlack) -> None:
    fake.delay("chat.postMessage", 0.2)
    start = time.monotonic()
    client.chat_postMessage(channel=CHANNEL, text="slow")
    assert time.monotonic() - start >= 0.2


def test_concurrent_posts_get_distinct_increasing_ts(fake: FakeSlack) -> None:
    def post(i: int) -> None:
        client = WebClient(token="xoxb-test", base_url=fake.api_url, retry_handlers=[])
        client.chat_postMessage(channel=CHANNEL, text=str(i))

    threads = [threading.Thread(target=post, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stamps = [m["ts"] for m in fake.messages(CHANNEL)]
    assert len(set(stamps)) == 20 and stamps == sorted(stamps)


def test_unknown_method_and_auth_errors(fake: FakeSlack) -> None:
    good = WebClient(token="xoxb-test", base_url=fake.api_url, retry_handlers=[])
    with pytest.raises(SlackApiError) as err:
        good.api_call("chat.nonsense")
    assert err.value.response.status_code == 404
    assert err.value.response["error"] == "unknown_method"

    bad = WebClient(token="xoxb-wrong", base_url=fake.api_url, retry_handlers=[])
    with pytest.raises(SlackApiError) as err:
        bad.chat_postMessage(channel=CHANNEL, text="hi")
    assert err.value.response["error"] == "invalid_auth"

    anonymous = WebClient(base_url=fake.api_url, retry_handlers=[])
    with pytest.raises(SlackApiError) as err:
        anonymous.auth_test()
    assert err.value.response["error"] == "not_authed"
    assert [c.method for c in fake.calls] == ["chat.nonsense", "chat.postMessage", "auth.test"]


def test_views_open_update_and_publish(client: WebClient, fake: FakeSlack) -> None:
    modal = {
        "type": "modal",
        "callback_id": "reply",
        "title": {"type": "plain_text", "text": "R"},
        "blocks": [{"type": "divider"}],
    }
    opened = client.views_open(trigger_id="trig-unit", view=modal)["view"]
    assert opened["id"].startswith("V") and opened["state"] == {"values": {}}
    assert fake.views[opened["id"]]["callback_id"] == "reply"

    with pytest.raises(SlackApiError) as err:
        client.views_update(view_id=opened["id"], view=modal, hash="stale")
    assert err.value.response["error"] == "hash_conflict"
    client.views_update(view_id=opened["id"], view=modal | {"callback_id": "v2"})
    assert fake.views[opened["id"]]["callback_id"] == "v2"

    client.views_publish(user_id="U1", view={"type": "home", "blocks": []})
    home = fake.home("U1")
    assert home is not None and home["type"] == "home"


# --------------------------------------------------------------------------- Slack -> bot


def test_click_sends_a_verifiable_block_actions_payload(
    client: WebClient, fake: FakeSlack, bot: BotStub
) -> None:
    fake.add_user("U1", "ana")
    ts = client.chat_postMessage(channel=CHANNEL, text="card", blocks=_card_blocks())["ts"]

    result = fake.click(bot.url, user_id="U1", channel=CHANNEL, ts=ts, action_id="claim")

    assert result.status == 200
    payload = bot.received[0].payload()
    assert payload["type"] == "block_actions"
    assert payload["user"]["id"] == "U1" and payload["user"]["username"] == "ana"
    assert payload["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": CHANNEL,
        "is_ephemeral": False,
    }
    assert payload["actions"][0]["value"] == "case-42"
    assert payload["actions"][0]["block_id"] == "card_actions"
    assert payload["trigger_id"].startswith("trig-")
    assert payload["message"]["ts"] == ts

    # The bot answers through response_url; the fake records and applies it.
    reply = httpx.post(payload["response_url"], json={"replace_original": True, "text": "Mine"})
    assert reply.status_code == 200
    assert fake.responses[0].payload["text"] == "Mine"
    stored = fake.message(CHANNEL, ts)
    assert stored is not None and stored["text"] == "Mine" and "blocks" not in stored


def test_click_on_select_and_missing_targets(
    client: WebClient, fake: FakeSlack, bot: BotStub
) -> None:
    ts = client.chat_postMessage(channel=CHANNEL, text="card", blocks=_card_blocks())["ts"]
    fake.click(bot.url, user_id="U1", channel=CHANNEL, ts=ts, action_id="priority", value="low")
    action = bot.received[0].payload()["actions"][0]
    assert action["type"] == "static_select"
    assert action["selected_option"]["value"] == "low"
    with pytest.raises(LookupError):
        fake.click(bot.url, user_id="U1", channel=CHANNEL, ts=ts, action_id="nope")
    with pytest.raises(LookupError):
        fake.click(bot.url, user_id="U1", channel=CHANNEL, ts="1.000001", action_id="claim")


def test_submit_view_builds_state_and_keeps_modal_on_errors(
    client: WebClient, fake: FakeSlack, bot: BotStub
) -> None:
    ts = client.chat_postMessage(channel=CHANNEL, text="card", blocks=_card_blocks())["ts"]
    fake.click(bot.url, user_id="U1", channel=CHANNEL, ts=ts, action_id="claim")
    trigger = bot.received[0].payload()["trigger_id"]
    label = {"type": "plain_text", "text": "Answer"}
    view = {
        "type": "modal",
        "callback_id": "reply",
        "private_metadata": "case-42",
        "title": {"type": "plain_text", "text": "Reply"},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [
            {
                "type": "input",
                "block_id": "answer",
                "label": label,
                "element": {"type": "plain_text_input", "action_id": "text"},
            },
            {
                "type": "input",
                "block_id": "tone",
                "label": label,
                "element": _card_blocks()[1]["elements"][1] | {"action_id": "pick"},
            },
        ],
    }
    view_id = client.views_open(trigger_id=trigger, view=view)["view"]["id"]
    assert fake.view_user(view_id) == "U1"

    bot.reply = json.dumps(
        {"response_action": "errors", "errors": {"answer": "Too short"}}
    ).encode()
    result = fake.submit_view(
        bot.url, user_id="U1", view_id=view_id, values={"answer": {"text": "Hi"}}
    )
    assert result.json()["response_action"] == "errors"
    sent = bot.received[-1].payload()
    assert sent["type"] == "view_submission"
    assert sent["view"]["private_metadata"] == "case-42"
    assert sent["view"]["state"]["values"] == {
        "answer": {"text": {"type": "plain_text_input", "value": "Hi"}},
        "tone": {"pick": {"type": "static_select", "selected_option": None}},
    }
    assert [v["id"] for v in fake.view_stack("U1")] == [view_id]

    bot.reply = b""
    fake.submit_view(bot.url, user_id="U1", view_id=view_id, values={"tone": {"pick": "high"}})
    tone = bot.received[-1].payload()["view"]["state"]["values"]["tone"]["pick"]
    assert tone["selected_option"]["value"] == "high"
    assert fake.view_stack("U1") == []  # an empty ack closes the modal


def test_event_redelivery_is_byte_identical_and_marked_as_retry(
    fake: FakeSlack, bot: BotStub
) -> None:
    first = fake.send_event(bot.url, {"type": "app_mention", "text": "hi", "user": "U1"})
    for n in (1, 2):
        fake.send_event(bot.url, {}, retry_num=n, body_override=first.request_body)
    assert len(bot.received) == 3
    assert {r.body for r in bot.received} == {first.request_body}
    assert bot.received[2].headers["X-Slack-Retry-Num"] == "2"
    assert bot.received[2].headers["X-Slack-Retry-Reason"] == "http_timeout"
    envelope = bot.received[0].payload()
    assert envelope["type"] == "event_callback" and envelope["event_id"].startswith("Ev")


def test_post_user_message_stores_and_notifies(
    client: WebClient, fake: FakeSlack, bot: BotStub
) -> None:
    parent = client.chat_postMessage(channel=CHANNEL, text="card")["ts"]
    result = fake.post_user_message(
        bot.url, user_id="U1", channel=CHANNEL, text="on it", thread_ts=parent
    )
    event = bot.received[0].payload()["event"]
    assert event["type"] == "message" and event["channel_type"] == "channel"
    assert event["thread_ts"] == parent and event["ts"] == result.sent["event"]["ts"]
    assert [m["text"] for m in fake.replies(CHANNEL, parent)] == ["on it"]


def test_slash_command_and_forged_signatures(fake: FakeSlack, bot: BotStub) -> None:
    fake.slash_command(bot.url, user_id="U1", channel=CHANNEL, text="help")
    form = bot.received[0].payload()
    assert form["command"] == "/engage" and form["text"] == "help"
    assert form["response_url"].startswith(fake.base_url) and form["trigger_id"]

    body = b'{"type":"event_callback"}'
    stale = fake.signed_headers(body, timestamp=int(time.time()) - 600)
    assert fake.send_raw(bot.url, body, stale).status == 401
    forged = fake.signed_headers(body) | {"X-Slack-Signature": "v0=deadbeef"}
    assert fake.send_raw(bot.url, body, forged).status == 401
    assert fake.send_raw(bot.url, body, fake.signed_headers(body)).status == 200


def test_wait_until_returns_value_or_fails_fast() -> None:
    assert wait_until(lambda: [1]) == [1]
    with pytest.raises(AssertionError):
        wait_until(lambda: False, timeout=0.05)


def test_files_upload_v2_shares_the_file_in_the_channel() -> None:
    with FakeSlack() as fake:
        client = WebClient(token=fake.bot_token, base_url=fake.api_url, retry_handlers=[])
        client.files_upload_v2(
            channel="C0SUMMARY1",
            file=b"\x89PNG-bytes",
            filename="chart.png",
            title="Chart",
            initial_comment="Weekly summary",
        )
        message = fake.messages("C0SUMMARY1")[-1]
        assert message["text"] == "Weekly summary"
        assert [f["title"] for f in message["files"]] == ["Chart"]
        assert next(iter(fake.files.values()))["data"] == b"\x89PNG-bytes"
