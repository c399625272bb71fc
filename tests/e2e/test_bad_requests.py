"""Issue 12 over real HTTP (waitress on loopback, SQLite and PostgreSQL): bodies that answered
500 before are a 4xx now, on both endpoints, and leave nothing stored.

The full tables of cases and the property tests call the WSGI app directly
(``tests/app/``); this checks the server in front of it changes nothing of that.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
from sqlmodel import select

from bot.app.compose import Engage
from storage.db import session_scope
from storage.models import Event, Mention
from tests.app.test_slack_gate import signed_headers
from tests.factories import post_webhook

MakeBot = Callable[..., Engage]
DEEP = b"[" * 5000 + b"]" * 5000


def test_bad_requests_get_a_4xx_and_store_nothing(make_bot: MakeBot) -> None:
    bot = make_bot()
    webhook = [
        (b'{"text": "pot\\u0000hole"}', 422),  # PostgreSQL refused the NUL: 500
        (b'{"text": "\\ud800"}', 422),
        (b'{"text": "x", "extra": ' + DEEP + b"}", 400),
        (b'{"text": "x", "created_at": "9999-12-31T23:59:59-10:00"}', 422),
    ]
    for body, status in webhook:
        assert post_webhook(bot.url, body).status_code == status, body[:40]
    signature = {b"X-Engage-Signature": ("sha256=" + "\u00e9" * 64).encode("latin-1")}
    forged = httpx.post(f"{bot.url}/ingest/webhook", content=b"{}", headers=signature)
    assert forged.status_code == 401
    url = f"{bot.url}/slack/events"
    for body in (b"not json", b"\xff\xfe", b"[1]", DEEP):
        unsigned = httpx.post(url, content=body, headers={"Content-Type": "application/json"})
        assert unsigned.status_code == 401
        signed = signed_headers(body, kind="application/json")
        assert httpx.post(url, content=body, headers=signed).status_code == 400
    with session_scope(bot.engine) as session:
        assert session.exec(select(Mention)).all() == []
        assert session.exec(select(Event)).all() == []
