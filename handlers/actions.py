"""Card buttons. Decisions are committed before ``ack()``; Slack calls that follow go through
the outbox. Buttons that open a modal change nothing: they ack and open it at once, since the
trigger expires after three seconds."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.claims.service import Claims
from bot.core.slack_ids import ActionId
from handlers import modals
from handlers.requests import channel_id, mention_id, request_key, user_id

log = logging.getLogger(__name__)


def register(app: App, claims: Claims) -> None:
    def decide(method: Callable[..., Any]) -> Callable[..., None]:
        def listener(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
            target = mention_id(action.get("value"))
            if target is None:
                ack()
                return
            method(
                mention_id=target,
                user_id=user_id(body),
                request_key=request_key(body),
                channel_id=channel_id(body),
            )
            ack()

        return listener

    app.action(ActionId.CLAIM.value)(decide(claims.claim))
    app.action(ActionId.RELEASE.value)(decide(claims.release))
    app.action(ActionId.RETRY_REPLY.value)(decide(claims.retry_reply))

    def open_modal(build: Callable[..., dict[str, Any]]) -> Callable[..., None]:
        def listener(
            ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
        ) -> None:
            ack()
            target = mention_id(action.get("value"))
            brief = claims.brief(target) if target is not None else None
            if brief is None:
                return
            client.views_open(trigger_id=body["trigger_id"], view=build(brief))

        return listener

    app.action(ActionId.ANSWERED.value)(open_modal(modals.answer_modal))
    app.action(ActionId.DISMISS.value)(open_modal(modals.dismiss_modal))
    app.action(ActionId.HAND_OVER.value)(
        open_modal(lambda brief: modals.hand_over_modal(brief, claims.departments()))
    )

    def open_original(ack: Ack) -> None:
        ack()  # a link button: Slack opens the URL; it still sends us the click

    app.action(ActionId.OPEN_ORIGINAL.value)(open_original)
