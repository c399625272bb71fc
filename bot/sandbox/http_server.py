"""The fake Slack's HTTP plumbing: a threaded loopback server that only routes and writes bytes.

Why apart from the Web API: sockets, threads and HTTP/1.1 framing are a different concern from
Slack's semantics, and keeping the server ignorant of ``FakeSlack`` (it is handed two route
callables) lets the Web API be read, and changed, without any of this in view. Standard library
only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from bot.sandbox.wire import Reply

ApiRoute = Callable[[str, Message, bytes, str], Reply]
"""Answers ``/api/<method>``: (method, headers, body, query string) -> reply."""
ResponseUrlRoute = Callable[[str, bytes], Reply]
"""Answers ``/response_url/<id>``: (id, body) -> reply."""


class FakeSlackServer(ThreadingHTTPServer):
    """Binds 127.0.0.1 on a free port and serves on a daemon thread until ``stop``."""

    daemon_threads = True
    request_queue_size = 128  # bursts of concurrent clients must not wait for SYN retries

    def __init__(
        self, api: ApiRoute, response_url: ResponseUrlRoute, upload: ResponseUrlRoute
    ) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.api, self.response_url, self.upload = api, response_url, upload
        self._serving = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def start(self) -> FakeSlackServer:
        self._serving.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._serving.join(timeout=5)

    @property
    def port(self) -> int:
        return self.server_address[1]


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
        server = cast(FakeSlackServer, self.server)
        path, _, query = self.path.partition("?")
        if path.startswith("/api/"):
            status, headers, data = server.api(path[5:], self.headers, body, query)
        elif path.startswith("/response_url/"):
            status, headers, data = server.response_url(path[14:], body)
        elif path.startswith("/upload/"):
            status, headers, data = server.upload(path[8:], body)
        else:
            status, headers, data = 404, {"Content-Type": "text/plain"}, b"not found"
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(data))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
