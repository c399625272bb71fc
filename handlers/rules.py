"""The comms team manages routing rules from Slack: ``/engage rules``, its modals, and the
App Home's "Manage rules" and hand-over suggestions.

Changes are decided (and committed) by :class:`~bot.rules.admin.RuleAdmin` before the ack;
refreshing the screens afterwards is direct Web API calls: a lost refresh loses nothing, the
next screen shows the stored rules. Buttons that open a modal ack first and open it at once,
since a trigger expires after three seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.mrkdwn import escape, safe
from bot.core.slack_ids import ActionId, CallbackId
from bot.home.service import Home
from bot.routing import Match
from bot.rules.admin import REFUSAL, Change, RuleAdmin
from handlers import rule_views
from handlers.requests import request_key, user_id

log = logging.getLogger(__name__)

HELP = (
    "`/engage rules`: the routing rules, to add, edit, reorder, enable, disable and retire.\n"
    "`/engage rules add` · `/engage rules edit <name>` · `/engage rules enable <name>` · "
    "`/engage rules disable <name>` · `/engage rules history [name]`"
)
RouteTest = Callable[[str], tuple[Match | None, str]]


def route_answer(match: Match | None, department: str) -> str:
    if match is None:
        return f"No rule matches: it would go to *triage* ({escape(department)})."
    return (
        f"It would go to *{escape(department)}* by rule *{escape(match.rule)}*: "
        f"{escape(match.reason)}."
    )


class RuleScreens:
    """Builds the screens from the service's current state."""

    def __init__(self, admin: RuleAdmin) -> None:
        self.admin = admin

    def listing(self, *, page: int = 0, notice: str = "") -> dict[str, Any]:
        return rule_views.rules_modal(
            self.admin.rules(),
            names=dict(self.admin.departments()),
            stats=self.admin.stats(),
            page=page,
            notice=notice,
        )

    def form(self, rule_id: int | None, prefill: dict[str, Any] | None = None) -> dict[str, Any]:
        line = self.admin.rule(rule_id) if rule_id is not None else None
        history = self.admin.history(rule=line.doc["name"], limit=5) if line else []
        areas = self.admin.areas.names if self.admin.areas is not None else []
        return rule_views.rule_form(
            line,
            departments=self.admin.departments(),
            areas=areas,
            history=history,
            prefill=prefill,
        )


