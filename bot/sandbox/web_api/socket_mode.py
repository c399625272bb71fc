"""Socket Mode as Slack runs it: ``apps.connections.open``, the WebSocket, envelopes and acks.

An app with an app-level token (``xapp-``) gets a single-use WebSocket URL, connects (at most
10 at once), gets ``hello``, then receives envelopes (``events_api``, ``interactive``,
``slash_commands``) to ack by ``envelope_id`` within 3 seconds. Slack's rules, kept here:

- ``apps.connections.open`` takes only the app token (none: ``not_authed``; a bot or user
  token: ``not_allowed_token_type``; another: ``invalid_auth``); other methods refuse it.
- An envelope not acked within ``ack_deadline``, or whose connection ends first, has failed.
  An event is redelivered as a new envelope (``retry_attempt`` 1 to 3, ``retry_reason:
  timeout``) on the newest connection, or the next to open; an interaction or a command is
  not: the person sees an error.
- An ack twice, too late, for no envelope, or not JSON is kept in ``rejections``. An ack's
  ``payload`` counts only where ``accepts_response_payload`` (submissions, commands).
- ``request_socket_refresh`` sends ``disconnect`` (``refresh_requested``): that connection gets
  no new envelopes and is closed once a newer one opens. ``drop_sockets`` resets or closes
  them; ``lose_next_ack`` breaks the link an ack arrives on, before Slack reads it.

With ``delivery = "socket"`` every click, submission, event and command ``slack_requests``
builds travels as an envelope instead of a signed POST, and the ack comes back as the
``HttpResult`` the helpers read (200 and the ack's payload; 0 and why when none came), so one
test body runs in both modes.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from email.message import Message
from typing import Literal
from urllib.parse import parse_qs, parse_qsl, urlsplit

from bot.sandbox.slack_requests import SlackRequests
from bot.sandbox.web_api.transport import WebApi
from bot.sandbox.web_api.websocket import WebSocket, WebSocketServer
from bot.sandbox.wire import JSON, ApiCall, HttpResult, Rejection, Reply

MAX_RETRIES = 3  # Slack retries a failed event three times
MAX_CONNECTIONS = 10  # per app; the eleventh is told too_many_websockets
ACCEPTS_PAYLOAD = {"view_submission", "block_suggestion"}  # interactive types Slack reads


@dataclass
class Envelope:
    """One envelope Slack sent (or will send when a connection opens), and what became of it.

    ``outcome``: ``pending``, ``acked``, ``timeout`` (no ack in time), ``lost`` (its connection
    ended first) or ``not_connected`` (an interaction while no socket was open).
    """

    envelope_id: str
    type: str
    payload: JSON
    accepts_response_payload: bool
    retry_attempt: int = 0
    retry_reason: str = ""
    connection: int | None = None
    sent_at: float | None = None
    outcome: str = "pending"
    ack_payload: JSON | None = None
    settled: threading.Event = field(default_factory=threading.Event, repr=False)

    def frame(self) -> JSON:
        sent: JSON = {"envelope_id": self.envelope_id, "payload": self.payload}
        sent |= {"type": self.type, "accepts_response_payload": self.accepts_response_payload}
        if self.type == "events_api":
            sent |= {"retry_attempt": self.retry_attempt, "retry_reason": self.retry_reason}
        return sent


@dataclass
class _Connection:
    number: int
    ws: WebSocket
    refreshing: bool = False  # told to reconnect: gets no new envelopes


class _State:
    """Socket Mode's state, under its own lock: Web API calls must not wait for a send."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.server: WebSocketServer | None = None
        self.tickets: set[str] = set()
        self.connections: dict[int, _Connection] = {}
        self.opened = 0
        self.envelopes: list[Envelope] = []
        self.by_id: dict[str, Envelope] = {}
        self.waiting: list[Envelope] = []  # events to send when a connection opens
        self.lose_acks = 0
        self.stopped = threading.Event()


