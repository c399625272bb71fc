"""``/engage replies``, the saved replies' management screens, and the options of the Answered
modal's saved-reply menu.

Everyone lists and searches (``/engage replies <words>``, an ephemeral answer); the comms team
manages (``/engage replies`` opens the list: add, edit, retire). Permission is the service's
to check on every change; the screens only spare others a form they could not submit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.answering import fit
from bot.answering.saved import REFUSAL, Line, SavedReplies
from bot.core.mrkdwn import escape, safe
from bot.core.slack_ids import ActionId, CallbackId
from handlers.answering.form import block_of, describe, form_doc, form_target, listing, reply_form
from handlers.answering.services import services_of
from handlers.payload import (
    dig,
    first_action,
    mention_id,
    request_key,
    string,
    trigger_id,
    user_id,
    view_id,
)

LISTED = 10  # saved replies in an ephemeral answer
HELP = (
    "`/engage replies <words>`: find saved replies to start an answer from.\n"
    "`/engage replies` (comms team): add, edit and retire them; "
    "`/engage replies manage <words>`: only those matching; `/engage replies history`."
)


def on_replies(
    ack: Ack, client: WebClient, command: dict[str, Any], context: BoltContext, text: str
) -> None:
    """``/engage replies [manage] [words]`` and ``/engage replies history``."""
    saved = services_of(context).answering.saved
    user, words = user_id(command), text.strip()
    verb, _, rest = words.partition(" ")
    if words == "history":
        ack(text=_history(saved))
    elif words == "" or verb == "manage":
        if not saved.may_manage(user):
            ack(text=REFUSAL if verb == "manage" else _found(saved, "") + "\n" + HELP)
            return
        ack()
        client.views_open(
            trigger_id=string(command.get("trigger_id")), view=_listing(saved, rest.strip())
        )
    else:
        ack(text=_found(saved, words))


def _matching(saved: SavedReplies, words: str) -> list[Line]:
    return [line for line in saved.lines() if fit.matches(line.candidate(), words)]


def _listing(saved: SavedReplies, words: str) -> dict[str, Any]:
    return listing(_matching(saved, words), saved.departments(), words)


def _found(saved: SavedReplies, words: str) -> str:
    uses = saved.uses()
    found = sorted(_matching(saved, words), key=lambda line: -uses.get(line.id, 0))
    if not found:
        about = f" matching “{escape(words)}”" if words else ""
        return f"No saved replies{about} yet."
    names = saved.departments()
    shown = "\n\n".join(describe(line, names) for line in found[:LISTED])
    more = f"\n_{len(found) - LISTED} more: add words to narrow it._" if len(found) > LISTED else ""
    return f"{shown}{more}\n_Pick one in a card's *Answered* to start from it._"


def _history(saved: SavedReplies) -> str:
    changes = saved.history()
    if not changes:
        return "No saved reply has changed yet."
    lines = [
        f"{c.at:%Y-%m-%d %H:%M} <@{c.actor}> {escape(c.action)} *{safe(c.title, 75)}*"
        if c.actor
        else f"{c.at:%Y-%m-%d %H:%M} {escape(c.action)} *{safe(c.title, 75)}*"
        for c in changes
    ]
    return "*Saved replies: latest changes*\n" + "\n".join(lines)


# The Answered modal's menu: options asked for as the person types.
def on_options(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    view = body.get("view")
    target = mention_id(view.get("private_metadata")) if isinstance(view, dict) else None
    query = string(body.get("value"))[:200]
    found = services_of(context).answering.options(target, query)
    ack(
        options=[{"text": {"type": "plain_text", "text": lbl[:75]}, "value": v} for v, lbl in found]
    )


# The management list.
def on_add(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    saved = services_of(context).answering.saved
    if saved.may_manage(user_id(body)):
        client.views_push(trigger_id=trigger_id(body), view=reply_form(None, saved.departments()))


def on_menu(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    saved = services_of(context).answering.saved
    user = user_id(body)
    choice = string(dig(first_action(body), "selected_option").get("value"))
    verb, _, raw = choice.partition(":")
    reply = mention_id(raw)
    if reply is None or not saved.may_manage(user):
        return
    if verb == "edit":
        line = saved.line(reply)
        if line is not None:
            view = reply_form(line, saved.departments())
            client.views_push(trigger_id=trigger_id(body), view=view)
    elif verb == "retire":
        saved.retire(user=user, reply_id=reply, request_key=request_key(body))
        _refresh(client, body.get("view"), saved)


def on_form(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    saved = services_of(context).answering.saved
    reply, token = form_target(view)
    change = saved.save(
        user=user_id(body),
        doc=form_doc(view),
        reply_id=reply,
        token=token,
        request_key=request_key(body),
    )
    if not change.ok:
        errors = {block_of(f): m for f, m in (change.problems or {}).items()}
        ack(response_action="errors", errors=errors or {block_of("title"): change.message})
        return
    ack()
    previous = string(view.get("previous_view_id"))
    if previous:
        _refresh(client, {"id": previous}, saved)


def _refresh(client: WebClient, view: Any, saved: SavedReplies) -> None:
    """Show the list again as it is now, keeping its search."""
    if not view_id(view):
        return
    search = ""
    meta = string(view.get("private_metadata")) if isinstance(view, dict) else ""
    if meta.startswith("{"):
        try:
            search = string(json.loads(meta).get("search"))
        except (ValueError, AttributeError):
            search = ""
    client.views_update(view_id=view_id(view), view=_listing(saved, search))


ACTIONS: tuple[tuple[ActionId, Callable[..., None]], ...] = (
    (ActionId.REPLIES_ADD, on_add),
    (ActionId.REPLY_MENU, on_menu),
)


def register(app: App) -> None:
    app.options(ActionId.SAVED_REPLY.value)(on_options)
    for action_id, listener in ACTIONS:
        app.action(action_id.value)(listener)
    app.view(CallbackId.REPLY_FORM.value)(on_form)
