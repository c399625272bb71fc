"""The comms team's rule screens: the list (one page of rules, in routing order), the rule
form, the test box, the history, and the retire confirmation.

Everything a rule says is shown with :func:`~bot.core.mrkdwn.safe`: rule terms are written by staff,
but mentions' words end up in them through suggestions, and nothing may ping or link.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from bot.core.mrkdwn import escape, safe
from bot.core.slack_ids import ActionId, CallbackId
from bot.rules.admin import RuleLine
from bot.rules.docs import SPEC_KEYS, describe
from bot.rules.learning import RuleStats
from storage.models import RuleChange

PAGE = 40  # rules per page: one block each, well inside a modal's 100 blocks
MENU = (
    ("edit", "Edit"),
    ("up", "Move up"),
    ("down", "Move down"),
    ("toggle", ""),
    ("retire", "Retire…"),
)
SOURCES = ("mastodon", "bluesky", "reddit", "email", "rss", "open311", "webhook", "x", "facebook")

# The form's fields: (key, label, hint); lists are written comma-separated, regexes one a line.
FIELDS: tuple[tuple[str, str, str], ...] = (
    (
        "keywords",
        "Keywords",
        "Words or phrases, comma-separated; bin* is a prefix. Any one matches.",
    ),
    ("hashtags", "Hashtags", "Without #, comma-separated. Any one matches."),
    ("regex", "Regular expressions", "One a line, case-insensitive. Any one matches."),
    ("require", "Required words (AND)", "Comma-separated: every one must be there too."),
    ("exclude", "Never when (NOT)", "Comma-separated: any one vetoes the rule."),
    ("places", "Places named in the text", "Neighbourhoods, streets: Boylston Street, Dorchester."),
    ("areas", "Areas (boundaries)", "Names of areas in the boundaries file, comma-separated."),
    ("languages", "Languages", "ISO codes such as fr, es; unknown for undetected."),
    ("authors", "Authors", "Handles or addresses, or list:press for an author list."),
    ("service_codes", "Open311 service codes", "Comma-separated."),
    ("sources", "Sources", "Leave empty for every source."),
)
MULTILINE = {"regex"}


def block_of(field: str) -> str:
    return f"engage.rule.{field}"


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:150] or " "}


def _section(text: str, accessory: dict[str, Any] | None = None) -> dict[str, Any]:
    mrkdwn = {"type": "mrkdwn", "text": text[:3000], "verbatim": True}
    block: dict[str, Any] = {"type": "section", "text": mrkdwn}
    if accessory:
        block["accessory"] = accessory
    return block


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}


def _button(
    text: str, action: ActionId, value: str = "", style: str | None = None
) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": _plain(text),
        "action_id": action.value,
        "value": value[:2000],
    }
    if style:
        button["style"] = style
    return button


def summary(doc: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """What a rule says, in one short paragraph."""
    parts = []
    for key in SPEC_KEYS:
        values = doc.get(key)
        if values:
            label = dict((k, lbl) for k, lbl, _ in FIELDS)[key].lower()
            parts.append(f"{label}: {', '.join(safe(v, 80) for v in values)}")
    if doc.get("cc"):
        parts.append(f"copy to {escape(names.get(doc['cc'], doc['cc']))}")
    return "; ".join(parts) or "every mention (no criteria)"


def rules_modal(
    lines: Sequence[RuleLine],
    *,
    names: Mapping[str, str],
    stats: Mapping[str, RuleStats],
    page: int = 0,
    notice: str = "",
) -> dict[str, Any]:
    pages = max(1, -(-len(lines) // PAGE))
    page = max(0, min(page, pages - 1))
    shown = lines[page * PAGE : (page + 1) * PAGE]
    intro = (
        f"*{len(lines)} rules*, in routing order: the first that matches a mention wins "
        "(lower priority number first). Changes apply at once, in every replica."
    )
    blocks: list[dict[str, Any]] = [_section(intro)]
    if notice:
        blocks.append(_context(notice))
    blocks.append(
        {
            "type": "actions",
            "elements": [
                _button("Add a rule", ActionId.RULES_ADD, style="primary"),
                _button("Test a text", ActionId.RULES_TEST),
                _button("History", ActionId.RULES_HISTORY),
            ],
        }
    )
    blocks.append({"type": "divider"})
    for line in shown:
        block = _section(_rule_text(line, names, stats.get(line.doc["name"])), _menu(line))
        blocks.append({**block, "block_id": f"engage.rules.rule.{line.id}"})
    if not lines:
        blocks.append(_section("No rules yet: every mention goes to triage. Add one."))
    if pages > 1:
        pager = []
        if page > 0:
            pager.append(_button("◀ Previous", ActionId.RULES_PAGE, str(page - 1)))
        if page < pages - 1:
            pager.append(_button("Next ▶", ActionId.RULES_PAGE, str(page + 1)))
        blocks.append(_context(f"Page {page + 1} of {pages}"))
        blocks.append({"type": "actions", "elements": pager})
    return {
        "type": "modal",
        "callback_id": CallbackId.RULES.value,
        "private_metadata": json.dumps({"page": page}),
        "title": _plain("Routing rules"),
        "close": _plain("Close"),
        "blocks": blocks,
    }


def _rule_text(line: RuleLine, names: Mapping[str, str], stats: RuleStats | None) -> str:
    doc = line.doc
    department = escape(names.get(doc["department"], doc["department"]))
    state = " · _disabled_" if doc.get("enabled") is False else ""
    text = (
        f"*#{line.rank} {safe(doc['name'], 128)}* → {department} · priority {doc['priority']}"
        f"{state}\n{summary(doc, names)}"
    )
    if stats is not None and stats.routed:
        text += (
            f"\n_Handed over elsewhere: {stats.handed_over} of {stats.routed} "
            f"({stats.misroute_rate:.0%}) in the last 30 days_"
        )
    return text


def _menu(line: RuleLine) -> dict[str, Any]:
    options = []
    for verb, label in MENU:
        if verb == "toggle":
            label = "Enable" if line.doc.get("enabled") is False else "Disable"
        options.append({"text": _plain(label), "value": f"{verb}:{line.id}"})
    return {"type": "overflow", "action_id": ActionId.RULE_MENU.value, "options": options}


def rule_form(
    line: RuleLine | None,
    *,
    departments: Sequence[tuple[str, str]],
    areas: Sequence[str] = (),
    history: Sequence[RuleChange] = (),
    prefill: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The add/edit form; ``line`` None adds a rule (``prefill`` may suggest its fields)."""
    doc: Mapping[str, Any] = line.doc if line else (prefill or {})
    options = [{"text": _plain(name[:75]), "value": slug} for slug, name in departments][:100]

    def initial(options_: list[dict[str, Any]], value: Any) -> dict[str, Any]:
        found = [o for o in options_ if o["value"] == value]
        return {"initial_option": found[0]} if found else {}

    blocks: list[dict[str, Any]] = [
        _input("name", "Name", _text_input("name", doc.get("name", ""), max_length=128)),
        _input(
            "department",
            "Department",
            {
                "type": "static_select",
                "action_id": "department",
                "options": options,
                **initial(options, doc.get("department")),
            },
        ),
        _input(
            "priority",
            "Priority",
            {
                "type": "number_input",
                "action_id": "priority",
                "is_decimal_allowed": False,
                "initial_value": str(doc.get("priority", 100)),
            },
            hint="Lower wins when several rules match; on a tie, the rule listed first.",
        ),
    ]
    for key, label, hint in FIELDS:
        values = list(doc.get(key, []))
        if key == "sources" or (key == "areas" and areas):
            choices = SOURCES if key == "sources" else tuple(areas)
            element_options = [
                {"text": _plain(c), "value": c} for c in dict.fromkeys([*choices, *values])
            ][:100]
            element: dict[str, Any] = {
                "type": "multi_static_select",
                "action_id": key,
                "options": element_options,
            }
            chosen = [o for o in element_options if o["value"] in values]
            if chosen:
                element["initial_options"] = chosen
        else:
            joiner = "\n" if key in MULTILINE else ", "
            element = _text_input(key, joiner.join(values), multiline=key in MULTILINE)
        blocks.append(_input(key, label, element, hint=hint, optional=True))
    cc_options = [{"text": _plain("No copy"), "value": "-"}, *options][:100]
    blocks.append(
        _input(
            "cc",
            "Copy to a second department",
            {
                "type": "static_select",
                "action_id": "cc",
                "options": cc_options,
                **initial(cc_options, doc.get("cc") or "-"),
            },
            optional=True,
        )
    )
    on = {"text": _plain("Enabled: this rule routes mentions"), "value": "yes"}
    enabled: dict[str, Any] = {"type": "checkboxes", "action_id": "enabled", "options": [on]}
    if doc.get("enabled", True):
        enabled["initial_options"] = [on]
    blocks.append(_input("enabled", "State", enabled, optional=True))
    if history:
        lines = "\n".join(describe_line(c) for c in history[:5])
        blocks.append(_context(f"*Recent changes*\n{lines}"))
    meta = {"id": line.id if line else None, "token": line.token if line else None}
    title = "Edit rule" if line else "Add a rule"
    return {
        "type": "modal",
        "callback_id": CallbackId.RULE_FORM.value,
        "private_metadata": json.dumps(meta),
        "title": _plain(title),
        "submit": _plain("Save"),
        "close": _plain("Cancel"),
        "blocks": blocks,
    }


