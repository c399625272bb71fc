"""A routing rule as the comms team writes it: the one form for the YAML config, the audit log,
``engage rules export``/``import`` and the Slack modal.

A *doc* is a plain dict in a fixed key order holding only what the rule says (no empty lists,
``enabled`` only when false, ``priority`` always), so two equal rules have equal docs and
export, import, export gives the same text byte for byte.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError

from bot.config.base import ConfigError
from bot.config.file import RuleConfig
from bot.core.mrkdwn import safe
from bot.routing import AreaIndex, Router, RuleDef, RuleError
from storage.models import Rule

# The criteria a rule can list, in the order docs and forms show them.
SPEC_KEYS = (
    "keywords",
    "hashtags",
    "regex",
    "require",
    "exclude",
    "places",
    "areas",
    "languages",
    "authors",
    "service_codes",
    "sources",
)
DOC_KEYS = (
    *("name", "department", "priority"),
    *SPEC_KEYS,
    *("cc", "enabled", "urgent", "approval"),
)
NAME_MAX = 128


@dataclass(frozen=True)
class Problem:
    """Something wrong with a rule: the field it is about, and what to do."""

    field: str
    message: str


def doc_of_config(rule: RuleConfig) -> dict[str, Any]:
    return _canonical(rule.model_dump())


def doc_of_row(row: Rule) -> dict[str, Any]:
    return _canonical(
        {
            "name": row.name,
            "department": row.department,
            "priority": row.priority,
            "enabled": row.enabled,
            **row.spec,
        }
    )


def row_values(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The stored form of a doc (``storage.rules.rows`` columns)."""
    spec: dict[str, Any] = {k: list(doc[k]) for k in SPEC_KEYS if doc.get(k)}
    if doc.get("cc"):
        spec["cc"] = doc["cc"]
    if doc.get("urgent") is True:
        spec["urgent"] = True  # bot/urgent: what this rule matches pages the on-call person
    if doc.get("approval") is True:
        spec["approval"] = True  # bot/answering: answers sent to its citizens wait for comms
    return {
        "name": doc["name"],
        "department": doc["department"],
        "priority": int(doc.get("priority", 100)),
        "enabled": bool(doc.get("enabled", True)),
        "spec": spec,
    }


