"""The claim modals' submissions: committed before the ack; a refusal shows in the modal
itself (``response_action: errors`` on the block it is about).

What a submission says is checked before the claims service is asked: an answer must have a
text, a note and an answer must fit the modal's own limits. A submission that Slack's modal
could not have sent (no state, no user) is refused the same way, and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.claims.service import NOTE_LIMIT, Claims, Outcome
from bot.core.slack_ids import BlockId, CallbackId, InputId
from handlers.claims.modals import answer_of, value_of
from handlers.claims.services import services_of
from handlers.payload import mention_id, request_key, user_id

# One submission, once its mention is known: (claims, mention, user, view, request key).
Act = Callable[[Claims, int, str, dict[str, Any], str], Outcome]
# What is wrong with a submission's fields, as {block id: message}; empty when nothing is.
Check = Callable[[dict[str, Any]], dict[str, str]]
ANSWER_LIMIT = 3000  # the answer input's max_length (handlers.claims.modals)


def on_answer(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    """Recorded through the answer desk: an answer to a sensitive mention that is to be sent to
    the citizen waits for the comms team there (``bot.answering``)."""
    target, user = mention_id(view.get("private_metadata")), user_id(body)
    block, text, saved = answer_of(view)
    if target is None or not user:
        ack(response_action="errors", errors={block: "Unknown mention."})
        return
    problems = _answer_problems(view)
    if problems:
        ack(response_action="errors", errors=problems)
        return
    outcome = services_of(context).answering.answer(
        mention_id=target,
        user_id=user,
        request_key=request_key(body),
        text=text.strip(),
        send_reply=value_of(view, BlockId.REPLY_ON, InputId.REPLY_ON) == "yes",
        saved_reply_id=saved,
    )
    if outcome.ok:
        ack()
    else:
        ack(response_action="errors", errors={block: _plain(outcome.message)})


def on_hand_over(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    _submitted(ack, body, view, context, BlockId.DEPARTMENT, _hand_over, _note_problems)


def on_dismiss(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    _submitted(ack, body, view, context, BlockId.REASON, _dismiss, _note_problems)


def _answer_problems(view: dict[str, Any]) -> dict[str, str]:
    block, text, _ = answer_of(view)
    if not text.strip():
        return {block: "Write the answer you gave the citizen."}
    if len(text.strip()) > ANSWER_LIMIT:
        return {block: f"Keep it under {ANSWER_LIMIT:,} characters."}
    return {}


def _note_problems(view: dict[str, Any]) -> dict[str, str]:
    if len(value_of(view, BlockId.NOTE, InputId.NOTE).strip()) > NOTE_LIMIT:
        return {BlockId.NOTE.value: f"Keep the note under {NOTE_LIMIT:,} characters."}
    return {}


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
    check: Check,
) -> None:
    target, user = mention_id(view.get("private_metadata")), user_id(body)
    if target is None or not user:
        ack(response_action="errors", errors={error_block.value: "Unknown mention."})
        return
    problems = check(view)
    if problems:
        ack(response_action="errors", errors=problems)
        return
    outcome = act(services_of(context).claims, target, user, view, request_key(body))
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
