"""Slack in and out for the App Home tab: published when someone opens it, and the comms
team's Retry of a failed delivery (which publishes it again, one row shorter)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.core.slack_ids import ActionId
from bot.home.service import Home
from handlers.context import SERVICES
from handlers.payload import mention_id, slack_id, string, user_id


@runtime_checkable
class HomeServices(Protocol):
    @property
    def home(self) -> Home: ...


def services_of(context: BoltContext) -> HomeServices:
    services: HomeServices = context[SERVICES]
    return services


def on_home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    user = slack_id(event.get("user"))
    if event.get("tab", "home") != "home" or not user:
        return
    client.views_publish(user_id=user, view=services_of(context).home.view(user))


def on_retry_delivery(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    home = services_of(context).home
    user, value = user_id(body), string(action.get("value"))
    if not user:  # a malformed payload: nobody to act for or to show the Home to
        ack()
        return
    # "all", or a row id in the database's range ("²".isdigit() is true, int("²") fails).
    which = value if value == "all" or mention_id(value) is not None else ""
    home.retry_delivery(user, which)  # decided before the ack
    ack()
    client.views_publish(user_id=user, view=home.view(user))


# Events by type, actions by ActionId.
LISTENERS: tuple[tuple[str, Callable[..., None]], ...] = (
    ("app_home_opened", on_home_opened),
    (ActionId.DELIVERY_RETRY, on_retry_delivery),
)


def register(app: App) -> None:
    for key, listener in LISTENERS:
        if isinstance(key, ActionId):
            app.action(key.value)(listener)
        else:
            app.event(key)(listener)
