"""The ``/engage`` slash command: one listener that reads the verb and hands the rest of the
text to the domain that owns it.

This module (with :mod:`handlers`' ``__init__``) is one of the two allowed to reach several
domains' handlers: ``away``/``back`` are reminders' (:mod:`handlers.nudges`), ``summary`` is
:mod:`handlers.summaries`', ``rules`` and ``route-test`` are :mod:`handlers.rules.command`'s.
``mute``/``unmute`` belong to intake's screening, which has no handler module: the services'
``mute`` callable does it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.core.mrkdwn import escape
from bot.core.slack_ids import COMMAND
from handlers import nudges, privacy, summaries, urgent
from handlers.answering import replies
from handlers.context import SERVICES
from handlers.payload import string, user_id
from handlers.rules import command as rules

HELP = (
    "*Engage* brings citizens' posts about the city into the right department's channel.\n"
    "• Claim a card to answer it; *Answered* records your reply; *Hand over* sends it to "
    "another department; *No action / spam* closes it with a reason.\n"
    "• Reply in a card's thread to claim it, if nobody has.\n"
    "• `/engage route-test <text>`: which rule would route this text, and why.\n"
    "• `/engage replies [words]`: find saved replies to start an answer from; "
    "`/engage replies` (comms team): add, edit and retire them.\n"
    "• `/engage rules` (comms team): add, edit, reorder, enable, disable and retire routing "
    "rules; `/engage rules history [rule]` shows every change.\n"
    "• `/engage summary [department|city] [today|this week|last week|last 30 days|"
    "2026-11-01..2026-11-15]`: volumes, response times and who answers.\n"
    "• `/engage mute <author>` / `unmute <author>` (comms team): stop posting an author's "
    "mentions (they are still stored and counted).\n"
    "• `/engage away until 2026-12-24`: no reminders for you until then; "
    "`/engage back` ends it.\n"
    "• `/engage privacy export|erase <handle or e-mail>` (comms team): a citizen's data as a "
    "file, or erased everywhere (with a confirmation).\n"
    "• `/engage oncall [department]`: who is paged tonight for urgent mentions; "
    "`/engage oncall swap @someone [department] [until 2026-12-24]` puts someone else on call."
)

Mute = Callable[[str, str, bool], str]
"""``mute(author, by_user, on)``: stop (or resume) posting an author's mentions; says what it
did, for the person who asked."""


@runtime_checkable
class CommandServices(Protocol):
    @property
    def mute(self) -> Mute: ...


def services_of(context: BoltContext) -> CommandServices:
    services: CommandServices = context[SERVICES]
    return services


def on_engage(ack: Ack, command: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    text = string(command.get("text")).strip()
    verb, _, rest = text.partition(" ")
    if not user_id(command):  # every verb acts for someone: a command without one does nothing
        ack(text=HELP)
        return
    if verb == "away":
        nudges.on_away(ack=ack, command=command, context=context, text=rest)
    elif verb in ("mute", "unmute"):
        ack(text=escape(services_of(context).mute(rest, user_id(command), verb == "mute")))
    elif verb == "replies":
        replies.on_replies(ack=ack, client=client, command=command, context=context, text=rest)
    elif verb == "rules":
        rules.on_rules(ack=ack, client=client, command=command, context=context, text=rest)
    elif verb == "summary":
        summaries.on_summary(ack=ack, command=command, context=context, text=rest)
    elif verb == "oncall":
        urgent.on_oncall(ack=ack, command=command, context=context, text=rest)
    elif verb == "privacy":
        privacy.on_privacy(ack=ack, command=command, context=context, text=rest)
    elif verb == "back":
        nudges.on_back(ack=ack, command=command, context=context)
    elif verb == "route-test" and rest.strip():
        rules.on_route_test(ack=ack, context=context, text=rest)
    elif verb in ("", "help", "route-test"):
        ack(text=HELP)
    else:  # say so: the help alone reads as if the command had been understood
        ack(text=f"Unknown command `{escape(verb.replace('`', '')[:40])}`.\n{HELP}")


LISTENERS: tuple[tuple[str, Callable[..., None]], ...] = ((COMMAND, on_engage),)


def register(app: App) -> None:
    for name, listener in LISTENERS:
        app.command(name)(listener)
