"""Modal submissions: committed before the ack; a refusal shows in the modal itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.claims.service import Claims, Outcome
from bot.core.slack_ids import BlockId, CallbackId, InputId
from handlers.modals import value_of
from handlers.requests import mention_id, request_key, user_id


def register(app: App, claims: Claims) -> None:
    def submitted(
        error_block: BlockId, act: Callable[[int, str, dict[str, Any], str], Outcome]
    ) -> Callable[..., None]:
        def listener(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
            target = mention_id(view.get("private_metadata"))
            if target is None:
                ack(response_action="errors", errors={error_block.value: "Unknown mention."})
                return
            outcome = act(target, user_id(body), view, request_key(body))
            if outcome.ok:
                ack()
            else:
                ack(response_action="errors", errors={error_block.value: _plain(outcome.message)})

        return listener

    app.view(CallbackId.ANSWER.value)(
        submitted(
            BlockId.ANSWER_TEXT,
            lambda m, u, v, k: claims.answer(
                mention_id=m,
                user_id=u,
                request_key=k,
                text=value_of(v, BlockId.ANSWER_TEXT, InputId.ANSWER_TEXT).strip(),
                send_reply=value_of(v, BlockId.REPLY_ON, InputId.REPLY_ON) == "yes",
            ),
        )
    )
    app.view(CallbackId.HAND_OVER.value)(
        submitted(
            BlockId.DEPARTMENT,
            lambda m, u, v, k: claims.hand_over(
                mention_id=m,
                user_id=u,
                request_key=k,
                to_department=value_of(v, BlockId.DEPARTMENT, InputId.DEPARTMENT),
                note=value_of(v, BlockId.NOTE, InputId.NOTE).strip(),
            ),
        )
    )
    app.view(CallbackId.DISMISS.value)(
        submitted(
            BlockId.REASON,
            lambda m, u, v, k: claims.dismiss(
                mention_id=m,
                user_id=u,
                request_key=k,
                reason=value_of(v, BlockId.REASON, InputId.REASON),
                note=value_of(v, BlockId.NOTE, InputId.NOTE).strip(),
            ),
        )
    )


def _plain(message: str) -> str:
    # Modal errors are plain text: show "@U123" rather than the raw "<@U123>" syntax.
    return message.replace("<@", "@").replace(">", "")
