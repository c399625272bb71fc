"""Giving up: never for rate limits, at once for what no retry can change, after the time budget
for transient errors; and then the triage channel hears of it once, and a retry brings it back.

The bot is built but not started and ``delivery.drain()`` runs the worker in the test's thread,
so the order of Slack calls (and of the faults they meet) is the order of the rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.app.compose import Engage
from bot.config.file import parse_config
from bot.core.adapter import IncomingMention
from bot.sandbox.clock import MovableClock
from bot.sandbox.fake_slack import FakeSlack, wait_until
from storage.db import session_scope
from storage.models import Outbox
from tests.conftest import CONFIG, settings_for

PW, TRIAGE = "C0PUBWORKS", "C0TRIAGE01"


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def bot(slack: FakeSlack, engine: Engine, clock: MovableClock) -> Iterator[Engage]:
    engage = Engage(
        settings_for(slack), parse_config(CONFIG), engine=engine, clock=clock, migrate=False
    )
    engage.delivery.first_backoff = 0.01  # the budget, not the backoff, is what is tested
    yield engage


def _ingest(bot: Engage, *texts: str) -> None:
    for i, text in enumerate(texts):
        bot.ingest_one(IncomingMention(source="webhook", external_id=f"m{i}", text=text))


def _rows(bot: Engage) -> list[Outbox]:
    with session_scope(bot.engine) as s:
        return list(s.exec(select(Outbox).order_by(col(Outbox.id))))


def _settle(bot: Engage) -> None:
    """Run the worker until no row is pending (backoffs of a few milliseconds included)."""

    def settled() -> bool:
        bot.delivery.drain(timeout=1)
        return all(r.status != "pending" for r in _rows(bot))

    wait_until(settled)


def _posts(slack: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [c.args for c in slack.calls_to("chat.postMessage") if c.args["channel"] == channel]


def test_rate_limits_never_use_up_the_budget_and_a_5xx_after_them_is_retried(
    bot: Engage, slack: FakeSlack
) -> None:
    # Seven 429s then one 500 used to leave the card "failed for good" (eight attempts).
    slack.fail_next("chat.postMessage", status=429, retry_after=0, times=7)
    slack.fail_next("chat.postMessage", status=500, body="<html>oops</html>")
    _ingest(bot, "pothole on Elm")
    _settle(bot)
    [row] = _rows(bot)
    assert row.status == "done" and row.failures == 1 and row.attempts == 9
    assert len(slack.messages(PW)) == 1


def test_not_in_channel_fails_at_once_and_triage_hears_once(bot: Engage, slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", error="not_in_channel", times=2)
    _ingest(bot, "pothole on Elm", "street light out on Oak")
    bot.delivery.drain(timeout=5)
    first, second, alert = _rows(bot)
    assert (first.status, second.status, alert.status) == ("failed", "failed", "done")
    assert "not_in_channel" in (first.last_error or "")
    assert len(_posts(slack, PW)) == 2  # no retry: only a person can invite the bot
    [told] = slack.messages(TRIAGE)
    assert f"<#{PW}>" in told["text"] and "`not_in_channel`" in told["text"]
    assert "/invite" in told["text"]

    # Someone invites the bot and presses Retry: both cards go out; the alert is re-armed.
    assert bot.delivery.failed.retry() == [first.id, second.id]
    bot.delivery.drain(timeout=5)
    assert len(slack.messages(PW)) == 2 and [r.status for r in _rows(bot)] == ["done"] * 3
    slack.fail_next("chat.postMessage", error="not_in_channel")
    _ingest(bot, "pothole on Elm", "street light out on Oak", "bins not collected on Main")
    bot.delivery.drain(timeout=5)
    assert len(slack.messages(TRIAGE)) == 2


def test_transient_errors_are_retried_for_the_time_budget_then_announced(
    bot: Engage, slack: FakeSlack, clock: MovableClock
) -> None:
    # The clock runs on real time: a backoff of milliseconds could fall due inside one drain
    # on a busy machine. 20 s (then up to 40 s) cannot, and the minute below covers it.
    bot.delivery.first_backoff = 20.0
    slack.fail_next("chat.postMessage", status=500, body="<html>down</html>", times=3)
    _ingest(bot, "pothole on Elm")
    bot.delivery.drain(timeout=5)
    clock.advance(timedelta(hours=5, minutes=59))
    bot.delivery.drain(timeout=5)
    [row] = _rows(bot)
    assert row.status == "pending" and row.failures == 2  # 5 h 59 min: still inside the budget
    assert row.needs_check  # a 5xx may have posted: the next attempt looks first
    clock.advance(timedelta(minutes=1))
    bot.delivery.drain(timeout=5)
    row, alert = _rows(bot)
    assert row.status == "failed" and "failing for 6 h" in (row.last_error or "")
    assert alert.status == "done" and "`http_500`" in slack.messages(TRIAGE)[0]["text"]
    assert slack.calls_to("conversations.history")  # it looked before each post again
