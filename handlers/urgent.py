"""Slack in for the urgent lane: a page's *Acknowledge*, *Not urgent* (on a page or on the
card) and ``/engage oncall`` (called by the ``/engage`` router).

Each click is acked at once; the service records the decision and tells the clicker through
the outbox (an ephemeral message keyed by the request, so a retried click is told once).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from slack_bolt import Ack, App, BoltContext

from bot.core.slack_ids import ActionId
from bot.urgent.service import UrgentDesk
from handlers.context import SERVICES
from handlers.payload import channel_id, mention_id, request_key, string, user_id


@runtime_checkable
class UrgentServices(Protocol):
    @property
    def urgent(self) -> UrgentDesk | None: ...


def services_of(context: BoltContext) -> UrgentServices:
    services: UrgentServices = context[SERVICES]
    return services


def on_acknowledge(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
) -> None:
    _page_button(ack, body, action, context, acknowledge=True)


def on_downgrade(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
) -> None:
    _page_button(ack, body, action, context, acknowledge=False)


def _page_button(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    context: BoltContext,
    *,
    acknowledge: bool,
) -> None:
    ack()
    desk = services_of(context).urgent
    found = mention_id(action.get("value"))
    if desk is None or found is None or not user_id(body):
        return
    decide = desk.acknowledge if acknowledge else desk.downgrade
    decide(
        mention_id=found,
        user_id=user_id(body),
        channel_id=channel_id(body),
        request_key=request_key(body),
    )


def on_oncall(ack: Ack, command: dict[str, Any], context: BoltContext, text: str) -> None:
    """``/engage oncall [department]`` and ``/engage oncall swap @user [department] [until
    DATE]``; the answer is for the asker only (the slash command's reply)."""
    desk = services_of(context).urgent
    if desk is None:
        ack(text="The urgent lane is not set up.")
        return
    # What the asker typed is escaped by the service; user ids stay mentions.
    ack(text=desk.command(user_id=string(command.get("user_id")), text=text))


LISTENERS: tuple[tuple[ActionId, Callable[..., None]], ...] = (
    (ActionId.URGENT_ACK, on_acknowledge),
    (ActionId.URGENT_DOWNGRADE, on_downgrade),
)


def register(app: App) -> None:
    for action_id, listener in LISTENERS:
        app.action(action_id.value)(listener)
