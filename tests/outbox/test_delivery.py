"""Delivery under failure: rate limits, 5xx, ambiguous answers, crashes and restarts.

Whatever happens between two steps, a mention ends up as exactly one card.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.app.compose import Engage
from bot.config.file import parse_config
from bot.intake.webhook import parse
from bot.sandbox.fake_slack import FakeSlack, wait_until
from storage import outbox
from storage.db import session_scope
from storage.models import Card, Outbox
from tests.conftest import CONFIG, settings_for
from tests.factories import post_webhook

PW = "C0PUBWORKS"
MakeBot = Callable[..., Engage]


def _posts(slack: FakeSlack, channel: str) -> int:
    return sum(1 for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == channel)


def _outbox(engine: Engine) -> list[Outbox]:
    with session_scope(engine) as s:
        return list(s.exec(select(Outbox).order_by(col(Outbox.id))))


def test_rate_limited_post_is_retried_after_retry_after(
    make_bot: MakeBot, slack: FakeSlack
) -> None:
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    bot = make_bot()
    post_webhook(bot.url, {"text": "pothole"})
    wait_until(lambda: slack.messages(PW), timeout=8)
    calls = [c for c in slack.calls_to("chat.postMessage")]
    assert len(calls) == 2 and len(slack.messages(PW)) == 1
    assert calls[1].at - calls[0].at >= 0.9  # waited for Retry-After


def test_server_errors_are_retried_without_a_double_post(
    make_bot: MakeBot, slack: FakeSlack
) -> None:
    slack.fail_next("chat.postMessage", status=500, body="<html>oops</html>")
    slack.fail_next("chat.postMessage", error="internal_error", apply=True)  # posted anyway
    bot = make_bot()
    bot.delivery.first_backoff = 0.05
    post_webhook(bot.url, {"text": "pothole"})
    wait_until(lambda: _outbox(bot.engine)[0].status == "done", timeout=15)
    assert len(slack.messages(PW)) == 1
    # The second attempt's message was found by its metadata instead of being posted again.
    assert _posts(slack, PW) == 2
    assert slack.calls_to("conversations.history")
    row = _outbox(bot.engine)[0]
    assert row.result.get("recovered") is True
    with session_scope(bot.engine) as s:
        card = s.exec(select(Card)).one()
        assert card.ts == slack.messages(PW)[0]["ts"]


def test_a_timeout_after_slack_posted_leads_to_one_card(
    make_bot: MakeBot, slack: FakeSlack
) -> None:
    bot = make_bot()
    bot.delivery.client.timeout = 1
    slack.delay("chat.postMessage", 1.5)
    post_webhook(bot.url, {"text": "pothole"})
    wait_until(lambda: slack.calls_to("chat.postMessage"))
    slack.delay("chat.postMessage", 0)
    wait_until(lambda: _outbox(bot.engine)[0].status == "done", timeout=15)
    assert len(slack.messages(PW)) == 1


def test_permanent_errors_fail_the_row_and_others_flow(make_bot: MakeBot, slack: FakeSlack) -> None:
    config = CONFIG.replace("channel: C0PARKS001", "channel: GNOSUCHCH1")
    slack.fail_next("chat.postMessage", error="channel_not_found")
    bot = make_bot(config)
    post_webhook(bot.url, {"text": "playground swings are broken"})
    post_webhook(bot.url, {"text": "pothole"})
    wait_until(lambda: slack.messages(PW))
    wait_until(lambda: _outbox(bot.engine)[0].status == "failed")
    assert "channel_not_found" in (_outbox(bot.engine)[0].last_error or "")


def test_channels_are_paced_without_holding_up_other_channels(
    make_bot: MakeBot, slack: FakeSlack
) -> None:
    bot = make_bot(CONFIG.replace("channel_interval: 0", "channel_interval: 1.0"))
    for i in range(3):
        post_webhook(bot.url, {"text": f"pothole {i}"})
    post_webhook(bot.url, {"text": "playground"})
    wait_until(lambda: len(slack.messages(PW)) == 3, timeout=10)
    pw = [c.at for c in slack.calls_to("chat.postMessage") if c.args["channel"] == PW]
    parks = [c.at for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "C0PARKS001"]
    assert all(b - a >= 0.9 for a, b in itertools.pairwise(pw))
    assert parks and parks[0] < pw[-1]  # the parks card did not wait behind the queue


def _bot(slack: FakeSlack, engine: Engine) -> Engage:
    return Engage(settings_for(slack), parse_config(CONFIG), engine=engine, migrate=False)


def test_crash_after_storing_posts_once_on_restart(slack: FakeSlack, engine: Engine) -> None:
    dead = _bot(slack, engine)  # stored the mention, then died before delivering
    dead.ingest_one(parse(b'{"id": "x1", "text": "pothole"}'))
    assert slack.calls_to("chat.postMessage") == []
    bot = _bot(slack, engine)
    bot.start(host="127.0.0.1", port=0)
    try:
        wait_until(lambda: slack.messages(PW))
        bot.delivery.drain(timeout=1)
        assert len(slack.messages(PW)) == 1
    finally:
        bot.stop()


def test_crash_during_the_post_is_resolved_by_looking_first(
    slack: FakeSlack, engine: Engine
) -> None:
    dead = _bot(slack, engine)
    dead.ingest_one(parse(b'{"id": "x2", "text": "pothole"}'))
    crashed = _bot(slack, engine)  # leased the row and posted, then died before recording it
    job = crashed.delivery._take()
    assert not isinstance(job, float)
    slack_client = crashed.client
    slack_client.chat_postMessage(
        channel=PW,
        text="card",
        metadata={"event_type": "engage_message", "event_payload": {"outbox_id": job.id}},
    )
    with session_scope(engine) as s:  # the lease runs out
        row = s.get(Outbox, job.id)
        assert row is not None and row.needs_check
        row.leased_until = row.created_at - timedelta(seconds=1)
        s.add(row)
    bot = _bot(slack, engine)
    bot.start(host="127.0.0.1", port=0)
    try:
        wait_until(lambda: _outbox(engine)[0].status == "done")
        assert len(slack.messages(PW)) == 1
        with session_scope(engine) as s:
            assert s.exec(select(Card)).one().ts == slack.messages(PW)[0]["ts"]
    finally:
        bot.stop()


def test_crash_before_the_post_posts_once(slack: FakeSlack, engine: Engine) -> None:
    dead = _bot(slack, engine)
    dead.ingest_one(parse(b'{"id": "x3", "text": "pothole"}'))
    crashed = _bot(slack, engine)  # leased the row, died before calling Slack
    job = crashed.delivery._take()
    assert not isinstance(job, float)
    with session_scope(engine) as s:
        outbox.reschedule(
            session=s, row_id=job.id, at=job.created_at, error="crash", needs_check=True
        )
    bot = _bot(slack, engine)
    bot.start(host="127.0.0.1", port=0)
    try:
        wait_until(lambda: _outbox(engine)[0].status == "done")
        assert len(slack.messages(PW)) == 1
        assert slack.calls_to("conversations.history")  # it looked before posting
    finally:
        bot.stop()
