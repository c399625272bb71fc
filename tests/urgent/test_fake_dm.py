"""The fake Slack's ``conversations.open`` and ``usergroups.users.list`` refuse what Slack
refuses, so the pages' direct messages and the on-call user groups are checked for real."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox.fake_slack import FakeSlack


@pytest.mark.parametrize(
    ("users", "error"),
    [
        ("", "not_enough_users"),
        ("ana", "user_not_found"),
        ("C0PUBWORKS", "user_not_found"),
        ("U0BOT", "cannot_dm_bot"),
        (",".join(f"U0P{i:05d}" for i in range(9)), "too_many_users"),
    ],
)
def test_conversations_open_refuses_like_slack(slack: FakeSlack, users: str, error: str) -> None:
    slack.add_user("U0BOT", "engage", is_bot=True)
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    with pytest.raises(SlackApiError) as caught:
        client.conversations_open(users=users)
    assert caught.value.response["error"] == error


def test_a_page_opens_the_dm_then_posts_in_it(slack: FakeSlack) -> None:
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    channel = client.conversations_open(users="U0ANNA001")["channel"]["id"]
    client.chat_postMessage(channel=channel, text="Urgent")
    assert [m["text"] for m in slack.direct_messages("U0ANNA001")] == ["Urgent"]
    with pytest.raises(SlackApiError) as caught:
        client.usergroups_users_list(usergroup="S0NOSUCH")
    assert caught.value.response["error"] == "no_such_subteam"
