"""Pure builders for the JSON that Slack sends *to* an app.

They live apart from the fake server so the shapes can be read (and reviewed against Slack's
documentation) in one place, and so the server module stays about transport and state. Nothing
here does I/O; every function returns fresh dicts that callers may mutate freely.
"""

from __future__ import annotations

import copy
import random
import string
import time
from collections.abc import Iterator
from typing import Any

JSON = dict[str, Any]
ActionValue = str | list[str] | None
"""What a test passes for an element: a string, a list (multi-selects, checkboxes) or nothing."""

# Element type -> the state key Slack uses for the user's choice.
_OPTION_KEYS = {"static_select": "selected_option", "external_select": "selected_option"}
_OPTION_KEYS |= {"radio_buttons": "selected_option", "overflow": "selected_option"}
_OPTION_KEYS |= {"multi_static_select": "selected_options", "checkboxes": "selected_options"}
_OPTION_KEYS |= {"multi_external_select": "selected_options"}
_PLAIN_KEYS = {
    "users_select": "selected_user",
    "conversations_select": "selected_conversation",
    "channels_select": "selected_channel",
    "multi_users_select": "selected_users",
    "multi_conversations_select": "selected_conversations",
    "multi_channels_select": "selected_channels",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
}


def new_id(prefix: str = "", length: int = 10) -> str:
    """Slack-looking random ids (upper-case alphanumerics) so payloads resemble production."""
    return prefix + "".join(random.choices(string.ascii_uppercase + string.digits, k=length))


def _short_id() -> str:
    return "".join(random.choices(string.ascii_letters + string.digits, k=5))


def _elements(block: JSON) -> Iterator[JSON]:
    """Interactive elements of a block: actions elements, a section accessory, an input element."""
    yield from block.get("elements", []) if block.get("type") == "actions" else []
    for key in ("accessory", "element"):
        element = block.get(key)
        if isinstance(element, dict) and "type" in element:
            yield element


def assign_block_ids(blocks: list[JSON]) -> list[JSON]:
    """Copy blocks, filling missing block_id/action_id with random ones as Slack does.

    Slack generates these when an app omits them and echoes them back in interaction payloads;
    doing the same keeps a bot from accidentally depending on ids it never set.
    """
    blocks = copy.deepcopy(blocks)
    for block in blocks:
        block.setdefault("block_id", _short_id())
        for element in _elements(block):
            if element.get("type") not in ("image", "plain_text", "mrkdwn"):
                element.setdefault("action_id", _short_id())
    return blocks


def find_element(
    blocks: list[JSON], action_id: str, block_id: str | None = None
) -> tuple[str, JSON]:
    """Return ``(block_id, element)`` for ``action_id``; raise LookupError if absent."""
    for block in blocks:
        if block_id is not None and block.get("block_id") != block_id:
            continue
        for element in _elements(block):
            if element.get("action_id") == action_id:
                return str(block.get("block_id", "")), element
    where = f" in block {block_id!r}" if block_id else ""
    raise LookupError(f"no element with action_id {action_id!r}{where}")


def _option(element: JSON, value: str) -> JSON:
    options = list(element.get("options", []))
    for group in element.get("option_groups", []):
        options.extend(group.get("options", []))
    if not options:  # external selects: options come from the app, so synthesise one
        return {"text": {"type": "plain_text", "text": value, "emoji": True}, "value": value}
    for option in options:
        if option.get("value") == value:
            return copy.deepcopy(option)
    raise LookupError(f"option {value!r} not in {element.get('action_id')!r}")


def element_state(element: JSON, value: ActionValue, *, use_initial: bool = True) -> JSON:
    """The ``{"type": ..., <choice>}`` part Slack reports for an element in state or actions.

    With ``use_initial`` an untouched element reports its ``initial_*`` value, as Slack does.
    """
    etype = element.get("type")
    state: JSON = {"type": etype}
    if etype in _OPTION_KEYS:
        key = _OPTION_KEYS[etype]
        initial = element.get("initial_" + key.removeprefix("selected_")) if use_initial else None
        if key == "selected_option":
            choice = _option(element, value) if isinstance(value, str) else initial
        else:
            values = [value] if isinstance(value, str) else value
            choice = [_option(element, v) for v in values] if values is not None else initial
        state[key] = choice if choice is not None else ([] if key == "selected_options" else None)
    elif etype in _PLAIN_KEYS:
        key = _PLAIN_KEYS[etype]
        initial = element.get("initial_" + key.removeprefix("selected_")) if use_initial else None
        state[key] = value if value is not None else initial
    else:  # plain_text_input, number_input, email_text_input, url_text_input, ...
        state["value"] = value if value is not None else element.get("initial_value")
    return state


