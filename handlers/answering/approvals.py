"""A held answer's draft card in the comms channel: **Approve and send**, **Edit** (a modal
with the text, whose submit approves the edited answer) and **Send back** (a modal asking for
a note for the author).

Each decision is committed by the approvals service before the ack; whether the person may
decide is the service's to check, on the click and again on the modal's submission.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.core.blocks import Block, plain
from bot.core.slack_ids import ActionId, CallbackId
from handlers.answering.services import services_of
from handlers.payload import (
    channel_id,
    dig,
    mention_id,
    number,
    request_key,
    slack_id,
    string,
    trigger_id,
    user_id,
)

ANSWER_LIMIT = 3000
NOTE_LIMIT = 1500
TEXT_BLOCK, NOTE_BLOCK = "engage.approval.text", "engage.approval.note"


def on_approve(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
) -> None:
    target, user, channel = mention_id(action.get("value")), user_id(body), channel_id(body)
    if target is not None and user:
        services_of(context).answering.approvals.approve(
            approval_id=target, user_id=user, request_key=request_key(body), channel_id=channel
        )
    ack()


def on_edit(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    _open(ack, body, action, client, context, _edit_modal)


def on_send_back(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    _open(ack, body, action, client, context, _send_back_modal)


def _open(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    build: Callable[[int, str, str], dict[str, Any]],
) -> None:
    ack()
    approvals = services_of(context).answering.approvals
    target, user, channel = mention_id(action.get("value")), user_id(body), channel_id(body)
    if target is None or not user:
        return
    if not approvals.may_approve(user):
        approvals.refuse(user_id=user, request_key=request_key(body), channel_id=channel)
        return
    row = approvals.get(target)
    if row is not None:
        client.views_open(trigger_id=trigger_id(body), view=build(target, channel, row.text))


def _modal(
    callback: CallbackId, title: str, submit: str, meta: dict[str, Any], block: Block
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback.value,
        "private_metadata": json.dumps(meta),
        "title": plain(title),
        "submit": plain(submit),
        "close": plain("Cancel"),
        "blocks": [block],
    }


def _text_input(block_id: str, label: str, limit: int, initial: str = "") -> Block:
    element: Block = {
        "type": "plain_text_input",
        "action_id": "text",
        "multiline": True,
        "max_length": limit,
    }
    if initial:
        element["initial_value"] = initial[:limit]
    return {"type": "input", "block_id": block_id, "label": plain(label), "element": element}


def _edit_modal(approval: int, channel: str, text: str) -> dict[str, Any]:
    block = _text_input(TEXT_BLOCK, "The answer the citizen will get", ANSWER_LIMIT, text)
    meta = {"id": approval, "channel": channel}
    return _modal(CallbackId.APPROVAL_EDIT, "Edit the answer", "Approve and send", meta, block)


def _send_back_modal(approval: int, channel: str, text: str) -> dict[str, Any]:
    block = _text_input(NOTE_BLOCK, "A note for the author: what to change", NOTE_LIMIT)
    meta = {"id": approval, "channel": channel}
    return _modal(CallbackId.APPROVAL_SEND_BACK, "Send back", "Send back", meta, block)


def _target(view: dict[str, Any]) -> tuple[int | None, str]:
    try:
        meta = json.loads(string(view.get("private_metadata")) or "{}")
    except ValueError:
        meta = {}
    meta = meta if isinstance(meta, dict) else {}
    return number(meta.get("id"), low=1), slack_id(meta.get("channel"))


def on_edit_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    target, channel = _target(view)
    text = string(dig(view, "state", "values", TEXT_BLOCK, "text").get("value")).strip()
    if target is None or not text or len(text) > ANSWER_LIMIT:
        ack(
            response_action="errors",
            errors={TEXT_BLOCK: "Write the answer, under 3,000 characters."},
        )
        return
    outcome = services_of(context).answering.approvals.approve(
        approval_id=target,
        user_id=user_id(body),
        request_key=request_key(body),
        channel_id=channel,
        text=text,
    )
    _done(ack, TEXT_BLOCK, outcome.ok, outcome.message)


def on_send_back_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    target, channel = _target(view)
    note = string(dig(view, "state", "values", NOTE_BLOCK, "text").get("value")).strip()
    if target is None or not note or len(note) > NOTE_LIMIT:
        ack(response_action="errors", errors={NOTE_BLOCK: "Say what to change, in a few words."})
        return
    outcome = services_of(context).answering.approvals.send_back(
        approval_id=target,
        user_id=user_id(body),
        note=note,
        request_key=request_key(body),
        channel_id=channel,
    )
    _done(ack, NOTE_BLOCK, outcome.ok, outcome.message)


def _done(ack: Ack, block: str, ok: bool, message: str) -> None:
    if ok or message.startswith("Decided already"):
        ack()  # decided: by this person, or (told by an ephemeral) by someone before
    else:
        ack(response_action="errors", errors={block: message.replace("<@", "@").replace(">", "")})


ACTIONS: tuple[tuple[ActionId, Callable[..., None]], ...] = (
    (ActionId.APPROVAL_APPROVE, on_approve),
    (ActionId.APPROVAL_EDIT, on_edit),
    (ActionId.APPROVAL_SEND_BACK, on_send_back),
)
VIEWS: tuple[tuple[CallbackId, Callable[..., None]], ...] = (
    (CallbackId.APPROVAL_EDIT, on_edit_submitted),
    (CallbackId.APPROVAL_SEND_BACK, on_send_back_submitted),
)


def register(app: App) -> None:
    for action_id, listener in ACTIONS:
        app.action(action_id.value)(listener)
    for callback_id, view_listener in VIEWS:
        app.view(callback_id.value)(view_listener)
