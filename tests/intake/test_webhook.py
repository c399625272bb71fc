"""The webhook's parser and signature check on their own: every body that broke the bot before
(issue 12) is a 4xx naming the field now, and no body at all makes them raise anything else.

The HTTP side (status codes, nothing stored, both databases) is ``tests/app/test_web.py``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.adapter import IncomingMention
from bot.intake import strict_json, webhook
from bot.intake.webhook import WebhookError, parse, sign, verify
from tests.properties import bounded

SECRET = "s3cret"
BOUNDED = bounded(150)


def refused(body: bytes | dict[str, Any]) -> WebhookError:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(WebhookError) as caught:
        parse(raw)
    return caught.value


# Each case of the issue: a 500 before, a 4xx naming the field now.
@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b'{"text": "x", "extra": ' + b"[" * 5000 + b"]" * 5000 + b"}", 400, "nested 5001"),
        (b'{"text": "x", "id": ' + b"9" * 4301 + b"}", 422, "field 'id' is a number longer"),
        (
            b'{"text": "x", "created_at": "9999-12-31T23:59:59-10:00"}',
            422,
            "field 'created_at' is out of range",
        ),
        (b'{"text": "pot\\u0000hole"}', 422, "field 'text' contains a NUL character"),
        (b'{"text": "x", "author": "A\\u0000"}', 422, "field 'author' contains a NUL character"),
        (b'{"text": "\\ud800"}', 422, "field 'text' contains a lone surrogate (U+D800)"),
        (b'{"text": "x", "extra": {"lat": NaN, "lon": 1}}', 422, "field 'extra.lat' is NaN"),
        (b'{"text": "x", "extra": {"lat": 1e999, "lon": 1}}', 422, "'extra.lat' is a number too"),
        (b'{"text": "x", "text": "y"}', 400, "key 'text' appears twice"),
        (b"\xff\xfe", 400, "not valid UTF-8 JSON"),
    ],
)
def test_bodies_that_crashed_the_parser_are_refused_naming_the_field(
    body: bytes, status: int, message: str
) -> None:
    error = refused(body)
    assert (error.status, message in error.message) == (status, True), error.message


def test_a_language_longer_than_the_stored_column_is_refused() -> None:
    error = refused({"text": "x", "language": "en-" + "x" * 14})
    assert error.status == 422 and "field 'language'" in error.message
    assert parse(json.dumps({"text": "x", "language": "pt-BR"}).encode()).language == "pt-BR"


@pytest.mark.parametrize(
    "extra",
    [
        {"care": 7},  # accepted, then broke delivery on every attempt
        {"care": ["idiot"]},
        {"priority_label": "Mayor"},  # a forged :star: badge
        {"priority_author": "press"},
        {"status_update_of": "form-1"},  # a note in another card's thread
        {"linked_into": 1},
        {"via": "x"},
        {"colour": "red"},
    ],
)
def test_extra_takes_only_its_documented_keys(extra: dict[str, Any]) -> None:
    error = refused({"text": "x", "extra": extra})
    assert error.status == 422
    assert error.message.startswith("unknown field(s) in 'extra'")
    assert "lat, lon, service_code" in error.message


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"lat": "42", "lon": -71}, "field 'extra.lat' must be a number"),
        ({"lat": True, "lon": -71}, "field 'extra.lat' must be a number"),
        ({"lat": 91, "lon": -71}, "field 'extra.lat' must be between -90 and 90"),
        ({"lat": 42, "lon": 181}, "field 'extra.lon' must be between -180 and 180"),
        ({"lat": 42}, "fields 'extra.lat' and 'extra.lon' go together"),
        ({"service_code": 4}, "field 'extra.service_code' must be a string"),
        ({"service_code": "x" * 65}, "field 'extra.service_code' is longer than 64 characters"),
    ],
)
def test_extra_values_are_type_checked(extra: dict[str, Any], message: str) -> None:
    error = refused({"text": "x", "extra": extra})
    assert (error.status, error.message) == (422, message)


def test_every_documented_field_is_kept() -> None:
    body = {
        "id": 4411,
        "text": "The light on 5th St is out",
        "author": "Ana",
        "url": "https://forms.example.gov/r/4411",
        "title": "Street light",
        "created_at": "2026-11-24T09:30:00-05:00",
        "via": "311 web form",
        "language": "en",
        "extra": {"lat": 42.36, "lon": -71, "service_code": "streetlight"},
    }
    mention = parse(json.dumps(body).encode())
    assert (mention.external_id, mention.author, mention.title, mention.language) == (
        "4411",
        "Ana",
        "Street light",
        "en",
    )
    assert mention.created_at is not None and mention.created_at.isoformat() == (
        "2026-11-24T14:30:00+00:00"
    )
    assert dict(mention.extra) == {
        "lat": 42.36,
        "lon": -71.0,
        "service_code": "streetlight",
        "via": "311 web form",
    }


def test_a_text_of_any_length_within_the_body_limit_is_accepted() -> None:
    """The README promised 413 only over 256 KiB, and cards cut long texts: no 40,000 limit."""
    text = "pothole & " * 25_000  # 250,000 characters
    body = json.dumps({"text": text}).encode()
    assert len(body) <= webhook.MAX_BODY
    assert parse(body).text == text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("url", "javascript:alert(1)"),
        ("url", "https://forms.example/a b"),
        ("url", "https://" + "x" * 3000),
        ("id", "x" * 513),
        ("id", 1.5),
        ("created_at", "yesterday"),
        ("created_at", "1969-12-31T23:59:59Z"),
        ("text", "   "),
        ("text", 7),
        ("author", ["Ana"]),
    ],
)
def test_badly_typed_or_shaped_fields_name_themselves(field: str, value: Any) -> None:
    error = refused({"text": "x", field: value})
    assert error.status == 422 and f"field '{field}'" in error.message


def test_a_non_ascii_signature_is_a_401_not_a_type_error() -> None:
    body = b'{"text": "x"}'
    for header in ("sha256=\u00e9" * 3, "sha256=" + "\u00e9" * 64, "sha256=" + "g" * 64):
        with pytest.raises(WebhookError) as caught:
            verify(SECRET, body, header)
        assert caught.value.status == 401
    verify(SECRET, body, sign(SECRET, body))
    verify(SECRET, body, "sha256=" + sign(SECRET, body).removeprefix("sha256=").upper())


# Properties: whatever the bytes, a mention that can be stored as it is, or a 4xx.
JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**50), max_value=10**50),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
FIELD_NAMES = st.sampled_from([*webhook.FIELDS, "lat", "care", "colour"])
EXTRA = st.dictionaries(st.sampled_from([*webhook.EXTRA_KEYS, "care", "via"]), JSON_VALUES)
BODIES = st.one_of(
    st.binary(max_size=300),
    st.dictionaries(FIELD_NAMES, JSON_VALUES | EXTRA).map(
        lambda d: json.dumps(d, allow_nan=True).encode()
    ),
    st.fixed_dictionaries(
        {"text": st.text(min_size=1, max_size=40)},
        optional={"extra": EXTRA, "id": JSON_LEAVES, "created_at": st.text(max_size=30)},
    ).map(lambda d: json.dumps(d).encode()),
)

# Bodies that should mostly be accepted: the documented fields with values of their types.
PLACES = st.fixed_dictionaries(
    {"lat": st.floats(-90, 90), "lon": st.floats(-180, 180)},
    optional={"service_code": st.text(max_size=10)},
)
VALID = st.fixed_dictionaries(
    {"text": st.text(min_size=1, max_size=60).filter(str.strip)},
    optional={
        "id": st.text(max_size=20) | st.integers(min_value=0, max_value=10**12),
        "author": st.text(max_size=20),
        "title": st.text(max_size=20),
        "via": st.text(max_size=10),
        "language": st.sampled_from(["en", "fr", "pt-BR", "zh-Hant"]),
        "url": st.sampled_from(["https://forms.example/r/1", "http://x.example/?a=1&b=%3C"]),
        "created_at": st.datetimes(min_value=datetime(1970, 1, 2)).map(lambda d: d.isoformat()),
        "extra": PLACES,
    },
).map(lambda d: json.dumps(d).encode())


def storable(mention: IncomingMention) -> bool:
    strings = [mention.external_id, mention.text, mention.author, mention.url or ""]
    strings += [mention.title or "", mention.language or ""]
    return (
        all(strict_json.string_problem(s) is None for s in strings)
        and mention.text.strip() != ""
        and len(mention.language or "") <= webhook.LANGUAGE_LIMIT
        and len(mention.external_id) <= webhook.ID_LIMIT
        and set(mention.extra) <= {*webhook.EXTRA_KEYS, "via"}
        and strict_json.first_problem(dict(mention.extra)) is None
    )


@BOUNDED
@given(BODIES | VALID)
def test_any_body_parses_to_a_storable_mention_or_a_4xx(body: bytes) -> None:
    try:
        mention = parse(body)
    except WebhookError as exc:
        assert 400 <= exc.status < 500 and exc.message
        return
    assert storable(mention)
    json.dumps(dict(mention.extra), allow_nan=False).encode("utf-8")  # storable as JSON


@BOUNDED
@given(st.binary(max_size=200), st.text(max_size=80) | st.none())
def test_any_signature_header_is_accepted_or_a_401(body: bytes, header: str | None) -> None:
    try:
        verify(SECRET, body, header)
    except WebhookError as exc:
        assert exc.status == 401
    else:
        raise AssertionError("an unsigned body passed")
