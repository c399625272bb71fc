"""Rotation end to end (issue 13): over 40+ reminders on the clock, each available person is
named within 10% of their fair share, every reminder names the person who has waited longest,
and people who are away (by ``/engage away`` or by Slack presence) are never named.

The department uses the thread and channel rungs only, a reminder each per mention: the
channel-wide one names nobody, so it must take nobody's turn (it used to, which skewed the
load to 14/10/10/6). The first six mentions fall due together, in one grouped message that
names one person per mention, in turn.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.app.compose import Engage
from bot.core.adapter import IncomingMention
from bot.sandbox.fake_slack import FakeSlack
from storage.db import session_scope
from storage.models import Nudge
from tests.factories import Clock, settled

NY = ZoneInfo("America/New_York")
PW = "C0PUBWORKS"
AVAILABLE = ["U0FAIRA01", "U0FAIRB01", "U0FAIRC01", "U0FAIRD01"]
AWAY_BY_COMMAND, AWAY_IN_SLACK = "U0GONEC01", "U0GONES01"
CONFIG = f"""
triage: {{channel: C0TRIAGE01}}
departments:
  - slug: public-works
    name: Public Works
    channel: {PW}
    leads: [U0LEADPW1]
    timezone: America/New_York
    office_hours: {{hours: {{mon-fri: "09:00-17:00"}}}}
    sla: {{claim: 10m}}
    escalation: {{warn: false, lead: false}}
rules:
  - {{name: streets, department: public-works, keywords: [pothole]}}
delivery: {{channel_interval: 0}}
nudges: {{sweep_every: 3600}}
"""
NAMED = re.compile(r"<@(U[A-Z0-9]+)>")


def ny(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute, tzinfo=NY)  # a Monday


def _mention(bot: Engage, n: int) -> None:
    bot.ingest_one(IncomingMention(source="webhook", external_id=f"p{n}", text=f"pothole {n}"))


def _named(bot: Engage, stage: str) -> list[tuple[int, str | None]]:
    """(mention, target) of each reminder of ``stage``, in the order they were recorded."""
    with session_scope(bot.engine) as s:
        rows = s.exec(select(Nudge).where(Nudge.stage == stage).order_by(Nudge.id))  # type: ignore[arg-type]
        return [(n.mention_id, n.target) for n in rows]


def test_rotation_is_fair_over_40_reminders_and_skips_people_who_are_away(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    everyone = [*AVAILABLE, AWAY_BY_COMMAND, AWAY_IN_SLACK]
    for user in everyone:
        slack.add_user(user, user.lower())
    slack.add_channel(PW, "public-works", [*everyone, "U0BOT"])
    slack.set_presence(AWAY_IN_SLACK, "away")
    clock = Clock(ny(8, 0))
    bot = make_bot(CONFIG, clock=clock)
    away = slack.slash_command(
        f"{bot.url}/slack/events", user_id=AWAY_BY_COMMAND, channel=PW, text="away until 2026-12-31"
    )
    assert "No reminders for you" in away.body

    # Six mentions before the office opens: due together at 09:10, one grouped message.
    for n in range(6):
        _mention(bot, n)
    clock.at = ny(9, 10)
    assert bot.nudger.sweep() == 6
    # Then one every five minutes: each sweep sends one thread and one channel reminder.
    for n in range(6, 46):
        clock.at = ny(9, 15) + timedelta(minutes=5 * (n - 6))
        _mention(bot, n)
        bot.nudger.sweep()
    settled(bot)

    reminders = _named(bot, "claim_thread")
    named = [who for _, who in reminders if who is not None]
    assert len(named) == len(reminders) >= 40
    # Nobody away, and the channel-wide rung names (and so counts) nobody.
    assert not {AWAY_BY_COMMAND, AWAY_IN_SLACK} & set(named)
    assert {who for _, who in _named(bot, "claim_channel")} == {None}
    # Each within 10% of a fair share.
    share = len(named) / len(AVAILABLE)
    counts = Counter(named)
    assert set(counts) == set(AVAILABLE)
    assert all(abs(n - share) <= 0.1 * share for n in counts.values()), counts
    # Each named the one who had waited longest (never named first).
    last: dict[str, int] = {}
    for turn, who in enumerate(named):
        longest = min(last.get(u, -1) for u in AVAILABLE)
        assert last.get(who, -1) == longest, (turn, who, last)
        last[who] = turn

    # What Slack shows matches: the grouped message names each of the six in turn, every
    # later reminder names its person in the card's thread, and nothing names anyone away.
    texts = [m["text"] for m in slack.messages(PW)]
    grouped = next(t for t in texts if "6 mentions are waiting" in t)
    assert NAMED.findall(grouped) == named[:6]
    threads = {c["text"]: slack.replies(PW, c["ts"]) for c in slack.messages(PW)}
    shown = [
        NAMED.findall(r["text"])
        for replies in threads.values()
        for r in replies
        if "take this one" in r["text"]
    ]
    assert sorted(w for ws in shown for w in ws) == sorted(named[6:])
    everything = " ".join(texts + [r["text"] for rs in threads.values() for r in rs])
    assert AWAY_BY_COMMAND not in everything and AWAY_IN_SLACK not in everything
