"""The App Home tab, published when someone opens it."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.home.service import Home


def register(app: App, home: Home) -> None:
    def on_home_opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        user = str(event.get("user") or "")
        client.views_publish(user_id=user, view=home.view(user))

    app.event("app_home_opened")(on_home_opened)
