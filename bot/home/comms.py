"""The comms team's part of the App Home: deliveries that failed for good (each with Retry),
routing at a glance, hand-over suggestions with a one-click fix, and each adapter's health.
(The triage backlog is listed with the channels.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.blocks import button, divider, section
from bot.core.mrkdwn import escape, one_line, safe
from bot.core.slack_ids import ActionId
from bot.outbox.failures import FailedDelivery, where
from bot.rules.admin import RuleAdmin
from storage.models import AdapterState

MISROUTE_SHOWN = 0.2  # rules that send at least this share elsewhere are listed
MISROUTE_MIN_ROUTED = 5  # ... once they routed this many (2 of 3 says little)


def comms_blocks(
    admin: RuleAdmin, adapters: list[AdapterState], now: datetime
) -> list[dict[str, Any]]:
    lines = admin.rules()
    disabled = sum(1 for line in lines if line.doc.get("enabled") is False)
    names = dict(admin.departments())
    blocks: list[dict[str, Any]] = [
        divider(),
        section(
            f"*Routing*: {len(lines)} rules"
            + (f" ({disabled} disabled)" if disabled else "")
            + ". Add, edit, reorder and retire them; every change is in the history.",
            button("Manage rules", ActionId.RULES_OPEN, style="primary"),
        ),
    ]
    stats = admin.stats()
    misrouting = sorted(
        (s for s in stats.values() if s.routed >= MISROUTE_MIN_ROUTED),
        key=lambda s: -s.misroute_rate,
    )
    flagged = [s for s in misrouting if s.misroute_rate >= MISROUTE_SHOWN][:5]
    if flagged:
        text = "\n".join(
            f"• *{safe(s.rule, 128)}*: {s.handed_over} of {s.routed} handed over elsewhere "
            f"({s.misroute_rate:.0%})"
            for s in flagged
        )
        blocks.append(section(f"*Rules that often route to the wrong place* (30 days)\n{text}"))
    for suggestion, target in admin.suggestions(limit=5):
        source = names.get(suggestion.from_department or "", "Triage")
        dest = names.get(suggestion.to_department, suggestion.to_department)
        term = safe(suggestion.term, 60)
        text = (
            f"Mentions handed from *{escape(source)}* to *{escape(dest)}* often say "
            f"“{term}” ({suggestion.count} of {suggestion.handovers} hand-overs)."
        )
        if target is not None:
            add = button(
                f"Add to {target.doc['name']}",
                ActionId.SUGGESTION_ADD,
                f"{target.id}|{suggestion.term}",
            )
        else:
            add = button(
                "Create a rule",
                ActionId.SUGGESTION_NEW,
                f"{suggestion.to_department}|{suggestion.term}",
            )
        blocks.append(section(text, add))
    blocks.append(section("*Sources*\n" + _adapters_text(adapters, now)))
    return blocks


def failed_blocks(failed: list[FailedDelivery], count: int, now: datetime) -> list[dict[str, Any]]:
    """Deliveries that failed for good, newest first, each with Retry (nothing if none)."""
    if not count:
        return []
    more = f" The {len(failed)} most recent:" if count > len(failed) else ""
    retry_all = button("Retry all", ActionId.DELIVERY_RETRY, "all", style="primary")
    blocks = [
        divider(),
        section(
            f":warning: *Failed deliveries*: {count}. Slack refused these or kept failing; fix "
            f"the cause (the alert in triage says what), then retry.{more}",
            retry_all if count > 1 else None,
        ),
    ]
    for item in failed:
        about = f": “{safe(one_line(item.text), 80)}”" if item.text else ""
        failed_at = f", {_ago(item.failed_at, now)}" if item.failed_at else ""
        text = (
            f"• A {item.label} for {where(item.channel_id)}{about}\n"
            f"_{safe(item.error or 'unknown error', 200)}{failed_at}_"
        )
        blocks.append(section(text, button("Retry", ActionId.DELIVERY_RETRY, str(item.id))))
    return blocks


def _adapters_text(adapters: list[AdapterState], now: datetime) -> str:
    if not adapters:
        return "No source has run yet."
    lines = []
    for state in adapters:
        name = f"*{safe(state.name, 80)}* ({escape(state.source)})"
        last = (
            f"last success {_ago(state.last_success_at, now)}"
            if state.last_success_at
            else "never succeeded"
        )
        if state.consecutive_failures:
            error = safe(state.last_error or "unknown error", 150)
            failures = f"{state.consecutive_failures} failure(s) in a row"
            lines.append(f":warning: {name}: {failures}, {last}: {error}")
        else:
            lines.append(f":white_check_mark: {name}: {last}, {state.items_seen} items")
    return "\n".join(lines)


def _ago(at: datetime, now: datetime) -> str:
    minutes = int((now - at).total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 120:
        return f"{minutes} min ago"
    hours = minutes // 60
    return f"{hours} h ago" if hours < 48 else f"{hours // 24} days ago"
