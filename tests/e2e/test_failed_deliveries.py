"""A delivery that failed for good is seen in Slack and retried from there: the triage alert,
the comms team's App Home listing it with Retry, and the card posted once it is pressed."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlmodel import col, select

from bot.app.compose import Engage
from bot.core.slack_ids import ActionId
from bot.sandbox.fake_slack import FakeSlack, wait_until
from storage.db import session_scope
from storage.models import Outbox
from tests.factories import post_webhook

COMMS, STAFF = "U0COMMS01", "U0BOB0001"
PW, TRIAGE = "C0PUBWORKS", "C0TRIAGE01"


def _home(bot: Engage, slack: FakeSlack, user: str) -> dict[str, Any]:
    slack.send_event(f"{bot.url}/slack/events", {"type": "app_home_opened", "user": user})
    home = slack.home(user)
    assert home is not None
    return home


def _statuses(bot: Engage) -> list[str]:
    with session_scope(bot.engine) as s:
        return [row.status for row in s.exec(select(Outbox).order_by(col(Outbox.id)))]


def test_a_failed_card_is_announced_listed_on_the_home_and_retried_from_it(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    slack.fail_next("chat.postMessage", error="not_in_channel")
    bot = make_bot()
    post_webhook(bot.url, {"text": "pothole on Elm Street"})
    wait_until(lambda: _statuses(bot) == ["failed", "done"])  # the card, then the alert
    assert "`not_in_channel`" in slack.messages(TRIAGE)[0]["text"]

    shown = json.dumps(_home(bot, slack, COMMS)["blocks"])
    assert "Failed deliveries*: 1" in shown and "pothole on Elm Street" in shown
    assert "Failed deliveries" not in json.dumps(_home(bot, slack, STAFF)["blocks"])
    assert bot.home.retry_delivery(STAFF, "all") == []  # only the comms team may retry

    home = _home(bot, slack, COMMS)
    slack.click_view(
        f"{bot.url}/slack/events",
        user_id=COMMS,
        view_id=home["id"],
        action_id=ActionId.DELIVERY_RETRY.value,
    )
    wait_until(lambda: slack.messages(PW))
    wait_until(lambda: _statuses(bot) == ["done", "done"])
    assert len(slack.messages(PW)) == 1
    refreshed = slack.home(COMMS)  # published again after the click
    assert refreshed is not None and "Failed deliveries" not in json.dumps(refreshed["blocks"])