class SocketMode(SlackRequests, WebApi):
    """``apps.connections.open``, the WebSocket server and envelope delivery, over the workspace."""

    app_token = "xapp-1-A0ENGAGE-1-fake"
    ack_deadline = 3.0  # seconds: Slack's
    delivery: Literal["http", "socket"] = "http"
    """How ``click``, ``submit_view``, ``send_event``... reach the bot: POSTs or envelopes."""

    # ----------------------------------------------------------------- state & lifecycle
    def _socket(self) -> _State:
        state: _State | None = getattr(self, "_socket_state", None)
        if state is None:
            with self._lock:
                state = getattr(self, "_socket_state", None) or _State()
                self._socket_state: _State = state
        return state

    def _socket_server(self) -> WebSocketServer:
        state = self._socket()
        with state.lock:
            if state.server is None:
                state.server = WebSocketServer(
                    self._socket_accept, self._socket_opened, self._socket_text, self._socket_closed
                )
                threading.Thread(
                    target=self._socket_watch, name="fake-slack-acks", daemon=True
                ).start()
            return state.server

    def stop_socket_mode(self) -> None:
        """Close every socket and forget envelopes (``FakeSlack.stop`` calls it)."""
        state = self._socket()
        state.stopped.set()
        if state.server is not None:
            state.server.stop()
        self._socket_state = _State()

    # ----------------------------------------------------------------- what tests read and do
    @property
    def socket_envelopes(self) -> list[Envelope]:
        """Every envelope sent or waiting, oldest first (copies)."""
        with self._socket().lock:
            return [_copy(e) for e in self._socket().envelopes]

    @property
    def sockets_opened(self) -> int:
        """How many WebSocket connections the bot has opened so far."""
        return self._socket().opened

    @property
    def open_sockets(self) -> int:
        with self._socket().lock:
            return len(self._socket().connections)

    def wait_for_socket(self, opened: int = 1, timeout: float = 5.0) -> None:
        """Until the bot has opened ``opened`` connections and one of them takes envelopes."""
        deadline = time.monotonic() + timeout
        while self._socket().opened < opened or self._live() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"the bot did not open socket {opened} within {timeout}s")
            time.sleep(0.01)

    def request_socket_refresh(self) -> None:
        """``disconnect`` / ``refresh_requested`` on every open connection, as Slack does every
        few hours: the bot should open a new one; the old ones get no new envelopes."""
        with self._socket().lock:
            for conn in self._socket().connections.values():
                conn.refreshing = True
                conn.ws.send_text(json.dumps(_disconnect("refresh_requested")))

    def drop_sockets(self, how: Literal["reset", "close"] = "reset") -> None:
        """End every open connection: a TCP reset (a dead link) or a close frame (1001)."""
        with self._socket().lock:
            connections = list(self._socket().connections.values())
        for conn in connections:
            conn.ws.reset() if how == "reset" else conn.ws.close(1001, "going away")

    def lose_next_ack(self) -> None:
        """The next ack never reaches Slack: its connection breaks just before it arrives."""
        with self._socket().lock:
            self._socket().lose_acks += 1

    # ----------------------------------------------------------------- Web API: the token rules
    def _api_request(self, method: str, headers: Message, body: bytes, query: str) -> Reply:
        token = _token(headers, body)
        if method != "apps.connections.open" and token != self.app_token:
            return super()._api_request(method, headers, body, query)
        with self._lock:
            self._calls.append(ApiCall(method, {}, time.time()))
            queue = self._faults.get(method)
            fault = queue.popleft() if queue else None
        if fault is not None:
            return self._fault_reply(fault)
        if not token:
            return self._json(200, {"ok": False, "error": "not_authed"})
        if token == self.app_token and method != "apps.connections.open":
            return self._json(200, {"ok": False, "error": "not_allowed_token_type"})
        if not token.startswith("xapp-"):  # a bot or user token cannot open a socket
            return self._json(200, {"ok": False, "error": "not_allowed_token_type"})
        if token != self.app_token:
            return self._json(200, {"ok": False, "error": "invalid_auth"})
        ticket = uuid.uuid4().hex
        port = self._socket_server().port
        with self._socket().lock:
            self._socket().tickets.add(ticket)
        url = f"ws://127.0.0.1:{port}/link/?ticket={ticket}&app_id={self.api_app_id}"
        return self._json(200, {"ok": True, "url": url})

    # ----------------------------------------------------------------- the WebSocket side
    def _socket_accept(self, path: str) -> bool:
        parts = urlsplit(path)
        ticket = parse_qs(parts.query).get("ticket", [""])[0]
        with self._socket().lock:
            if parts.path != "/link/" or ticket not in self._socket().tickets:
                return False
            self._socket().tickets.discard(ticket)  # a URL is good for one connection
            return True

    def _socket_opened(self, ws: WebSocket) -> None:
        state = self._socket()
        with state.lock:
            if len(state.connections) >= MAX_CONNECTIONS:
                ws.send_text(json.dumps(_disconnect("too_many_websockets")))
                ws.close(1008, "too many websockets")
                return
            state.opened += 1
            state.connections[id(ws)] = _Connection(state.opened, ws)
            hello = {"type": "hello", "num_connections": len(state.connections)}
            hello |= {"debug_info": {"host": "applink-fake", "approximate_connection_time": 18060}}
            hello["connection_info"] = {"app_id": self.api_app_id}
            ws.send_text(json.dumps(hello))
            for old in [c for c in state.connections.values() if c.refreshing]:
                old.ws.close(1000, "refreshed")  # the app has its new connection
            waiting, state.waiting = state.waiting, []
            for envelope in waiting:
                self._send_envelope(envelope)

    def _socket_closed(self, ws: WebSocket) -> None:
        state = self._socket()
        with state.lock:
            conn = state.connections.pop(id(ws), None)
            if conn is None:
                return
            for envelope in state.envelopes:
                if envelope.outcome == "pending" and envelope.connection == conn.number:
                    self._failed(envelope, "lost")

    def _socket_text(self, ws: WebSocket, text: str) -> None:
        state = self._socket()
        try:
            ack = json.loads(text)
        except ValueError:
            ack = None
        if not isinstance(ack, dict) or not isinstance(ack.get("envelope_id"), str):
            self._socket_refuse("invalid_ack", f"not an ack: {text[:200]!r}")
            return
        with state.lock:
            if state.lose_acks:
                state.lose_acks -= 1
                ws.reset()  # the link breaks before Slack reads it; _socket_closed follows
                return
            envelope = state.by_id.get(ack["envelope_id"])
            if envelope is None:
                self._socket_refuse("unknown_envelope", f"ack for {ack['envelope_id']!r}")
                return
            if envelope.outcome == "lost":
                return  # its connection ended first: Slack has already given up on it
            if envelope.outcome != "pending":
                why = "acked twice" if envelope.outcome == "acked" else "acked too late"
                self._socket_refuse("bad_ack", f"envelope {envelope.envelope_id} {why}")
                return
            if time.monotonic() - (envelope.sent_at or 0) > self.ack_deadline:
                self._failed(envelope, "timeout")
                self._socket_refuse("bad_ack", f"envelope {envelope.envelope_id} acked too late")
                return
            payload = ack.get("payload")
            if payload is not None and not isinstance(payload, dict):
                self._socket_refuse("invalid_ack", "an ack's payload must be an object")
                payload = None
            envelope.outcome = "acked"
            envelope.ack_payload = payload if envelope.accepts_response_payload else None
            envelope.settled.set()

    def _socket_watch(self) -> None:
        """Fail envelopes whose 3 seconds are up (and so redeliver the events)."""
        state = self._socket()
        while not state.stopped.wait(0.05):
            now = time.monotonic()
            with state.lock:
                for envelope in list(state.envelopes):
                    late = (envelope.sent_at or now) + self.ack_deadline < now
                    if envelope.outcome == "pending" and late:
                        self._failed(envelope, "timeout")

    def _socket_refuse(self, error: str, message: str) -> None:
        with self._lock:
            self._rejections.append(Rejection("socket_mode", error, (message,), time.time()))

    # ----------------------------------------------------------------- envelopes
    def _live(self) -> _Connection | None:
        connections = [
            c for c in self._socket().connections.values() if c.ws.open and not c.refreshing
        ]
        return max(connections, key=lambda c: c.number, default=None)

    def _send_envelope(self, envelope: Envelope) -> None:
        """On the newest connection that is not being refreshed; events wait for one."""
        state = self._socket()
        with state.lock:
            if envelope.envelope_id not in state.by_id:
                state.envelopes.append(envelope)
                state.by_id[envelope.envelope_id] = envelope
            conn = self._live()
            if conn is None:
                if envelope.type == "events_api":
                    state.waiting.append(envelope)
                else:  # an interaction needs the app now: the person sees an error
                    envelope.outcome = "not_connected"
                    envelope.settled.set()
                return
            envelope.connection, envelope.sent_at = conn.number, time.monotonic()
            if not conn.ws.send_text(json.dumps(envelope.frame())):  # it never left: try again
                envelope.connection = envelope.sent_at = None
                self._send_envelope(envelope)

    def _failed(self, envelope: Envelope, outcome: str) -> None:
        envelope.outcome = outcome
        envelope.settled.set()
        if envelope.type == "events_api" and envelope.retry_attempt < MAX_RETRIES:
            again = Envelope(
                envelope_id=str(uuid.uuid4()),
                type=envelope.type,
                payload=envelope.payload,
                accepts_response_payload=False,
                retry_attempt=envelope.retry_attempt + 1,
                retry_reason="timeout",
            )
            self._send_envelope(again)

    def _post(self, url: str, body: bytes, headers: dict[str, str], sent: JSON) -> HttpResult:
        """In socket mode, what would have been POSTed goes out as an envelope instead."""
        if self.delivery != "socket":
            return super()._post(url, body, headers, sent)
        self._socket_server()
        named = {k.lower(): v for k, v in headers.items()}
        kind, payload = _envelope_of(body, named.get("content-type", ""))
        retry = named.get("x-slack-retry-num", "")
        envelope = Envelope(
            envelope_id=str(uuid.uuid4()),
            type=kind,
            payload=payload,
            accepts_response_payload=kind == "slash_commands"
            or (kind == "interactive" and payload.get("type") in ACCEPTS_PAYLOAD),
            retry_attempt=int(retry) if retry.isdigit() and kind == "events_api" else 0,
            retry_reason=named.get("x-slack-retry-reason", "") if retry else "",
        )
        start = time.monotonic()
        self._send_envelope(envelope)
        envelope.settled.wait(self.ack_deadline + 2)
        elapsed = time.monotonic() - start
        if envelope.outcome != "acked":
            return HttpResult(0, envelope.outcome, {}, body, elapsed, sent)
        answer = json.dumps(envelope.ack_payload) if envelope.ack_payload else ""
        return HttpResult(200, answer, {}, body, elapsed, sent)


def _copy(envelope: Envelope) -> Envelope:
    payload, answer = copy.deepcopy(envelope.payload), copy.deepcopy(envelope.ack_payload)
    return replace(envelope, payload=payload, ack_payload=answer)


def _envelope_of(body: bytes, content_type: str) -> tuple[str, JSON]:
    """The envelope type and payload Slack would send instead of this HTTP body."""
    if content_type.split(";")[0].strip() == "application/json":
        return "events_api", json.loads(body)
    form = dict(parse_qsl(body.decode(), keep_blank_values=True))
    if "payload" in form:
        return "interactive", json.loads(form["payload"])
    return "slash_commands", form


def _token(headers: Message, body: bytes) -> str:
    auth = headers.get("Authorization") or ""
    if auth.startswith("Bearer "):
        return auth.removeprefix("Bearer ").strip()
    ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if ctype == "application/json":
        return ""  # Slack ignores a token inside a JSON body
    try:
        return parse_qs(body.decode(), keep_blank_values=True).get("token", [""])[-1]
    except UnicodeDecodeError:
        return ""


def _disconnect(reason: str) -> JSON:
    return {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}}


__all__ = ["Envelope", "SocketMode"]
