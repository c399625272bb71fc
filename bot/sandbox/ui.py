"""The sandbox's web page: a local stand-in for the Slack client, drawn over the fake Slack.

The page (``static/``: plain HTML, CSS and JavaScript, no build step, nothing fetched from the
network) polls ``GET /api/state`` and renders what the fake Slack holds: channels, the cards
from the Block Kit the bot sent, threads, ephemerals, the App Home and the open modal. What the
visitor does goes to ``POST /api/*`` and reaches the bot as Slack's own signed requests through
``FakeSlack`` (clicks, submissions, slash commands, messages), so the bot cannot tell the
sandbox from Slack. Two things are not Slack: a citizen who posts a mention, and a clock that
moves forward; the sandbox hands those in as callables.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs

from bot.core.sources import SOURCE_LABELS
from bot.sandbox.fake_slack import JSON, FakeSlack, HttpResult
from bot.sandbox.wire import dm_channel

if TYPE_CHECKING:
    from bot.sandbox.people import Person

log = logging.getLogger(__name__)

# Where a citizen can write from, with a plausible author for each (the page prefills it).
CITIZEN_SOURCES = {
    "mastodon": "@maria@mastodon.social",
    "bluesky": "@maria.bsky.social",
    "reddit": "u/maria_downtown",
    "email": "Maria Lopez <maria@example.org>",
    "webhook": "Maria (web form)",
    "open311": "Maria Lopez (311)",
    "x": "@maria_downtown",
    "facebook": "Maria Lopez",
}
STATIC = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "blocks.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    # Message text is rendered by the page: even if an escape were missed, no script could run.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: https: http:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
}
MAX_BODY = 1_000_000
TEXT_LIMIT = 5000
MAX_MINUTES = 60 * 24 * 366


class ApiFailure(Exception):
    """Answered to the page as ``{"ok": false, "error": ...}`` with an HTTP status."""

    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.status = status


class SandboxUI:
    """Serves the page and its JSON API; holds no Slack state of its own but command answers."""

    def __init__(
        self,
        *,
        slack: FakeSlack,
        bot_events_url: str,
        people: Sequence[Person],
        channels: Sequence[tuple[str, str]],
        post_mention: Callable[..., None],
        advance_clock: Callable[[timedelta], None],
        now: Callable[[], datetime],
    ) -> None:
        self.slack, self.events_url = slack, bot_events_url
        self.people, self.channels = list(people), list(channels)
        self.post_mention, self.advance_clock, self.now = post_mention, advance_clock, now
        self._lock = threading.Lock()
        self._shown_at: dict[str, float] = {}  # "channel:ts" -> sandbox time first seen
        self._answers: list[JSON] = []  # slash command acks: Slack shows them as ephemerals
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        actions = (
            "click",
            "click_view",
            "submit",
            "close",
            "command",
            "message",
            "citizen",
            "clock",
        )
        self._posts: dict[str, Callable[[JSON], JSON]] = {a: getattr(self, a) for a in actions}

    # ----------------------------------------------------------------- lifecycle
    def start(self, host: str, port: int) -> str:
        """Bind ``host:port`` (0: any free port), serve on a daemon thread, return the URL."""
        server = _Server((host, port), _Handler)
        server.ui = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
        return f"http://{shown}:{server.server_address[1]}/"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # ----------------------------------------------------------------- reads
    def state(self, user: str, thread: str | None = None) -> JSON:
        """Everything the page shows to ``user`` (default: the first person); ``version``
        changes whenever any of it does, so the page redraws only then."""
        user = self._person(user or self.people[0].id)
        offset = (self.now() - datetime.now(UTC)).total_seconds()
        channels = [
            {"id": cid, "name": name, "messages": self._messages(cid, offset)}
            for cid, name in self.channels
        ]
        with self._lock:
            answers = [dict(a) for a in self._answers if a["user"] == user]
        ephemerals = [
            self._shown(e["channel"], e, offset) | {"ephemeral": True}
            for e in [*self.slack.ephemerals, *answers]
            if e.get("user") == user
        ]
        stack = self.slack.view_stack(user)
        home = self.slack.home(user)
        content: JSON = {
            "me": user,
            "channels": channels,
            "direct": self._messages(dm_channel(user), offset),
            "ephemerals": sorted(ephemerals, key=lambda e: float(e["ts"])),
            "modal": _view(stack[-1]) | {"depth": len(stack)} if stack else None,
            "home": _view(home) if home else None,
            "thread": self.thread(thread, offset) if thread else None,
        }
        version = hashlib.sha1(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]
        people = [{"id": p.id, "name": p.name, "role": p.role} for p in self.people] + [
            {"id": self.slack.bot_user_id, "name": "Engage", "role": "app"}
        ]
        sources = [
            {"id": s, "label": SOURCE_LABELS.get(s, s), "author": a}
            for s, a in CITIZEN_SOURCES.items()
        ]
        return content | {
            "ok": True,
            "now": self.now().isoformat(),
            "offset_seconds": round(offset),
            "version": version,
            "people": people,
            "sources": sources,
        }

    def thread(self, where: str, offset: float | None = None) -> JSON | None:
        """``"channel:ts"`` -> the parent and its replies (None if the message is gone)."""
        channel, _, ts = where.partition(":")
        parent = self.slack.message(channel, ts)
        if parent is None:
            return None
        if offset is None:
            offset = (self.now() - datetime.now(UTC)).total_seconds()
        replies = [self._shown(channel, m, offset) for m in self.slack.replies(channel, ts)]
        shown = self._shown(channel, parent, offset)
        return {"channel": channel, "ts": ts, "parent": shown, "replies": replies}

    def _messages(self, channel: str, offset: float) -> list[JSON]:
        return [self._shown(channel, m, offset) for m in self.slack.messages(channel)]

    def _shown(self, channel: str, msg: JSON, offset: float) -> JSON:
        """What the page needs of a message, with the sandbox time it first appeared at."""
        key = f"{channel}:{msg['ts']}"
        with self._lock:
            shown_at = self._shown_at.setdefault(key, float(msg["ts"]) + offset)
        fields = ("ts", "user", "text", "blocks", "thread_ts", "reply_count", "reply_users")
        out: JSON = {k: msg[k] for k in fields if k in msg}
        out |= {"channel": channel, "shown_at": shown_at, "edited": "edited" in msg}
        out |= {"bot": bool(msg.get("bot_id")), "subtype": msg.get("subtype")}
        return out

    # ----------------------------------------------------------------- actions
    def click(self, body: JSON) -> JSON:
        """A click on a message in a channel."""
        where = {"channel": _str(body, "channel"), "ts": _str(body, "ts")}
        return self._click(self.slack.click, body, where)

    def click_view(self, body: JSON) -> JSON:
        """A click in the open modal or in the App Home (no channel, no message)."""
        user, view_id = self._person(body.get("user")), _str(body, "view_id")
        home = self.slack.home(user)
        if not (home and home["id"] == view_id):
            self._open_view(user, view_id)
        return self._click(self.slack.click_view, body, {"view_id": view_id})

    def _click(self, send: Callable[..., HttpResult], body: JSON, where: JSON) -> JSON:
        value = body.get("value")
        try:
            result = send(
                self.events_url,
                user_id=self._person(body.get("user")),
                action_id=_str(body, "action_id"),
                value=value if isinstance(value, str | list) else None,
                block_id=body.get("block_id") if isinstance(body.get("block_id"), str) else None,
                **where,
            )
        except LookupError as exc:
            raise ApiFailure(404, str(exc)) from None
        except ValueError as exc:
            raise ApiFailure(400, str(exc)) from None
        _check(result)
        return {"ok": True}

    def submit(self, body: JSON) -> JSON:
        user, view_id = self._person(body.get("user")), _str(body, "view_id")
        self._open_view(user, view_id)
        values = body.get("values") or {}
        if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
            raise ApiFailure(400, "values must be {block_id: {action_id: value}}")
        try:
            result = self.slack.submit_view(
                self.events_url, user_id=user, view_id=view_id, values=values
            )
        except (LookupError, ValueError) as exc:
            raise ApiFailure(400, str(exc)) from None
        _check(result)
        answer = _json(result)
        errors = answer.get("errors") if answer.get("response_action") == "errors" else None
        still_open = any(v["id"] == view_id for v in self.slack.view_stack(user))
        return {"ok": True, "errors": errors or {}, "open": still_open}

    def close(self, body: JSON) -> JSON:
        user, view_id = self._person(body.get("user")), _str(body, "view_id")
        self._open_view(user, view_id)
        result = self.slack.close_view(self.events_url, user_id=user, view_id=view_id)
        if result is not None:
            _check(result)
        return {"ok": True}

    def command(self, body: JSON) -> JSON:
        user, channel = self._person(body.get("user")), self._channel(body.get("channel"))
        command, _, text = _str(body, "text", TEXT_LIMIT).strip().partition(" ")
        if command != "/engage":
            raise ApiFailure(400, f"{command} is not a valid command here: try /engage help")
        result = self.slack.slash_command(
            self.events_url, user_id=user, channel=channel, command=command, text=text.strip()
        )
        if result.status != 200:
            raise ApiFailure(502, f'{command} failed with the error "dispatch_failed"')
        answer = _json(result) or ({"text": result.body} if result.body.strip() else {})
        if answer.get("text") or answer.get("blocks"):  # the ack: shown only to the user
            shown: JSON = {"user": user, "channel": channel, "ts": f"{time.time():.6f}"}
            shown |= {"text": str(answer.get("text") or "")}
            shown |= {"blocks": answer["blocks"]} if isinstance(answer.get("blocks"), list) else {}
            with self._lock:
                self._answers.append(shown)
        return {"ok": True}

    def message(self, body: JSON) -> JSON:
        user, channel = self._person(body.get("user")), self._channel(body.get("channel"))
        text = _str(body, "text", TEXT_LIMIT).strip()
        thread_ts = body.get("thread_ts") if isinstance(body.get("thread_ts"), str) else None
        if thread_ts and self.slack.message(channel, thread_ts) is None:
            raise ApiFailure(404, "that thread is gone")
        # Slack stores what people type escaped, as it does for everything it sends to apps.
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        result = self.slack.post_user_message(
            self.events_url, user_id=user, channel=channel, text=text, thread_ts=thread_ts
        )
        _check(result)
        return {"ok": True, "ts": result.sent.get("event", {}).get("ts")}

    def citizen(self, body: JSON) -> JSON:
        source = _str(body, "source")
        if source not in CITIZEN_SOURCES:
            raise ApiFailure(400, f"unknown source {source!r}: one of {', '.join(CITIZEN_SOURCES)}")
        text = _str(body, "text", TEXT_LIMIT).strip()
        author = str(body.get("author") or "").strip()[:200] or CITIZEN_SOURCES[source]
        title = str(body.get("title") or "").strip()[:300] or None
        if not text:
            raise ApiFailure(400, "write what the citizen says")
        self.post_mention(source=source, author=author, text=text, title=title)
        return {"ok": True}

    def clock(self, body: JSON) -> JSON:
        minutes = body.get("minutes")
        if isinstance(minutes, bool) or not isinstance(minutes, int | float):
            raise ApiFailure(400, "minutes must be a number")
        if not 0 < minutes <= MAX_MINUTES:
            raise ApiFailure(400, f"minutes must be between 0 and {MAX_MINUTES}")
        self.advance_clock(timedelta(minutes=minutes))
        return {"ok": True, "now": self.now().isoformat()}

    # ----------------------------------------------------------------- checks
    def _person(self, user: Any) -> str:
        if not any(p.id == user for p in self.people):
            raise ApiFailure(400, f"unknown person {user!r}")
        return str(user)

    def _channel(self, channel: Any) -> str:
        if not any(cid == channel for cid, _ in self.channels):
            raise ApiFailure(404, f"unknown channel {channel!r}")
        return str(channel)

    def _open_view(self, user: str, view_id: str) -> None:
        if not any(v["id"] == view_id for v in self.slack.view_stack(user)):
            raise ApiFailure(404, "that modal is not open any more")

    # ----------------------------------------------------------------- HTTP
    def get(self, path: str, query: dict[str, str]) -> tuple[int, str, bytes]:
        if path in ("/", "/index.html"):
            path = "/static/index.html"
        name = path.removeprefix("/static/")
        if path.startswith("/static/") and name in STATIC:
            data = resources.files("bot.sandbox").joinpath("static", name).read_bytes()
            return 200, STATIC[name], data
        if path == "/api/state":
            return _ok(self.state(query.get("user", ""), query.get("thread") or None))
        if path == "/api/thread":
            where = f"{query.get('channel', '')}:{query.get('ts', '')}"
            found = self.thread(where)
            if found is None:
                raise ApiFailure(404, "no such message")
            return _ok({"ok": True} | found)
        raise ApiFailure(404, f"not found: {path}")

    def post(self, path: str, body: JSON) -> tuple[int, str, bytes]:
        action = self._posts.get(path.removeprefix("/api/")) if path.startswith("/api/") else None
        if action is None:
            raise ApiFailure(404, f"not found: {path}")
        return _ok(action(body))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    ui: SandboxUI


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        args = {k: v[-1] for k, v in parse_qs(query).items()}
        self._answer(lambda ui: ui.get(path, args))

    def do_POST(self) -> None:
        def post(ui: SandboxUI) -> tuple[int, str, bytes]:
            length = self.headers.get("Content-Length") or "0"
            if not length.isdigit() or int(length) > MAX_BODY:
                self.close_connection = True  # the body was not read: do not reuse the socket
                raise ApiFailure(413, "request too large")
            raw = self.rfile.read(int(length))
            # JSON only: a form posted by another web site cannot reach the API this way.
            if (self.headers.get("Content-Type") or "").split(";")[0] != "application/json":
                raise ApiFailure(415, "send application/json")
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                raise ApiFailure(400, "invalid JSON") from None
            if not isinstance(body, dict):
                raise ApiFailure(400, "send a JSON object")
            return ui.post(self.path.partition("?")[0], body)

        self._answer(post)

    def _answer(self, route: Callable[[SandboxUI], tuple[int, str, bytes]]) -> None:
        try:
            status, ctype, data = route(cast(_Server, self.server).ui)
        except ApiFailure as exc:
            status, ctype, data = _error(exc.status, str(exc))
        except Exception as exc:
            log.exception("sandbox page request failed")
            status, ctype, data = _error(500, f"{type(exc).__name__}: {exc}")
        self.send_response(status)
        for name, value in {**HEADERS, "Content-Type": ctype}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the page polls every second."""


def _ok(data: JSON) -> tuple[int, str, bytes]:
    return 200, "application/json; charset=utf-8", json.dumps(data).encode()


def _error(status: int, error: str) -> tuple[int, str, bytes]:
    body = json.dumps({"ok": False, "error": error}).encode()
    return status, "application/json; charset=utf-8", body


def _str(body: JSON, key: str, limit: int = 200) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise ApiFailure(400, f"{key} is required")
    if len(value) > limit:
        raise ApiFailure(400, f"{key} is too long (at most {limit} characters)")
    return value


def _json(result: HttpResult) -> JSON:
    try:
        answer = result.json() if result.body.strip() else {}
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _check(result: HttpResult) -> None:
    if result.status != 200:
        raise ApiFailure(502, f"the bot answered HTTP {result.status}: {result.body[:200]}")


def _view(view: JSON) -> JSON:
    keys = ("id", "type", "hash", "title", "submit", "close", "blocks", "callback_id")
    return {k: view.get(k) for k in keys}
