"""Nudges end to end with a controllable clock: the ladder, office hours, rotation, snooze.

The bot runs for real against the fake Slack; the clock is moved by the test and the sweep is
called directly (its scheduler job is set far apart so it does not interfere).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.app.compose import Engage
from bot.core.adapter import IncomingMention
from bot.core.slack_ids import ActionId
from bot.sandbox.fake_slack import FakeSlack, wait_until
from storage.db import session_scope
from storage.models import Away, Event, Mention, Nudge
from tests.factories import Clock, events_of, settled

NY = ZoneInfo("America/New_York")
PW = "C0PUBWORKS"
STAFF = ["U0STAFFA01", "U0STAFFB01", "U0STAFFC01"]
CONFIG = f"""
triage: {{channel: C0TRIAGE01}}
departments:
  - slug: public-works
    name: Public Works
    channel: {PW}
    leads: [U0LEADPW1]
    timezone: America/New_York
    office_hours: {{hours: {{mon-fri: "09:00-17:00"}}, holidays: US}}
    sla: {{claim: 60m, answer: 2h, warn_at: 0.75}}
rules:
  - {{name: streets, department: public-works, keywords: [pothole]}}
delivery: {{channel_interval: 0}}
nudges: {{sweep_every: 3600}}
"""


def ny(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=NY).astimezone(UTC)


def _start(make_bot: Callable[..., Engage], slack: FakeSlack, at: datetime) -> tuple[Engage, Clock]:
    for user in STAFF:
        slack.add_user(user, user.lower())
    slack.add_channel(PW, "public-works", [*STAFF, "U0BOT"])
    clock = Clock(at)
    return make_bot(CONFIG, clock=clock), clock


def _mention(bot: Engage, text: str = "pothole on Elm") -> int:
    result = bot.ingest_one(IncomingMention(source="webhook", external_id=text, text=text))
    assert result.mention_id is not None
    return result.mention_id


def _sweep(bot: Engage, clock: Clock, at: datetime) -> int:
    clock.at = at
    sent = bot.nudger.sweep()
    settled(bot)
    return sent


def _stages(bot: Engage, mention_id: int | None = None) -> list[str]:
    with session_scope(bot.engine) as s:
        query = select(Nudge).order_by(Nudge.id)  # type: ignore[arg-type]
        return [n.stage for n in s.exec(query) if mention_id in (None, n.mention_id)]


def _thread(slack: FakeSlack) -> list[dict[str, Any]]:
    card = slack.messages(PW)[0]
    return slack.replies(PW, card["ts"])


def test_the_claim_ladder_in_office_time_over_a_weekend(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot, clock = _start(make_bot, slack, ny(20, 16, 0))  # Friday 16:00
    mention = _mention(bot)
    settled(bot)
    assert _sweep(bot, clock, ny(20, 16, 30)) == 0  # 30 office minutes: not yet 75%
    assert _sweep(bot, clock, ny(20, 16, 46)) == 1  # 46 minutes: the heads-up
    assert "please claim it within 14 min" in _thread(slack)[-1]["text"]
    assert _sweep(bot, clock, ny(20, 16, 50)) == 0  # once per stage, ever
    # Friday 17:00 to Monday 09:00 is closed: the claim SLA runs out Monday 09:00.
    assert _sweep(bot, clock, ny(21, 11, 0)) == 0  # Saturday
    assert _sweep(bot, clock, ny(23, 9, 1)) == 1
    reminder = _thread(slack)[-1]
    picked = reminder["text"].split("<@")[1].split(">")[0]
    assert picked in STAFF
    assert any(b["type"] == "actions" for b in reminder["blocks"])  # snooze buttons
    assert _sweep(bot, clock, ny(23, 9, 31)) == 1  # 1.5x: the whole channel
    assert (
        _thread(slack)[-1].get("reply_broadcast") or "Still unclaimed" in _thread(slack)[-1]["text"]
    )
    assert _sweep(bot, clock, ny(23, 10, 1)) == 1  # 2x: the lead, last
    dm = wait_until(lambda: slack.direct_messages("U0LEADPW1"))
    assert "1 mention(s) unclaimed" in dm[-1]["text"]
    assert _stages(bot, mention) == ["claim_warn", "claim_thread", "claim_channel", "claim_lead"]
    with session_scope(bot.engine) as s:
        kinds = [e.kind for e in s.exec(select(Event)) if e.kind in ("nudged", "escalated")]
    assert kinds == ["nudged", "nudged", "nudged", "escalated"]


def test_a_public_holiday_and_daylight_saving_are_office_time(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    # Wednesday before Thanksgiving (Thursday 26th, a US holiday), 16:30.
    bot, clock = _start(make_bot, slack, ny(25, 16, 30))
    mention = _mention(bot)
    settled(bot)
    assert _sweep(bot, clock, ny(26, 10, 0)) == 0  # Thanksgiving: closed
    assert _sweep(bot, clock, ny(27, 9, 14)) == 0  # 44 office minutes
    assert _sweep(bot, clock, ny(27, 9, 16)) == 1  # 46: the heads-up
    assert _stages(bot, mention) == ["claim_warn"]


def test_daylight_saving_change_over_the_weekend(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    # Friday 30 October 16:30 EDT; clocks go back on Sunday 1 November; 60 office minutes
    # later is Monday 09:30 EST.
    bot, clock = _start(make_bot, slack, ny(30, 16, 30, month=10))
    mention = _mention(bot)
    settled(bot)
    _sweep(bot, clock, ny(30, 16, 55, month=10))  # 25 min: nothing
    assert _stages(bot, mention) == []
    _sweep(bot, clock, ny(2, 9, 14))  # 44 office minutes: still nothing
    assert _stages(bot, mention) == []
    _sweep(bot, clock, ny(2, 9, 16))
    assert _stages(bot, mention) == ["claim_warn"]
    _sweep(bot, clock, ny(2, 9, 29))
    assert _stages(bot, mention) == ["claim_warn"]
    _sweep(bot, clock, ny(2, 9, 31))
    assert _stages(bot, mention) == ["claim_warn", "claim_thread"]


def test_snooze_pushes_the_next_reminder(make_bot: Callable[..., Engage], slack: FakeSlack) -> None:
    bot, clock = _start(make_bot, slack, ny(23, 9, 0))  # Monday
    mention = _mention(bot)
    settled(bot)
    _sweep(bot, clock, ny(23, 9, 46))  # heads-up
    _sweep(bot, clock, ny(23, 10, 1))  # the thread reminder, with snooze buttons
    reminder = _thread(slack)[-1]
    clock.at = ny(23, 10, 2)
    slack.click(
        f"{bot.url}/slack/events",
        user_id=STAFF[0],
        channel=PW,
        ts=reminder["ts"],
        action_id=ActionId.SNOOZE_HOUR,
        value=f"{mention}:1h",
    )
    wait_until(lambda: events_of(bot, "snoozed"))
    assert _sweep(bot, clock, ny(23, 10, 40)) == 0  # 1.5x is due, but snoozed until 11:02
    assert _sweep(bot, clock, ny(23, 11, 3)) == 1
    assert _stages(bot, mention)[-1] == "claim_channel"


def test_the_answer_ladder_asks_the_claimer_then_hands_it_back(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot, clock = _start(make_bot, slack, ny(23, 9, 0))
    mention = _mention(bot)
    settled(bot)
    card = slack.messages(PW)[0]
    slack.click(
        f"{bot.url}/slack/events",
        user_id=STAFF[1],
        channel=PW,
        ts=card["ts"],
        action_id=ActionId.CLAIM,
    )
    settled(bot)
    assert _sweep(bot, clock, ny(23, 10, 31)) == 1  # 1.5 h of 2 h: heads-up to the claimer
    assert f"<@{STAFF[1]}>, the answer is due in 29 min" in _thread(slack)[-1]["text"]
    assert _sweep(bot, clock, ny(23, 11, 1)) == 1  # overdue: a direct message
    dm = wait_until(lambda: slack.direct_messages(STAFF[1]))[-1]
    actions = next(b for b in dm["blocks"] if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == [
        ActionId.STILL_ON_IT,
        ActionId.HAND_BACK,
        ActionId.NEED_HELP,
    ]
    assert _sweep(bot, clock, ny(23, 12, 1)) == 1  # no reply: the claim returns
    with session_scope(bot.engine) as s:
        row = s.get(Mention, mention)
        assert row is not None and row.status == "new" and row.claimed_by is None
    released = events_of(bot, "released")
    assert released[-1].data["previous"] == STAFF[1]
    assert "open again for anyone to claim" in _thread(slack)[-1]["text"]


def test_nothing_at_night_then_one_grouped_message_in_the_morning(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    # 16:15 + 45 office minutes (the heads-up) is 17:00: due just as the office closes.
    bot, clock = _start(make_bot, slack, ny(23, 16, 15))
    for n in range(3):
        _mention(bot, f"pothole {n}")
    settled(bot)
    before = len(slack.messages(PW))
    assert _sweep(bot, clock, ny(23, 22, 0)) == 0  # due overnight, office closed
    assert _sweep(bot, clock, ny(24, 3, 0)) == 0
    assert _sweep(bot, clock, ny(24, 9, 0)) == 3  # the heads-ups, three of them
    messages = slack.messages(PW)
    assert len(messages) == before + 1  # one grouped message, not a burst
    assert "3 mentions are close to their claim deadline" in messages[-1]["text"]


def test_rotation_spreads_reminders_and_skips_people_who_are_away(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot, clock = _start(make_bot, slack, ny(23, 9, 0))
    bot.nudger.set_away(user_id=STAFF[2], until=ny(30, 0, 0))
    picked: list[str] = []
    for n in range(6):
        clock.at = ny(23, 9, 0) + timedelta(minutes=n)
        mention = _mention(bot, f"pothole {n}")
        settled(bot)
        _sweep(bot, clock, clock.at + timedelta(minutes=46))
        _sweep(bot, clock, clock.at + timedelta(minutes=15))
        with session_scope(bot.engine) as s:
            nudge = s.exec(
                select(Nudge).where(Nudge.mention_id == mention, Nudge.stage == "claim_thread")
            ).one()
            assert nudge.target is not None
            picked.append(nudge.target)
    assert STAFF[2] not in picked
    assert all(a != b for a, b in itertools.pairwise(picked))
    assert picked.count(STAFF[0]) == picked.count(STAFF[1]) == 3


def test_two_sweeps_at_once_send_each_reminder_once(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot, clock = _start(make_bot, slack, ny(23, 9, 0))
    for n in range(20):
        _mention(bot, f"pothole {n}")
    settled(bot)
    clock.at = ny(23, 9, 50)
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def sweep() -> None:
        barrier.wait()
        counts.append(bot.nudger.sweep())

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    settled(bot)
    assert sum(counts) == 20
    assert _stages(bot).count("claim_warn") == 20


def test_away_and_back_by_slash_command(make_bot: Callable[..., Engage], slack: FakeSlack) -> None:
    bot, _clock = _start(make_bot, slack, ny(23, 9, 0))
    url = f"{bot.url}/slack/events"
    answer = slack.slash_command(url, user_id=STAFF[0], channel=PW, text="away until 2026-11-30")
    assert (
        answer.status == 200
        and "No reminders for you until Monday 30 November 2026 included" in answer.body
    )
    with session_scope(bot.engine) as s:
        away = s.exec(select(Away)).one()
    assert away.user_id == STAFF[0] and away.until == datetime(2026, 12, 1, tzinfo=UTC)
    unclear = slack.slash_command(url, user_id=STAFF[0], channel=PW, text="away soon")
    assert "Say until when" in unclear.body
    back = slack.slash_command(url, user_id=STAFF[0], channel=PW, text="back")
    assert "Welcome back" in back.body
    with session_scope(bot.engine) as s:
        assert s.exec(select(Away)).all() == []
