"""The ``/engage`` slash command."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.mrkdwn import escape
from bot.routing import Match
from bot.slack_ids import COMMAND

HELP = (
    "*Engage* brings citizens' posts about the city into the right department's channel.\n"
    "• Claim a card to answer it; *Answered* records your reply; *Hand over* sends it to "
    "another department; *No action / spam* closes it with a reason.\n"
    "• Reply in a card's thread to claim it, if nobody has.\n"
    "• `/engage route-test <text>`: which rule would route this text, and why."
)


def register(app: App, route_test: Callable[[str], tuple[Match | None, str]]) -> None:
    def on_command(ack: Ack, command: dict[str, Any]) -> None:
        text = str(command.get("text") or "").strip()
        verb, _, rest = text.partition(" ")
        if verb == "route-test" and rest.strip():
            match, department = route_test(rest.strip())
            if match is None:
                ack(text=f"No rule matches: it would go to *triage* ({department}).")
            else:
                rule, why = escape(match.rule), escape(match.reason)
                ack(text=f"It would go to *{department}* by rule *{rule}*: {why}.")
            return
        ack(text=HELP)

    app.command(COMMAND)(on_command)
