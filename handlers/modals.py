"""The modals staff fill in: the answer, the hand-over and the no-action reason."""

from __future__ import annotations

from typing import Any

from bot.claims.service import DISMISS_REASONS, MentionBrief
from bot.core.mrkdwn import one_line, safe
from bot.core.slack_ids import BlockId, CallbackId, InputId

PREVIEW = 600


def _plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def _preview(brief: MentionBrief) -> dict[str, Any]:
    who = f"*{safe(one_line(brief.author), 150)}* wrote:\n" if brief.author else ""
    text = "\n".join(f"> {line}" for line in safe(brief.text, PREVIEW).splitlines()) or "> …"
    return {"type": "section", "text": {"type": "mrkdwn", "text": who + text, "verbatim": True}}


def _note(label: str, *, optional: bool = True) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": BlockId.NOTE.value,
        "optional": optional,
        "label": _plain(label),
        "element": {
            "type": "plain_text_input",
            "action_id": InputId.NOTE.value,
            "multiline": True,
            "max_length": 2500,
        },
    }


def _modal(
    callback: CallbackId, title: str, submit: str, brief: MentionBrief, blocks: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback.value,
        "private_metadata": str(brief.id),
        "title": _plain(title),
        "submit": _plain(submit),
        "close": _plain("Cancel"),
        "blocks": [_preview(brief), *blocks],
    }


def answer_modal(brief: MentionBrief) -> dict[str, Any]:
    reply = {
        "type": "input",
        "block_id": BlockId.ANSWER_TEXT.value,
        "label": _plain("Your answer to the citizen"),
        "hint": _plain("Paste what you replied, or write it here. It is kept on record."),
        "element": {
            "type": "plain_text_input",
            "action_id": InputId.ANSWER_TEXT.value,
            "multiline": True,
            "max_length": 3000,
        },
    }
    blocks: list[dict[str, Any]] = [reply]
    if brief.reply_platform:
        option = {
            "text": _plain(f"Also send it to the citizen on {brief.reply_platform}"),
            "value": "yes",
        }
        blocks.append(
            {
                "type": "input",
                "block_id": BlockId.REPLY_ON.value,
                "optional": True,
                "label": _plain("Reply from the city's account"),
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
        {"text": _plain(name[:75]), "value": slug}
        for slug, name in departments
        if slug != brief.department
    ][:100]
    select = {
        "type": "input",
        "block_id": BlockId.DEPARTMENT.value,
        "label": _plain("Hand over to"),
        "element": {
            "type": "static_select",
            "action_id": InputId.DEPARTMENT.value,
            "placeholder": _plain("Choose a department"),
            "options": options,
        },
    }
    blocks = [select, _note("A note for them")]
    return _modal(CallbackId.HAND_OVER, "Hand over", "Hand over", brief, blocks)


def dismiss_modal(brief: MentionBrief) -> dict[str, Any]:
    select = {
        "type": "input",
        "block_id": BlockId.REASON.value,
        "label": _plain("Why no action?"),
        "element": {
            "type": "static_select",
            "action_id": InputId.REASON.value,
            "options": [
                {"text": _plain(label.capitalize()), "value": value}
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
