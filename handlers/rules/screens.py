"""The rule screens built from the rule admin's current state, and showing the list again.

Changes are decided (and committed) by :class:`~bot.rules.admin.RuleAdmin` before the ack;
refreshing a screen afterwards is a direct Web API call: a lost refresh loses nothing, since
the next screen shows the stored rules.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.rules.admin import RuleAdmin
from handlers.rules.form import rule_form
from handlers.rules.listing import rules_modal
from handlers.rules.metadata import page_of

log = logging.getLogger(__name__)


def listing(admin: RuleAdmin, *, page: int = 0, notice: str = "") -> dict[str, Any]:
    return rules_modal(
        admin.rules(),
        names=dict(admin.departments()),
        stats=admin.stats(),
        page=page,
        notice=notice,
    )


def form(
    admin: RuleAdmin, rule_id: int | None, prefill: dict[str, Any] | None = None
) -> dict[str, Any]:
    line = admin.rule(rule_id) if rule_id is not None else None
    history = admin.history(rule=line.doc["name"], limit=5) if line else []
    areas = admin.areas.names if admin.areas is not None else []
    return rule_form(
        line,
        departments=admin.departments(),
        areas=areas,
        history=history,
        prefill=prefill,
    )


def refresh(client: WebClient, admin: RuleAdmin, view: dict[str, Any] | None, notice: str) -> None:
    """Show the list again (after a change) in the modal it lives in, if still open."""
    if not view or not view.get("id"):
        return
    page = page_of(view)
    try:
        client.views_update(view_id=view["id"], view=listing(admin, page=page, notice=notice))
    except SlackApiError as exc:  # closed meanwhile: the next opening shows the change
        log.info("rules list not refreshed", extra={"error": exc.response.get("error")})
