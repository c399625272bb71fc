"""The rule form (add or edit one rule) and reading a submitted form back into a rule.

The form shows every criterion a rule can have; lists are written comma-separated, regular
expressions one a line. Whether the result is a valid rule is the rule admin's to say
(:meth:`bot.rules.admin.RuleAdmin.save`), not this module's: it only turns fields into a
document, so a refusal names the field it is about and the modal shows it there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from bot.core.blocks import OPTION_VALUE_LIMIT, Block, context, option, plain
from bot.core.slack_ids import CallbackId
from bot.rules.admin import RuleLine
from handlers.payload import dig, string
from handlers.rules.history import RecordedChange, describe_line
from handlers.rules.metadata import metadata_id, read

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
MENU_OPTIONS = 100  # Slack's most for one select menu
PRIORITY_MAX = 1_000_000  # far past any real ordering; the database column is a 32-bit int
_PRIORITY = re.compile(r"-?[0-9]{1,7}")


def block_of(field: str) -> str:
    """The block id of a field's input; the rule admin's problems name fields, not blocks."""
    return f"engage.rule.{field}"


def rule_form(
    line: RuleLine | None,
    *,
    departments: Sequence[tuple[str, str]],
    areas: Sequence[str] = (),
    history: Sequence[RecordedChange] = (),
    prefill: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The add/edit form; ``line`` None adds a rule (``prefill`` may suggest its fields)."""
    doc: Mapping[str, Any] = line.doc if line else (prefill or {})
    options = [option(name, slug) for slug, name in departments][:100]

    def initial(options_: list[dict[str, Any]], value: Any) -> dict[str, Any]:
        found = [o for o in options_ if o["value"] == value]
        return {"initial_option": found[0]} if found else {}

    blocks: list[Block] = [
        input_block("name", "Name", text_input("name", doc.get("name", ""), max_length=128)),
        input_block(
            "department",
            "Department",
            {
                "type": "static_select",
                "action_id": "department",
                "options": options,
                **initial(options, doc.get("department")),
            },
        ),
        input_block(
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
        choices = list(dict.fromkeys([*(SOURCES if key == "sources" else areas), *values]))
        if key == "sources" or (key == "areas" and areas and _fits_a_menu(choices)):
            element_options = [option(c, c) for c in choices]
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
            element = text_input(key, joiner.join(values), multiline=key in MULTILINE)
        blocks.append(input_block(key, label, element, hint=hint, optional=True))
    cc_options = [{"text": plain("No copy"), "value": "-"}, *options][:100]
    blocks.append(
        input_block(
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
    on = {"text": plain("Enabled: this rule routes mentions"), "value": "yes"}
    # Answers sent to the citizens it matches wait for the comms team (bot/answering).
    held = {
        "text": plain("Answers to its citizens need the comms team's approval"),
        "value": "approval",
    }
    # What it matches pages the on-call person at once, day or night (bot/urgent).
    urgent = {"text": plain("Urgent: page the on-call person at once"), "value": "urgent"}
    states = [on, held, urgent]
    enabled: dict[str, Any] = {"type": "checkboxes", "action_id": "enabled", "options": states}
    wanted = (doc.get("enabled", True), doc.get("approval"), doc.get("urgent"))
    ticked = [o for o, yes in zip(states, wanted, strict=True) if yes]
    if ticked:
        enabled["initial_options"] = ticked
    blocks.append(input_block("enabled", "State", enabled, optional=True))
    if history:
        lines = "\n".join(describe_line(c) for c in history[:5])
        blocks.append(context(f"*Recent changes*\n{lines}"))
    meta = {"id": line.id if line else None, "token": line.token if line else None}
    title = "Edit rule" if line else "Add a rule"
    return {
        "type": "modal",
        "callback_id": CallbackId.RULE_FORM.value,
        "private_metadata": json.dumps(meta),
        "title": plain(title),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "blocks": blocks,
    }


def _fits_a_menu(choices: Sequence[str]) -> bool:
    """Whether a menu can offer every choice (else the field is written, comma-separated):
    a menu that left one out would drop it from the rule on the next save."""
    return len(choices) <= MENU_OPTIONS and all(len(c) <= OPTION_VALUE_LIMIT for c in choices)


def input_block(
    key: str, label: str, element: dict[str, Any], *, hint: str = "", optional: bool = False
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_of(key),
        "label": plain(label),
        "optional": optional,
        "element": element,
    }
    if hint:
        block["hint"] = plain(hint)
    return block


def text_input(
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


def _element(view: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    return dig(view, "state", "values", block_of(key), key)


def _text(view: Mapping[str, Any], key: str) -> str:
    return string(_element(view, key).get("value")).strip()


def _priority(text: str) -> int | None:
    if not _PRIORITY.fullmatch(text) or abs(int(text)) > PRIORITY_MAX:
        return None
    return int(text)


def form_problems(view: Mapping[str, Any]) -> dict[str, str]:
    """What no valid form could have sent, by block id; the rule admin checks the rest."""
    priority = _text(view, "priority")
    if priority and _priority(priority) is None:
        return {
            block_of("priority"): f"Give a whole number from {-PRIORITY_MAX:,} to {PRIORITY_MAX:,}."
        }
    return {}


def form_doc(view: Mapping[str, Any]) -> dict[str, Any]:
    """The rule a submitted form describes (checked by the service, not here)."""

    def element(key: str) -> Mapping[str, Any]:
        return _element(view, key)

    def text(key: str) -> str:
        return _text(view, key)

    doc: dict[str, Any] = {"name": text("name")}
    doc["department"] = string(dig(element("department"), "selected_option").get("value"))
    priority = _priority(text("priority"))
    doc["priority"] = 100 if priority is None else priority
    for key, _, _ in FIELDS:
        chosen = element(key).get("selected_options")
        if chosen is not None:
            options = chosen if isinstance(chosen, list) else []
            items = [string(o.get("value")) for o in options if isinstance(o, dict)]
        elif key in MULTILINE:
            items = [line.strip() for line in text(key).splitlines()]
        else:
            items = [part.strip() for part in text(key).replace("\n", ",").split(",")]
        items = list(dict.fromkeys(i for i in items if i))
        if key == "hashtags":
            items = [i.lstrip("#") for i in items]
        if items:
            doc[key] = items
    cc = string(dig(element("cc"), "selected_option").get("value")) or "-"
    if cc != "-":
        doc["cc"] = cc
    state = element("enabled").get("selected_options")
    ticked = {string(o.get("value")) for o in state if isinstance(o, dict)} if state else set()
    if "yes" not in ticked:
        doc["enabled"] = False
    if "approval" in ticked:
        doc["approval"] = True
    if "urgent" in ticked:
        doc["urgent"] = True
    return doc


def form_target(view: Mapping[str, Any]) -> tuple[int | None, str | None]:
    """The rule a form edits (None: a new one) and the version of it the form showed."""
    token = read(view).get("token")
    return metadata_id(view), (str(token) if token else None)
