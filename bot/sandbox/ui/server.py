"""The sandbox page's HTTP side: static files, the JSON API's routes, and the thread they run on.

:class:`SandboxUI` binds a port, serves the page (``bot/sandbox/static/``) and routes
``GET /api/state``, ``GET /api/thread`` to the :class:`~bot.sandbox.ui.screen.Screen` and
``POST /api/<action>`` to :class:`~bot.sandbox.ui.actions.Actions`. The handler here only frames
requests and answers: a size limit, JSON bodies only (so a form posted by another web site
cannot reach the API), an ``ApiFailure`` or a crash turned into ``{"ok": false, "error": ...}``,
and headers that keep the page from running anything it did not ship with. Standard library
only.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs

from bot.sandbox.fake_slack import JSON, FakeSlack
from bot.sandbox.ui.actions import Actions
from bot.sandbox.ui.screen import ApiFailure, Screen

if TYPE_CHECKING:
    from bot.sandbox.people import Person

log = logging.getLogger(__name__)

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
# The POST /api/<name> routes: each is the Actions method of that name.
ACTIONS: tuple[str, ...] = ("click", "click_view", "click_ephemeral", "submit", "close")
ACTIONS += ("command", "message", "home", "citizen", "clock")
ACTIONS += ("suggest",)  # an external select's options, asked of the bot
# Shared files the page shows inline; anything else is not served.
IMAGES = ("image/png", "image/jpeg", "image/gif")


class SandboxUI:
    """Serves the page and its JSON API over the fake Slack."""

    def __init__(
        self,
        *,
        slack: FakeSlack,
        bot_events_url: str,
        people: Sequence[Person],
        channels: Sequence[tuple[str, str]],
        post_mention: Callable[..., None],
        advance_clock: Callable[[timedelta], object],
        now: Callable[[], datetime],
        sandbox_time: Callable[[float], float] | None = None,
    ) -> None:
        self.slack = slack
        self.screen = Screen(
            slack=slack, people=people, channels=channels, now=now, sandbox_time=sandbox_time
        )
        self.actions = Actions(
            slack=slack,
            screen=self.screen,
            bot_events_url=bot_events_url,
            post_mention=post_mention,
            advance_clock=advance_clock,
            now=now,
        )
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._posts: dict[str, Callable[[JSON], JSON]] = {
            a: getattr(self.actions, a) for a in ACTIONS
        }

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

    # ----------------------------------------------------------------- routes
    def get(self, path: str, query: dict[str, str]) -> tuple[int, str, bytes]:
        if path in ("/", "/index.html"):
            path = "/static/index.html"
        name = path.removeprefix("/static/")
        if path.startswith("/static/") and name in STATIC:
            data = resources.files("bot.sandbox").joinpath("static", name).read_bytes()
            return 200, STATIC[name], data
        if path == "/api/state":
            return _ok(self.screen.state(query.get("user", ""), query.get("thread") or None))
        if path == "/api/thread":
            where = f"{query.get('channel', '')}:{query.get('ts', '')}"
            found = self.screen.thread(where)
            if found is None:
                raise ApiFailure(404, "no such message")
            return _ok({"ok": True} | found)
        if path.startswith("/api/file/"):
            shared = self.slack.files.get(path.removeprefix("/api/file/"))
            if not shared or not shared.get("channels") or shared.get("mimetype") not in IMAGES:
                raise ApiFailure(404, "no such image")
            return 200, str(shared["mimetype"]), bytes(shared["data"])
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
