"""The HTTP surface: Slack's requests, the webhook, health and metrics, as one WSGI app.

A plain WSGI router, served by waitress (a production WSGI server with a thread pool).
``/slack/events`` goes through :class:`~bot.app.slack_gate.SlackGate` (signature, then a
strict parse, then Bolt); ``/ingest/webhook`` through :mod:`bot.intake.webhook` (signature,
then a strict parse, then ingest). Neither answers a 5xx for anything a client sends: a bad
request is a 4xx with the reason in JSON and one log line.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from sqlalchemy.exc import OperationalError

from bot.app import slack_gate
from bot.app.slack_gate import SlackGate
from bot.core import metrics
from bot.intake import webhook
from bot.intake.ingest import IngestResult

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]


class Traffic:
    """How many of Slack's requests this process is answering: work that can wait (deciding
    the clicks just kept) waits for none to be in flight, so acks come first (issue 15)."""

    def __init__(self) -> None:
        self._in_flight = 0
        self._cond = threading.Condition()

    @contextmanager
    def request(self) -> Iterator[None]:
        with self._cond:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._cond:
                self._in_flight -= 1
                if not self._in_flight:
                    self._cond.notify_all()

    def wait_quiet(self, most: float) -> None:
        """Return when no request is in flight, or after ``most`` seconds."""
        with self._cond:
            self._cond.wait_for(lambda: not self._in_flight, most)


class WebApp:
    def __init__(
        self,
        *,
        slack: SlackGate | None,
        ingest: Callable[[Any], IngestResult],
        webhook_secret: str | None,
        health: Callable[[], tuple[bool, dict[str, Any]]],
        refresh_metrics: Callable[[], None],
        traffic: Traffic | None = None,
    ) -> None:
        self.traffic = traffic or Traffic()
        self.slack = slack
        self.ingest = ingest
        self.webhook_secret = webhook_secret
        self.health = health
        self.refresh_metrics = refresh_metrics

    def __call__(self, environ: dict[str, Any], start: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/slack/events" and self.slack is not None:
            if method != "POST":
                return _json(start, 405, {"ok": False, "error": "use POST"})
            with self.traffic.request():
                return self._slack(self.slack, environ, start)
        if path == "/ingest/webhook":
            if method != "POST":
                return _json(start, 405, {"ok": False, "error": "use POST"})
            return self._webhook(environ, start)
        if path == "/livez" and method in ("GET", "HEAD"):
            # Liveness: this process answers. A restart mends neither Slack nor the database
            # being away, so they are /healthz's (readiness), not this.
            return _json(start, 200, {"ok": True})
        if path == "/healthz" and method in ("GET", "HEAD"):
            ok, detail = self.health()
            return _json(start, 200 if ok else 503, {"ok": ok, **detail})
        if path == "/metrics" and method in ("GET", "HEAD"):
            self.refresh_metrics()
            body = metrics.render()
            start(
                "200 OK",
                [
                    ("Content-Type", "text/plain; version=0.0.4; charset=utf-8"),
                    ("Content-Length", str(len(body))),
                ],
            )
            return [body]
        return _json(start, 404, {"ok": False, "error": f"no route for {method} {path}"})

    def _slack(
        self, gate: SlackGate, environ: dict[str, Any], start: StartResponse
    ) -> Iterable[bytes]:
        body = _body(environ, slack_gate.MAX_BODY)
        if isinstance(body, tuple):
            answer = slack_gate.refuse(*body)
        else:
            answer = gate.handle(body, _headers(environ))
        response = WsgiHttpResponse(answer.status, answer.headers, answer.body)
        start(response.status, response.get_headers())
        return response.get_body()

    def _webhook(self, environ: dict[str, Any], start: StartResponse) -> Iterable[bytes]:
        status, payload = self._handle_webhook(environ)
        metrics.WEBHOOK_REQUESTS.labels(status=str(status)).inc()
        if status >= 400:
            log.info("webhook refused", extra={"status": status, "error": payload.get("error")})
        return _json(start, status, payload)

    def _handle_webhook(self, environ: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if not self.webhook_secret:
            return 503, {"ok": False, "error": "webhook disabled: set ENGAGE_WEBHOOK_SECRET"}
        body = _body(environ, webhook.MAX_BODY)
        if isinstance(body, tuple):
            status, error = body
            return status, {"ok": False, "error": error}
        try:
            webhook.verify(
                self.webhook_secret,
                body,
                environ.get("HTTP_" + webhook.SIGNATURE_HEADER.upper().replace("-", "_")),
            )
            item = webhook.parse(body)
        except webhook.WebhookError as exc:
            return exc.status, {"ok": False, "error": exc.message}
        try:
            result = self.ingest(item)
        except OperationalError as exc:  # the database is unreachable: the sender retries
            log.warning("webhook not stored", extra={"error": type(exc).__name__})
            return 503, {"ok": False, "error": "the database is unavailable: try again later"}
        return (200 if result.duplicate else 202), {
            "ok": True,
            "mention_id": result.mention_id,
            "duplicate": result.duplicate,
            "department": result.department,
            "rule": result.rule,
        }


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    """The request's headers as Bolt keeps them: lower-case names, ``content-type`` included."""
    headers = {
        key[5:].lower().replace("_", "-"): value
        for key, value in environ.items()
        if key.startswith("HTTP_") and isinstance(value, str)
    }
    headers["content-type"] = str(environ.get("CONTENT_TYPE") or "")
    return headers


def _body(environ: dict[str, Any], limit: int) -> bytes | tuple[int, str]:
    """The request's body, or the status and error that refuse it (before reading it)."""
    raw = str(environ.get("CONTENT_LENGTH") or "0").strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        return 400, "bad Content-Length"
    length = int(raw)
    if length > limit:
        return 413, f"body over {limit} bytes"
    body: bytes = environ["wsgi.input"].read(length) if length else b""
    return body


def _json(start: StartResponse, status: int, payload: dict[str, Any]) -> list[bytes]:
    body = json.dumps(payload, default=str).encode()
    reason = {
        200: "OK",
        202: "Accepted",
        400: "Bad Request",
        401: "Unauthorized",
        404: "Not Found",
        405: "Method Not Allowed",
        413: "Payload Too Large",
        422: "Unprocessable Entity",
        503: "Service Unavailable",
    }.get(status, "")
    start(
        f"{status} {reason}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]
