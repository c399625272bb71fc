"""What the rule screens carry in a view's ``private_metadata`` (JSON): the list's page, the
rule a form or a confirmation is about and the version of it the form showed.

Read back defensively: Slack returns what the screens wrote, but a signed request can carry
anything there, and what is not a small JSON object of these fields reads as nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from handlers.payload import mention_id, number

LIMIT = 3000  # Slack's limit on private_metadata


def read(view: Mapping[str, Any]) -> dict[str, Any]:
    raw = view.get("private_metadata")
    if not isinstance(raw, str) or not raw or len(raw) > LIMIT:
        return {}
    try:
        meta = json.loads(raw)
    except (ValueError, RecursionError):  # 1,500 nested brackets fit in 3,000 characters
        return {}
    return meta if isinstance(meta, dict) else {}


def page_of(view: Mapping[str, Any]) -> int:
    return number(read(view).get("page"), high=10_000) or 0


def metadata_id(view: Mapping[str, Any]) -> int | None:
    return mention_id(read(view).get("id"))
