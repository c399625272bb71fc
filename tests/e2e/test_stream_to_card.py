"""A Mastodon mention streamed live becomes a card, and the answer goes back to Mastodon.

The whole bot runs with its real Mastodon adapter against the loopback Mastodon of the adapter
tests (REST and server-sent events).
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.core.slack_ids import ActionId, BlockId, InputId
from bot.sandbox.fake_slack import FakeSlack, wait_until
from tests.e2e.conftest import mastodon_bot
from tests.intake.adapters.test_mastodon import (
    T0,
    FakeMastodon,
    make_notification,
    make_status,
)
from tests.intake.adapters.test_mastodon import snowflake as status_id

PW = "C0PUBWORKS"


def test_streamed_mention_becomes_a_card_and_is_answered_on_mastodon(
    slack: FakeSlack, engine: Engine, mastodon: tuple[FakeMastodon, FakeMastodon]
) -> None:
    rest, streaming = mastodon
    bot = mastodon_bot(slack, engine, mastodon)
    try:
        status = make_status(status_id(T0, 1), "@city there is a pothole on Elm St <!here>")
        streaming.push("/api/v1/streaming/user", "notification", make_notification(7, status))
        card = wait_until(lambda: slack.messages(PW), timeout=10)[0]
        assert "Mastodon" in str(card["blocks"][1])
        assert "&lt;!here&gt;" in card["blocks"][0]["text"]["text"]

        url = f"{bot.url}/slack/events"
        slack.click(
            url, user_id="U0ALICE01", channel=PW, ts=card["ts"], action_id=ActionId.ANSWERED
        )
        view_id = wait_until(lambda: next(iter(slack.views), ""))
        slack.submit_view(
            url,
            user_id="U0ALICE01",
            view_id=view_id,
            values={
                BlockId.ANSWER_TEXT: {InputId.ANSWER_TEXT: "Thanks, a crew is on the way."},
                BlockId.REPLY_ON: {InputId.REPLY_ON: ["yes"]},
            },
        )
        post = wait_until(lambda: rest.hits("/api/v1/statuses", "POST"), timeout=10)[0]
        assert post.form["status"][0].endswith("Thanks, a crew is on the way.")
        assert post.form["in_reply_to_id"] == [status["id"]]
        wait_until(
            lambda: any(
                "was sent to the citizen" in r["text"] for r in slack.replies(PW, card["ts"])
            )
        )
    finally:
        bot.stop()
