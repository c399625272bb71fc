"""Reading Slack payloads: who acted, on what, and the key that makes a retry harmless.

Shared by every handler package: these readers know Slack's payload shapes and nothing of any
domain, so each domain's listeners stay a few lines of "read, call the service, answer".

They are strict, because a signed payload is not necessarily a well-formed one (a proxy's bug,
a replay tool, anyone holding the signing secret), and what they return goes into the database
and back to Slack. Each reader returns a value the rest of the code can use as it is, or an
empty value (``""``, ``None``) that means "absent or not valid": a listener that gets one acks
and changes nothing. In particular:

- Slack ids (users, channels) are upper-case letters and digits; anything else is ``""``;
- a mention or rule id is a plain decimal number in the database's integer range, so ``"²"``
  (``str.isdigit()`` says yes, ``int()`` says no) and ``10**30`` are ``None``;
- a request key is short enough for the inbox and the outbox keys built from it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

MAX_ID = 2**31 - 1  # PostgreSQL's integer, the type of every id column
REQUEST_KEY_LIMIT = 160  # outbox keys prefix it ("ephemeral:", "update:<card>:") within 255
_SLACK_ID = re.compile(r"[A-Z0-9]{1,32}")
_NUMBER = re.compile(r"[0-9]{1,10}")
_TS = re.compile(r"[0-9]{1,12}\.[0-9]{1,8}")
_KEY_PART = re.compile(r"[A-Za-z0-9._:-]*")


def slack_id(value: Any) -> str:
    """``value`` if it is a Slack id (``U0ALICE01``, ``C0PUBWORKS``), else ``""``."""
    return value if isinstance(value, str) and _SLACK_ID.fullmatch(value) else ""


def user_id(body: Mapping[str, Any]) -> str:
    """Who acted: ``user.id`` of an interaction, ``user_id`` of a command; ``""`` if neither."""
    user = body.get("user")
    found = user.get("id") if isinstance(user, dict) else user
    return slack_id(found) or slack_id(body.get("user_id"))


def channel_id(body: Mapping[str, Any]) -> str:
    """Where: the channel of a message, its container, or a command's; ``""`` if none."""
    channel, container = body.get("channel"), body.get("container")
    found = channel.get("id") if isinstance(channel, dict) else channel
    inside = container.get("channel_id") if isinstance(container, dict) else None
    return slack_id(found) or slack_id(inside) or slack_id(body.get("channel_id"))


def message_ts(value: Any) -> str:
    """``value`` if it is a message timestamp (``1700000000.123456``), else ``""``."""
    return value if isinstance(value, str) and _TS.fullmatch(value) else ""


def number(value: Any, *, low: int = 0, high: int = MAX_ID) -> int | None:
    """A plain decimal number (an int, or a string of ASCII digits) from ``low`` to ``high``."""
    if isinstance(value, int) and not isinstance(value, bool):
        found = value
    elif isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        found = int(value.strip())
    else:
        return None
    return found if low <= found <= high else None


def mention_id(value: Any) -> int | None:
    """A stored row's id (a mention's, a rule's) from a button value or metadata, else
    ``None``."""
    return number(value, low=1)


def dig(value: Any, *keys: str) -> Mapping[str, Any]:
    """``value[k1][k2]...`` when every step is an object, else ``{}``: a view's state, say."""
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else {}


def string(value: Any) -> str:
    """``value`` if it is a string, else ``""``: for fields Slack always sends as strings."""
    return value if isinstance(value, str) else ""


def trigger_id(body: Mapping[str, Any]) -> str:
    """The trigger that lets a listener open a modal, or ``""``."""
    return string(body.get("trigger_id"))


def view_id(view: Any) -> str:
    """The id of the modal a request came from (to update it), or ``""`` outside a modal."""
    return string(view.get("id")) if isinstance(view, dict) else ""


def first_action(body: Mapping[str, Any]) -> Mapping[str, Any]:
    actions = body.get("actions")
    first = actions[0] if isinstance(actions, list) and actions else None
    return first if isinstance(first, dict) else {}


def request_key(body: Mapping[str, Any]) -> str:
    """A key that is equal for a retried or replayed request and differs for a second click.

    Slack gives each click its own ``action_ts``, each modal its own view id and each event
    its own ``event_id``; a retry carries the same values again. A key made of anything but
    those ids' characters, or too long to store, is replaced by a digest of itself.
    """
    kind = body.get("type", "")
    if kind == "block_actions":
        action = first_action(body)
        key = f"action:{user_id(body)}:{action.get('action_id')}:{action.get('action_ts')}"
    elif kind == "view_submission":
        key = f"view:{view_id(body.get('view'))}"
    elif kind == "event_callback":
        key = f"event:{body.get('event_id')}"
    else:
        text = json.dumps(body, sort_keys=True, default=str)
        return f"{kind if _short(kind) else 'request'}:{_digest(text)}"
    if len(key) <= REQUEST_KEY_LIMIT and _KEY_PART.fullmatch(key):
        return key
    return f"{key.partition(':')[0]}:sha256:{_digest(key)}"


def _digest(text: str) -> str:
    # surrogatepass: a payload may hold lone surrogates, and a digest must never raise.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _short(kind: Any) -> bool:
    return isinstance(kind, str) and len(kind) <= 40 and bool(_KEY_PART.fullmatch(kind))
