"""Slack in and out for citizens' data requests: ``/engage privacy export|erase IDENTITY...``
(called by the /engage router) and the button that confirms an erasure.

Only the comms team may ask; anyone else is refused, and the refusal is in the audit log too.
An export arrives as a JSON file in the asker's direct messages; an erasure first shows what it
would remove and a red *Erase* button with Slack's own confirmation dialog.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from slack_bolt import Ack, App, BoltContext

from bot.core.blocks import Block, actions, button, plain, section
from bot.core.mrkdwn import escape
from bot.core.slack_ids import ActionId
from bot.privacy.service import Privacy, erased_text
from handlers.context import SERVICES
from handlers.payload import channel_id, request_key, string, user_id

USAGE = (
    "Try `/engage privacy export @someone@town.social` or `/engage privacy erase "
    "someone@example.org` (comms team; several identities of one person may follow, "
    "separated by spaces)."
)
MAX_IDENTITIES = 5  # of one person: a handle per platform; the button carries them all
MAX_IDENTITY = 320


@runtime_checkable
class PrivacyServices(Protocol):
    @property
    def privacy(self) -> Privacy | None: ...


def services_of(context: BoltContext) -> PrivacyServices:
    services: PrivacyServices = context[SERVICES]
    return services


def identities(text: str) -> list[str] | None:
    """The identities asked about, or None if they cannot be (none, too many, too long)."""
    found = [part for part in text.replace(",", " ").split() if part]
    if not found or len(found) > MAX_IDENTITIES or any(len(p) > MAX_IDENTITY for p in found):
        return None
    return list(dict.fromkeys(found))


def on_privacy(ack: Ack, command: dict[str, Any], context: BoltContext, text: str) -> None:
    """``/engage privacy ...``: ``text`` is what follows the verb."""
    privacy = services_of(context).privacy
    verb, _, rest = text.strip().partition(" ")
    who = identities(rest)
    user = user_id(command)
    if privacy is None:
        ack(text="Privacy requests are not set up in this Engage.")
        return
    if verb not in ("export", "erase") or who is None:
        ack(text=USAGE)
        return
    if not privacy.allowed(user):
        ack(text=privacy.refuse(verb, who, actor=user))
        return
    shown = ", ".join(f"`{escape(w)}`" for w in who)
    if verb == "export":
        count = privacy.send_export(who, user=user, key=request_key(command))
        ack(
            text=f"Export of {shown}: {count} mention(s). The JSON file arrives in your direct "
            "messages from Engage; the request is in the audit log."
        )
        return
    count = privacy.asked("erase", who, actor=user)
    ack(text=f"Erase {shown}? {count} mention(s).", blocks=confirm_blocks(who, shown, count))


def confirm_blocks(who: list[str], shown: str, count: int) -> list[Block]:
    erase = button("Erase", ActionId.PRIVACY_ERASE, " ".join(who), "danger")
    erase["confirm"] = {
        "title": plain("Erase this person's data?", 100),
        "text": plain(
            "Their posts, handle, links and the answers to them are removed from Engage and "
            "its Slack cards. This cannot be undone.",
            300,
        ),
        "confirm": plain("Erase", 30),
        "deny": plain("Keep", 30),
        "style": "danger",
    }
    return [
        section(
            f"*Erase everything Engage holds about {shown}?* {count} mention(s) by them: the "
            "text, handle, links and answers are removed, here and on the Slack cards. Counts "
            "in summaries stay; the audit log records the erasure without the data."
        ),
        actions([erase]),
    ]


def on_erase_confirmed(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
) -> None:
    ack()
    privacy = services_of(context).privacy
    user, channel = user_id(body), channel_id(body)
    who = identities(string(action.get("value")))
    if privacy is None or not user or not channel or who is None:
        return
    key = request_key(body)
    if not privacy.allowed(user):  # the button may be forwarded; the check is here too
        privacy.tell(
            user=user, channel=channel, text=privacy.refuse("erase", who, actor=user), key=key
        )
        return
    done = privacy.erase(who, actor=user)
    privacy.tell(user=user, channel=channel, text=erased_text(done), key=key)


LISTENERS: tuple[tuple[ActionId, Callable[..., None]], ...] = (
    (ActionId.PRIVACY_ERASE, on_erase_confirmed),
)


def register(app: App) -> None:
    for action_id, listener in LISTENERS:
        app.action(action_id.value)(listener)
