"""The small rule modals: the retire confirmation, the test box and a notice."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.core.blocks import VIEW_TITLE_LIMIT, Block, plain, section
from bot.core.mrkdwn import safe
from bot.core.slack_ids import CallbackId
from bot.rules.admin import RuleLine
from handlers.payload import dig, string
from handlers.rules.form import block_of, input_block, text_input

TEST_FIELD = "test_text"


def retire_modal(line: RuleLine) -> dict[str, Any]:
    name = safe(line.doc["name"], 128)
    return {
        "type": "modal",
        "callback_id": CallbackId.RULE_RETIRE.value,
        "private_metadata": json.dumps({"id": line.id}),
        "title": plain("Retire a rule"),
        "submit": plain("Retire"),
        "close": plain("Keep it"),
        "blocks": [
            section(
                f"Retire *{name}*? Mentions it would route go to the next matching rule, or "
                "to triage. Its history stays, and `engage rules import` can bring it back."
            )
        ],
    }


def test_modal(text: str = "", result: str = "") -> dict[str, Any]:
    blocks: list[Block] = []
    if result:
        blocks.append(section(result))
    blocks.append(
        input_block(
            TEST_FIELD,
            "A mention's text",
            text_input(TEST_FIELD, text, multiline=True),
            hint="Which rule would route it, and why. Nothing is stored or posted.",
        )
    )
    return {
        "type": "modal",
        "callback_id": CallbackId.RULE_TEST.value,
        "title": plain("Test a text"),
        "submit": plain("Test"),
        "close": plain("Done"),
        "blocks": blocks,
    }


def test_text(view: Mapping[str, Any]) -> str:
    return string(dig(view, "state", "values", block_of(TEST_FIELD), TEST_FIELD).get("value"))


def notice_modal(title: str, text: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": plain(title, VIEW_TITLE_LIMIT),
        "close": plain("Back"),
        "blocks": [section(text)],
    }
