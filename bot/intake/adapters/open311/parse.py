"""Open311 GeoReport v2 records to mentions: the tolerant half of the Open311 adapter.

Real servers bend the standard, and the parsing here is written for what they send. Boston's
server, for example, has sent a pending request with neither ``service_request_id`` nor
``requested_datetime`` (status ``submitted``), ids in two shapes (``101003172470`` and
``H323401-101003193368``), empty descriptions, ``\\r\\n`` inside descriptions and the same
50 records for two different pages. Other servers may send numbers as ids, coordinates as
strings, ``null`` or ``0``, and times without an offset (read as UTC). So every field is read
defensively. Only a record without an id is unusable: it becomes an ``ItemError``.

The answer body is checked before any record is read. GeoReport reports errors as an array of
``{"code", "description"}`` objects, and some servers answer with a JSON object, XML or an
HTML page instead. Each of these raises :class:`AdapterError`, and the message says what came
back.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from bot.core.adapter import AdapterError, IncomingMention

SOURCE = "open311"
AUTHOR = "311 request"  # Open311 never names the citizen; no name is invented
STATUS_UPDATE_OF = "status_update_of"  # extra key marking a status update (see open311.py)
PREVIOUS_STATUS = "previous_status"
CLOSED_STATUSES = frozenset({"closed", "resolved", "completed", "canceled", "cancelled"})


def parse_time(value: object) -> datetime | None:
    """A W3C/ISO time as an aware UTC datetime; a time without an offset is taken as UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


def _number(value: object, limit: float) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value.strip() if isinstance(value, str) else value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and abs(number) <= limit else None


