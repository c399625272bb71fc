"""What the rule screens carry in a view's ``private_metadata`` (JSON): the list's page, the
rule a form or a confirmation is about and the version of it the form showed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def read(view: Mapping[str, Any]) -> dict[str, Any]:
    try:
        meta = json.loads(str(view.get("private_metadata") or "{}"))
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def page_of(view: Mapping[str, Any]) -> int:
    page = read(view).get("page")
    return page if isinstance(page, int) else 0


def metadata_id(view: Mapping[str, Any]) -> int | None:
    rule_id = read(view).get("id")
    return rule_id if isinstance(rule_id, int) else None
