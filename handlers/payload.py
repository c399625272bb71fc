"""Reading Slack payloads: who acted, on what, and the key that makes a retry harmless.

Shared by every handler package: these readers know Slack's payload shapes and nothing of any
domain, so each domain's listeners stay a few lines of "read, call the service, answer".
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def user_id(body: dict[str, Any]) -> str:
    user = body.get("user") or {}
    return str(user.get("id") or body.get("user_id") or "")


def channel_id(body: dict[str, Any]) -> str:
    channel = body.get("channel") or {}
    container = body.get("container") or {}
    return str(channel.get("id") or container.get("channel_id") or body.get("channel_id") or "")


def mention_id(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def request_key(body: dict[str, Any]) -> str:
    """A key that is equal for a retried or replayed request and differs for a second click.

    Slack gives each click its own ``action_ts``, each modal its own view id and each event
    its own ``event_id``; a retry carries the same values again.
    """
    kind = body.get("type", "")
    if kind == "block_actions":
        action = (body.get("actions") or [{}])[0]
        return f"action:{user_id(body)}:{action.get('action_id')}:{action.get('action_ts')}"
    if kind == "view_submission":
        return f"view:{(body.get('view') or {}).get('id')}"
    if kind == "event_callback":
        return f"event:{body.get('event_id')}"
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return f"{kind or 'request'}:{digest}"
