"""Clicks acked once kept, decided after (``bot.claims.click_queue``), on SQLite and PostgreSQL.

Signed requests into the WSGI app of an Engage that is built but not started, so the click
worker runs only when a test starts it: what a crash between the ack and the decision leaves,
and what the next start makes of it, can be looked at directly.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.app.compose import Engage
from bot.claims.click_queue import ClickQueue
from bot.config.file import parse_config
from bot.core.adapter import IncomingMention
from bot.core.slack_ids import ActionId
from bot.sandbox.fake_slack import FakeSlack
from storage.claims.click_requests import ClickRequest
from storage.db import _unit_lock, make_engine, session_scope
from storage.models import Mention
from tests.app.test_slack_gate import signed_headers
from tests.app.wsgi import Answer, call
from tests.conftest import CONFIG, settings_for
from tests.factories import events_of
from tests.handlers.dispatch import click

PW = "C0PUBWORKS"
ALICE = "U0ALICE01"


def _card(bot: Engage, slack: FakeSlack, n: int = 1) -> dict[str, Any]:
    text = f"pothole on Elm number {n}"
    bot.ingest_one(IncomingMention(source="webhook", external_id=f"f-{n}", text=text))
    bot.delivery.drain()
    return slack.messages(PW)[-1]


def _send(bot: Engage, payload: dict[str, Any]) -> Answer:
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return call(bot.web, "/slack/events", body, signed_headers(body))


def _kept(engine: Engine) -> list[tuple[str, str]]:
    with session_scope(engine) as s:
        return [(r.action, r.user_id) for r in s.exec(select(ClickRequest))]


def _mention(engine: Engine) -> tuple[str, str | None]:
    with session_scope(engine) as s:
        [m] = s.exec(select(Mention)).all()
        return m.status, m.claimed_by


def test_clicks_kept_before_a_crash_are_decided_in_order_at_the_next_start(
    built_on_both: Engage, slack: FakeSlack
) -> None:
    bot = built_on_both
    card = _card(bot, slack)
    # Acked, then the process died before deciding: claim, then release, by the same person
    # (on a card that still shows Claim: the release is the claim's payload, a second later).
    claim = click(ALICE, channel=PW, message=card, action_id=ActionId.CLAIM)
    release = json.loads(json.dumps(claim))
    release["actions"][0] |= {"action_id": ActionId.RELEASE.value, "action_ts": "1700000001.5"}
    assert [_send(bot, claim).status, _send(bot, release).status] == [200, 200]
    assert _kept(bot.engine) == [("claim", ALICE), ("release", ALICE)]
    assert _mention(bot.engine) == ("new", None)

    again = Engage(settings_for(slack), parse_config(CONFIG), engine=bot.engine, migrate=False)
    again.click_queue.start()
    try:
        assert again.click_queue.settle()
    finally:
        again.click_queue.stop()
    assert _kept(bot.engine) == []
    [claimed], [released] = events_of(bot, "claimed"), events_of(bot, "released")
    assert claimed.id is not None and released.id is not None and claimed.id < released.id
    assert _mention(bot.engine) == ("new", None)


def test_a_click_that_cannot_be_kept_is_a_503_and_changes_nothing(
    built_on_both: Engage, slack: FakeSlack
) -> None:
    bot = built_on_both
    card = _card(bot, slack)
    bot.click_queue.engine = make_engine("postgresql+psycopg://engage@127.0.0.1:9/gone")

    answer = _send(bot, click(ALICE, channel=PW, message=card, action_id=ActionId.CLAIM))

    assert answer.status == 503  # Slack shows the person the click did not work
    assert _kept(bot.engine) == []
    assert _mention(bot.engine) == ("new", None)


def test_clicks_arriving_together_are_kept_in_a_few_commits(
    built: Engage, slack: FakeSlack
) -> None:
    bot = built
    cards = [_card(bot, slack, n) for n in range(40)]
    commits: list[int] = []
    event.listen(bot.engine, "commit", lambda _conn: commits.append(1))
    bot.click_queue.start(apply=False)
    users = [f"U0MANY{n:04d}" for n in range(len(cards))]
    try:
        # The first commit waits for SQLite's writer turn, held here: the rest arrive meanwhile.
        with _unit_lock(bot.engine):
            threads = [
                threading.Thread(
                    target=_send,
                    args=(bot, click(u, channel=PW, message=c, action_id=ActionId.CLAIM)),
                )
                for u, c in zip(users, cards, strict=True)
            ]
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 20
            while len(bot.click_queue._waiting) < 30 and time.monotonic() < deadline:
                time.sleep(0.01)
        for thread in threads:
            thread.join()
    finally:
        bot.click_queue.stop()
    assert sorted(user for _, user in _kept(bot.engine)) == users
    assert len(commits) <= 5  # 40 clicks, about 30 of which waited together


def test_a_click_whose_decision_keeps_failing_is_dropped_and_the_others_go_on(
    built_on_both: Engage, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = built_on_both
    first, second = _card(bot, slack, 1), _card(bot, slack, 2)
    for card in (first, second):
        answer = _send(bot, click(ALICE, channel=PW, message=card, action_id=ActionId.CLAIM))
        assert answer.status == 200
    broken = int(first["blocks"][-1]["elements"][0]["value"])
    claim = bot.claims.claim

    def failing(**kw: Any) -> Any:  # a bug in deciding one mention's click
        if kw["mention_id"] == broken:
            raise RuntimeError("boom")
        return claim(**kw)

    monkeypatch.setattr(bot.claims, "claim", failing)
    queue: ClickQueue = bot.click_queue
    for _ in range(3):
        queue.apply_pending()
    assert _kept(bot.engine) == []  # the failing one given up after three tries
    [claimed] = events_of(bot, "claimed")
    assert claimed.mention_id != broken
