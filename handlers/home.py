"""Slack in and out for the App Home tab: published when someone opens it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.home.service import Home
from handlers.context import SERVICES


@runtime_checkable
class HomeServices(Protocol):
    @property
    def home(self) -> Home: ...


def services_of(context: BoltContext) -> HomeServices:
    services: HomeServices = context[SERVICES]
    return services


def on_home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    if event.get("tab", "home") != "home":
        return
    user = str(event.get("user") or "")
    client.views_publish(user_id=user, view=services_of(context).home.view(user))


LISTENERS: tuple[tuple[str, Callable[..., None]], ...] = (("app_home_opened", on_home_opened),)


def register(app: App) -> None:
    for event_type, listener in LISTENERS:
        app.event(event_type)(listener)
