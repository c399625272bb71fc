"""Events: a staff member replying in a card's thread claims it if nobody has."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext

from handlers.claims.services import services_of
from handlers.payload import message_ts, request_key, slack_id


def on_message(body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
    thread_ts = message_ts(event.get("thread_ts"))
    user, channel = slack_id(event.get("user")), slack_id(event.get("channel"))
    # Only a person's reply inside a thread; not the bot's own notes, edits or joins.
    if not thread_ts or not user or not channel or event.get("bot_id") or event.get("subtype"):
        return
    if thread_ts == event.get("ts"):
        return
    services_of(context).claims.claim_by_reply(
        channel_id=channel, thread_ts=thread_ts, user_id=user, request_key=request_key(body)
    )


LISTENERS: tuple[tuple[str, Callable[..., None]], ...] = (("message", on_message),)


def register(app: App) -> None:
    for event_type, listener in LISTENERS:
        app.event(event_type)(listener)
