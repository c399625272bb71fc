"""Card buttons: Claim, Release, Retry reply, and the three that open a modal.

Claim and release are kept by the click queue (:mod:`bot.claims.click_queue`) before
``ack()`` and decided right after, in order; a retry of the reply is decided by the claims
service before ``ack()``. Either way a commit comes first, and the Slack calls that follow go
through the outbox. Buttons that open a modal change nothing: they ack and open it at once,
since the trigger expires after three seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.claims.click_queue import ClickQueue
from bot.claims.service import Claims, MentionBrief, Outcome
from bot.core.slack_ids import ActionId
from handlers.claims import modals
from handlers.claims.services import services_of
from handlers.payload import channel_id, mention_id, request_key, trigger_id, user_id


class Decision(Protocol):
    """A claims action a button decides: claim, release, retry the reply."""

    def __call__(
        self, *, mention_id: int, user_id: str, request_key: str, channel_id: str
    ) -> Outcome: ...


def on_claim(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    _claim_or_release(ack, body, action, context, "claim")


def on_release(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
) -> None:
    _claim_or_release(ack, body, action, context, "release")


def on_retry_reply(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
) -> None:
    _decide(ack, body, action, services_of(context).claims.retry_reply)


def on_answered(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    _open_modal(ack, body, action, client, services_of(context).claims, modals.answer_modal)


def on_dismiss(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    _open_modal(ack, body, action, client, services_of(context).claims, modals.dismiss_modal)


def on_hand_over(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    claims = services_of(context).claims
    _open_modal(
        ack, body, action, client, claims, lambda b: modals.hand_over_modal(b, claims.departments())
    )


def on_open_original(ack: Ack) -> None:
    ack()  # a link button: Slack opens the URL; it still sends us the click


def _claim_or_release(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, kind: str
) -> None:
    services = services_of(context)
    if services.click_queue is not None:
        _keep(ack, body, action, services.click_queue, kind)
        return
    claims = services.claims  # no queue (a test's services): decided before the ack
    _decide(ack, body, action, claims.claim if kind == "claim" else claims.release)


def _decide(ack: Ack, body: dict[str, Any], action: dict[str, Any], decide: Decision) -> None:
    click = _click(body, action)
    if click is not None:
        decide(**click)
    ack()


def _keep(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], queue: ClickQueue, kind: str
) -> None:
    click = _click(body, action)
    if click is not None:
        queue.accept(action=kind, **click)
    ack()


def _click(body: dict[str, Any], action: dict[str, Any]) -> dict[str, Any] | None:
    """Which card, who and where (a refusal is told there): without all three it is not a
    click Slack sent, and it changes nothing."""
    target, user, channel = mention_id(action.get("value")), user_id(body), channel_id(body)
    if target is None or not user or not channel:
        return None
    return {
        "mention_id": target,
        "user_id": user,
        "channel_id": channel,
        "request_key": request_key(body),
    }


def _open_modal(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    claims: Claims,
    build: Callable[[MentionBrief], dict[str, Any]],
) -> None:
    ack()
    target, trigger = mention_id(action.get("value")), trigger_id(body)
    brief = claims.brief(target) if target is not None and trigger else None
    if brief is None:
        return
    client.views_open(trigger_id=trigger, view=build(brief))


LISTENERS: tuple[tuple[ActionId, Callable[..., None]], ...] = (
    (ActionId.CLAIM, on_claim),
    (ActionId.RELEASE, on_release),
    (ActionId.RETRY_REPLY, on_retry_reply),
    (ActionId.ANSWERED, on_answered),
    (ActionId.DISMISS, on_dismiss),
    (ActionId.HAND_OVER, on_hand_over),
    (ActionId.OPEN_ORIGINAL, on_open_original),
)


def register(app: App) -> None:
    for action_id, listener in LISTENERS:
        app.action(action_id.value)(listener)
