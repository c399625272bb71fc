"""An in-process fake of the Slack platform that speaks Slack's real wire protocols.

Why a fake server instead of mocks: the bot talks to Slack through the real ``slack_sdk.WebClient``
and receives Slack's signed HTTP requests through Bolt, and most production bugs live exactly in
that plumbing (form vs JSON bodies, rate limits, ambiguous failures, retries, signatures). Pointing
``WebClient(base_url=fake.api_url)`` here and letting the fake POST signed payloads to the bot
exercises all of it without a network or a Slack workspace. Later it can back a local "sandbox"
UI, which is why state changes (replies, views, response_url effects) follow Slack's semantics.

Standard library only on the server side; ``httpx`` is used only to deliver requests to the bot.
"""

from __future__ import annotations

import base64
import copy
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypeVar, cast
from urllib.parse import parse_qs, urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.sandbox import slack_payloads as sp

JSON = dict[str, Any]
T = TypeVar("T")
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


@dataclass(frozen=True)
class ApiCall:
    """One Web API request as the fake received it (token removed), for assertions."""

    method: str
    args: JSON
    at: float


@dataclass(frozen=True)
class ResponseCall:
    """One POST the bot made to a ``response_url`` the fake handed out."""

    response_id: str
    payload: JSON
    at: float


@dataclass(frozen=True)
class HttpResult:
    """What the bot answered to a request the fake sent it.

    ``request_body`` is the exact bytes sent, so a test can redeliver the identical request (as
    Slack does on retries); ``sent`` is the decoded payload, handy for reading generated ids.
    """

    status: int
    body: str
    headers: dict[str, str]
    request_body: bytes
    elapsed: float
    sent: JSON = field(default_factory=dict)

    def json(self) -> Any:
        """The response body decoded as JSON (Bolt answers interactions with JSON or nothing)."""
        return json.loads(self.body)


@dataclass
class _Fault:
    status: int
    error: str | None
    retry_after: int | None
    apply: bool
    body: str | None


class _ApiError(Exception):
    """Raised by a method handler to produce Slack's ``{"ok": false, "error": ...}``."""


def _flag(value: Any) -> bool:
    """Slack booleans arrive as JSON booleans or, form-encoded by slack_sdk, as "1"/"true"."""
    return value in (True, 1, "1", "true", "True")


def _ts_key(ts: Any) -> int:
    """Compare timestamps exactly as integers of microseconds (floats lose the last digits)."""
    whole, _, frac = str(ts).partition(".")
    try:
        return int(whole or 0) * 1_000_000 + int((frac + "000000")[:6])
    except ValueError as exc:
        raise _ApiError("invalid_ts_latest") from exc


def _json_arg(value: Any, error: str = "invalid_arguments") -> Any:
    """Form-encoded requests carry blocks/metadata/views as JSON strings; JSON ones as objects."""
    if isinstance(value, str) and value.strip():
        try:
            return json.loads(value)
        except ValueError as exc:
            raise _ApiError(error) from exc
    return value


def _top_level(msg: JSON) -> bool:
    thread_ts = msg.get("thread_ts")
    return thread_ts in (None, msg["ts"]) or msg.get("subtype") == "thread_broadcast"


def _paginate(items: list[JSON], args: JSON) -> tuple[list[JSON], str]:
    """Slack-style cursor pagination; the cursor names the next item ("next_ts:<ts>")."""
    limit = max(1, min(int(args.get("limit") or 100), 1000))
    start = 0
    if args.get("cursor"):
        try:
            ts = base64.b64decode(str(args["cursor"])).decode().removeprefix("next_ts:")
            start = next(i for i, m in enumerate(items) if m["ts"] == ts)
        except (ValueError, StopIteration) as exc:
            raise _ApiError("invalid_cursor") from exc
    page, rest = items[start : start + limit], items[start + limit :]
    cursor = base64.b64encode(f"next_ts:{rest[0]['ts']}".encode()).decode() if rest else ""
    return page, cursor


