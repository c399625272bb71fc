"""``/engage rules ...`` and ``/engage route-test <text>``: the parts of the slash command that
are about routing rules. :mod:`handlers.commands` parses the verb and calls these with the
rest of the text; they are not listeners of their own.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.core.mrkdwn import escape, safe
from bot.routing import Match
from bot.rules.admin import REFUSAL
from handlers.rules import screens
from handlers.rules.history import history_text
from handlers.rules.services import services_of

HELP = (
    "`/engage rules`: the routing rules, to add, edit, reorder, enable, disable and retire.\n"
    "`/engage rules add` · `/engage rules edit <name>` · `/engage rules enable <name>` · "
    "`/engage rules disable <name>` · `/engage rules history [name]`"
)


def route_answer(match: Match | None, department: str) -> str:
    if match is None:
        return f"No rule matches: it would go to *triage* ({escape(department)})."
    return (
        f"It would go to *{escape(department)}* by rule *{escape(match.rule)}*: "
        f"{escape(match.reason)}."
    )


def on_route_test(ack: Ack, context: BoltContext, text: str) -> None:
    ack(text=route_answer(*services_of(context).route_test(text.strip())))


def on_rules(
    ack: Ack, client: WebClient, command: dict[str, Any], context: BoltContext, text: str
) -> None:
    admin = services_of(context).rule_admin
    user = str(command.get("user_id") or "")
    if not admin.may_manage(user):
        ack(text=REFUSAL)
        return
    verb, _, rest = text.strip().partition(" ")
    name = rest.strip()
    trigger = str(command.get("trigger_id") or "")
    if verb in ("", "list"):
        ack()
        client.views_open(trigger_id=trigger, view=screens.listing(admin))
    elif verb == "add":
        ack()
        client.views_open(trigger_id=trigger, view=screens.form(admin, None))
    elif verb == "history":
        ack(text=history_text(admin.history(rule=name or None), name or None))
    elif verb in ("edit", "enable", "disable"):
        line = next((x for x in admin.rules() if x.doc["name"] == name), None)
        if line is None:
            ack(text=f"There is no rule named {safe(name, 128)!r}: `/engage rules` lists them.")
        elif verb == "edit":
            ack()
            client.views_open(trigger_id=trigger, view=screens.form(admin, line.id))
        else:
            change = admin.set_enabled(
                user=user,
                rule_id=line.id,
                on=verb == "enable",
                request_key=f"command:{command.get('trigger_id')}",
            )
            ack(text=change.message)
    else:
        ack(text=HELP)
