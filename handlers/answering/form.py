"""The saved reply form (add, edit) and the management list, and reading a submitted form.

:func:`form_doc` reads whatever a submission's state holds without failing: a field Slack
could not have sent reads as empty, and the service says what is wrong with the result.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from bot.answering.placeholders import PLACEHOLDERS
from bot.answering.saved import TEXT_MAX, TITLE_MAX, Line
from bot.core.blocks import Block, button, context, option, plain, section
from bot.core.mrkdwn import escape, one_line, safe
from bot.core.slack_ids import ActionId, CallbackId
from handlers.payload import dig, number, string

CITY_WIDE = "-"
PAGE = 45  # replies listed in the management modal: one block each, inside 100
FIELDS = ("title", "text", "department", "language", "keywords")


def block_of(field: str) -> str:
    return f"engage.reply.{field}"


def _input(
    field: str, label: str, element: Block, *, hint: str = "", optional: bool = False
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_of(field),
        "label": plain(label),
        "optional": optional,
        "element": {"action_id": field, **element},
    }
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def reply_form(line: Line | None, departments: Mapping[str, str]) -> dict[str, Any]:
    doc = line.doc if line else {}
    text: Block = {"type": "plain_text_input", "multiline": True, "max_length": TEXT_MAX}
    title: Block = {"type": "plain_text_input", "max_length": TITLE_MAX}
    language: Block = {"type": "plain_text_input", "max_length": 16}
    keywords: Block = {"type": "plain_text_input", "max_length": 1500}
    for element, value in (
        (title, doc.get("title")),
        (text, doc.get("text")),
        (language, doc.get("language")),
        (keywords, ", ".join(doc.get("keywords", []))),
    ):
        if value:
            element["initial_value"] = value
    options = [option("City-wide", CITY_WIDE)]
    options += [
        option(name, slug) for slug, name in sorted(departments.items(), key=lambda d: d[1])
    ]
    options = options[:100]
    chosen = next((o for o in options if o["value"] == (doc.get("department") or CITY_WIDE)), None)
    department: Block = {"type": "static_select", "options": options}
    if chosen:
        department["initial_option"] = chosen
    names = ", ".join("{" + k + "} " + v for k, v in PLACEHOLDERS.items())
    blocks = [
        _input("title", "Title", title, hint="What staff see in the menu, e.g. Pothole repair."),
        _input("text", "Reply", text, hint=f"Placeholders: {names}."),
        _input("department", "For", department),
        _input("language", "Language", language, optional=True, hint="en, fr, es… or empty: any."),
        _input(
            "keywords",
            "Keywords",
            keywords,
            optional=True,
            hint="Comma-separated: it is offered first on cards that mention them.",
        ),
    ]
    meta = {"id": line.id if line else None, "token": line.token if line else None}
    return {
        "type": "modal",
        "callback_id": CallbackId.REPLY_FORM.value,
        "private_metadata": json.dumps(meta),
        "title": plain("Edit saved reply" if line else "Add a saved reply"),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "blocks": blocks,
    }


def form_doc(view: Mapping[str, Any]) -> dict[str, Any]:
    """The saved reply a submitted form describes (checked by the service, not here)."""
    values = dig(view, "state", "values")

    def element(field: str) -> Mapping[str, Any]:
        return dig(values, block_of(field), field)

    def text(field: str) -> str:
        return string(element(field).get("value"))

    department = string(dig(element("department"), "selected_option").get("value"))
    keywords = [k.strip() for k in text("keywords").replace("\n", ",").split(",")]
    return {
        "title": text("title"),
        "text": text("text"),
        "department": None if department in ("", CITY_WIDE) else department,
        "language": text("language").strip() or None,
        "keywords": [k for k in keywords if k],
    }


def form_target(view: Mapping[str, Any]) -> tuple[int | None, str | None]:
    try:
        meta = json.loads(string(view.get("private_metadata")) or "{}")
    except ValueError:
        meta = {}
    meta = meta if isinstance(meta, dict) else {}
    token = meta.get("token")
    return number(meta.get("id"), low=1), (token if isinstance(token, str) else None)


def describe(line: Line, departments: Mapping[str, str]) -> str:
    doc = line.doc
    where = departments.get(doc.get("department") or "", doc.get("department") or "city-wide")
    lang = f" · {escape(doc['language'])}" if doc.get("language") else ""
    return f"*{safe(doc['title'], 75)}* · {escape(where)}{lang}\n{safe(one_line(doc['text']), 160)}"


def listing(
    lines: Sequence[Line], departments: Mapping[str, str], search: str = ""
) -> dict[str, Any]:
    """The management modal: every saved reply (the first :data:`PAGE`), each with a menu."""
    shown = lines[:PAGE]
    intro = f"*{len(lines)} saved replies*" + (f" matching “{escape(search)}”" if search else "")
    blocks: list[Block] = [
        section(
            intro + ". Staff start from them in a card's *Answered*.",
            button("Add a saved reply", ActionId.REPLIES_ADD, "add", "primary"),
        )
    ]
    for line in shown:
        menu = {
            "type": "overflow",
            "action_id": ActionId.REPLY_MENU.value,
            "options": [option("Edit", f"edit:{line.id}"), option("Retire", f"retire:{line.id}")],
        }
        blocks.append(section(describe(line, departments), menu))
    if len(lines) > PAGE:
        more = len(lines) - PAGE
        blocks.append(context(f"{more} more: `/engage replies manage <words>` narrows the list."))
    return {
        "type": "modal",
        "callback_id": CallbackId.REPLIES.value,
        "private_metadata": json.dumps({"search": search[:200]}),
        "title": plain("Saved replies"),
        "close": plain("Close"),
        "blocks": blocks,
    }
