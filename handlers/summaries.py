"""Slack in and out for summaries: ``/engage summary [department|city] [period]`` (called by
the /engage router) and its *Post to channel* button."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from slack_bolt import Ack, App, BoltContext

from bot.core.blocks import Block, actions, button, section
from bot.core.slack_ids import ActionId
from bot.summaries.service import CITY, Summaries
from handlers.context import SERVICES
from handlers.payload import channel_id, request_key, string, user_id

USAGE = (
    "Try `/engage summary`, `/engage summary last week`, `/engage summary parks last 30 days`, "
    "`/engage summary city 2026-11-01..2026-11-15`."
)
SECTION = 2900


@runtime_checkable
class SummariesServices(Protocol):
    @property
    def summaries(self) -> Summaries: ...


def services_of(context: BoltContext) -> SummariesServices:
    services: SummariesServices = context[SERVICES]
    return services


def answer(summaries: Summaries, *, text: str, channel: str, user: str) -> dict[str, Any]:
    """The ephemeral reply to the command: the summary and a button to share it."""
    slugs = {d.slug for d in summaries.config.departments}
    first, _, rest = text.partition(" ")
    if first in slugs or first in (CITY, "all"):
        department = None if first in (CITY, "all") else first
        period = rest.strip() or "this week"
    else:
        department = summaries.department_of_channel(channel)
        period = text.strip() or "this week"
    try:
        report = summaries.report(
            department=department, period=period, lead_view=summaries.is_lead(user, department)
        )
    except ValueError as exc:
        return {"text": f"{exc}. {USAGE}"}
    blocks: list[Block] = [section(part) for part in _parts(report.text)]
    share = button("Post to channel", ActionId.POST_SUMMARY, f"{department or CITY}|{period}")
    blocks.append(actions([share]))
    return {"text": report.text[:SECTION], "blocks": blocks}


def on_summary(ack: Ack, command: dict[str, Any], context: BoltContext, text: str) -> None:
    """``/engage summary ...``: ``text`` is what follows the verb."""
    ack(
        **answer(
            services_of(context).summaries,
            text=text.strip(),
            channel=str(command.get("channel_id") or ""),
            user=str(command.get("user_id") or ""),
        )
    )


def on_post_summary(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
) -> None:
    ack()
    summaries = services_of(context).summaries
    slug, _, period = string(action.get("value")).partition("|")
    channel, user = channel_id(body), user_id(body)
    known = {d.slug for d in summaries.config.departments}
    # The button carries what answer() put there; anything else posts nothing.
    if not channel or not user or (slug != CITY and slug not in known):
        return
    department = None if slug == CITY else slug
    try:
        # Shared with the channel: without the lead's invitation list.
        report = summaries.report(department=department, period=period, lead_view=False)
    except ValueError:
        return
    summaries.post(report, channel=channel, key=f"summary:{request_key(body)}")


def _parts(text: str) -> list[str]:
    parts, current = [], ""
    for paragraph in text.split("\n"):
        if len(current) + len(paragraph) + 1 > SECTION and current:
            parts.append(current)
            current = ""
        current = f"{current}\n{paragraph}" if current else paragraph[:SECTION]
    return [*parts, current] if current else parts


LISTENERS: tuple[tuple[ActionId, Callable[..., None]], ...] = (
    (ActionId.POST_SUMMARY, on_post_summary),
)


def register(app: App) -> None:
    for action_id, listener in LISTENERS:
        app.action(action_id.value)(listener)
