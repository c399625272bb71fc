"""A Mastodon mention streamed live becomes a card, and the answer goes back to Mastodon.

The whole bot runs with its real Mastodon adapter against the loopback Mastodon of the adapter
tests (REST and server-sent events).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from bot.app.compose import Engage
from bot.config.file import parse_config
from bot.core.slack_ids import ActionId, BlockId, InputId
from bot.sandbox.fake_slack import FakeSlack, wait_until
from tests.conftest import CONFIG, settings_for
from tests.intake.adapters.test_mastodon import (
    T0,
    TOKEN,
    FakeMastodon,
    make_notification,
    make_status,
)
from tests.intake.adapters.test_mastodon import snowflake as status_id

PW = "C0PUBWORKS"


@pytest.fixture
def mastodon() -> Iterator[tuple[FakeMastodon, FakeMastodon]]:
    rest, streaming = FakeMastodon(), FakeMastodon()
    rest.instance_v1["urls"] = {"streaming_api": streaming.url.replace("http://", "ws://")}
    yield rest, streaming
    rest.close()
    streaming.close()


def test_streamed_mention_becomes_a_card_and_is_answered_on_mastodon(
    slack: FakeSlack, engine: Engine, mastodon: tuple[FakeMastodon, FakeMastodon]
) -> None:
    rest, streaming = mastodon
    config = parse_config(
        CONFIG + f"adapters:\n  - {{type: mastodon, name: city-masto, base_url: '{rest.url}', "
        "stream: true}\n"
    )
    settings = settings_for(slack, env={"MASTODON_ACCESS_TOKEN": TOKEN})
    bot = Engage(settings, config, engine=engine, migrate=False)
    bot.start(host="127.0.0.1", port=0)
    try:
        streaming.wait_streams("/api/v1/streaming/user/notification", 1)
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