def register(app: App, admin: RuleAdmin, home: Home, route_test: RouteTest) -> Callable[..., None]:
    """Wire the rule screens; return the ``/engage rules ...`` handler for the command."""
    screens = RuleScreens(admin)

    def refresh(client: WebClient, view: dict[str, Any] | None, notice: str) -> None:
        """Show the list again (after a change) in the modal it lives in, if still open."""
        if not view or not view.get("id"):
            return
        page = rule_views.page_of(view)
        try:
            client.views_update(view_id=view["id"], view=screens.listing(page=page, notice=notice))
        except SlackApiError as exc:  # closed meanwhile: the next opening shows the change
            log.info("rules list not refreshed", extra={"error": exc.response.get("error")})

    def on_command(ack: Ack, client: WebClient, command: dict[str, Any], text: str) -> None:
        user = str(command.get("user_id") or "")
        if not admin.may_manage(user):
            ack(text=REFUSAL)
            return
        verb, _, rest = text.strip().partition(" ")
        name = rest.strip()
        trigger = str(command.get("trigger_id") or "")
        if verb in ("", "list"):
            ack()
            client.views_open(trigger_id=trigger, view=screens.listing())
        elif verb == "add":
            ack()
            client.views_open(trigger_id=trigger, view=screens.form(None))
        elif verb == "history":
            ack(text=rule_views.history_text(admin.history(rule=name or None), name or None))
        elif verb in ("edit", "enable", "disable"):
            line = next((x for x in admin.rules() if x.doc["name"] == name), None)
            if line is None:
                ack(text=f"There is no rule named {safe(name, 128)!r}: `/engage rules` lists them.")
            elif verb == "edit":
                ack()
                client.views_open(trigger_id=trigger, view=screens.form(line.id))
            else:
                change = admin.set_enabled(
                    user=user,
                    rule_id=line.id,
                    on=verb == "enable",
                    request_key=f"command:{command.get('trigger_id')}",
                )
                ack(text=change.message)
        else:
            ack(text=HELP)

    # Buttons and menus in the rules modal.
    def on_menu(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        verb, _, raw_id = str((action.get("selected_option") or {}).get("value") or "").partition(
            ":"
        )
        rule_id = int(raw_id) if raw_id.isdigit() else None
        user = user_id(body)
        view = body.get("view")
        if rule_id is None:
            ack()
            return
        if verb == "edit":
            ack()
            client.views_push(trigger_id=body["trigger_id"], view=screens.form(rule_id))
            return
        if verb == "retire":
            ack()
            line = admin.rule(rule_id)
            if line is not None:
                client.views_push(trigger_id=body["trigger_id"], view=rule_views.retire_modal(line))
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
        refresh(client, view, change.message)

    def push(build: Callable[[], dict[str, Any]]) -> Callable[..., None]:
        def listener(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
            ack()
            if not admin.may_manage(user_id(body)):
                return
            client.views_push(trigger_id=body["trigger_id"], view=build())

        return listener

    def on_page(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        page = int(str(action.get("value") or "0")) if str(action.get("value")).isdigit() else 0
        view = body.get("view") or {}
        client.views_update(view_id=view.get("id"), view=screens.listing(page=page))

    app.action(ActionId.RULE_MENU.value)(on_menu)
    app.action(ActionId.RULES_ADD.value)(push(lambda: screens.form(None)))
    app.action(ActionId.RULES_TEST.value)(push(rule_views.test_modal))
    app.action(ActionId.RULES_HISTORY.value)(
        push(lambda: rule_views.history_modal(admin.history(limit=50)))
    )
    app.action(ActionId.RULES_PAGE.value)(on_page)

    # The App Home: open the rules, and act on a hand-over suggestion.
    def on_open(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        if admin.may_manage(user_id(body)):
            client.views_open(trigger_id=body["trigger_id"], view=screens.listing())

    def on_suggestion_add(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        raw_id, _, term = str(action.get("value") or "").partition("|")
        user = user_id(body)
        if raw_id.isdigit() and term:
            admin.add_keyword(
                user=user, rule_id=int(raw_id), term=term, request_key=request_key(body)
            )
        ack()
        client.views_publish(user_id=user, view=home.view(user))

    def on_suggestion_new(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        department, _, term = str(action.get("value") or "").partition("|")
        if not admin.may_manage(user_id(body)):
            return
        prefill = {"name": f"{department} {term}", "department": department, "keywords": [term]}
        client.views_open(trigger_id=body["trigger_id"], view=screens.form(None, prefill))

    app.action(ActionId.RULES_OPEN.value)(on_open)
    app.action(ActionId.SUGGESTION_ADD.value)(on_suggestion_add)
    app.action(ActionId.SUGGESTION_NEW.value)(on_suggestion_new)

    # Submissions.
    def on_form(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        rule_id, token = rule_views.form_target(view)
        change = admin.save(
            user=user_id(body),
            doc=rule_views.form_doc(view),
            rule_id=rule_id,
            token=token,
            request_key=request_key(body),
        )
        if not change.ok:
            errors = {rule_views.block_of(p.field): p.message for p in change.problems}
            ack(
                response_action="errors",
                errors=errors or {rule_views.block_of("name"): _plain(change.message)},
            )
            return
        ack()
        previous = view.get("previous_view_id")
        refresh(client, {"id": previous} if previous else None, change.message)

    def on_retire(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        rule_id = rule_views.metadata_id(view)
        change = (
            admin.retire(user=user_id(body), rule_id=rule_id, request_key=request_key(body))
            if rule_id is not None
            else Change(False, "Unknown rule.")
        )
        if not change.ok:
            ack(
                response_action="update",
                view=rule_views.notice_modal("Not retired", change.message),
            )
            return
        ack()
        previous = view.get("previous_view_id")
        refresh(client, {"id": previous} if previous else None, change.message)

    def on_test(ack: Ack, view: dict[str, Any]) -> None:
        text = rule_views.test_text(view)
        match, department = route_test(text)
        ack(
            response_action="update",
            view=rule_views.test_modal(text, route_answer(match, department)),
        )

    app.view(CallbackId.RULE_FORM.value)(on_form)
    app.view(CallbackId.RULE_RETIRE.value)(on_retire)
    app.view(CallbackId.RULE_TEST.value)(on_test)
    return on_command


def _plain(message: str) -> str:
    # Modal errors are plain text: no mrkdwn stars.
    return message.replace("*", "")
