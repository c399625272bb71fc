"""``/engage summary [department|city] [period]`` and its *Post to channel* button."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.core.slack_ids import ActionId
from bot.summaries.service import CITY, Summaries
from handlers.requests import channel_id, user_id

USAGE = (
    "Try `/engage summary`, `/engage summary last week`, `/engage summary parks last 30 days`, "
    "`/engage summary city 2026-11-01..2026-11-15`."
)
SECTION = 2900


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
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": part}}
        for part in _parts(report.text)
    ]
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Post to channel"},
                    "action_id": ActionId.POST_SUMMARY.value,
                    "value": f"{department or CITY}|{period}",
                }
            ],
        }
    )
    return {"text": report.text[:SECTION], "blocks": blocks}


def register(app: App, summaries: Summaries) -> None:
    def post_summary(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        slug, _, period = str(action.get("value") or "").partition("|")
        department = None if slug == CITY else slug
        # Shared with the channel: without the lead's invitation list.
        report = summaries.report(department=department, period=period, lead_view=False)
        channel = channel_id(body)
        summaries.post(
            report,
            channel=channel,
            key=f"summary:{channel}:{user_id(body)}:{action.get('action_ts')}",
        )

    app.action(ActionId.POST_SUMMARY.value)(post_summary)


def _parts(text: str) -> list[str]:
    parts, current = [], ""
    for paragraph in text.split("\n"):
        if len(current) + len(paragraph) + 1 > SECTION and current:
            parts.append(current)
            current = ""
        current = f"{current}\n{paragraph}" if current else paragraph[:SECTION]
    return [*parts, current] if current else parts