def _input(
    key: str, label: str, element: dict[str, Any], *, hint: str = "", optional: bool = False
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_of(key),
        "label": _plain(label),
        "optional": optional,
        "element": element,
    }
    if hint:
        block["hint"] = _plain(hint)
    return block


def _text_input(
    key: str, value: str, *, multiline: bool = False, max_length: int = 3000
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": key,
        "multiline": multiline,
        "max_length": max_length,
    }
    if value:
        element["initial_value"] = value
    return element


def form_doc(view: Mapping[str, Any]) -> dict[str, Any]:
    """The rule a submitted form describes (checked by the service, not here)."""
    values: Mapping[str, Any] = (view.get("state") or {}).get("values") or {}

    def element(key: str) -> Mapping[str, Any]:
        return (values.get(block_of(key)) or {}).get(key) or {}

    def text(key: str) -> str:
        return str(element(key).get("value") or "").strip()

    doc: dict[str, Any] = {"name": text("name")}
    doc["department"] = str((element("department").get("selected_option") or {}).get("value") or "")
    priority = text("priority")
    doc["priority"] = int(priority) if priority.lstrip("-").isdigit() else 100
    for key, _, _ in FIELDS:
        chosen = element(key).get("selected_options")
        if chosen is not None:
            items = [str(o.get("value")) for o in chosen]
        elif key in MULTILINE:
            items = [line.strip() for line in text(key).splitlines()]
        else:
            items = [part.strip() for part in text(key).replace("\n", ",").split(",")]
        items = list(dict.fromkeys(i for i in items if i))
        if key == "hashtags":
            items = [i.lstrip("#") for i in items]
        if items:
            doc[key] = items
    cc = str((element("cc").get("selected_option") or {}).get("value") or "-")
    if cc != "-":
        doc["cc"] = cc
    if not element("enabled").get("selected_options"):
        doc["enabled"] = False
    return doc


