"""The rules list: one page of rules in routing order, each with its menu, and the buttons to
add a rule, test a text and see the history.

Everything a rule says is shown with :func:`~bot.core.mrkdwn.safe`: rule terms are written by
staff, but mentions' words end up in them through suggestions, and nothing may ping or link.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from bot.core.blocks import Block, actions, button, context, divider, plain, section
from bot.core.mrkdwn import escape, safe
from bot.core.slack_ids import ActionId, CallbackId
from bot.rules.admin import RuleLine
from bot.rules.docs import SPEC_KEYS
from bot.rules.learning import RuleStats
from handlers.rules.form import FIELDS

PAGE = 40  # rules per page: one block each, well inside a modal's 100 blocks
MENU = (
    ("edit", "Edit"),
    ("up", "Move up"),
    ("down", "Move down"),
    ("toggle", ""),
    ("retire", "Retire…"),
)


def summary(doc: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """What a rule says, in one short paragraph."""
    parts = []
    for key in SPEC_KEYS:
        values = doc.get(key)
        if values:
            label = dict((k, lbl) for k, lbl, _ in FIELDS)[key].lower()
            parts.append(f"{label}: {', '.join(safe(v, 80) for v in values)}")
    if doc.get("cc"):
        parts.append(f"copy to {escape(names.get(doc['cc'], doc['cc']))}")
    return "; ".join(parts) or "every mention (no criteria)"


def rules_modal(
    lines: Sequence[RuleLine],
    *,
    names: Mapping[str, str],
    stats: Mapping[str, RuleStats],
    page: int = 0,
    notice: str = "",
) -> dict[str, Any]:
    pages = max(1, -(-len(lines) // PAGE))
    page = max(0, min(page, pages - 1))
    shown = lines[page * PAGE : (page + 1) * PAGE]
    intro = (
        f"*{len(lines)} rules*, in routing order: the first that matches a mention wins "
        "(lower priority number first). Changes apply at once, in every replica."
    )
    blocks: list[Block] = [section(intro)]
    if notice:
        blocks.append(context(notice))
    blocks.append(
        actions(
            [
                button("Add a rule", ActionId.RULES_ADD, style="primary"),
                button("Test a text", ActionId.RULES_TEST),
                button("History", ActionId.RULES_HISTORY),
            ]
        )
    )
    blocks.append(divider())
    for line in shown:
        text = _rule_text(line, names, stats.get(line.doc["name"]))
        blocks.append(section(text, _menu(line), block_id=f"engage.rules.rule.{line.id}"))
    if not lines:
        blocks.append(section("No rules yet: every mention goes to triage. Add one."))
    if pages > 1:
        pager = []
        if page > 0:
            pager.append(button("◀ Previous", ActionId.RULES_PAGE, str(page - 1)))
        if page < pages - 1:
            pager.append(button("Next ▶", ActionId.RULES_PAGE_NEXT, str(page + 1)))
        blocks.append(context(f"Page {page + 1} of {pages}"))
        blocks.append(actions(pager))
    return {
        "type": "modal",
        "callback_id": CallbackId.RULES.value,
        "private_metadata": json.dumps({"page": page}),
        "title": plain("Routing rules"),
        "close": plain("Close"),
        "blocks": blocks,
    }


def _rule_text(line: RuleLine, names: Mapping[str, str], stats: RuleStats | None) -> str:
    doc = line.doc
    department = escape(names.get(doc["department"], doc["department"]))
    state = " · _disabled_" if doc.get("enabled") is False else ""
    text = (
        f"*#{line.rank} {safe(doc['name'], 128)}* → {department} · priority {doc['priority']}"
        f"{state}\n{summary(doc, names)}"
    )
    if stats is not None and stats.routed:
        text += (
            f"\n_Handed over elsewhere: {stats.handed_over} of {stats.routed} "
            f"({stats.misroute_rate:.0%}) in the last 30 days_"
        )
    return text


def _menu(line: RuleLine) -> Block:
    options = []
    for verb, label in MENU:
        if verb == "toggle":
            label = "Enable" if line.doc.get("enabled") is False else "Disable"
        options.append({"text": plain(label), "value": f"{verb}:{line.id}"})
    return {"type": "overflow", "action_id": ActionId.RULE_MENU.value, "options": options}