def action_for(element: JSON, block_id: str, value: ActionValue) -> JSON:
    """One entry of ``actions`` in a block_actions payload."""
    action: JSON = {"action_id": element["action_id"], "block_id": block_id}
    if element.get("type") == "button":
        if value is not None and value != element.get("value"):
            raise ValueError("a button sends its own value; do not pass a different one")
        action |= {"text": copy.deepcopy(element.get("text")), "type": "button"}
        for key in ("value", "style"):
            if key in element:
                action[key] = element[key]
    else:
        action |= element_state(element, value, use_initial=False)
    action["action_ts"] = f"{time.time():.6f}"
    return action


def state_values(view: JSON, values: dict[str, dict[str, ActionValue]]) -> JSON:
    """Build ``view.state.values`` from ``{block_id: {action_id: value}}``.

    Every input block appears (untouched ones with their initial value or None), as in Slack, so a
    bot's handling of empty optional fields is exercised. Unknown ids raise LookupError.
    """
    blocks: list[JSON] = view.get("blocks", [])
    result: JSON = {}
    for block in blocks:
        if block.get("type") == "input" and isinstance(block.get("element"), dict):
            element = block["element"]
            given = values.get(block["block_id"], {}).get(element["action_id"])
            state = element_state(element, given)
            result.setdefault(block["block_id"], {})[element["action_id"]] = state
    for block_id, actions in values.items():
        for action_id, value in actions.items():
            if action_id not in result.get(block_id, {}):
                _, element = find_element(blocks, action_id, block_id)
                result.setdefault(block_id, {})[action_id] = element_state(element, value)
    return result


def block_actions(
    *,
    common: JSON,
    channel: JSON,
    message: JSON,
    trigger_id: str,
    response_url: str,
    action: JSON,
) -> JSON:
    """A ``block_actions`` payload for a click on a message in a channel.

    ``common`` carries ``user``, ``team``, ``api_app_id`` and ``token`` shared by all payloads.
    Message metadata is left out on purpose: Slack does not promise it in interaction payloads,
    so a bot must not rely on it there.
    """
    container: JSON = {
        "type": "message",
        "message_ts": message["ts"],
        "channel_id": channel["id"],
        "is_ephemeral": False,
    }
    if message.get("thread_ts") and message["thread_ts"] != message["ts"]:
        container["thread_ts"] = message["thread_ts"]
    shown = {k: copy.deepcopy(v) for k, v in message.items() if k != "metadata"}
    return {
        "type": "block_actions",
        **copy.deepcopy(common),
        "container": container,
        "trigger_id": trigger_id,
        "channel": copy.deepcopy(channel),
        "message": shown,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [action],
        "enterprise": None,
        "is_enterprise_install": False,
    }


def view_block_actions(*, common: JSON, view: JSON, trigger_id: str, action: JSON) -> JSON:
    """A ``block_actions`` payload for a click inside a modal or an App Home tab."""
    return {
        "type": "block_actions",
        **copy.deepcopy(common),
        "container": {"type": "view", "view_id": view["id"]},
        "trigger_id": trigger_id,
        "view": copy.deepcopy(view),
        "actions": [action],
        "enterprise": None,
        "is_enterprise_install": False,
    }


def block_suggestion(*, common: JSON, view: JSON, action_id: str, block_id: str) -> JSON:
    """An external select's options request from a modal (the typed ``value`` is added)."""
    return {
        "type": "block_suggestion",
        **copy.deepcopy(common),
        "container": {"type": "view", "view_id": view["id"]},
        "action_id": action_id,
        "block_id": block_id,
        "view": copy.deepcopy(view),
        "value": "",
    }


def view_payload(kind: str, *, common: JSON, view: JSON, trigger_id: str | None = None) -> JSON:
    """``view_submission`` (with trigger_id) or ``view_closed`` around a stored view."""
    payload: JSON = {"type": kind, **copy.deepcopy(common), "view": copy.deepcopy(view)}
    payload |= {"enterprise": None, "is_enterprise_install": False}
    if kind == "view_submission":
        payload |= {"trigger_id": trigger_id, "response_urls": []}
    else:
        payload["is_cleared"] = False
    return payload


def event_callback(
    *, common: JSON, event: JSON, event_id: str, bot_user_id: str, event_time: int
) -> JSON:
    """The Events API envelope Slack wraps every event in."""
    team_id = common["team"]["id"]
    return {
        "token": common["token"],
        "team_id": team_id,
        "api_app_id": common["api_app_id"],
        "event": copy.deepcopy(event),
        "type": "event_callback",
        "event_id": event_id,
        "event_time": event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-" + new_id(length=40),
    }


def slash_command(
    *, common: JSON, channel: JSON, command: str, text: str, response_url: str, trigger_id: str
) -> dict[str, str]:
    """Form fields of a slash command request (Slack sends these url-encoded, not as JSON)."""
    return {
        "token": common["token"],
        "team_id": common["team"]["id"],
        "team_domain": common["team"]["domain"],
        "channel_id": channel["id"],
        "channel_name": channel["name"],
        "user_id": common["user"]["id"],
        "user_name": common["user"]["username"],
        "command": command,
        "text": text,
        "api_app_id": common["api_app_id"],
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