def _canonical(values: Mapping[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for key in DOC_KEYS:
        value = values.get(key)
        if key == "enabled":
            if value is False:
                doc[key] = False
        elif key in ("urgent", "approval"):
            if value is True:
                doc[key] = True
        elif key == "priority":
            doc[key] = int(value if value is not None else 100)
        elif key in SPEC_KEYS:
            if value:
                doc[key] = [str(v) for v in value]
        elif value not in (None, ""):
            doc[key] = value
    return doc


def rule_def(doc: Mapping[str, Any], author_lists: Mapping[str, Sequence[str]]) -> RuleDef:
    """The routing engine's form, with ``list:<name>`` authors expanded."""
    authors = tuple(
        member
        for entry in doc.get("authors", ())
        for member in (author_lists.get(entry[5:], ()) if entry.startswith("list:") else (entry,))
    )
    return RuleDef(
        name=doc["name"],
        department=doc["department"],
        priority=int(doc.get("priority", 100)),
        enabled=bool(doc.get("enabled", True)),
        cc=doc.get("cc"),
        **{k: tuple(doc.get(k, ())) for k in SPEC_KEYS if k != "authors"},
        authors=authors,
    )


def problems(
    doc: Mapping[str, Any],
    *,
    departments: Collection[str],
    author_lists: Mapping[str, Sequence[str]],
    areas: AreaIndex | None,
    taken: Collection[str] = (),
) -> list[Problem]:
    """Everything wrong with a rule, each tied to the field to fix (empty: it is fine)."""
    found: list[Problem] = []
    name = str(doc.get("name") or "").strip()
    if not name:
        found.append(Problem("name", "Give the rule a name."))
    elif len(name) > NAME_MAX:
        found.append(Problem("name", f"Keep the name under {NAME_MAX} characters."))
    elif name in taken:
        found.append(Problem("name", f"There is a rule named {name!r} already."))
    known = ", ".join(sorted(departments))
    if doc.get("department") not in departments:
        found.append(Problem("department", f"Unknown department (known: {known})."))
    cc = doc.get("cc")
    if cc and cc not in departments:
        found.append(Problem("cc", f"Unknown department {cc!r} (known: {known})."))
    elif cc and cc == doc.get("department"):
        found.append(Problem("cc", "The copy must go to another department."))
    for entry in doc.get("authors", ()):
        if entry.startswith("list:") and entry[5:] not in author_lists:
            lists = ", ".join(sorted(author_lists)) or "none"
            found.append(Problem("authors", f"No author list {entry[5:]!r} (lists: {lists})."))
    if found:
        return found
    base = {"name": name, "department": doc["department"]}
    for key in SPEC_KEYS:  # each field alone, so a bad regex is reported on the regex field
        if doc.get(key):
            try:
                Router([rule_def({**base, key: doc[key]}, author_lists)], areas=areas)
            except RuleError as exc:
                found.append(Problem(key, _sentence(exc.problem)))
    if not found:
        try:
            Router([rule_def(doc, author_lists)], areas=areas)
        except RuleError as exc:
            found.append(Problem("name", _sentence(exc.problem)))
    return found


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def dump(docs: Sequence[Mapping[str, Any]]) -> str:
    """The ``rules:`` section of a config file, in routing order."""
    header = (
        "# Engage routing rules, in routing order (lower priority wins; ties go to the first).\n"
        "# `engage rules import FILE` makes the stored rules exactly these.\n"
    )
    body = yaml.safe_dump(
        {"rules": [dict(d) for d in docs]},
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=None,
        width=100,
    )
    return header + body


def load(text: str, *, where: str) -> list[dict[str, Any]]:
    """Docs from a file holding ``rules:`` (an export, or a whole config file); one-line errors.

    Only the rules' own shape is checked here; :func:`problems` checks them against the
    departments, author lists and areas that exist.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{where}{line}: not valid YAML") from None
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise ConfigError(f"{where}: expected a mapping with a 'rules' list")
    docs: list[dict[str, Any]] = []
    names: set[str] = set()
    for i, raw in enumerate(data["rules"]):
        try:
            rule = RuleConfig.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            raise ConfigError(f"{where}: rules[{i}].{loc}: {err['msg']}") from None
        if rule.name in names:
            raise ConfigError(f"{where}: rules[{i}].name: duplicate rule name {rule.name!r}")
        names.add(rule.name)
        docs.append(doc_of_config(rule))
    return docs


def describe(
    action: str, rule: str, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> str:
    """One audit entry in words (mrkdwn, escaped): "edited *streets*: keywords +pothole"."""
    name = f"*{safe(rule, 128)}*"
    if action == "moved" and before and after:
        text = f"moved {name} from #{before.get('rank')} to #{after.get('rank')}"
        if before.get("priority") != after.get("priority"):
            text += f" (priority {before.get('priority')} → {after.get('priority')})"
        return text
    if action == "edited" and before and after:
        changes = _differences(before, after)
        return f"edited {name}: {'; '.join(changes)}" if changes else f"edited {name}"
    if action == "seeded":
        return f"seeded {name} from the config file"
    return f"{safe(action, 32)} {name}"


def _differences(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    for key in DOC_KEYS:
        old, new = before.get(key), after.get(key)
        if key in SPEC_KEYS:
            old_items, new_items = list(old or []), list(new or [])
            added = [f"+{safe(v, 60)}" for v in new_items if v not in old_items]
            removed = [f"-{safe(v, 60)}" for v in old_items if v not in new_items]
            if added or removed:
                found.append(f"{key} {' '.join(added + removed)}")
        elif key == "enabled":
            if (old is not False) != (new is not False):
                found.append("enabled" if new is not False else "disabled")
        elif old != new:
            found.append(f"{key} {safe(str(old or '-'), 60)} → {safe(str(new or '-'), 60)}")
    return found
