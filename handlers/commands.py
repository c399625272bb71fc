"""The ``/engage`` slash command."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.core.mrkdwn import escape
from bot.core.slack_ids import COMMAND
from bot.nudges.sweep import Nudger
from bot.routing import Match
from bot.summaries.service import Summaries
from handlers.rules import route_answer
from handlers.summaries import answer as summary_answer

HELP = (
    "*Engage* brings citizens' posts about the city into the right department's channel.\n"
    "• Claim a card to answer it; *Answered* records your reply; *Hand over* sends it to "
    "another department; *No action / spam* closes it with a reason.\n"
    "• Reply in a card's thread to claim it, if nobody has.\n"
    "• `/engage route-test <text>`: which rule would route this text, and why.\n"
    "• `/engage rules` (comms team): add, edit, reorder, enable, disable and retire routing "
    "rules; `/engage rules history [rule]` shows every change.\n"
    "• `/engage summary [department|city] [today|this week|last week|last 30 days|"
    "2026-11-01..2026-11-15]`: volumes, response times and who answers.\n"
    "• `/engage mute <author>` / `unmute <author>` (comms team): stop posting an author's "
    "mentions (they are still stored and counted).\n"
    "• `/engage away until 2026-12-24`: no reminders for you until then; "
    "`/engage back` ends it."
)


def register(
    app: App,
    route_test: Callable[[str], tuple[Match | None, str]],
    nudger: Nudger,
    summaries: Summaries,
    mute: Callable[[str, str, bool], str],
    rules: Callable[..., None],
) -> None:
    def on_command(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        text = str(command.get("text") or "").strip()
        verb, _, rest = text.partition(" ")
        user = str(command.get("user_id") or "")
        channel = str(command.get("channel_id") or "")
        if verb == "away":
            until = _date(rest.removeprefix("until").strip())
            if until is None:
                ack(text="Say until when, e.g. `/engage away until 2026-12-24`.")
                return
            nudger.set_away(user_id=user, until=until)
            last = until - timedelta(days=1)
            ack(
                text=f"No reminders for you until {last:%A} {last.day} {last:%B %Y} included. "
                "`/engage back` ends it."
            )
            return
        if verb in ("mute", "unmute"):
            ack(text=escape(mute(rest, user, verb == "mute")))
            return
        if verb == "rules":
            rules(ack=ack, client=client, command=command, text=rest)
            return
        if verb == "summary":
            ack(**summary_answer(summaries, text=rest.strip(), channel=channel, user=user))
            return
        if verb == "back":
            nudger.set_away(user_id=user, until=None)
            ack(text="Welcome back: you are in the reminder rotation again.")
            return
        if verb == "route-test" and rest.strip():
            ack(text=route_answer(*route_test(rest.strip())))
            return
        ack(text=HELP)

    app.command(COMMAND)(on_command)


def _date(text: str) -> datetime | None:
    """The start of the day after ``YYYY-MM-DD`` (away *until* that day, inclusive), in UTC."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return datetime.combine(day + timedelta(days=1), time(0), UTC)
