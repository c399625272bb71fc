"""The rule modals' submissions: the rule form, the retire confirmation and the test box.

A refused save shows its problems on the fields they are about (``response_action: errors``);
a saved change refreshes the list the form was pushed from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.core.slack_ids import CallbackId
from bot.rules.admin import Change
from handlers.payload import request_key, user_id
from handlers.rules import dialogs, screens
from handlers.rules.command import route_answer
from handlers.rules.form import block_of, form_doc, form_problems, form_target
from handlers.rules.metadata import metadata_id
from handlers.rules.services import services_of


def on_form(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    admin = services_of(context).rule_admin
    rule_id, token = form_target(view)
    user, problems = user_id(body), form_problems(view)
    if not user:
        problems = problems or {block_of("name"): "Slack did not say who you are."}
    if problems:
        ack(response_action="errors", errors=problems)
        return
    change = admin.save(
        user=user,
        doc=form_doc(view),
        rule_id=rule_id,
        token=token,
        request_key=request_key(body),
    )
    if not change.ok:
        errors = {block_of(p.field): p.message for p in change.problems}
        ack(
            response_action="errors",
            errors=errors or {block_of("name"): _plain(change.message)},
        )
        return
    ack()
    previous = view.get("previous_view_id")
    screens.refresh(client, admin, {"id": previous} if previous else None, change.message)


def on_retire(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    admin = services_of(context).rule_admin
    rule_id, user = metadata_id(view), user_id(body)
    change = (
        admin.retire(user=user, rule_id=rule_id, request_key=request_key(body))
        if rule_id is not None and user
        else Change(False, "Unknown rule.")
    )
    if not change.ok:
        ack(
            response_action="update",
            view=dialogs.notice_modal("Not retired", change.message),
        )
        return
    ack()
    previous = view.get("previous_view_id")
    screens.refresh(client, admin, {"id": previous} if previous else None, change.message)


def on_test(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    text = dialogs.test_text(view)
    match, department = services_of(context).route_test(text)
    ack(
        response_action="update",
        view=dialogs.test_modal(text, route_answer(match, department)),
    )


def _plain(message: str) -> str:
    # Modal errors are plain text: no mrkdwn stars.
    return message.replace("*", "")


LISTENERS: tuple[tuple[CallbackId, Callable[..., None]], ...] = (
    (CallbackId.RULE_FORM, on_form),
    (CallbackId.RULE_RETIRE, on_retire),
    (CallbackId.RULE_TEST, on_test),
)


def register(app: App) -> None:
    for callback_id, listener in LISTENERS:
        app.view(callback_id.value)(listener)
