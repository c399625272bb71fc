"""The signed generic webhook: web forms and form builders post citizen messages here.

Body: one JSON object, UTF-8, at most 256 KiB (:data:`MAX_BODY`); ``text`` is required::

    {"id": "form-4411", "text": "The light on 5th St is out", "author": "Ana",
     "url": "https://forms.example.gov/r/4411", "title": "Street light",
     "created_at": "2026-11-24T09:30:00Z", "via": "311 web form", "language": "en",
     "extra": {"lat": 42.3601, "lon": -71.0589, "service_code": "streetlight"}}

Header ``X-Engage-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed by
ENGAGE_WEBHOOK_SECRET>``. Without ``id`` the body's hash is the id, so a form tool that
resends the same submission creates nothing new.

Every field is checked on the way in, and a body is stored whole or not at all: anything
wrong is a 4xx naming the field (:class:`WebhookError`), never a 5xx after the fact nor a
mention that breaks delivery later. What each field may be is :data:`FIELDS` (the README's
table says the same). In particular:

- ``text`` has no length limit but the body's: the card cuts it to Slack's limits and links
  the original (``bot/outbox/cards.py``).
- A NUL or a lone surrogate in any string is refused (422), not stripped: PostgreSQL cannot
  store the one and nothing can encode the other, and quietly altering what a citizen wrote
  (or an ``id`` that deduplicates) is worse than telling the form tool its encoding is broken.
- ``extra`` takes only the keys of :data:`EXTRA_KEYS`, the ones routing reads. Everything else
  in a stored mention's ``extra`` is Engage's own (the care label, a priority author's badge,
  ``status_update_of`` that threads an update under another card): a sender must not set it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from bot.core.adapter import IncomingMention
from bot.intake import strict_json

SIGNATURE_HEADER = "X-Engage-Signature"
MAX_BODY = 256 * 1024
MAX_DEPTH = 8  # a body nests two levels (body, extra); deeper is refused before parsing
ID_LIMIT = 512  # the stored external id's length
URL_LIMIT = 3000  # the longest URL a Slack button takes
LANGUAGE_LIMIT = 16  # the stored language's length
SERVICE_CODE_LIMIT = 64

_SIGNATURE = re.compile(r"sha256=[0-9a-fA-F]{64}")
_URL = re.compile(r"https?://[^\s<>|\"\x00-\x1f\x7f]+", re.ASCII)
_LANGUAGE = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*", re.ASCII)


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
    # Checked for shape first: compare_digest raises on a str with non-ASCII characters.
    if not _SIGNATURE.fullmatch(signature.strip()):
        raise WebhookError(401, f"{SIGNATURE_HEADER} must look like sha256=<64 hex digits>")
    expected = sign(secret, body).encode("ascii")
    if not hmac.compare_digest(expected, signature.strip().lower().encode("ascii")):
        raise WebhookError(401, "signature does not match the body (check the shared secret)")


def parse(body: bytes) -> IncomingMention:
    """The mention a verified body describes; :class:`WebhookError` (4xx) for any fault."""
    try:
        data = strict_json.loads(body.decode("utf-8"), max_depth=MAX_DEPTH)
    except UnicodeDecodeError as exc:
        raise WebhookError(400, f"body is not valid UTF-8 JSON: bad byte at {exc.start}") from None
    except strict_json.JSONError as exc:
        raise WebhookError(400, f"body is not valid UTF-8 JSON: {exc}") from None
    if not isinstance(data, dict):
        raise WebhookError(400, "body must be a JSON object")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise WebhookError(422, f"unknown field(s): {', '.join(_names(unknown))}")
    extra = data.get("extra")
    if extra is not None and not isinstance(extra, dict):
        raise WebhookError(422, "field 'extra' must be an object")
    unknown = sorted(set(extra or {}) - set(EXTRA_KEYS))
    if unknown:
        raise WebhookError(
            422,
            f"unknown field(s) in 'extra': {', '.join(_names(unknown))} "
            f"(it takes {', '.join(EXTRA_KEYS)})",
        )
    problem = strict_json.first_problem(data)
    if problem is not None:
        where, what = problem
        raise WebhookError(422, f"field '{where}' {what}")
    fields = {name: check(name, data[name]) for name, check in FIELDS.items() if name in data}
    given = {
        name: check(f"extra.{name}", (extra or {}).get(name)) for name, check in EXTRA_KEYS.items()
    }
    return _mention(body, fields, {k: v for k, v in given.items() if v is not None})


def _mention(body: bytes, fields: dict[str, Any], extra: dict[str, Any]) -> IncomingMention:
    text = fields.get("text")
    if text is None:
        raise WebhookError(422, "field 'text' is required")
    if ("lat" in extra) != ("lon" in extra):
        raise WebhookError(422, "fields 'extra.lat' and 'extra.lon' go together")
    if fields.get("via"):
        extra["via"] = fields["via"]
    return IncomingMention(
        source="webhook",
        external_id=fields.get("id") or hashlib.sha256(body).hexdigest(),
        text=text,
        author=fields.get("author") or "",
        url=fields.get("url") or None,
        title=fields.get("title") or None,
        created_at=fields.get("created_at"),
        language=fields.get("language") or None,
        extra=extra,
    )


# Each field's check: the value as sent (never None: null counts as absent) to what is kept.
Check = Callable[[str, Any], Any]


def _string(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise WebhookError(422, f"field '{name}' must be a string")
    return value


def _id(name: str, value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value is not None and not isinstance(value, str):
        raise WebhookError(422, f"field '{name}' must be a string or an integer")
    if value is not None and len(value) > ID_LIMIT:
        raise WebhookError(422, f"field '{name}' is longer than {ID_LIMIT} characters")
    return value


def _text(name: str, value: Any) -> str:
    text = _string(name, value)
    if text is None:
        raise WebhookError(422, f"field '{name}' is required")
    if not text.strip():
        raise WebhookError(422, f"field '{name}' is empty")
    return text


def _url(name: str, value: Any) -> str | None:
    url = _string(name, value)
    if not url:
        return None
    if len(url) > URL_LIMIT:
        raise WebhookError(422, f"field '{name}' is longer than {URL_LIMIT} characters")
    if not _URL.fullmatch(url):
        raise WebhookError(422, f"field '{name}' must be an http(s) URL without spaces")
    return url


def _language(name: str, value: Any) -> str | None:
    language = _string(name, value)
    if language and (len(language) > LANGUAGE_LIMIT or not _LANGUAGE.fullmatch(language)):
        raise WebhookError(
            422,
            f"field '{name}' must be a language tag such as 'en' or 'pt-BR' "
            f"(at most {LANGUAGE_LIMIT} characters)",
        )
    return language or None


def _when(name: str, value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise WebhookError(422, f"field '{name}' must be an ISO 8601 string")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except ValueError:
        raise WebhookError(422, f"field '{name}' is not ISO 8601: {value!r}") from None
    except OverflowError:  # 9999-12-31T23:59:59-10:00 is in the year 10000 in UTC
        raise WebhookError(422, f"field '{name}' is out of range: {value!r}") from None
    if when.year < 1970:
        raise WebhookError(422, f"field '{name}' is before 1970: {value!r}")
    return when


def _coordinate(low: float, high: float) -> Check:
    def check(name: str, value: Any) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise WebhookError(422, f"field '{name}' must be a number")
        if not low <= value <= high:
            raise WebhookError(422, f"field '{name}' must be between {low:g} and {high:g}")
        return float(value)

    return check


def _service_code(name: str, value: Any) -> str | None:
    code = _string(name, value)
    if code is not None and len(code) > SERVICE_CODE_LIMIT:
        raise WebhookError(422, f"field '{name}' is longer than {SERVICE_CODE_LIMIT} characters")
    return code or None


FIELDS: Mapping[str, Check] = {
    "id": _id,
    "text": _text,
    "author": _string,
    "url": _url,
    "title": _string,
    "created_at": _when,
    "via": _string,
    "language": _language,
    "extra": lambda _name, value: value,  # checked key by key against EXTRA_KEYS
}
"""Every field a body may carry, and how it is checked."""

EXTRA_KEYS: Mapping[str, Check] = {
    "lat": _coordinate(-90, 90),
    "lon": _coordinate(-180, 180),
    "service_code": _service_code,
}
"""What ``extra`` may carry: a place (``lat`` and ``lon``, WGS 84 degrees, together) and an
Open311 ``service_code``, the context routing rules match on (areas, service codes)."""


def _names(names: list[str]) -> list[str]:
    return [strict_json.label(n) for n in names]
