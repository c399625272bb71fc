"""The urgent lane end to end: the bot runs for real against the fake Slack, on a clock the test
moves; the urgent sweep and the nudge sweep are called directly (their jobs are set an hour
apart so they do not interfere).

Sunday 29 November 2026, 02:00 in New York: Public Works is closed until Monday 09:00. Its
rotation started on Monday 2 November, so the week of the 23rd is Anna's, and Ben is next.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.app.compose import Engage
from bot.config.file import parse_config
from bot.core.adapter import IncomingMention
from bot.core.slack_ids import ActionId
from bot.sandbox.fake_slack import FakeSlack, wait_until
from storage.db import session_scope
from storage.models import Mention, Nudge
from storage.urgent.tables import UrgentPage
from tests.conftest import settings_for
from tests.factories import Clock, events_of, settled

NY = ZoneInfo("America/New_York")
PW = "C0PUBWORKS"
ANNA, BEN, CARL, LEAD, COMMS = "U0ANNA001", "U0BEN0001", "U0CARL001", "U0LEADPW1", "U0COMMS01"
CONFIG = f"""
triage: {{channel: C0TRIAGE01}}
comms_team: {{users: [{COMMS}]}}
departments:
  - slug: public-works
    name: Public Works
    channel: {PW}
    leads: [{LEAD}]
    timezone: America/New_York
    office_hours: {{hours: {{mon-fri: "09:00-17:00"}}}}
    sla: {{claim: 60m, answer: 2h, warn_at: 0.75}}
    oncall:
      rotation: [{ANNA}, {BEN}, {CARL}]
      starts: 2026-11-02
      overrides: [{{from: 2026-12-24, until: 2026-12-26, user: {CARL}}}]
rules:
  - {{name: streets, department: public-works, keywords: [pothole, elm]}}
  - {{name: gas meters, department: public-works, keywords: [meter], urgent: true}}
