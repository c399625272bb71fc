"""The rules' history in words: the history modal, the ``/engage rules history`` answer and the
"Recent changes" of the rule form.

The changes are the audit rows :meth:`bot.rules.admin.RuleAdmin.history` returns; they are
read through :class:`RecordedChange`, the fields shown, so this package does not import the
storage model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from bot.core.blocks import plain, section
from bot.core.mrkdwn import escape, safe
from bot.core.slack_ids import CallbackId
from bot.rules.docs import describe


class RecordedChange(Protocol):
    """One audit entry, as ``storage.models.RuleChange`` has it."""

    @property
    def rule(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def actor(self) -> str | None: ...
    @property
    def at(self) -> datetime: ...
    @property
    def before(self) -> Mapping[str, Any] | None: ...
    @property
    def after(self) -> Mapping[str, Any] | None: ...


def history_modal(changes: Sequence[RecordedChange]) -> dict[str, Any]:
    lines = [describe_line(c) for c in changes] or ["No changes recorded yet."]
    blocks = [section("\n".join(lines[i : i + 10])) for i in range(0, len(lines), 10)]
    return {
        "type": "modal",
        "callback_id": CallbackId.RULES_HISTORY.value,
        "title": plain("Rule history"),
        "close": plain("Back"),
        "blocks": blocks[:90],
    }


def describe_line(change: RecordedChange) -> str:
    who = (
        f"<@{change.actor}>"
        if change.actor and change.actor[:1] in "UW"
        else escape(change.actor or "Engage")
    )
    what = describe(change.action, change.rule, change.before, change.after)
    return f"• {change.at:%Y-%m-%d %H:%M} UTC, {who}: {what}"


def history_text(changes: Sequence[RecordedChange], rule: str | None) -> str:
    if not changes:
        return f"No changes recorded for {safe(rule, 128)}." if rule else "No changes recorded yet."
    title = f"*Changes to {safe(rule, 128)}*" if rule else "*Latest rule changes*"
    return title + "\n" + "\n".join(describe_line(c) for c in changes)
