"""The shape of a Slack payload's envelope, as far as Bolt relies on it.

Bolt's context builders and listener matchers index into a payload without checking types:
``body["event"]["type"]`` on an ``event`` that is a string, ``body["actions"][0]["action_id"]``
on an empty list, ``team.get("id")`` on a team that is a list. Slack never sends such payloads,
but anyone who holds the signing secret (or a bug in a proxy) can, and each one answered 500.
:func:`first_problem` checks exactly those places, so the gate (:mod:`bot.app.slack_gate`)
refuses them with a 400 instead. Fields a listener reads beyond the envelope (a view's state, a
button's value) are the listener's to check, in :mod:`handlers.payload`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Identifiers and timestamps: strings (or null) wherever they appear in the envelope.
STRINGS = frozenset(
    {
        "type",
        "subtype",
        "token",
        "api_app_id",
        "team_id",
        "user_id",
        "channel_id",
        "enterprise_id",
        "user_team",
        "bot_id",
        "app_id",
        "thread_ts",
        "ts",
        "event_ts",
        "event_id",
        "action_ts",
        "action_id",
        "block_id",
        "callback_id",
        "trigger_id",
        "response_url",
        "command",
        "function_execution_id",
        "bot_access_token",
        "app_installed_team_id",
        "private_metadata",
        "previous_view_id",
        "root_view_id",
        "id",
    }
)
# Who and where: a string id, or an object whose ``id`` is a string.
HOLDERS = frozenset({"team", "user", "channel", "enterprise"})
# Objects Bolt looks inside, checked by the same rules; ``event`` and ``view`` may not be null
# (Bolt tests ``"type" in body["event"]``), the others may.
STRICT_OBJECTS = frozenset({"event", "view"})
OBJECTS = frozenset(
    {
        "event",
        "message",
        "previous_message",
        "item",
        "assistant_thread",
        "view",
        "container",
        "function",
        "function_data",
        "workflow_step",
    }
)
# Lists of objects Bolt takes the first of.
LISTS = frozenset({"authorizations", "response_urls", "actions"})
WITH_ACTIONS = frozenset({"block_actions", "interactive_message"})

Problem = tuple[str, str]


def first_problem(payload: Mapping[str, Any]) -> Problem | None:
    """Where the envelope is not what Bolt relies on, and how; ``None`` when it is."""
    found = _check(payload, "")
    if found or payload.get("type") not in WITH_ACTIONS:  # "type" is a string or null by now
        return found
    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions:
        return "actions", "must be a non-empty list"
    if not isinstance(actions[0].get("action_id"), str):
        return "actions[0]", "must be an object with a string action_id"
    return None


def _check(node: Mapping[str, Any], path: str) -> Problem | None:
    for key, value in node.items():
        where = f"{path}.{key}" if path else key
        if key in STRINGS and not (value is None or isinstance(value, str)):
            return where, "must be a string"
        if key in HOLDERS and not _holder(value):
            return where, "must be a string id or an object with a string id"
        if key in OBJECTS and not (value is None and key not in STRICT_OBJECTS):
            if not isinstance(value, dict):
                return where, "must be an object"
            found = _check(value, where)
            if found:
                return found
        if key in LISTS:
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                return where, "must be a list of objects"
            for i, item in enumerate(value):
                found = _check(item, f"{where}[{i}]")
                if found:
                    return found
    return None


def _holder(value: Any) -> bool:
    if value is None or isinstance(value, str):
        return True
    return isinstance(value, dict) and isinstance(value.get("id", ""), str)