delivery: {{channel_interval: 0}}
nudges: {{sweep_every: 3600}}
urgent: {{sweep_every: 3600, ack_minutes: 10}}
"""


# The conditional updates and unique rows that make paging safe run on both databases in the
# ladder and restart tests; the clicks and commands on SQLite only, to keep the suite fast.
sqlite_only = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def ny(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=NY).astimezone(UTC)


def _start(make_bot: Callable[..., Engage], slack: FakeSlack, at: datetime) -> tuple[Engage, Clock]:
    for user in (ANNA, BEN, CARL, LEAD, COMMS):
        slack.add_user(user, user.lower())
    slack.add_channel(PW, "public-works", [ANNA, BEN, CARL, "U0BOT"])
    clock = Clock(at)
    return make_bot(CONFIG, clock=clock), clock


def _mention(bot: Engage, text: str) -> int:
    result = bot.ingest_one(IncomingMention(source="webhook", external_id=text, text=text))
    assert result.mention_id is not None
    settled(bot)
    return result.mention_id


def _page(bot: Engage, clock: Clock, at: datetime) -> int:
    clock.at = at
    paged = bot.urgent.sweep()
    settled(bot)
    return paged


def _pages(slack: FakeSlack, user: str) -> list[dict[str, Any]]:
    return [m for m in slack.direct_messages(user) if "Urgent" in m.get("text", "")]


def _stages(bot: Engage) -> list[str]:
    with session_scope(bot.engine) as s:
        return [p.stage for p in s.exec(select(UrgentPage).order_by(UrgentPage.id))]  # type: ignore[arg-type]


def test_an_urgent_mention_at_night_pages_at_once_and_escalates_while_others_wait(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot, clock = _start(make_bot, slack, ny(29, 2))
    urgent = _mention(bot, "Downed power line on Elm St, sparks everywhere")
    ordinary = _mention(bot, "pothole on Oak, please fix")
    card = slack.messages(PW)[0]
    assert "Urgent" in str(card["blocks"]) and "downed power line" in str(card["blocks"])

    assert _page(bot, clock, ny(29, 2)) == 1
    [page] = _pages(slack, ANNA)
    assert "You are on call for *Public Works*" in str(page["blocks"])
    buttons = [
        e["action_id"] for b in page["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert buttons == [ActionId.URGENT_ACK.value, ActionId.URGENT_DOWNGRADE.value]
    # The DM was opened the documented way, then posted in.
    assert [c.args["users"] for c in slack.calls_to("conversations.open")] == [ANNA]

    # Nobody acknowledges: the next person, then the lead, then the comms team, 10 min apart.
    assert _page(bot, clock, ny(29, 2, 9)) == 0
    assert _page(bot, clock, ny(29, 2, 10)) == 1
    assert len(_pages(slack, BEN)) == 1 and "has not acknowledged" in str(_pages(slack, BEN))
    assert _page(bot, clock, ny(29, 2, 20)) == 1 and len(_pages(slack, LEAD)) == 1
    assert _page(bot, clock, ny(29, 2, 30)) == 1 and len(_pages(slack, COMMS)) == 1
    assert _page(bot, clock, ny(29, 3, 30)) == 0
    assert _stages(bot) == ["oncall", "next", "lead", "comms"]
    assert [len(_pages(slack, u)) for u in (ANNA, BEN, LEAD, COMMS)] == [1, 1, 1, 1]
    assert [e.data["stage"] for e in events_of(bot, "paged")] == ["oncall", "next", "lead", "comms"]

    # The ordinary mention waits for Monday: no reminder at night, one after the office opens.
    clock.at = ny(29, 4)
    bot.nudger.sweep()
    with session_scope(bot.engine) as s:
        assert s.exec(select(Nudge).where(Nudge.mention_id == ordinary)).all() == []
        waits = s.get(Mention, ordinary)
        assert waits is not None and waits.next_nudge_at is not None
        assert waits.next_nudge_at >= ny(30, 9)
    clock.at = ny(30, 9, 50)
    bot.nudger.sweep()
    with session_scope(bot.engine) as s:
        assert s.exec(select(Nudge).where(Nudge.mention_id == ordinary)).all() != []
    assert urgent != ordinary


@sqlite_only
def test_acknowledge_stops_the_escalation(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot, clock = _start(make_bot, slack, ny(29, 2))
    mention = _mention(bot, "Smell of gas near the school on Elm")
    _page(bot, clock, ny(29, 2))
    [page] = _pages(slack, ANNA)
    clock.at = ny(29, 2, 4)
    slack.click(
        bot.url + "/slack/events",
        user_id=ANNA,
        channel=f"D{ANNA[1:]}",
        ts=page["ts"],
        action_id=ActionId.URGENT_ACK.value,
    )
    wait_until(lambda: events_of(bot, "acknowledged"))
    settled(bot)
    assert _page(bot, clock, ny(29, 2, 10)) == 0
    assert _page(bot, clock, ny(29, 2, 40)) == 0
    assert _pages(slack, BEN) == [] and _pages(slack, LEAD) == []
    [ack] = events_of(bot, "acknowledged")
    assert ack.actor == ANNA and ack.mention_id == mention and ack.data["seconds"] == 240
    thread = slack.replies(PW, slack.messages(PW)[0]["ts"])
    assert any("acknowledged the page" in m["text"] for m in thread)
    assert any("Acknowledged" in e["text"] for e in slack.ephemerals)
    # The lead's summary counts it, with the time to acknowledge (wall-clock: it was a page).
    report = bot.summaries.report(department="public-works", period="this week", lead_view=True)
    assert "*Urgent:* 1; acknowledged in 4 min (median), 4 min at most" in report.text


def test_a_restart_never_pages_twice(
    make_bot: Callable[..., Engage], slack: FakeSlack, engine: Engine
) -> None:
    for user in (ANNA, BEN, CARL, LEAD, COMMS):
        slack.add_user(user, user.lower())
    clock = Clock(ny(29, 2))
    first = Engage(settings_for(slack), parse_config(CONFIG), engine=engine, clock=clock)
    first.start(host="127.0.0.1", port=0)
    _mention(first, "Fire in the basement of 12 Elm St")
    _page(first, clock, ny(29, 2))
    first.stop()
    # A new process on the same database, then a second one beside it (a replica).
    for _ in range(2):
        again = make_bot(CONFIG, clock=clock)
        assert _page(again, clock, ny(29, 2, 1)) == 0
        assert _page(again, clock, ny(29, 2, 10)) + _page(again, clock, ny(29, 2, 11)) <= 1
    assert [len(_pages(slack, u)) for u in (ANNA, BEN)] == [1, 1]
    assert _stages(first) == ["oncall", "next"]


@sqlite_only
def test_not_urgent_on_the_card_downgrades_with_one_click(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot, clock = _start(make_bot, slack, ny(29, 2))
    mention = _mention(bot, "Is the gas meter reading due this month?")  # an urgent rule
    card = slack.messages(PW)[0]
    assert "rule gas meters is marked urgent" in str(card["blocks"])
    _page(bot, clock, ny(29, 2))
    slack.click(
        bot.url + "/slack/events",
        user_id=ANNA,
        channel=PW,
        ts=card["ts"],
        action_id=ActionId.URGENT_DOWNGRADE.value,
    )
    wait_until(lambda: events_of(bot, "downgraded"))
    settled(bot)
    card = slack.messages(PW)[0]
    assert "Urgent" not in str(card["blocks"]) and "Not urgent" not in str(card["blocks"])
    assert _page(bot, clock, ny(29, 2, 30)) == 0 and _pages(slack, BEN) == []
    [down] = events_of(bot, "downgraded")
    assert down.actor == ANNA and down.mention_id == mention
    with session_scope(bot.engine) as s:
        stored = s.get(Mention, mention)
        assert stored is not None and "urgent" not in stored.extra
        assert stored.extra["urgent_downgraded"]["by"] == ANNA


@sqlite_only
def test_oncall_shows_and_swaps(make_bot: Callable[..., Engage], slack: FakeSlack) -> None:
    bot, clock = _start(make_bot, slack, ny(29, 1))
    url = bot.url + "/slack/events"

    def say(user: str, text: str) -> str:
        result = slack.slash_command(url, user_id=user, channel=PW, text=text)
        assert result.status == 200
        return result.body  # the command's reply, for the asker only

    shown = say(ANNA, "oncall")
    assert f"on call <@{ANNA}> (rotation)" in shown and f"next <@{BEN}>" in shown
    assert "Give the last day" in say(ANNA, f"oncall swap <@{CARL}|carl> until tomorrow")
    assert "Only people on call" in say("U0STRANGER", f"oncall swap <@{CARL}|carl> public-works")
    assert "until Sunday 29 November 2026" in say(ANNA, f"oncall swap <@{CARL}|carl>")
    assert f"on call <@{CARL}> (swap)" in say(BEN, "oncall public-works")
    [swapped] = events_of(bot, "oncall_swapped")
    assert swapped.actor == ANNA and swapped.data["user"] == CARL
    _mention(bot, "Sinkhole opened on Elm, a car fell in")
    _page(bot, clock, ny(29, 2))
    assert len(_pages(slack, CARL)) == 1 and _pages(slack, ANNA) == []
    # Carl claims the card: someone is on it, so nobody else is woken.
    card = slack.messages(PW)[0]
    slack.click(url, user_id=CARL, channel=PW, ts=card["ts"], action_id=ActionId.CLAIM.value)
    wait_until(lambda: events_of(bot, "claimed"))
    assert _page(bot, clock, ny(29, 2, 10)) == 0 and _page(bot, clock, ny(29, 2, 30)) == 0
    assert _pages(slack, ANNA) == [] and _pages(slack, LEAD) == []
    # The swap ends with the week: Monday belongs to the rotation again (Ben's week).
    clock.at = ny(30, 2)
    assert f"on call <@{BEN}> (rotation)" in say(ANNA, "oncall")
