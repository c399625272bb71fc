"""Summaries through Slack: the slash command, *Post to channel* with its chart, the digest."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.app.compose import Engage
from bot.core.adapter import IncomingMention
from bot.core.slack_ids import ActionId
from bot.sandbox.fake_slack import FakeSlack, wait_until
from tests.conftest import CONFIG

NY = ZoneInfo("America/New_York")
PW = "C0PUBWORKS"
LEAD = "U0LEADPW1"


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def _week(make_bot: Callable[..., Engage], slack: FakeSlack) -> tuple[Engage, Clock]:
    """Last week in Public Works: three mentions, two answered by Alice, one still open."""
    slack.add_channel(PW, "public-works", ["U0ALICE01", "U0BOB0001", LEAD])
    clock = Clock(datetime(2026, 11, 16, 10, 0, tzinfo=NY).astimezone(UTC))  # Monday 10:00
    bot = make_bot(CONFIG, clock=clock)
    ids = []
    for n, text in enumerate(["pothole on Elm", "pothole on Oak", "pothole near the school"]):
        clock.at = datetime(2026, 11, 16 + n, 10, 0, tzinfo=NY).astimezone(UTC)
        result = bot.ingest_one(IncomingMention(source="webhook", external_id=text, text=text))
        assert result.mention_id is not None
        ids.append(result.mention_id)
    for mention_id in ids[:2]:
        clock.at += timedelta(hours=1)
        bot.claims.answer(
            mention_id=mention_id,
            user_id="U0ALICE01",
            text="On it",
            request_key=f"answer:{mention_id}",
        )
    clock.at = datetime(2026, 11, 24, 9, 30, tzinfo=NY).astimezone(UTC)  # the next Tuesday
    return bot, clock


def test_summary_command_and_post_to_channel(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot, _ = _week(make_bot, slack)
    url = f"{bot.url}/slack/events"
    result = slack.slash_command(url, user_id=LEAD, channel=PW, text="summary last week")
    assert result.status == 200
    reply = json.loads(result.body)
    text = "\n".join(b["text"]["text"] for b in reply["blocks"] if b["type"] == "section")
    assert "Public Works" in text and "last week" in text
    assert "3" in text  # received
    assert "<@U0BOB0001>" in text  # the lead sees who has not answered yet
    button = reply["blocks"][-1]["elements"][0]
    assert button["action_id"] == ActionId.POST_SUMMARY
    assert button["value"] == "public-works|last week"

    staff = json.loads(
        slack.slash_command(url, user_id="U0BOB0001", channel=PW, text="summary last week").body
    )
    assert "<@U0BOB0001>" not in json.dumps(staff)  # the invitation list is the lead's only

    bad = slack.slash_command(url, user_id=LEAD, channel=PW, text="summary next century").body
    assert "Try `/engage summary`" in bad


def test_post_to_channel_shares_the_text_and_the_chart(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot, _ = _week(make_bot, slack)
    card = wait_until(lambda: slack.messages(PW) if len(slack.messages(PW)) == 3 else [])[0]
    before = len(slack.messages(PW))
    report = bot.summaries.report(department="public-works", period="last week", lead_view=False)
    bot.summaries.post(report, channel=PW, key="test")
    posted = wait_until(
        lambda: slack.messages(PW)[before:] if len(slack.messages(PW)) >= before + 2 else []
    )
    assert "Public Works" in posted[0]["text"]
    assert "<@U0BOB0001>" not in posted[0]["text"]
    assert posted[1]["files"][0]["name"] == "summary.png"
    chart = next(f for f in slack.files.values() if f["name"] == "summary.png")
    assert chart["data"].startswith(b"\x89PNG")
    assert "Public Works: last week" in chart["alt_txt"]  # the same story for screen readers
    assert card["ts"] != posted[0]["ts"]


def test_weekly_digest_goes_to_the_leads_and_is_scheduled_in_their_time_zone(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot, _ = _week(make_bot, slack)
    bot.summaries.digest("public-works")
    bot.summaries.digest("public-works")  # a second replica: nothing twice
    dms = wait_until(
        lambda: slack.direct_messages(LEAD) if len(slack.direct_messages(LEAD)) >= 2 else []
    )
    assert len(dms) == 2 and "last week" in dms[0]["text"] and dms[1]["files"]
    job = bot.scheduler.get_job("digest:public-works")
    assert job is not None
    fires = job.trigger.get_next_fire_time(None, datetime(2026, 11, 24, tzinfo=UTC))
    assert fires.astimezone(NY).strftime("%a %H:%M") == "Mon 09:00"
    assert bot.scheduler.get_job("digest:city") is not None


def test_app_home_shows_claims_what_waits_and_the_leads_summary(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot, _ = _week(make_bot, slack)
    wait_until(lambda: len(slack.messages(PW)) == 3)
    url = f"{bot.url}/slack/events"
    opened = {"type": "app_home_opened", "user": LEAD, "channel": "D0LEAD", "tab": "home"}
    assert slack.send_event(url, opened).status == 200
    view = wait_until(lambda: slack.home(LEAD) or {})
    text = json.dumps(view["blocks"])
    assert "Your open claims" in text and "Waiting for a claim in Public Works" in text
    assert "pothole near the school" in text  # the one still open
    assert "summary" in text  # the lead's current summary

    staff = {"type": "app_home_opened", "user": "U0BOB0001", "channel": "D0BOB", "tab": "home"}
    slack.send_event(url, staff)
    staff_view = wait_until(lambda: slack.home("U0BOB0001") or {})
    assert "summary" not in json.dumps(staff_view["blocks"])
