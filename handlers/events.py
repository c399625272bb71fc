"""Events: a staff member replying in a card's thread claims it if nobody has."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.claims.service import Claims
from handlers.requests import request_key


def register(app: App, claims: Claims) -> None:
    def on_message(body: dict[str, Any], event: dict[str, Any]) -> None:
        thread_ts = event.get("thread_ts")
        user = event.get("user")
        # Only a person's reply inside a thread; not the bot's own notes, edits or joins.
        if not thread_ts or not user or event.get("bot_id") or event.get("subtype"):
            return
        if thread_ts == event.get("ts"):
            return
        claims.claim_by_reply(
            channel_id=str(event.get("channel")),
            thread_ts=str(thread_ts),
            user_id=str(user),
            request_key=request_key(body),
        )

    app.event("message")(on_message)
