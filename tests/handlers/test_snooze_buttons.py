"""A reminder's two snooze buttons have their own ``action_id`` each (Slack refuses two alike
in one actions block), and a reminder sent before that, whose buttons both say
``engage.snooze``, still snoozes: through the middle tier, into the real nudger.
"""

from __future__ import annotations

import pytest

from bot.app.compose import Engage
from bot.core.adapter import IncomingMention
from bot.core.blocks import actions, button, section
from bot.core.slack_ids import ActionId
from bot.sandbox.fake_slack import FakeSlack
from tests.factories import events_of
from tests.handlers.dispatch import Dispatcher, click

PW, ALICE = "C0PUBWORKS", "U0ALICE01"


@pytest.mark.parametrize(
    ("action_id", "choice"),
    [
        (ActionId.SNOOZE_HOUR, "1h"),
        (ActionId.SNOOZE_TOMORROW, "tomorrow"),
        (ActionId.SNOOZE, "1h"),  # a reminder already in Slack
        (ActionId.SNOOZE, "tomorrow"),
    ],
)
def test_each_snooze_button_snoozes(
    bolt: Dispatcher, engage: Engage, slack: FakeSlack, action_id: ActionId, choice: str
) -> None:
    result = engage.ingest_one(IncomingMention(source="webhook", external_id="f", text="pothole"))
    assert result.mention_id is not None
    reminder = {
        "ts": "1700000000.000100",
        "thread_ts": "1700000000.000001",
        "text": "Could someone take this one?",
        "blocks": [
            section("Could someone take this one?"),
            actions([button("Snooze", action_id, f"{result.mention_id}:{choice}")]),
        ],
    }
    response = bolt.interaction(click(ALICE, channel=PW, message=reminder, action_id=action_id))
    assert response.status == 200
    [snoozed] = events_of(engage, "snoozed")
    assert (snoozed.actor, snoozed.data["choice"]) == (ALICE, choice)
