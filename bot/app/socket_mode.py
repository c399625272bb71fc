"""Socket Mode: Slack's requests arrive as envelopes over a WebSocket the bot opens itself, so
the bot needs no public URL (``SLACK_APP_TOKEN`` set).

Bolt's built-in handler (``slack_sdk``'s own WebSocket client, no extra dependency) does the
work, with the bot's Web API client, so it asks for its socket URL at ``SLACK_API_URL`` like
every other call. This module adds what the HTTP gate (:mod:`bot.app.slack_gate`) does for
``POST /slack/events`` and still matters here:

- the signature and the body size do not: Slack authenticates the socket (the app token) and
  frames its messages;
- retries are made harmless the same way in both modes, by the listeners' request keys
  (:func:`handlers.payload.request_key` and the inbox), so a redelivered envelope changes
  nothing;
- a payload's strings and envelope shape are checked as the gate checks them
  (:mod:`bot.intake.strict_json`, :mod:`bot.app.slack_shape`): one that fails is acked, so
  Slack does not redeliver what would fail again, and dropped with one log line.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.app import slack_shape
from bot.app.web import Traffic
from bot.intake import strict_json

log = logging.getLogger(__name__)


class CheckedSocketModeHandler(SocketModeHandler):
    """Bolt's Socket Mode handler with the gate's payload checks in front of the listeners;
    each envelope counts as a request in flight (``traffic``), as an HTTP one does."""

    traffic: Traffic | None = None

    def handle(self, client: Any, req: SocketModeRequest) -> None:
        problem = first_problem(req.payload)
        if problem is None:
            with self.traffic.request() if self.traffic else contextlib.nullcontext():
                super().handle(client, req)
            return
        where, what = problem
        log.info(
            "slack envelope refused",
            extra={"type": req.type, "reason": f"payload field '{where or '(top)'}' {what}"},
        )
        client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))

    def close(self) -> None:
        """Stop at once. The client's reader waits up to 3 s in ``recv`` (closing a socket
        does not wake a thread reading it) and its dispatcher up to 1 s on its queue: shut
        the socket down and wake the queue, so stopping the bot takes milliseconds."""
        client = self.client
        client.auto_reconnect_enabled = False
        client.closed = True
        session = client.current_session
        sock = session.sock if session is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        client.message_queue.put(None)
        super().close()  # type: ignore[no-untyped-call]


def first_problem(payload: Any) -> tuple[str, str] | None:
    """Where a payload is not what the listeners may read, as the HTTP gate says it."""
    if not isinstance(payload, dict):
        return "", "must be a JSON object"
    return strict_json.first_problem(payload) or slack_shape.first_problem(payload)


def connect(
    app: App, app_token: str, *, ping_interval: float, traffic: Traffic | None = None
) -> CheckedSocketModeHandler:
    """Open the socket (``apps.connections.open``, then the WebSocket); the client reconnects
    by itself when Slack drops it or asks it to refresh."""
    handler = CheckedSocketModeHandler(app, app_token, ping_interval=ping_interval)
    handler.traffic = traffic
    try:
        handler.connect()  # type: ignore[no-untyped-call]
    except BaseException:  # a refused token: stop the client's threads, then say why
        handler.close()
        raise
    return handler
