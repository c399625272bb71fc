"""Buttons and menus: in the rules modal (a rule's menu, add, test, history, pages) and on the
App Home (open the rules, act on a hand-over suggestion).

Buttons that open or push a modal ack first and open it at once, since a trigger expires after
three seconds. A change (move, enable, disable, add a keyword) is committed by the rule admin
before the ack; the screen is refreshed after it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.core.slack_ids import ActionId
from bot.rules.admin import Change, RuleAdmin
from bot.rules.docs import NAME_MAX
from handlers.payload import (
    dig,
    mention_id,
    number,
    request_key,
    string,
    trigger_id,
    user_id,
    view_id,
)
from handlers.rules import dialogs, screens
from handlers.rules.history import history_modal
from handlers.rules.services import services_of

TERM_LIMIT = 200  # a suggested keyword: a word or a short phrase


def on_menu(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """A rule's overflow menu: edit and retire open a modal; the rest change the rule."""
    admin = services_of(context).rule_admin
    verb, _, raw_id = string(dig(action, "selected_option").get("value")).partition(":")
    rule_id, user, trigger = mention_id(raw_id), user_id(body), trigger_id(body)
    view = body.get("view")
    if rule_id is None or not user:
        ack()
        return
    if verb in ("edit", "retire"):
        ack()
        line = admin.rule(rule_id)
        if line is None or not trigger:
            return
        shown = screens.form(admin, rule_id) if verb == "edit" else dialogs.retire_modal(line)
        client.views_push(trigger_id=trigger, view=shown)
        return
    key = request_key(body)
    if verb in ("up", "down"):
        change = admin.move(
            user=user, rule_id=rule_id, steps=-1 if verb == "up" else 1, request_key=key
        )
    elif verb == "toggle":
        line = admin.rule(rule_id)
        on = line is not None and line.doc.get("enabled") is False
        change = admin.set_enabled(user=user, rule_id=rule_id, on=on, request_key=key)
    else:
        change = Change(False, "Unknown choice.")
    ack()
    screens.refresh(client, admin, view, change.message)


def on_add(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    _push(ack, body, client, context, lambda admin: screens.form(admin, None))


def on_test(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    _push(ack, body, client, context, lambda _admin: dialogs.test_modal())


def on_history(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    _push(ack, body, client, context, lambda admin: history_modal(admin.history(limit=50)))


def on_page(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    # Only from the rules modal, the one view with pages: a click elsewhere updates nothing.
    shown = view_id(body.get("view"))
    if not shown:
        return
    page = number(action.get("value"), high=10_000) or 0
    client.views_update(
        view_id=shown, view=screens.listing(services_of(context).rule_admin, page=page)
    )


def on_open(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """The App Home's "Manage rules"."""
    ack()
    admin = services_of(context).rule_admin
    if trigger_id(body) and admin.may_manage(user_id(body)):
        client.views_open(trigger_id=trigger_id(body), view=screens.listing(admin))


def on_suggestion_add(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Add a suggested keyword to a rule, then publish the Home that showed the suggestion
    again (through the services' ``home``, a :class:`~handlers.rules.services.HomeView`)."""
    services = services_of(context)
    raw_id, _, term = string(action.get("value")).partition("|")
    rule_id, user = mention_id(raw_id), user_id(body)
    if not user:
        ack()
        return
    if rule_id is not None and term.strip() and len(term) <= TERM_LIMIT:
        services.rule_admin.add_keyword(
            user=user, rule_id=rule_id, term=term, request_key=request_key(body)
        )
    ack()
    client.views_publish(user_id=user, view=services.home.view(user))


def on_suggestion_new(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Open the rule form filled in from a suggestion that no rule covers yet."""
    ack()
    department, _, term = string(action.get("value")).partition("|")
    admin = services_of(context).rule_admin
    if not trigger_id(body) or not term.strip() or not admin.may_manage(user_id(body)):
        return
    prefill = {
        "name": f"{department} {term}"[:NAME_MAX],
        "department": department,
        "keywords": [term],
    }
    client.views_open(trigger_id=trigger_id(body), view=screens.form(admin, None, prefill))


def _push(
    ack: Ack,
    body: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    build: Callable[[RuleAdmin], dict[str, Any]],
) -> None:
    ack()
    admin = services_of(context).rule_admin
    if not trigger_id(body) or not admin.may_manage(user_id(body)):
        return
    client.views_push(trigger_id=trigger_id(body), view=build(admin))


LISTENERS: tuple[tuple[ActionId, Callable[..., None]], ...] = (
    (ActionId.RULE_MENU, on_menu),
    (ActionId.RULES_ADD, on_add),
    (ActionId.RULES_TEST, on_test),
    (ActionId.RULES_HISTORY, on_history),
    (ActionId.RULES_PAGE, on_page),
    (ActionId.RULES_PAGE_NEXT, on_page),
    (ActionId.RULES_OPEN, on_open),
    (ActionId.SUGGESTION_ADD, on_suggestion_add),
    (ActionId.SUGGESTION_NEW, on_suggestion_new),
)


def register(app: App) -> None:
    for action_id, listener in LISTENERS:
        app.action(action_id.value)(listener)
