"""Buttons on reminders: snooze, and the claimer's *still on it* / *hand back* / *need help*."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.claims.service import Claims
from bot.core.slack_ids import ActionId
from bot.nudges.sweep import Nudger
from handlers.requests import channel_id, mention_id, request_key, user_id


def register(app: App, claims: Claims, nudger: Nudger) -> None:
    def snooze(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        target, _, choice = str(action.get("value") or "").partition(":")
        found = mention_id(target)
        if found is not None:
            nudger.snooze(
                mention_id=found,
                user_id=user_id(body),
                choice=choice or "1h",
                request_key=request_key(body),
            )
        ack()

    def still_on_it(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        found = mention_id(action.get("value"))
        if found is not None:
            nudger.snooze(
                mention_id=found, user_id=user_id(body), choice="1h", request_key=request_key(body)
            )
        ack()

    def hand_back(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        found = mention_id(action.get("value"))
        if found is not None:
            claims.release(
                mention_id=found,
                user_id=user_id(body),
                request_key=request_key(body),
                channel_id=channel_id(body),
            )
        ack()

    def need_help(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        found = mention_id(action.get("value"))
        if found is not None:
            nudger.need_help(mention_id=found, user_id=user_id(body), request_key=request_key(body))
        ack()

    app.action(ActionId.SNOOZE.value)(snooze)
    app.action(ActionId.STILL_ON_IT.value)(still_on_it)
    app.action(ActionId.HAND_BACK.value)(hand_back)
    app.action(ActionId.NEED_HELP.value)(need_help)
