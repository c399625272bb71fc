"""The modals staff fill in: the answer, the hand-over and the no-action reason, and reading
back what was submitted.

Input blocks and selects have no builder in :mod:`bot.core.blocks` (only these modals use
them), so they are written out here; every text object comes from :func:`~bot.core.blocks.plain`.
"""

from __future__ import annotations

from typing import Any

from bot.claims.service import DISMISS_REASONS, MentionBrief
from bot.core.blocks import Block, plain, section
from bot.core.mrkdwn import one_line, safe
from bot.core.slack_ids import BlockId, CallbackId, InputId

PREVIEW = 600


def _preview(brief: MentionBrief) -> Block:
    who = f"*{safe(one_line(brief.author), 150)}* wrote:\n" if brief.author else ""
    text = "\n".join(f"> {line}" for line in safe(brief.text, PREVIEW).splitlines()) or "> …"
    return section(who + text)


def _note(label: str, *, optional: bool = True) -> Block:
    return {
        "type": "input",
        "block_id": BlockId.NOTE.value,
        "optional": optional,
        "label": plain(label),
        "element": {
            "type": "plain_text_input",
            "action_id": InputId.NOTE.value,
            "multiline": True,
            "max_length": 2500,
        },
    }


def _modal(
    callback: CallbackId, title: str, submit: str, brief: MentionBrief, blocks: list[Block]
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback.value,
        "private_metadata": str(brief.id),
        "title": plain(title),
        "submit": plain(submit),
        "close": plain("Cancel"),
        "blocks": [_preview(brief), *blocks],
    }


def answer_modal(brief: MentionBrief) -> dict[str, Any]:
    reply = {
        "type": "input",
        "block_id": BlockId.ANSWER_TEXT.value,
        "label": plain("Your answer to the citizen"),
        "hint": plain("Paste what you replied, or write it here. It is kept on record."),
        "element": {
            "type": "plain_text_input",
            "action_id": InputId.ANSWER_TEXT.value,
            "multiline": True,
            "max_length": 3000,
        },
    }
    blocks: list[Block] = [reply]
    if brief.reply_platform:
        option = {
            "text": plain(f"Also send it to the citizen on {brief.reply_platform}"),
            "value": "yes",
        }
        blocks.append(
            {
                "type": "input",
                "block_id": BlockId.REPLY_ON.value,
                "optional": True,
                "label": plain("Reply from the city's account"),
                "element": {
                    "type": "checkboxes",
                    "action_id": InputId.REPLY_ON.value,
                    "options": [option],
                    "initial_options": [option],
                },
            }
        )
    return _modal(CallbackId.ANSWER, "Mark as answered", "Save answer", brief, blocks)


def hand_over_modal(brief: MentionBrief, departments: list[tuple[str, str]]) -> dict[str, Any]:
    options = [
        {"text": plain(name[:75]), "value": slug}
        for slug, name in departments
        if slug != brief.department
    ][:100]
    select = {
        "type": "input",
        "block_id": BlockId.DEPARTMENT.value,
        "label": plain("Hand over to"),
        "element": {
            "type": "static_select",
            "action_id": InputId.DEPARTMENT.value,
            "placeholder": plain("Choose a department"),
            "options": options,
        },
    }
    blocks = [select, _note("A note for them")]
    return _modal(CallbackId.HAND_OVER, "Hand over", "Hand over", brief, blocks)


def dismiss_modal(brief: MentionBrief) -> dict[str, Any]:
    select = {
        "type": "input",
        "block_id": BlockId.REASON.value,
        "label": plain("Why no action?"),
        "element": {
            "type": "static_select",
            "action_id": InputId.REASON.value,
            "options": [
                {"text": plain(label.capitalize()), "value": value}
                for value, label in DISMISS_REASONS.items()
            ],
        },
    }
    blocks = [select, _note("Note (optional)")]
    return _modal(CallbackId.DISMISS, "No action", "Close it", brief, blocks)


def value_of(view: dict[str, Any], block: BlockId, action: InputId) -> str:
    """The submitted value of one input, whatever its element type."""
    state = ((view.get("state") or {}).get("values") or {}).get(block.value, {})
    element = state.get(action.value) or {}
    if "selected_option" in element:
        return str((element.get("selected_option") or {}).get("value") or "")
    if "selected_options" in element:  # checkboxes: the values, comma-joined
        return ",".join(str(o.get("value")) for o in element.get("selected_options") or [])
    return str(element.get("value") or "")
