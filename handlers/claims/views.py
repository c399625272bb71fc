"""The claim modals' submissions: committed before the ack; a refusal shows in the modal
itself (``response_action: errors`` on the block it is about)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.claims.service import Claims, Outcome
from bot.core.slack_ids import BlockId, CallbackId, InputId
from handlers.claims.modals import value_of
from handlers.claims.services import services_of
from handlers.payload import mention_id, request_key, user_id

# One submission, once its mention is known: (claims, mention, user, view, request key).
Act = Callable[[Claims, int, str, dict[str, Any], str], Outcome]


def on_answer(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    _submitted(ack, body, view, context, BlockId.ANSWER_TEXT, _answer)


def on_hand_over(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    _submitted(ack, body, view, context, BlockId.DEPARTMENT, _hand_over)


def on_dismiss(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    _submitted(ack, body, view, context, BlockId.REASON, _dismiss)


def _answer(claims: Claims, target: int, user: str, view: dict[str, Any], key: str) -> Outcome:
    return claims.answer(
        mention_id=target,
        user_id=user,
        request_key=key,
        text=value_of(view, BlockId.ANSWER_TEXT, InputId.ANSWER_TEXT).strip(),
        send_reply=value_of(view, BlockId.REPLY_ON, InputId.REPLY_ON) == "yes",
    )


def _hand_over(claims: Claims, target: int, user: str, view: dict[str, Any], key: str) -> Outcome:
    return claims.hand_over(
        mention_id=target,
        user_id=user,
        request_key=key,
        to_department=value_of(view, BlockId.DEPARTMENT, InputId.DEPARTMENT),
        note=value_of(view, BlockId.NOTE, InputId.NOTE).strip(),
    )


def _dismiss(claims: Claims, target: int, user: str, view: dict[str, Any], key: str) -> Outcome:
    return claims.dismiss(
        mention_id=target,
        user_id=user,
        request_key=key,
        reason=value_of(view, BlockId.REASON, InputId.REASON),
        note=value_of(view, BlockId.NOTE, InputId.NOTE).strip(),
    )


def _submitted(
    ack: Ack,
    body: dict[str, Any],
    view: dict[str, Any],
    context: BoltContext,
    error_block: BlockId,
    act: Act,
) -> None:
    target = mention_id(view.get("private_metadata"))
    if target is None:
        ack(response_action="errors", errors={error_block.value: "Unknown mention."})
        return
    outcome = act(services_of(context).claims, target, user_id(body), view, request_key(body))
    if outcome.ok:
        ack()
    else:
        ack(response_action="errors", errors={error_block.value: _plain(outcome.message)})


def _plain(message: str) -> str:
    # Modal errors are plain text: show "@U123" rather than the raw "<@U123>" syntax.
    return message.replace("<@", "@").replace(">", "")


LISTENERS: tuple[tuple[CallbackId, Callable[..., None]], ...] = (
    (CallbackId.ANSWER, on_answer),
    (CallbackId.HAND_OVER, on_hand_over),
    (CallbackId.DISMISS, on_dismiss),
)


def register(app: App) -> None:
    for callback_id, listener in LISTENERS:
        app.view(callback_id.value)(listener)
