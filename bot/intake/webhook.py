"""The signed generic webhook: web forms and form builders post citizen messages here.

Body: a JSON object; ``text`` is required, everything else optional::

    {"id": "form-4411", "text": "The light on 5th St is out", "author": "Ana",
     "url": "https://forms.example.gov/r/4411", "title": "Street light",
     "created_at": "2026-11-24T09:30:00Z", "via": "311 web form"}

Header ``X-Engage-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed by
ENGAGE_WEBHOOK_SECRET>``. Without ``id`` the body's hash is the id, so a form tool that
resends the same submission creates nothing new.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from bot.core.adapter import IncomingMention

SIGNATURE_HEADER = "X-Engage-Signature"
MAX_BODY = 256 * 1024
TEXT_LIMIT = 40_000
FIELDS = {"id", "text", "author", "url", "title", "created_at", "via", "language", "extra"}


class WebhookError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str | None) -> None:
    if not signature:
        raise WebhookError(401, f"missing {SIGNATURE_HEADER} header")
    if not signature.startswith("sha256="):
        raise WebhookError(401, f"{SIGNATURE_HEADER} must look like sha256=<hex>")
    if not hmac.compare_digest(sign(secret, body), signature.strip()):
        raise WebhookError(401, "signature does not match the body (check the shared secret)")


def parse(body: bytes) -> IncomingMention:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WebhookError(400, f"body is not valid UTF-8 JSON: {exc}") from None
    if not isinstance(data, dict):
        raise WebhookError(400, "body must be a JSON object")
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        raise WebhookError(422, f"unknown field(s): {', '.join(unknown)}")
    text = _string(data, "text", required=True)
    if not text.strip():
        raise WebhookError(422, "field 'text' is empty")
    if len(text) > TEXT_LIMIT:
        raise WebhookError(422, f"field 'text' is longer than {TEXT_LIMIT} characters")
    url = _string(data, "url") or None
    if url and not url.startswith(("https://", "http://")):
        raise WebhookError(422, "field 'url' must be an http(s) URL")
    extra = data.get("extra", {})
    if not isinstance(extra, dict):
        raise WebhookError(422, "field 'extra' must be an object")
    via = _string(data, "via")
    return IncomingMention(
        source="webhook",
        external_id=_string(data, "id") or hashlib.sha256(body).hexdigest(),
        text=text,
        author=_string(data, "author"),
        url=url,
        title=_string(data, "title") or None,
        created_at=_when(data.get("created_at")),
        language=_string(data, "language") or None,
        extra={**extra, **({"via": via} if via else {})},
    )


def _string(data: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = data.get(key)
    if value is None:
        if required:
            raise WebhookError(422, f"field '{key}' is required")
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool) and key == "id":
        return str(value)
    if not isinstance(value, str):
        raise WebhookError(422, f"field '{key}' must be a string")
    return value


def _when(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise WebhookError(422, "field 'created_at' must be an ISO 8601 string")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise WebhookError(422, f"field 'created_at' is not ISO 8601: {value!r}") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
