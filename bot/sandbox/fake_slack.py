"""An in-process fake of the Slack platform that speaks Slack's real wire protocols.

Why a fake server instead of mocks: the bot talks to Slack through the real ``slack_sdk.WebClient``
and receives Slack's signed HTTP requests through Bolt, and most production bugs live exactly in
that plumbing (form vs JSON bodies, rate limits, ambiguous failures, retries, signatures). Pointing
``WebClient(base_url=fake.api_url)`` here and letting the fake POST signed payloads to the bot
exercises all of it without a network or a Slack workspace. Later it can back a local "sandbox"
UI, which is why state changes (replies, views, response_url effects) follow Slack's semantics.

This module is the public face: ``FakeSlack`` assembles the parts and owns their lifecycle
(server, HTTP client). Each part is a module that owns one thing:

- ``workspace``: the state, its lock, setup, faults and the accessors tests assert on;
- ``web_api``: the Web API methods and response URLs (bot -> Slack);
- ``block_kit``: Block Kit as Slack checks it, so what Slack would refuse is refused here too
  (``invalid_blocks``, ``invalid_arguments``) and kept in ``rejections``;
- ``slack_requests``: the signed clicks, submissions, events and commands (Slack -> bot);
- ``web_api.socket_mode``: Socket Mode (``apps.connections.open``, a WebSocket on loopback,
  envelopes and acks); with ``delivery = "socket"`` the same requests travel as envelopes;
- ``http_server``: the loopback HTTP server that routes requests to ``web_api``;
- ``wire``: the value types (``ApiCall``, ``HttpResult``...) and Slack format rules they share.

Import from here (``from bot.sandbox.fake_slack import FakeSlack, wait_until``), not from the
parts, so the split can change without touching tests.

Standard library only on the server side; ``httpx`` is used only to deliver requests to the bot.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

import httpx

from bot.sandbox.files_api import FilesApi
from bot.sandbox.http_server import FakeSlackServer
from bot.sandbox.web_api import SocketMode
from bot.sandbox.wire import JSON, USER_AGENT, ApiCall, HttpResult, Rejection, ResponseCall

__all__ = [
    "JSON",
    "USER_AGENT",
    "ApiCall",
    "FakeSlack",
    "HttpResult",
    "Rejection",
    "ResponseCall",
    "wait_until",
]

T = TypeVar("T")


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


def _new_http_client() -> httpx.Client:
    # One client for every request to the bot: building one per request costs a TLS
    # context each time, which dominated the measured ack times.
    return httpx.Client(limits=httpx.Limits(max_connections=200))


class FakeSlack(SocketMode, FilesApi):
    """A Slack workspace + Web API on loopback, and the sender of Slack's signed requests.

    The Web API and the sender are mixins over one ``Workspace``, so they share its state and
    lock (see ``workspace``); this class adds only what ties them to the outside world.
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
        app_token: str = "xapp-1-A0ENGAGE-1-fake",
    ) -> None:
        self.delivery_timeout = 10.0
        self.app_token = app_token
        self.after_interaction = []
        self._server: FakeSlackServer | None = None
        self._http = _new_http_client()
        super().__init__(
            bot_token=bot_token,
            signing_secret=signing_secret,
            team_id=team_id,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            api_app_id=api_app_id,
            team_domain=team_domain,
        )

    def start(self) -> FakeSlack:
        """Bind 127.0.0.1 on a free port and serve on a daemon thread."""
        if self._server is None:
            self._server = FakeSlackServer(
                self._api_request, self._response_url_request, self._upload_request
            ).start()
        return self

    def stop(self) -> None:
        self.stop_socket_mode()
        if self._server is not None:
            self._server.stop()
            self._server = None
        self._http.close()
        self._http = _new_http_client()

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
        return f"http://127.0.0.1:{self._server.port}"

    @property
    def api_url(self) -> str:
        """For ``WebClient(base_url=...)``: slack_sdk appends the method, hence the slash."""
        return self.base_url + "/api/"
