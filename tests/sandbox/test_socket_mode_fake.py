"""The fake's Socket Mode holds an app to Slack's rules: tokens, single-use URLs, hello,
envelope shapes, the 3-second ack, redelivery of events only, refreshes, and bad acks.

A hand-written WebSocket client plays the app here, so it can misbehave in ways slack_sdk's
client never would (ack twice, ack late, send unmasked frames).
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox.fake_slack import FakeSlack, HttpResult, wait_until


class RawSocket:
    """The smallest WebSocket client: handshake, masked text frames out, frames in."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname or "", parts.port or 80), timeout=3)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.hostname}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                break
            head += chunk
        self.status = int(head.split(b" ")[1]) if head else 0

    def send(self, text: str, *, masked: bool = True) -> None:
        data = text.encode()
        mask = os.urandom(4) if masked else b""
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(data)) if masked else data
        length = len(data)
        bit = 0x80 if masked else 0
        size = bytes([bit | length]) if length < 126 else struct.pack("!BH", bit | 126, length)
        self.sock.sendall(bytes([0x81]) + size + mask + body)

    def frame(self, timeout: float = 3.0) -> tuple[int, bytes]:
        self.sock.settimeout(timeout)
        first, second = self._exactly(2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._exactly(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._exactly(8))[0]
        return first & 0x0F, self._exactly(length)

    def message(self, timeout: float = 3.0) -> dict[str, Any]:
        opcode, data = self.frame(timeout)
        assert opcode == 0x1, (opcode, data)
        found: dict[str, Any] = json.loads(data)
        return found

    def ack(self, envelope: dict[str, Any], payload: dict[str, Any] | None = None) -> None:
        sent = {"envelope_id": envelope["envelope_id"]}
        self.send(json.dumps(sent | ({"payload": payload} if payload is not None else {})))

    def _exactly(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """A fake of its own: these tests make it record bad acks on purpose."""
    slack = FakeSlack().start()
    slack.delivery = "socket"
    slack.add_channel("C0TEST0001", "test")
    yield slack
    slack.stop()


def _url(slack: FakeSlack) -> str:
    client = WebClient(base_url=slack.api_url)
    return str(client.apps_connections_open(app_token=slack.app_token)["url"])


def _connect(slack: FakeSlack) -> RawSocket:
    raw = RawSocket(_url(slack))
    assert raw.status == 101 and raw.message()["type"] == "hello"
    return raw


def _in_background(send: Callable[[], HttpResult]) -> Callable[[], HttpResult]:
    """Deliver on another thread (the fake waits for the ack); call the result to join it."""
    results: list[HttpResult] = []
    thread = threading.Thread(target=lambda: results.append(send()))
    thread.start()

    def join() -> HttpResult:
        thread.join(10)
        return results[0]

    return join


def test_connections_open_takes_the_app_token_and_nothing_else(fake: FakeSlack) -> None:
    bare = httpx.post(fake.api_url + "apps.connections.open").json()
    assert bare == {"ok": False, "error": "not_authed"}
    for token, error in (
        (fake.bot_token, "not_allowed_token_type"),
        ("xapp-1-A0ENGAGE-1-wrong", "invalid_auth"),
    ):
        with pytest.raises(SlackApiError) as refused:
            WebClient(base_url=fake.api_url).apps_connections_open(app_token=token)
        assert refused.value.response["error"] == error
    with pytest.raises(SlackApiError) as wrong_type:
        WebClient(token=fake.app_token, base_url=fake.api_url).auth_test()
    assert wrong_type.value.response["error"] == "not_allowed_token_type"
    assert _url(fake).startswith("ws://127.0.0.1:")


def test_a_url_works_once_and_the_socket_opens_with_hello(fake: FakeSlack) -> None:
    url = _url(fake)
    raw = RawSocket(url)
    hello = raw.message()
    assert hello["type"] == "hello" and hello["num_connections"] == 1
    assert hello["connection_info"] == {"app_id": fake.api_app_id}
    assert RawSocket(url).status == 401
    assert RawSocket(url.replace("ticket=", "ticket=x")).status == 401
    raw.close()


def test_envelopes_carry_slacks_fields_and_acks_answer_where_slack_reads_them(
    fake: FakeSlack,
) -> None:
    raw = _connect(fake)
    command = _in_background(
        lambda: fake.slash_command("unused", user_id="U0ALICE01", channel="C0TEST0001")
    )
    envelope = raw.message()
    assert envelope["type"] == "slash_commands" and envelope["accepts_response_payload"] is True
    assert envelope["payload"]["command"] == "/engage" and "retry_attempt" not in envelope
    raw.ack(envelope, {"text": "hello"})
    assert (command().status, command().json()) == (200, {"text": "hello"})

    event = _in_background(lambda: fake.send_event("unused", {"type": "app_mention"}))
    envelope = raw.message()
    assert envelope["type"] == "events_api" and envelope["accepts_response_payload"] is False
    assert (envelope["retry_attempt"], envelope["retry_reason"]) == (0, "")
    assert envelope["payload"]["type"] == "event_callback"
    raw.ack(envelope, {"text": "ignored"})  # Slack drops a payload it did not ask for
    assert (event().status, event().body) == (200, "")
    assert [e.outcome for e in fake.socket_envelopes] == ["acked", "acked"]
    assert fake.rejections == []


def test_an_unacked_event_is_redelivered_three_times_and_an_interaction_never(
    fake: FakeSlack,
) -> None:
    fake.ack_deadline = 0.1
    raw = _connect(fake)
    event = _in_background(lambda: fake.send_event("unused", {"type": "app_mention"}))
    tries = [raw.message() for _ in range(4)]
    assert [(t["retry_attempt"], t["retry_reason"]) for t in tries] == [
        (0, ""),
        (1, "timeout"),
        (2, "timeout"),
        (3, "timeout"),
    ]
    assert len({t["envelope_id"] for t in tries}) == 4
    assert all(t["payload"] == tries[0]["payload"] for t in tries)
    assert (event().status, event().body) == (0, "timeout")
    command = _in_background(
        lambda: fake.slash_command("unused", user_id="U0ALICE01", channel="C0TEST0001")
    )
    assert raw.message()["type"] == "slash_commands"
    assert (command().status, command().body) == (0, "timeout")
    with pytest.raises(TimeoutError):
        raw.frame(timeout=0.3)  # neither the event a fifth time nor the command again
    assert [e.outcome for e in fake.socket_envelopes] == ["timeout"] * 5


def test_acks_slack_would_not_take_are_recorded(fake: FakeSlack) -> None:
    fake.ack_deadline = 0.3
    raw = _connect(fake)
    first = _in_background(lambda: fake.send_event("unused", {"type": "app_mention"}))
    envelope = raw.message()
    raw.ack(envelope)
    raw.ack(envelope)  # twice
    raw.ack({"envelope_id": "no-such-envelope"})
    raw.send("not json")
    assert first().status == 200
    late = _in_background(
        lambda: fake.slash_command("unused", user_id="U0ALICE01", channel="C0TEST0001")
    )
    envelope = raw.message()
    assert late().status == 0
    raw.ack(envelope, {"text": "too late"})
    wait_until(lambda: len(fake.rejections) == 4)
    errors = [(r.error, r.messages[0].split(" ")[-1]) for r in fake.rejections]
    assert errors == [
        ("bad_ack", "twice"),
        ("unknown_envelope", "'no-such-envelope'"),
        ("invalid_ack", "json'"),
        ("bad_ack", "late"),
    ]


def test_an_unmasked_frame_is_a_protocol_error(fake: FakeSlack) -> None:
    raw = _connect(fake)
    raw.send('{"envelope_id": "x"}', masked=False)
    opcode, data = raw.frame()
    assert opcode == 0x8 and struct.unpack("!H", data[:2])[0] == 1002
    wait_until(lambda: fake.open_sockets == 0)


def test_a_refresh_moves_envelopes_to_the_new_socket(fake: FakeSlack) -> None:
    old = _connect(fake)
    fake.request_socket_refresh()
    disconnect = old.message()
    assert (disconnect["type"], disconnect["reason"]) == ("disconnect", "refresh_requested")
    # An interaction while only the refreshing socket is open fails at once; an event waits.
    command = fake.slash_command("unused", user_id="U0ALICE01", channel="C0TEST0001")
    assert (command.status, command.body) == (0, "not_connected")
    event = _in_background(lambda: fake.send_event("unused", {"type": "app_mention"}))
    wait_until(lambda: len(fake.socket_envelopes) == 2)
    new = _connect(fake)
    assert old.frame()[0] == 0x8  # closed, now that the app has its new socket
    envelope = new.message()
    assert envelope["type"] == "events_api"
    new.ack(envelope)
    assert event().status == 200
    wait_until(lambda: fake.open_sockets == 1)


def test_the_eleventh_socket_is_turned_away(fake: FakeSlack) -> None:
    sockets = [_connect(fake) for _ in range(10)]
    extra = RawSocket(_url(fake))
    assert extra.message() == {
        "type": "disconnect",
        "reason": "too_many_websockets",
        "debug_info": {"host": "applink-fake"},
    }
    assert extra.frame()[0] == 0x8
    for raw in sockets:
        raw.close()
