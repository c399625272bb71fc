"""``POST /ingest/webhook`` through the WSGI app: a 4xx and nothing stored for every bad body
(on SQLite and PostgreSQL, where a NUL used to fail the insert), and a property: no body,
signed or not, gets a 5xx, and nothing is stored unless the answer is 202.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from bot.app.compose import Engage
from bot.core.slack_ids import BlockId
from bot.intake.webhook import MAX_BODY, SIGNATURE_HEADER, sign
from bot.sandbox.fake_slack import FakeSlack
from tests.app.conftest import stored
from tests.app.wsgi import Answer, call
from tests.conftest import WEBHOOK_SECRET
from tests.intake.test_webhook import BODIES, VALID
from tests.properties import bounded

PATH = "/ingest/webhook"


def post(bot: Engage, body: bytes | dict[str, Any], signature: str | None = None) -> Answer:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    headers[SIGNATURE_HEADER] = sign(WEBHOOK_SECRET, raw) if signature is None else signature
    return call(bot.web, PATH, raw, headers)


BAD_BODIES = [
    (b'{"text": "pot\\u0000hole"}', 422, "'text'"),
    (b'{"text": "x", "author": "Ana\\u0000"}', 422, "'author'"),
    (b'{"text": "x", "title": "\\udfff"}', 422, "'title'"),
    (b'{"text": "x", "language": "' + b"x" * 17 + b'"}', 422, "'language'"),
    (b'{"text": "x", "created_at": "9999-12-31T23:59:59-10:00"}', 422, "'created_at'"),
    (b'{"text": "x", "id": ' + b"1" * 5000 + b"}", 422, "'id'"),
    (b'{"text": "x", "extra": {"lat": NaN, "lon": 0}}', 422, "'extra.lat'"),
    (b'{"text": "x", "extra": {"care": 7}}', 422, "'extra'"),
    (b'{"text": "x", "extra": {"status_update_of": "form-1"}}', 422, "'extra'"),
    (b'{"text": ' + b"[" * 5000 + b"]" * 5000 + b"}", 400, "nested"),
]


def test_bad_bodies_are_a_4xx_naming_the_field_and_store_nothing(built_on_both: Engage) -> None:
    for body, status, field in BAD_BODIES:
        answer = post(built_on_both, body)
        assert answer.status == status, (body[:60], answer.body)
        assert field in json.loads(answer.body)["error"], (body[:60], answer.body)
    assert stored(built_on_both) == (0, 0, 0)


def test_a_non_ascii_signature_is_a_401(built: Engage) -> None:
    answer = post(built, {"text": "pothole"}, signature="sha256=" + "\u00e9" * 64)
    assert answer.status == 401
    assert stored(built) == (0, 0, 0)


def test_a_long_text_is_accepted_and_its_card_is_cut(built: Engage, slack: FakeSlack) -> None:
    """Up to the body limit (256 KiB) a text is stored whole; the card cuts it for Slack."""
    text = "pothole & <b> " * 18_000  # 252,000 characters, 1 KiB under the limit as JSON
    body = json.dumps({"text": text, "url": "https://forms.example/r/1"}).encode()
    assert len(body) <= MAX_BODY
    answer = post(built, body)
    assert answer.status == 202, answer.body
    built.delivery.drain()
    [card] = slack.messages("C0PUBWORKS")
    assert len(card["text"]) <= 400
    section = next(b for b in card["blocks"] if b.get("block_id") == BlockId.CARD_TEXT)
    assert len(section["text"]["text"]) <= 3000
    assert section["text"]["text"].endswith("… (cut: open the original for the rest)")
    too_big = json.dumps({"text": "x" * MAX_BODY}).encode()
    assert post(built, too_big).status == 413


def test_a_bad_content_length_is_a_400(built: Engage) -> None:
    for length in ("-1", "abc", "1e3", "\u0661"):
        headers = {"Content-Type": "application/json", "Content-Length": length}
        assert call(built.web, PATH, b"{}", headers).status == 400, length
        assert call(built.web, "/slack/events", b"{}", headers).status == 400, length


UNSIGNED = st.one_of(st.none(), st.text(max_size=80), st.just("sha256=" + "0" * 64))


@bounded(120)
@given(body=BODIES | VALID, signed=st.sampled_from([True, True, True, False]), forged=UNSIGNED)
def test_no_body_gets_a_5xx_and_only_a_202_stores_anything(
    built: Engage, caplog: pytest.LogCaptureFixture, body: bytes, signed: bool, forged: str | None
) -> None:
    before = stored(built)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        answer = post(built, body, None if signed else (forged or ""))
    event(f"status {answer.status}")
    assert answer.status in (200, 202, 400, 401, 413, 422), answer.body
    assert json.loads(answer.body)["ok"] is (answer.status < 400)
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    if answer.status != 202:
        assert stored(built) == before
    else:
        assert stored(built)[0] == before[0] + 1