def wait_until(predicate: Callable[[], T], timeout: float = 5.0, interval: float = 0.02) -> T:
    """Poll until ``predicate()`` is truthy and return its value; AssertionError on timeout.

    Bots ack Slack first and work afterwards, so tests must wait for side effects to appear.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout}s: {predicate!r}")
        time.sleep(interval)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # bursts of concurrent clients must not wait for SYN retries

    def __init__(self, fake: FakeSlack) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class _Handler(BaseHTTPRequestHandler):
    """Routes ``/api/<method>`` to the Web API and ``/response_url/<id>`` to response URLs."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._handle(self.rfile.read(length) if length else b"")

    def do_GET(self) -> None:
        self._handle(b"")

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging; tests assert on ``fake.calls`` instead."""

    def _handle(self, body: bytes) -> None:
        fake = cast(_Server, self.server).fake
        path, _, query = self.path.partition("?")
        if path.startswith("/api/"):
            status, headers, data = fake._api_request(path[5:], self.headers, body, query)
        elif path.startswith("/response_url/"):
            status, headers, data = fake._response_url_request(path[14:], body)
        else:
            status, headers, data = 404, {"Content-Type": "text/plain"}, b"not found"
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(data))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class FakeSlack:
    """A Slack workspace + Web API on loopback, and the sender of Slack's signed requests.

    All state sits behind one lock because the server answers requests on many threads while the
    test thread reads accessors. Accessors return deep copies, so tests cannot corrupt state.
    """

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test",
        signing_secret: str = "test-secret",
        team_id: str = "T0ENGAGE",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        api_app_id: str = "A0ENGAGE",
        team_domain: str = "engage",
    ) -> None:
        self.bot_token, self.signing_secret = bot_token, signing_secret
        self.team_id, self.team_domain = team_id, team_domain
        self.bot_user_id, self.bot_id, self.api_app_id = bot_user_id, bot_id, api_app_id
        self.verification_token = "fake-verification-token"
        self.trigger_ttl = 3.0  # Slack's triggers expire after 3 seconds
        self.delivery_timeout = 10.0
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        # One client for every request to the bot: building one per request costs a TLS
        # context each time, which dominated the measured ack times.
        self._http = httpx.Client(limits=httpx.Limits(max_connections=200))
        self._methods: dict[str, Callable[[JSON], JSON]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.delete": self._delete,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.getPermalink": self._permalink,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "conversations.info": self._conversation_info,
            "conversations.members": self._members,
            "users.info": self._user_info,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
        }
        self.reset()

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> FakeSlack:
        """Bind 127.0.0.1 on a free port and serve on a daemon thread."""
        if self._server is None:
            self._server = _Server(self)
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = self._thread = None
        self._http.close()
        self._http = httpx.Client(limits=httpx.Limits(max_connections=200))

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(
        self, exc: type[BaseException] | None, val: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        """For ``WebClient(base_url=...)``: slack_sdk appends the method, hence the slash."""
        return self.base_url + "/api/"

    def reset(self) -> None:
        """Forget everything (calls, messages, views, users, channels, faults) like a new fake."""
        with self._lock:
            self._calls: list[ApiCall] = []
            self._messages: dict[str, list[JSON]] = {}
            self._ephemerals: list[JSON] = []
            self._channels: dict[str, JSON] = {}
            self._users: dict[str, JSON] = {}
            self._views: dict[str, JSON] = {}
            self._view_users: dict[str, str | None] = {}
            self._stacks: dict[str, list[str]] = {}
            self._homes: dict[str, str] = {}  # user id -> view id (views live in _views)
            self._responses: list[ResponseCall] = []
            self._response_urls: dict[str, JSON] = {}
            self._triggers: dict[str, tuple[str, float]] = {}
            self._faults: dict[str, deque[_Fault]] = {}
            self._delays: dict[str, float] = {}
            self._last_ts = 0

    # ----------------------------------------------------------------- setup & faults
    def add_channel(self, channel_id: str, name: str, members: list[str] | None = None) -> None:
        with self._lock:
            self._channels[channel_id] = {"id": channel_id, "name": name, "members": members or []}

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        real_name: str | None = None,
        is_bot: bool = False,
        tz: str = "Europe/Berlin",
    ) -> None:
        real = real_name or name
        profile = {"real_name": real, "display_name": name}
        user: JSON = {"id": user_id, "team_id": self.team_id, "name": name, "real_name": real}
        user |= {"deleted": False, "is_bot": is_bot, "tz": tz, "profile": profile}
        with self._lock:
            self._users[user_id] = user

    def fail_next(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        apply: bool = False,
        body: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail (faults are consumed in order).

        ``apply=True`` performs the call before reporting the error: Slack's ambiguous failure,
        where a message was posted although the client saw an error.
        """
        if status == 429 and retry_after is None:
            retry_after = 1  # Slack always tells rate-limited clients when to come back
        fault = _Fault(status, error, retry_after, apply, body)
        with self._lock:
            self._faults.setdefault(method, deque()).extend(copy.copy(fault) for _ in range(times))

    def delay(self, method: str, seconds: float) -> None:
        """Answer ``method`` slowly. The work is done *before* the wait, so a client that times
        out leaves the effect behind, as a slow Slack would. ``seconds=0`` removes the delay."""
        with self._lock:
            self._delays[method] = seconds

    # ----------------------------------------------------------------- accessors
    @property
    def calls(self) -> list[ApiCall]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    def messages(self, channel: str) -> list[JSON]:
        """Top-level messages (incl. broadcast replies) of ``channel``, oldest first."""
        with self._lock:
            return copy.deepcopy([m for m in self._messages.get(channel, []) if _top_level(m)])

    def replies(self, channel: str, ts: str) -> list[JSON]:
        """Replies in the thread started by ``ts``, oldest first, without the parent."""
        with self._lock:
            msgs = self._messages.get(channel, [])
            return copy.deepcopy([m for m in msgs if m.get("thread_ts") == ts and m["ts"] != ts])

    def message(self, channel: str, ts: str) -> JSON | None:
        with self._lock:
            return copy.deepcopy(self._find(channel, ts))

    @property
    def ephemerals(self) -> list[JSON]:
        with self._lock:
            return copy.deepcopy(self._ephemerals)

    @property
    def responses(self) -> list[ResponseCall]:
        with self._lock:
            return list(self._responses)

    @property
    def views(self) -> dict[str, JSON]:
        """Every view ever opened, pushed or published, by id, in its latest state."""
        with self._lock:
            return copy.deepcopy(self._views)

    def view_user(self, view_id: str) -> str | None:
        """The user whose trigger opened the view (None if the trigger was not issued here)."""
        with self._lock:
            return self._view_users.get(view_id)

    def view_stack(self, user_id: str) -> list[JSON]:
        """The modals currently open for ``user_id``, root first."""
        with self._lock:
            return copy.deepcopy([self._views[v] for v in self._stacks.get(user_id, [])])

    def home(self, user_id: str) -> JSON | None:
        with self._lock:
            view_id = self._homes.get(user_id)
            return copy.deepcopy(self._views[view_id]) if view_id else None

    # ----------------------------------------------------------------- Web API transport
    def _api_request(
        self, method: str, headers: Message, body: bytes, query: str
    ) -> tuple[int, dict[str, str], bytes]:
        args: JSON = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        token = None
        try:
            if ctype == "application/json":
                parsed = json.loads(body or b"{}")  # Slack ignores a token inside JSON bodies
                args |= parsed if isinstance(parsed, dict) else {}
            else:
                args |= {
                    k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()
                }
                token = args.pop("token", None)
        except ValueError:
            return self._json(200, {"ok": False, "error": "invalid_json"})
        auth = headers.get("Authorization") or ""
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else token
        with self._lock:
            self._calls.append(ApiCall(method, copy.deepcopy(args), time.time()))
            queue = self._faults.get(method)
            fault = queue.popleft() if queue else None
            pause = self._delays.get(method, 0.0)
        handler = self._methods.get(method)
        if handler is None:
            reply = self._json(404, {"ok": False, "error": "unknown_method"})
        elif fault is not None and not fault.apply:
            reply = self._fault_reply(fault)
        else:
            try:
                if not token:
                    raise _ApiError("not_authed")
                if token != self.bot_token:
                    raise _ApiError("invalid_auth")
                with self._lock:
                    result = handler(args)
            except _ApiError as exc:
                result = {"ok": False, "error": str(exc)}
            except (KeyError, TypeError, ValueError, AttributeError):
                result = {"ok": False, "error": "invalid_arguments"}  # malformed input
            reply = self._fault_reply(fault) if fault is not None else self._json(200, result)
        if pause > 0:
            time.sleep(pause)
        return reply

    @staticmethod
    def _json(status: int, data: JSON) -> tuple[int, dict[str, str], bytes]:
        ctype = "application/json; charset=utf-8"
        return status, {"Content-Type": ctype}, json.dumps(data).encode()

    def _fault_reply(self, fault: _Fault) -> tuple[int, dict[str, str], bytes]:
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        if fault.body is not None:
            headers["Content-Type"] = "text/html; charset=utf-8"
            return fault.status, headers, fault.body.encode()
        error = fault.error or ("ratelimited" if fault.status == 429 else "internal_error")
        status, base, data = self._json(fault.status, {"ok": False, "error": error})
        return status, base | headers, data

    # ----------------------------------------------------------------- state helpers
    def _next_ts(self) -> str:
        """Wall-clock based (bots compute ``oldest`` from now) yet strictly increasing."""
        micros = max(int(time.time() * 1_000_000), self._last_ts + 1)
        self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _channel(self, args: JSON, key: str = "channel") -> str:
        """Any C…/G… id is known by default so tests need no setup; others must be added."""
        channel = str(args.get(key) or "")
        if channel not in self._channels and channel[:1] not in ("C", "G"):
            raise _ApiError("channel_not_found")
        return channel

    def _channel_info(self, channel: str) -> JSON:
        info = self._channels.get(channel)
        return {"id": channel, "name": info["name"] if info else channel.lower()}

    def _find(self, channel: str, ts: Any) -> JSON | None:
        return next((m for m in self._messages.get(channel, []) if m["ts"] == ts), None)

    def _require(self, channel: str, ts: Any, error: str = "message_not_found") -> JSON:
        msg = self._find(channel, ts)
        if msg is None:
            raise _ApiError(error)
        return msg

    def _store(self, channel: str, msg: JSON) -> None:
        """Append and, for a reply, update the parent's thread summary like Slack."""
        self._messages.setdefault(channel, []).append(msg)
        parent = self._find(channel, msg.get("thread_ts"))
        if parent is not None and parent is not msg:
            users = parent.setdefault("reply_users", [])
            users.extend([] if msg["user"] in users else [msg["user"]])
            parent |= {"thread_ts": parent["ts"], "latest_reply": msg["ts"]}
            parent |= {"reply_count": parent.get("reply_count", 0) + 1}
            parent["reply_users_count"] = len(users)

    @staticmethod
    def _render(msg: JSON, with_metadata: bool) -> JSON:
        shown = copy.deepcopy(msg)
        if not with_metadata:
            shown.pop("metadata", None)
        return shown

    @staticmethod
    def _set_content(msg: JSON, args: JSON) -> None:
        """Apply text/blocks/metadata from an API call, validating like Slack does."""
        if "text" in args:
            msg["text"] = str(args["text"] or "")
        if "blocks" in args:
            blocks = _json_arg(args["blocks"], "invalid_blocks") or []
            if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
                raise _ApiError("invalid_blocks")
            msg.pop("blocks", None)
            msg |= {"blocks": sp.assign_block_ids(blocks)} if blocks else {}
        meta = _json_arg(args.get("metadata"), "invalid_metadata_format")
        if meta:
            if not isinstance(meta, dict) or not meta.get("event_type"):
                raise _ApiError("invalid_metadata_format")
            msg["metadata"] = {k: meta.get(k, {}) for k in ("event_type", "event_payload")}

    def _bot_message(self, args: JSON) -> JSON:
        msg: JSON = {"type": "message", "user": self.bot_user_id, "bot_id": self.bot_id}
        msg |= {"app_id": self.api_app_id, "team": self.team_id, "text": "", "ts": self._next_ts()}
        self._set_content(msg, args)
        if args.get("thread_ts"):
            msg["thread_ts"] = str(args["thread_ts"])
            if _flag(args.get("reply_broadcast")):
                msg["subtype"] = "thread_broadcast"
        return msg

    # ----------------------------------------------------------------- Web API methods
    def _auth_test(self, args: JSON) -> JSON:
        return {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_domain.title(),
            "team_id": self.team_id,
            "user": "engage",
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _post_message(self, args: JSON) -> JSON:
        channel = self._channel(args)
        if not args.get("text") and not _json_arg(args.get("blocks"), "invalid_blocks"):
            raise _ApiError("no_text")
        msg = self._bot_message(args)
        self._store(channel, msg)
        return {"ok": True, "channel": channel, "ts": msg["ts"], "message": copy.deepcopy(msg)}

    def _update(self, args: JSON) -> JSON:
        channel = self._channel(args)
        msg = self._require(channel, args.get("ts"))
        if msg.get("bot_id") != self.bot_id:
            raise _ApiError("cant_update_message")
        self._set_content(msg, args)
        msg["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        shown = copy.deepcopy(msg)
        return {
            "ok": True,
            "channel": channel,
            "ts": msg["ts"],
            "text": msg["text"],
            "message": shown,
        }

    def _delete(self, args: JSON) -> JSON:
        channel = self._channel(args)
        msg = self._require(channel, args.get("ts"))
        if msg.get("bot_id") != self.bot_id:
            raise _ApiError("cant_delete_message")
        self._messages[channel].remove(msg)
        return {"ok": True, "channel": channel, "ts": msg["ts"]}

    def _post_ephemeral(self, args: JSON) -> JSON:
        channel = self._channel(args)
        user = str(args.get("user") or "")
        members = self._channels.get(channel, {}).get("members")
        if not user or (members and user not in members):
            raise _ApiError("user_not_in_channel")
        msg: JSON = {"channel": channel, "user": user, "ts": self._next_ts(), "text": ""}
        self._set_content(msg, args)
        msg |= {"thread_ts": args["thread_ts"]} if args.get("thread_ts") else {}
        self._ephemerals.append(msg)
        return {"ok": True, "message_ts": msg["ts"]}

    def _permalink(self, args: JSON) -> JSON:
        channel = self._channel(args)
        msg = self._require(channel, args.get("message_ts"))
        ts_digits = msg["ts"].replace(".", "")
        link = f"https://{self.team_domain}.slack.com/archives/{channel}/p{ts_digits}"
        if not _top_level(msg):
            link += f"?thread_ts={msg['thread_ts']}&cid={channel}"
        return {"ok": True, "channel": channel, "permalink": link}

    @staticmethod
    def _window(msgs: list[JSON], args: JSON) -> list[JSON]:
        """Apply ``oldest``/``latest`` (exclusive unless ``inclusive``), as Slack does."""
        low = _ts_key(args.get("oldest") or 0)
        high = _ts_key(args["latest"]) if args.get("latest") else None
        inclusive = _flag(args.get("inclusive"))

        def keep(msg: JSON) -> bool:
            key = _ts_key(msg["ts"])
            above = key >= low if inclusive else key > low
            return above and (high is None or (key <= high if inclusive else key < high))

        return [m for m in msgs if keep(m)]

    def _history(self, args: JSON) -> JSON:
        """Newest first, top level only; metadata only with ``include_all_metadata``."""
        channel = self._channel(args)
        msgs = [m for m in self._messages.get(channel, []) if _top_level(m)]
        page, cursor = _paginate(self._window(msgs, args)[::-1], args)
        meta = _flag(args.get("include_all_metadata"))
        return {
            "ok": True,
            "messages": [self._render(m, meta) for m in page],
            "has_more": bool(cursor),
            "pin_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }

    def _replies(self, args: JSON) -> JSON:
        """Parent first, then replies oldest first (same metadata rule as history)."""
        channel = self._channel(args)
        root = self._require(channel, args.get("ts"), "thread_not_found")
        root = self._require(channel, root.get("thread_ts") or root["ts"], "thread_not_found")
        thread = [root, *(m for m in self.replies(channel, root["ts"]))]
        thread = [thread[0], *self._window(thread[1:], args)]
        page, cursor = _paginate(thread, args)
        meta = _flag(args.get("include_all_metadata"))
        return {
            "ok": True,
            "messages": [self._render(m, meta) for m in page],
            "has_more": bool(cursor),
            "response_metadata": {"next_cursor": cursor},
        }

    def _conversation_info(self, args: JSON) -> JSON:
        channel = self._channel(args)
        members = self._channels.get(channel, {}).get("members", [])
        info = self._channel_info(channel) | {"is_channel": True, "is_group": False}
        info |= {"is_private": channel.startswith("G"), "is_archived": False, "is_member": True}
        return {"ok": True, "channel": info | {"num_members": len(members), "created": 0}}

    def _members(self, args: JSON) -> JSON:
        channel = self._channel(args)
        members = list(self._channels.get(channel, {}).get("members", []))
        return {"ok": True, "members": members, "response_metadata": {"next_cursor": ""}}

    def _user_info(self, args: JSON) -> JSON:
        user = self._users.get(str(args.get("user") or ""))
        if user is None:
            raise _ApiError("user_not_found")
        return {"ok": True, "user": copy.deepcopy(user)}

    # ----------------------------------------------------------------- views
    def _trigger_user(self, args: JSON) -> str | None:
        """Who the trigger belongs to; expired triggers fail like Slack's (3 s lifetime)."""
        trigger = args.get("trigger_id") or args.get("interactivity_pointer")
        if not trigger:
            raise _ApiError("invalid_arguments")
        issued = self._triggers.get(str(trigger))
        if issued is None:
            return None  # not issued by this fake (e.g. a unit test): accept it
        if time.time() - issued[1] > self.trigger_ttl:
            raise _ApiError("expired_trigger_id")
        return issued[0]

    @staticmethod
    def _view_spec(args: JSON) -> JSON:
        view = _json_arg(args.get("view"))
        if not isinstance(view, dict) or not view.get("type"):
            raise _ApiError("invalid_arguments")
        return view

    def _new_view(
        self,
        spec: JSON,
        *,
        view_id: str | None = None,
        previous: str | None = None,
        root: str | None = None,
    ) -> JSON:
        view_id = view_id or sp.new_id("V")
        view: JSON = {"team_id": self.team_id, "app_id": self.api_app_id, "bot_id": self.bot_id}
        view |= {"callback_id": "", "private_metadata": "", "external_id": "", "close": None}
        view |= {"submit": None, "clear_on_close": False, "notify_on_close": False}
        view |= copy.deepcopy(spec)
        view |= {"id": view_id, "blocks": sp.assign_block_ids(spec.get("blocks", []))}
        view |= {"previous_view_id": previous, "root_view_id": root or view_id}
        view |= {"state": {"values": {}}, "hash": f"{time.time():.6f}.{sp.new_id(length=8)}"}
        self._views[view_id] = view
        return view

    def _views_open(self, args: JSON) -> JSON:
        user = self._trigger_user(args)
        view = self._new_view(self._view_spec(args))
        self._view_users[view["id"]] = user
        if user is not None:
            self._stacks[user] = [view["id"]]
        return {"ok": True, "view": copy.deepcopy(view)}

    def _views_push(self, args: JSON) -> JSON:
        user = self._trigger_user(args)
        stack = self._stacks.setdefault(user, []) if user is not None else []
        if len(stack) >= 3:
            raise _ApiError("push_limit_reached")
        previous, root = (stack[-1], stack[0]) if stack else (None, None)
        view = self._new_view(self._view_spec(args), previous=previous, root=root)
        self._view_users[view["id"]] = user
        stack.append(view["id"])
        return {"ok": True, "view": copy.deepcopy(view)}

    def _views_update(self, args: JSON) -> JSON:
        view_id, external = args.get("view_id"), args.get("external_id")
        if not view_id and not external:
            raise _ApiError("invalid_arguments")
        match = [
            v
            for v in self._views.values()
            if v["id"] == view_id or (external and v.get("external_id") == external)
        ]
        if not match:
            raise _ApiError("not_found")
        current = match[0]
        if args.get("hash") and args["hash"] != current["hash"]:
            raise _ApiError("hash_conflict")
        view = self._new_view(
            self._view_spec(args),
            view_id=current["id"],
            previous=current["previous_view_id"],
            root=current["root_view_id"],
        )
        return {"ok": True, "view": copy.deepcopy(view)}

    def _views_publish(self, args: JSON) -> JSON:
        user = str(args.get("user_id") or "")
        spec = self._view_spec(args)
        if not user or spec.get("type") != "home":
            raise _ApiError("invalid_arguments")
        current = self._views.get(self._homes.get(user, ""))
        if current and args.get("hash") and args["hash"] != current["hash"]:
            raise _ApiError("hash_conflict")
        view = self._new_view(spec, view_id=current["id"] if current else None)
        self._homes[user] = view["id"]
        return {"ok": True, "view": copy.deepcopy(view)}

    # ----------------------------------------------------------------- response_url
    def _response_url_request(self, rid: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """Record a POST to a response_url and apply it as Slack would."""
        try:
            payload = json.loads(body or b"{}")
            if not isinstance(payload, dict):
                raise ValueError
        except ValueError:
            return 400, {"Content-Type": "text/plain"}, b"invalid_payload"
        with self._lock:
            self._responses.append(ResponseCall(rid, payload, time.time()))
            ctx = self._response_urls.get(rid)
            if ctx is None:
                return 404, {"Content-Type": "text/plain"}, b"no_service"
            try:
                self._apply_response(ctx, payload)
            except _ApiError as exc:
                return 400, {"Content-Type": "text/plain"}, str(exc).encode()
        return self._json(200, {"ok": True})

    def _apply_response(self, ctx: JSON, payload: JSON) -> None:
        """replace/delete the original, post in channel, or (the default) reply ephemerally."""
        channel = ctx["channel"]
        original = self._find(channel, ctx["ts"]) if ctx["ts"] else None
        if _flag(payload.get("delete_original")) and original is not None:
            self._messages[channel].remove(original)
        elif _flag(payload.get("replace_original")) and original is not None:
            content = {"text": payload.get("text", ""), "blocks": payload.get("blocks") or []}
            self._set_content(original, content)  # the whole message is replaced
            original["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        elif payload.get("response_type") == "in_channel":
            self._store(channel, self._bot_message(payload))
        else:
            ephemeral: JSON = {"channel": channel, "user": ctx["user"], "ts": self._next_ts()}
            self._set_content(ephemeral, {"text": payload.get("text", "")} | payload)
            self._ephemerals.append(ephemeral)

    # ----------------------------------------------------------------- Slack -> bot
    def signed_headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        """Just the two signature headers; pass an old ``timestamp`` to forge a stale request."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        verifier = SignatureVerifier(self.signing_secret)
        signature = verifier.generate_signature(timestamp=ts, body=body) or ""
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}

    def send_raw(self, url: str, body: bytes, headers: dict[str, str]) -> HttpResult:
        """POST exactly these bytes and headers (nothing added), for forged requests."""
        return self._post(url, body, headers, {})

    def _post(self, url: str, body: bytes, headers: dict[str, str], sent: JSON) -> HttpResult:
        start = time.monotonic()
        response = self._http.post(
            url, content=body, headers=headers, timeout=self.delivery_timeout
        )
        elapsed = time.monotonic() - start
        return HttpResult(
            response.status_code, response.text, dict(response.headers), body, elapsed, sent
        )

    def _send_signed(
        self, url: str, body: bytes, ctype: str, sent: JSON, extra: dict[str, str] | None = None
    ) -> HttpResult:
        headers = {"Content-Type": ctype, "User-Agent": USER_AGENT, **self.signed_headers(body)}
        return self._post(url, body, headers | (extra or {}), sent)

    def _send_interaction(self, url: str, payload: JSON) -> HttpResult:
        """Interactions travel form-encoded as ``payload=<json>``, not as a JSON body."""
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self._send_signed(url, body, "application/x-www-form-urlencoded", payload)

    def _common(self, user_id: str) -> JSON:
        """Fields shared by every payload: who acted, in which team, for which app."""
        with self._lock:
            user = self._users.get(user_id)
        name = user["name"] if user else user_id.lower()
        return {
            "user": {"id": user_id, "username": name, "name": name, "team_id": self.team_id},
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "team": {"id": self.team_id, "domain": self.team_domain},
        }

    def _issue(
        self, user_id: str, channel: str | None = None, ts: str | None = None
    ) -> tuple[str, str]:
        """A fresh trigger_id (owned by ``user_id``) and response_url bound to the context."""
        trigger, rid = f"trig-{uuid.uuid4().hex[:16]}", uuid.uuid4().hex
        with self._lock:
            self._triggers[trigger] = (user_id, time.time())
            if channel is not None:
                self._response_urls[rid] = {"channel": channel, "ts": ts, "user": user_id}
        return trigger, f"{self.base_url}/response_url/{rid}"

    def click(
        self,
        url: str,
        *,
        user_id: str,
        channel: str,
        ts: str,
        action_id: str,
        value: sp.ActionValue = None,
        block_id: str | None = None,
    ) -> HttpResult:
        """Click a button (or choose ``value`` in a select/overflow) on a stored message."""
        with self._lock:
            msg = copy.deepcopy(self._find(channel, ts))
            chan = self._channel_info(channel)
        if msg is None:
            raise LookupError(f"no message with ts {ts!r} in channel {channel!r}")
        found_block, element = sp.find_element(msg.get("blocks", []), action_id, block_id)
        action = sp.action_for(element, found_block, value)
        trigger, response_url = self._issue(user_id, channel, ts)
        payload = sp.block_actions(
            common=self._common(user_id),
            channel=chan,
            message=msg,
            trigger_id=trigger,
            response_url=response_url,
            action=action,
        )
        return self._send_interaction(url, payload)

    def submit_view(
        self,
        url: str,
        *,
        user_id: str,
        view_id: str,
        values: dict[str, dict[str, sp.ActionValue]] | None = None,
    ) -> HttpResult:
        """Submit a stored modal with ``{block_id: {action_id: value}}`` and apply the bot's
        ``response_action`` (errors keeps it open; update/push/clear; an empty ack closes it)."""
        with self._lock:
            if view_id not in self._views:
                raise LookupError(f"no view {view_id!r}")
            view = copy.deepcopy(self._views[view_id])
            view["state"] = {"values": sp.state_values(view, values or {})}
            self._views[view_id]["state"] = copy.deepcopy(view["state"])
        trigger, _ = self._issue(user_id)
        payload = sp.view_payload(
            "view_submission", common=self._common(user_id), view=view, trigger_id=trigger
        )
        result = self._send_interaction(url, payload)
        try:
            answer = result.json() if result.status == 200 and result.body.strip() else {}
        except ValueError:
            answer = {}  # a non-JSON ack: Slack treats it like an empty one
        answer = answer if isinstance(answer, dict) else {}
        action = answer.get("response_action")
        if action in ("update", "push") and not isinstance(answer.get("view"), dict):
            action = "errors"  # Slack rejects such an answer and leaves the modal as it was
        if result.status == 200 and action != "errors":
            with self._lock:
                self._after_submission(user_id, view_id, action, answer)
        return result

    def _after_submission(self, user: str, view_id: str, action: Any, answer: JSON) -> None:
        stack = self._stacks.setdefault(user, [])
        current = self._views[view_id]
        if action == "update":
            self._new_view(
                answer["view"],
                view_id=view_id,
                previous=current["previous_view_id"],
                root=current["root_view_id"],
            )
        elif action == "push":
            pushed = self._new_view(answer["view"], previous=view_id, root=current["root_view_id"])
            self._view_users[pushed["id"]] = user
            stack.append(pushed["id"])
        elif action == "clear":
            stack.clear()
        elif view_id in stack:
            stack.remove(view_id)

    def close_view(self, url: str, *, user_id: str, view_id: str) -> HttpResult | None:
        """The user cancels a modal. Like Slack, the bot hears of it (``view_closed``) only if
        the view set ``notify_on_close``; otherwise nothing is sent and None is returned."""
        with self._lock:
            if view_id not in self._views:
                raise LookupError(f"no view {view_id!r}")
            view = copy.deepcopy(self._views[view_id])
            stack = self._stacks.get(user_id, [])
            if view_id in stack:
                stack.remove(view_id)
        if not view.get("notify_on_close"):
            return None
        payload = sp.view_payload("view_closed", common=self._common(user_id), view=view)
        return self._send_interaction(url, payload)

    def send_event(
        self,
        url: str,
        event: JSON,
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        body_override: bytes | None = None,
    ) -> HttpResult:
        """Deliver an Events API ``event_callback``. To redeliver the *identical* request, as
        Slack's retries do, pass ``body_override=first.request_body`` and a ``retry_num``."""
        if body_override is None:
            event = {"event_ts": event.get("ts") or f"{time.time():.6f}", **event}
            payload = sp.event_callback(
                common=self._common(self.bot_user_id),
                event=event,
                event_id=event_id or sp.new_id("Ev"),
                bot_user_id=self.bot_user_id,
                event_time=int(time.time()),
            )
            body = json.dumps(payload).encode()
        else:
            body, payload = body_override, json.loads(body_override)
        extra = {}
        if retry_num is not None:
            extra = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        return self._send_signed(url, body, "application/json", payload, extra)

    def post_user_message(
        self, url: str, *, user_id: str, channel: str, text: str, thread_ts: str | None = None
    ) -> HttpResult:
        """A human writes in a channel or thread: stored here, then announced as a ``message``
        event. The new message's ts is ``result.sent["event"]["ts"]``."""
        with self._lock:
            msg: JSON = {"type": "message", "user": user_id, "text": text, "ts": self._next_ts()}
            msg |= {"team": self.team_id, "client_msg_id": str(uuid.uuid4())}
            parent = self._find(channel, thread_ts) if thread_ts else None
            if thread_ts:
                msg["thread_ts"] = thread_ts
                msg |= {"parent_user_id": parent["user"]} if parent else {}
            self._store(channel, msg)
            event = copy.deepcopy(msg)
        event |= {"channel": channel, "event_ts": msg["ts"], "channel_type": "channel"}
        return self.send_event(url, event)

    def slash_command(
        self, url: str, *, user_id: str, channel: str, command: str = "/engage", text: str = ""
    ) -> HttpResult:
        """Invoke a slash command; its response_url posts into ``channel``."""
        trigger, response_url = self._issue(user_id, channel)
        with self._lock:
            chan = self._channel_info(channel)
        form = sp.slash_command(
            common=self._common(user_id),
            channel=chan,
            command=command,
            text=text,
            response_url=response_url,
            trigger_id=trigger,
        )
        body = urlencode(form).encode()
        return self._send_signed(url, body, "application/x-www-form-urlencoded", dict(form))
