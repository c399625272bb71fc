"""``POST /slack/events`` through the WSGI app: the signature is checked on the raw bytes before
anything is parsed, a signed body is parsed strictly before Bolt sees it, and no request at all
gets a 5xx or a traceback in the log.

What listeners do with signed, well-shaped but wrong payloads is ``tests/handlers/
test_malformed.py``'s.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from bot.app.compose import Engage
from bot.app.slack_gate import MAX_BODY, form_payload
from tests.app.conftest import stored
from tests.app.wsgi import Answer, call
from tests.properties import bounded

PATH = "/slack/events"
FORM = "application/x-www-form-urlencoded"
SECRET = "test-secret"  # tests/conftest.py's settings_for
DEEP = b"[" * 5000 + b"]" * 5000
GARBAGE = [
    b"this is not json",
    b"\xff\xfe\x00garbage",
    b"[1, 2, 3]",
    DEEP,
    b'{"type": "event_callback", "event": "message"}',
    b"payload=" + DEEP,
]


def signed_headers(body: bytes, *, at: float | None = None, kind: str = "") -> dict[str, str]:
    ts = str(int(time.time() if at is None else at))
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}
    guessed = (
        "application/json" if body[:1] in (b"{", b"[") else "application/x-www-form-urlencoded"
    )
    return {**headers, "Content-Type": kind or guessed}


def send(bot: Engage, body: bytes, headers: dict[str, str]) -> Answer:
    return call(bot.web, PATH, body, headers)


def one_line_no_traceback(caplog: pytest.LogCaptureFixture) -> list[str]:
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    return [r.getMessage() for r in caplog.records if r.name.startswith("bot.")]


def test_unsigned_garbage_is_a_401_with_one_log_line(
    built: Engage, caplog: pytest.LogCaptureFixture
) -> None:
    """Bolt parsed these before it checked the signature, and answered 500 with a traceback."""
    forged = {"X-Slack-Signature": "v0=\u00e9", "X-Slack-Request-Timestamp": "x"}
    for body in GARBAGE:
        caplog.clear()
        with caplog.at_level(logging.DEBUG):
            for headers in ({}, forged):
                answer = send(built, body, {"Content-Type": "application/json", **headers})
                assert answer.status == 401, body[:40]
        assert one_line_no_traceback(caplog) == ["slack request refused"] * 2, body[:40]
        assert all(r.levelno < logging.WARNING for r in caplog.records)


def test_signed_garbage_is_a_400_naming_what_is_wrong(
    built: Engage, caplog: pytest.LogCaptureFixture
) -> None:
    for body in GARBAGE:
        caplog.clear()
        with caplog.at_level(logging.DEBUG):
            answer = send(built, body, signed_headers(body, kind="application/json"))
        assert answer.status == 400, (body[:40], answer.body)
        assert json.loads(answer.body)["ok"] is False
        assert one_line_no_traceback(caplog) == ["slack request refused"], body[:40]
    assert stored(built) == (0, 0, 0)


WRONG_SHAPES: list[tuple[dict[str, object], str]] = [
    ({"type": "block_actions", "actions": []}, "'actions' must be a non-empty list"),
    ({"type": "block_actions", "actions": [{"value": "1"}]}, "'actions[0]' must be an obj"),
    ({"type": "block_actions", "actions": [{"action_id": 1}]}, "'actions[0].action_id' must"),
    ({"type": "view_submission", "view": "x"}, "'view' must be an object"),
    ({"type": "view_submission", "view": {"callback_id": 7}}, "'view.callback_id' must be"),
    ({"type": "block_actions", "user": ["U1"], "actions": [{"action_id": "a"}]}, "'user'"),
    ({"type": "event_callback", "event": {"type": "message", "user": "U\u0000"}}, "NUL"),
    ({"type": "event_callback", "authorizations": "T1"}, "'authorizations' must be a list"),
    ({"type": 5}, "'type' must be a string"),
]


def test_signed_payloads_of_the_wrong_shape_are_a_400(built: Engage) -> None:
    for payload, reason in WRONG_SHAPES:
        for body, kind in (
            (json.dumps(payload).encode(), "application/json"),
            (urlencode({"payload": json.dumps(payload)}).encode(), FORM),
        ):
            answer = send(built, body, signed_headers(body, kind=kind))
            assert answer.status == 400, (payload, answer.body)
            assert reason in json.loads(answer.body)["error"], (payload, answer.body)


def test_stale_forged_and_oversized_requests_are_refused(built: Engage) -> None:
    body = json.dumps({"type": "event_callback", "event": {"type": "app_mention"}}).encode()
    assert send(built, body, signed_headers(body, at=time.time() - 600)).status == 401
    forged = {**signed_headers(body), "X-Slack-Signature": "v0=" + "0" * 64}
    assert send(built, body, forged).status == 401
    big = b"{" + b" " * MAX_BODY + b"}"
    assert send(built, big, signed_headers(big)).status == 413
    assert call(built.web, PATH, method="GET").status == 405


def test_slacks_ssl_check_is_answered_unsigned(built: Engage) -> None:
    body = b"ssl_check=1&token=unused"
    answer = send(built, body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status == 200


def test_a_well_formed_signed_request_still_reaches_bolt(built: Engage) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "t"}).encode()
    answer = send(built, body, signed_headers(body))
    assert answer.status == 200
    assert b"c-123" in answer.body


HEADER_TEXT = st.text(st.characters(min_codepoint=1, max_codepoint=0xFF), max_size=80)
HEADERS = st.dictionaries(
    st.sampled_from(
        ["Content-Type", "X-Slack-Signature", "X-Slack-Request-Timestamp", "X-Slack-Retry-Num"]
    ),
    HEADER_TEXT,
)
SLACKISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["type", "event", "actions", "user", "view", "team", "channel", "id"])
            | st.text(max_size=6),
            inner,
            max_size=4,
        )
    ),
    max_leaves=10,
)
BODIES = st.one_of(
    st.binary(max_size=200),
    SLACKISH.map(lambda v: json.dumps(v).encode()),
    SLACKISH.map(lambda v: urlencode({"payload": json.dumps(v)}).encode()),
    st.dictionaries(st.text(max_size=8), st.text(max_size=20), max_size=4).map(
        lambda d: urlencode(d).encode()
    ),
)


@bounded(200)
@given(body=BODIES, headers=HEADERS, sign=st.booleans())
def test_no_request_gets_a_5xx_or_a_traceback(
    built: Engage,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    headers: dict[str, str],
    sign: bool,
) -> None:
    caplog.clear()
    if sign:
        headers = {**headers, **signed_headers(body, kind=headers.get("Content-Type", ""))}
    with caplog.at_level(logging.INFO):
        answer = send(built, body, headers)
    event(f"status {answer.status}")
    assert answer.status < 500, (answer.status, answer.body)
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "a listener failed"
    if not sign:
        assert answer.status in (200, 401)
    assert stored(built) == (0, 0, 0)


# The gate's fast reading of a form body must read exactly what urllib does, on any text:
# well-formed (what urlencode writes, whatever the JSON holds) and not.
_FORM_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=300)


@given(_FORM_TEXT)
@bounded(300)
def test_a_form_payload_is_read_as_urllib_reads_it(value: str) -> None:
    body = urlencode({"payload": value})
    assert form_payload(body) == value == dict(parse_qsl(body, keep_blank_values=True))["payload"]


_PIECES = ["%41", "%e9", "%C3%A9", "%c3", "%ED%A0%80", "%", "%4", "%zz", "+", "a", "=", "&", ";"]
_FORM_LIKE = st.lists(st.sampled_from(_PIECES), max_size=20).map(lambda p: "payload=" + "".join(p))


@given(_FORM_LIKE | st.text(alphabet="payload=%+&;_.~*-aZ09fFé \r\n", max_size=60) | _FORM_TEXT)
@bounded(300)
def test_any_form_body_is_read_as_urllib_reads_it(text: str) -> None:
    expected = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
    event("fast" if text.startswith("payload=") and "&" not in text else "urllib")
    assert form_payload(text) == expected