def form_target(view: Mapping[str, Any]) -> tuple[int | None, str | None]:
    """The rule a form edits (None: a new one) and the version of it the form showed."""
    token = _metadata(view).get("token")
    return metadata_id(view), (str(token) if token else None)


def retire_modal(line: RuleLine) -> dict[str, Any]:
    name = safe(line.doc["name"], 128)
    return {
        "type": "modal",
        "callback_id": CallbackId.RULE_RETIRE.value,
        "private_metadata": json.dumps({"id": line.id}),
        "title": _plain("Retire a rule"),
        "submit": _plain("Retire"),
        "close": _plain("Keep it"),
        "blocks": [
            _section(
                f"Retire *{name}*? Mentions it would route go to the next matching rule, or "
                "to triage. Its history stays, and `engage rules import` can bring it back."
            )
        ],
    }


def test_modal(text: str = "", result: str = "") -> dict[str, Any]:
    blocks: list[dict[str, Any]] = []
    if result:
        blocks.append(_section(result))
    blocks.append(
        _input(
            "test_text",
            "A mention's text",
            _text_input("test_text", text, multiline=True),
            hint="Which rule would route it, and why. Nothing is stored or posted.",
        )
    )
    return {
        "type": "modal",
        "callback_id": CallbackId.RULE_TEST.value,
        "title": _plain("Test a text"),
        "submit": _plain("Test"),
        "close": _plain("Done"),
        "blocks": blocks,
    }


def history_modal(changes: Sequence[RuleChange]) -> dict[str, Any]:
    lines = [describe_line(c) for c in changes] or ["No changes recorded yet."]
    blocks = [_section("\n".join(lines[i : i + 10])) for i in range(0, len(lines), 10)]
    return {
        "type": "modal",
        "callback_id": CallbackId.RULES_HISTORY.value,
        "title": _plain("Rule history"),
        "close": _plain("Back"),
        "blocks": blocks[:90],
    }


def describe_line(change: RuleChange) -> str:
    who = (
        f"<@{change.actor}>"
        if change.actor and change.actor[:1] in "UW"
        else escape(change.actor or "Engage")
    )
    what = describe(change.action, change.rule, change.before, change.after)
    return f"• {change.at:%Y-%m-%d %H:%M} UTC, {who}: {what}"


def history_text(changes: Sequence[RuleChange], rule: str | None) -> str:
    if not changes:
        return f"No changes recorded for {safe(rule, 128)}." if rule else "No changes recorded yet."
    title = f"*Changes to {safe(rule, 128)}*" if rule else "*Latest rule changes*"
    return title + "\n" + "\n".join(describe_line(c) for c in changes)


def _metadata(view: Mapping[str, Any]) -> dict[str, Any]:
    try:
        meta = json.loads(str(view.get("private_metadata") or "{}"))
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def page_of(view: Mapping[str, Any]) -> int:
    page = _metadata(view).get("page")
    return page if isinstance(page, int) else 0


def metadata_id(view: Mapping[str, Any]) -> int | None:
    rule_id = _metadata(view).get("id")
    return rule_id if isinstance(rule_id, int) else None


def test_text(view: Mapping[str, Any]) -> str:
    values: Mapping[str, Any] = (view.get("state") or {}).get("values") or {}
    return str(
        ((values.get(block_of("test_text")) or {}).get("test_text") or {}).get("value") or ""
    )


def notice_modal(title: str, text: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": _plain(title),
        "close": _plain("Back"),
        "blocks": [_section(text)],
    }