def coordinates(record: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """``lat``/``long`` as floats; strings are read, ``null``, junk and ``0, 0`` become None."""
    lat, long = _number(record.get("lat"), 90.0), _number(record.get("long"), 180.0)
    if lat is None or long is None or (lat == 0.0 and long == 0.0):
        return None, None
    return lat, long


def _text(value: object) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def record_id(record: object) -> str | None:
    """``service_request_id`` as a string (numbers too), or None when missing or empty."""
    if not isinstance(record, Mapping):
        return None
    value = record.get("service_request_id")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    return str(value).strip() or None


def record_key(record: object) -> str:
    """The id, or a stable hash of a record without one (so its error is reported once)."""
    rid = record_id(record)
    if rid is not None:
        return rid
    raw = json.dumps(record, sort_keys=True, default=str, ensure_ascii=False)
    return "noid:" + hashlib.sha256(raw.encode()).hexdigest()[:16]


def status_of(record: Mapping[str, Any]) -> str:
    return _text(record.get("status"))


def is_closed(status: str) -> bool:
    return status.casefold() in CLOSED_STATUSES


def _http_link(value: object) -> str | None:
    link = _text(value)
    return link if urlsplit(link).scheme in ("http", "https") and " " not in link else None


def details(record: Mapping[str, Any]) -> dict[str, Any]:
    """The ``extra`` of a mention: the record's facts, normalised and JSON-serialisable."""
    lat, long = coordinates(record)
    zipcode = record.get("zipcode")
    return {
        "service_request_id": record_id(record),
        "service_code": _text(record.get("service_code")) or None,
        "service_name": _text(record.get("service_name")) or None,
        "agency_responsible": _text(record.get("agency_responsible")) or None,
        "status": status_of(record) or None,
        "status_notes": _text(record.get("status_notes")) or None,
        "requested_datetime": _text(record.get("requested_datetime")) or None,
        "expected_datetime": _text(record.get("expected_datetime")) or None,
        "updated_datetime": _text(record.get("updated_datetime")) or None,
        "address": _text(record.get("address")) or None,
        "zipcode": _text(zipcode) or None,
        "lat": lat,
        "long": long,
        "media_url": _http_link(record.get("media_url")),
    }


def _link(record: Mapping[str, Any], rid: str, url_template: str | None) -> str | None:
    if url_template:
        return _http_link(url_template.format(id=quote(rid, safe="")))
    return _http_link(record.get("media_url"))


def to_mention(record: object, *, url_template: str | None = None) -> IncomingMention:
    """A new request as a mention; :class:`ValueError` when the record cannot be one."""
    if not isinstance(record, Mapping):
        raise ValueError(f"not a JSON object but {type(record).__name__}")
    rid = record_id(record)
    if rid is None:
        token = _text(record.get("token"))
        hint = f" (token {token})" if token else ""
        raise ValueError(f"request has no service_request_id{hint}")
    title = _text(record.get("service_name"))
    text = _text(record.get("description")) or title
    if not text:
        raise ValueError(f"request {rid} has no description and no service_name")
    return IncomingMention(
        source=SOURCE,
        external_id=rid,
        text=text,
        author=AUTHOR,
        url=_link(record, rid, url_template),
        title=title or None,
        created_at=parse_time(record.get("requested_datetime"))
        or parse_time(record.get("updated_datetime")),
        extra=details(record),
    )


def status_update_id(rid: str, status: str, updated: str) -> str:
    return f"{rid}#status:{status}@{updated}"


def status_update(
    record: Mapping[str, Any], previous: str, *, url_template: str | None = None
) -> IncomingMention:
    """A known request's new status as a mention marked ``extra["status_update_of"]``."""
    rid, status = record_id(record), status_of(record)
    if rid is None or not status:
        raise ValueError("status update without service_request_id or status")
    notes = _text(record.get("status_notes"))
    text = f"Status changed from {previous or 'unknown'} to {status}."
    return IncomingMention(
        source=SOURCE,
        external_id=status_update_id(rid, status, _text(record.get("updated_datetime"))),
        text=f"{text} {notes}" if notes else text,
        author=AUTHOR,
        url=_link(record, rid, url_template),
        title=_text(record.get("service_name")) or None,
        created_at=parse_time(record.get("updated_datetime")),
        extra={**details(record), STATUS_UPDATE_OF: rid, PREVIOUS_STATUS: previous or None},
    )


def _describe(content: bytes, content_type: str) -> str:
    head = content.lstrip()[:200].decode("utf-8", "replace")
    kind = content_type.split(";")[0].strip() or "no content type"
    if not head:
        return f"an empty body ({kind})"
    if head.startswith("<?xml") or "xml" in kind:
        return f"XML ({kind}): {' '.join(head[:80].split())!r}"
    if head.lower().startswith(("<!doctype html", "<html")) or "html" in kind:
        return f"an HTML page ({kind})"
    return f"{kind}: {' '.join(head[:80].split())!r}"


def _is_error(item: object) -> bool:
    return (
        isinstance(item, Mapping)
        and "description" in item
        and ("code" in item or "error" in item)
        and "service_request_id" not in item
        and "service_code" not in item
    )


def error_detail(content: bytes) -> str:
    """The description of a GeoReport error array or error object, if the body is one."""
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return ""
    found = [i for i in data if _is_error(i)] if isinstance(data, list) else [data]
    parts = []
    for item in found[:3]:
        if not isinstance(item, Mapping):
            continue
        text = item.get("description") or item.get("message") or item.get("error") or ""
        code = item.get("code")
        parts.append(" ".join(f"{code or ''} {text}".split()))
    return "; ".join(p for p in parts if p)[:300]


def decode_records(content: bytes, content_type: str, where: str) -> list[Any]:
    """The JSON array of an answer, or :class:`AdapterError` naming what came back instead."""
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        got = _describe(content, content_type)
        raise AdapterError(f"{where}: expected a JSON array, got {got}") from None
    if isinstance(data, Mapping):
        detail = error_detail(content)
        keys = ", ".join(list(data)[:5])
        raise AdapterError(
            f"{where}: expected a JSON array, got a JSON object"
            + (f": {detail}" if detail else f" with keys {keys or '(none)'}")
        )
    if not isinstance(data, list):
        raise AdapterError(f"{where}: expected a JSON array, got JSON {type(data).__name__}")
    if data and all(_is_error(item) for item in data):
        raise AdapterError(f"{where}: the server answered an error: {error_detail(content)}")
    return data
