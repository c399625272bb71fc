"""Loopback HTTP fakes for the adapter tests: a real HTTP server on 127.0.0.1, on a free port.

A fake subclasses :class:`LoopbackServer` and answers :meth:`LoopbackServer.respond`. The base
records every :class:`Request` in :attr:`LoopbackServer.requests` and writes the :class:`Reply`
it gets back. :class:`ScriptedServer` answers from scripts per (method, path): each
:class:`Script` serves its replies in turn and then keeps repeating the last one.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Generic, Self, TypeVar
from urllib.parse import parse_qs, parse_qsl, urlsplit

HOST = "127.0.0.1"
JSON_TYPE = {"Content-Type": "application/json; charset=utf-8"}


@dataclass(frozen=True)
class Request:
    """One request as the fake received it."""

    method: str
    target: str  # as on the request line: path and query string
    headers: dict[str, str]  # names lower-cased
    body: bytes = b""

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query_string(self) -> str:
        return urlsplit(self.target).query

    @property
    def query(self) -> dict[str, str]:
        """The query parameters, the last value of each; blank values are left out."""
        return dict(parse_qsl(self.query_string))

    @property
    def params(self) -> dict[str, list[str]]:
        """The query parameters with all their values; blank values are left out."""
        return parse_qs(self.query_string)

    @property
    def form(self) -> dict[str, str]:
        """The body as an HTML form, the last value of each field."""
        return dict(parse_qsl(self.body.decode()))

    @property
    def json(self) -> Any:
        """The body as JSON; None when there is no body."""
        return json.loads(self.body) if self.body else None


@dataclass
class Reply:
    """An answer: ``body`` with ``status`` and ``headers``, sent ``delay`` seconds late."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class JsonReply(Reply):
    """A reply whose body is JSON already (a recorded fixture), sent as application/json."""

    headers: dict[str, str] = field(default_factory=lambda: dict(JSON_TYPE))


def json_reply(
    payload: Any,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    *,
    delay: float = 0.0,
) -> Reply:
    """``payload`` encoded as JSON, sent as application/json with ``headers`` added."""
    return Reply(json.dumps(payload).encode(), status, {**JSON_TYPE, **(headers or {})}, delay)


R = TypeVar("R", bound=Reply)


class Script(Generic[R]):
    """Replies served in turn, the last one repeating; callable as a route handler."""

    def __init__(self, *replies: R) -> None:
        if not replies:
            raise ValueError("a script needs at least one reply")
        self.replies = list(replies)

    def next(self) -> R:
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def __call__(self, request: Request) -> R:
        return self.next()


def refused_url(path: str = "") -> str:
    """A loopback URL nothing listens on (the port was free a moment ago): connecting is refused."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
    return f"http://{HOST}:{port}{path}"


class LoopbackServer(ABC):
    """An HTTP server on a free loopback port, serving from a daemon thread until :meth:`close`.

    Each request is recorded in :attr:`requests` and answered by :meth:`respond`, both under
    :attr:`lock`; the reply's delay and the writing happen outside it. The server answers as
    soon as ``super().__init__()`` returns, so a subclass sets up its own state first.
    """

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.lock = threading.RLock()
        self.httpd = ThreadingHTTPServer((HOST, 0), _handler_for(self))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.httpd.server_address[1]}"

    @abstractmethod
    def respond(self, request: Request) -> Reply:
        """The reply to ``request``; called under :attr:`lock`."""

    def requests_to(self, path: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        request = Request(
            handler.command,
            handler.path,
            {key.lower(): value for key, value in handler.headers.items()},
            handler.rfile.read(length) if length else b"",
        )
        with self.lock:
            self.requests.append(request)
            reply = self.respond(request)
        time.sleep(reply.delay)
        try:
            handler.send_response(reply.status)
            for key, value in reply.headers.items():
                handler.send_header(key, value)
            handler.send_header("Content-Length", str(len(reply.body)))
            handler.end_headers()
            handler.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and left


def _handler_for(server: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server._serve(self)

        def do_POST(self) -> None:
            server._serve(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class ScriptedServer(LoopbackServer):
    """Answers a :class:`Script` per (method, path); anything else goes to :meth:`unscripted`."""

    def __init__(self) -> None:
        self.scripts: dict[tuple[str, str], Script[Reply]] = {}
        super().__init__()

    def script(self, method: str, path: str, *replies: Reply) -> None:
        with self.lock:
            self.scripts[(method, path)] = Script(*replies)

    def respond(self, request: Request) -> Reply:
        script = self.scripts.get((request.method, request.path))
        return script.next() if script is not None else self.unscripted(request)

    def unscripted(self, request: Request) -> Reply:
        return Reply(b"not scripted", 404)
