"""Choosing a saved reply in the Answered modal: the modal is updated with its text, filled
for this card, for the staff member to edit before saving.

The menu's options come from ``handlers.answering`` (a ``block_suggestion`` request); the
modal is this package's, so its update is too. A reply retired since the menu was shown
leaves the modal as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.core.slack_ids import ActionId
from handlers.claims.modals import answer_modal
from handlers.claims.services import services_of
from handlers.payload import dig, mention_id, string, view_id


def on_saved_reply(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    view = body.get("view")
    target = mention_id(view.get("private_metadata")) if isinstance(view, dict) else None
    chosen = dig(action, "selected_option")
    reply = mention_id(chosen.get("value"))
    if target is None or reply is None or not view_id(view):
        return
    services = services_of(context)
    text = services.answering.text_for(mention_id=target, reply_id=reply)
    brief = services.claims.brief(target)
    if text is None or brief is None:
        return
    label = string(dig(chosen, "text").get("text")) or str(reply)
    picked = {"text": {"type": "plain_text", "text": label[:75]}, "value": str(reply)}
    client.views_update(
        view_id=view_id(view),
        hash=string(dig(body, "view").get("hash")) or None,
        view=answer_modal(brief, prefill=text, picked=picked),
    )


LISTENERS: tuple[tuple[ActionId, Callable[..., None]], ...] = (
    (ActionId.SAVED_REPLY, on_saved_reply),
)


def register(app: App) -> None:
    for action_id, listener in LISTENERS:
        app.action(action_id.value)(listener)
