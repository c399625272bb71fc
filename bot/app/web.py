"""The HTTP surface: Slack's requests, the webhook, health and metrics, as one WSGI app.

A plain WSGI router keeps Bolt's own WSGI adapter in charge of ``/slack/events`` (signature
checks, retries, acks) and served by waitress, a production WSGI server with a thread pool.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from bot.core import metrics
from bot.intake import webhook
from bot.intake.ingest import IngestResult

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class WebApp:
    def __init__(
        self,
        *,
        slack: WSGIApp | None,
        ingest: Callable[[Any], IngestResult],
        webhook_secret: str | None,
        health: Callable[[], tuple[bool, dict[str, Any]]],
        refresh_metrics: Callable[[], None],
    ) -> None:
        self.slack = slack
        self.ingest = ingest
        self.webhook_secret = webhook_secret
        self.health = health
        self.refresh_metrics = refresh_metrics

    def __call__(self, environ: dict[str, Any], start: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/slack/events" and self.slack is not None:
            return self.slack(environ, start)
        if path == "/ingest/webhook":
            if method != "POST":
                return _json(start, 405, {"ok": False, "error": "use POST"})
            return self._webhook(environ, start)
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

    def _webhook(self, environ: dict[str, Any], start: StartResponse) -> Iterable[bytes]:
        status, payload = self._handle_webhook(environ)
        metrics.WEBHOOK_REQUESTS.labels(status=str(status)).inc()
        if status >= 400:
            log.info("webhook refused", extra={"status": status, "error": payload.get("error")})
        return _json(start, status, payload)

    def _handle_webhook(self, environ: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if not self.webhook_secret:
            return 503, {"ok": False, "error": "webhook disabled: set ENGAGE_WEBHOOK_SECRET"}
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return 400, {"ok": False, "error": "bad Content-Length"}
        if length > webhook.MAX_BODY:
            return 413, {"ok": False, "error": f"body over {webhook.MAX_BODY} bytes"}
        body = environ["wsgi.input"].read(length) if length else b""
        try:
            webhook.verify(
                self.webhook_secret,
                body,
                environ.get("HTTP_" + webhook.SIGNATURE_HEADER.upper().replace("-", "_")),
            )
            item = webhook.parse(body)
        except webhook.WebhookError as exc:
            return exc.status, {"ok": False, "error": exc.message}
        result = self.ingest(item)
        return (200 if result.duplicate else 202), {
            "ok": True,
            "mention_id": result.mention_id,
            "duplicate": result.duplicate,
            "department": result.department,
            "rule": result.rule,
        }


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
