"""Slack in and out for reminders: the buttons on a nudge (snooze, and the claimer's *still on
it* / *hand back* / *need help*) and ``/engage away`` / ``/engage back``.

*Hand back* releases the claim, which is the claims service's to do. That service is reached
through :class:`NudgesServices`' ``claims``, typed by the :class:`Releases` protocol, so this
module imports no other domain than ``bot.nudges``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol, runtime_checkable

from slack_bolt import Ack, App, BoltContext

from bot.core.slack_ids import ActionId
from bot.nudges.sweep import Nudger
from handlers.context import SERVICES
from handlers.payload import channel_id, mention_id, request_key, user_id


class Releases(Protocol):
    """Gives a claimed mention back (``bot.claims.service.Claims`` does)."""

    def release(
        self, *, mention_id: int, user_id: str, request_key: str, channel_id: str
    ) -> object: ...


@runtime_checkable
class NudgesServices(Protocol):
    @property
    def nudger(self) -> Nudger: ...

    @property
    def claims(self) -> Releases: ...


def services_of(context: BoltContext) -> NudgesServices:
    services: NudgesServices = context[SERVICES]
    return services


# Reminder buttons. Both snooze buttons (and the one id that reminders sent before they had
# distinct ids carry) come here: the value says which, "<mention id>:<1h|tomorrow>".
def on_snooze(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    target, _, choice = str(action.get("value") or "").partition(":")
    found = mention_id(target)
    if found is not None and user_id(body):  # no actor, no action (a malformed payload)
        services_of(context).nudger.snooze(
            mention_id=found,
            user_id=user_id(body),
            choice=choice or "1h",
            request_key=request_key(body),
        )
    ack()


def on_still_on_it(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
) -> None:
    found = mention_id(action.get("value"))
    if found is not None and user_id(body):
        services_of(context).nudger.still_on_it(
            mention_id=found, user_id=user_id(body), request_key=request_key(body)
        )
    ack()


def on_hand_back(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
) -> None:
    found = mention_id(action.get("value"))
    if found is not None and user_id(body) and channel_id(body):
        services_of(context).claims.release(
            mention_id=found,
            user_id=user_id(body),
            request_key=request_key(body),
            channel_id=channel_id(body),
        )
    ack()


def on_need_help(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
) -> None:
    found = mention_id(action.get("value"))
    if found is not None and user_id(body):
        services_of(context).nudger.need_help(
            mention_id=found, user_id=user_id(body), request_key=request_key(body)
        )
    ack()


# ``/engage away until <day>`` and ``/engage back``, called by the /engage router.
def on_away(ack: Ack, command: dict[str, Any], context: BoltContext, text: str) -> None:
    until = _date(text.removeprefix("until").strip())
    if until is None:
        ack(text="Say until when, e.g. `/engage away until 2026-12-24`.")
        return
    nudger = services_of(context).nudger
    last = until - timedelta(days=1)
    if until <= nudger.clock.now():
        ack(text=f"{last:%Y-%m-%d} is in the past: say a day from today on.")
        return
    user = str(command.get("user_id") or "")
    nudger.set_away(user_id=user, until=until)
    ack(
        text=f"No reminders for you until {last:%A} {last.day} {last:%B %Y} included. "
        "`/engage back` ends it."
    )


def on_back(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    user = str(command.get("user_id") or "")
    services_of(context).nudger.set_away(user_id=user, until=None)
    ack(text="Welcome back: you are in the reminder rotation again.")


def _date(text: str) -> datetime | None:
    """The start of the day after ``YYYY-MM-DD`` (away *until* that day, inclusive), in UTC."""
    try:
        day = date.fromisoformat(text)
        return datetime.combine(day + timedelta(days=1), time(0), UTC)
    except (ValueError, OverflowError):  # not a date, or 9999-12-31: no day after it
        return None


LISTENERS: tuple[tuple[ActionId, Callable[..., None]], ...] = (
    (ActionId.SNOOZE_HOUR, on_snooze),
    (ActionId.SNOOZE_TOMORROW, on_snooze),
    (ActionId.SNOOZE, on_snooze),
    (ActionId.STILL_ON_IT, on_still_on_it),
    (ActionId.HAND_BACK, on_hand_back),
    (ActionId.NEED_HELP, on_need_help),
)


def register(app: App) -> None:
    for action_id, listener in LISTENERS:
        app.action(action_id.value)(listener)
