"""The modals staff fill in: the answer, the hand-over and the no-action reason, and reading
back what was submitted.

Input blocks and selects have no builder in :mod:`bot.core.blocks` (only these modals use
them), so they are written out here; every text object comes from :func:`~bot.core.blocks.plain`.
"""

from __future__ import annotations

from typing import Any

from bot.claims.service import DISMISS_REASONS, MentionBrief
from bot.core.blocks import Block, option, plain, section
from bot.core.mrkdwn import one_line, safe
from bot.core.slack_ids import ActionId, BlockId, CallbackId, InputId
from handlers.payload import dig, mention_id, string

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
    callback: CallbackId, title: str, submit: str | None, brief: MentionBrief, blocks: list[Block]
) -> dict[str, Any]:
    modal: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback.value,
        "private_metadata": str(brief.id),
        "title": plain(title),
        "close": plain("Cancel"),
        "blocks": [_preview(brief), *blocks],
    }
    if submit:
        modal["submit"] = plain(submit)
    return modal


def answer_modal(
    brief: MentionBrief, *, prefill: str = "", picked: Block | None = None
) -> dict[str, Any]:
    """The Answered modal; ``prefill`` and ``picked`` once a saved reply was chosen from it.

    The answer's block id names the saved reply it started from (``engage.answer.text.12``):
    Slack keeps what was typed in an input whose block id stays the same and ignores its new
    ``initial_value``, so a new id is what puts the chosen text in, and it tells the submission
    which saved reply was used.
    """
    element: Block = {
        "type": "plain_text_input",
        "action_id": InputId.ANSWER_TEXT.value,
        "multiline": True,
        "max_length": 3000,
    }
    if prefill:
        element["initial_value"] = prefill
    chosen = picked.get("value") if picked else None
    block_id = BlockId.ANSWER_TEXT.value
    reply = {
        "type": "input",
        "block_id": f"{block_id}.{chosen}" if chosen else block_id,
        "label": plain("Your answer to the citizen"),
        "hint": plain("Paste what you replied, or write it here. It is kept on record."),
        "element": element,
    }
    # Saved replies come from an external select: options are asked of the bot as the person
    # types (``block_suggestion``), the best-fitting first, so hundreds of them fit.
    menu: Block = {
        "type": "external_select",
        "action_id": ActionId.SAVED_REPLY.value,
        "placeholder": plain("Start from a saved reply…"),
        "min_query_length": 0,
    }
    if picked:
        menu["initial_option"] = picked
    saved = {"type": "actions", "block_id": BlockId.SAVED_REPLY.value, "elements": [menu]}
    blocks: list[Block] = [saved, reply]
    if brief.reply_platform:
        send = option(f"Also send it to the citizen on {brief.reply_platform}", "yes")
        blocks.append(
            {
                "type": "input",
                "block_id": BlockId.REPLY_ON.value,
                "optional": True,
                "label": plain("Reply from the city's account"),
                "element": {
                    "type": "checkboxes",
                    "action_id": InputId.REPLY_ON.value,
                    "options": [send],
                    "initial_options": [send],
                },
            }
        )
    return _modal(CallbackId.ANSWER, "Mark as answered", "Save answer", brief, blocks)


def hand_over_modal(brief: MentionBrief, departments: list[tuple[str, str]]) -> dict[str, Any]:
    options = [option(name, slug) for slug, name in departments if slug != brief.department]
    if not options:  # Slack refuses a menu without options: say so, with nothing to submit
        nowhere = section("There is no other department to hand this over to.")
        return _modal(CallbackId.HAND_OVER, "Hand over", None, brief, [nowhere])
    select = {
        "type": "input",
        "block_id": BlockId.DEPARTMENT.value,
        "label": plain("Hand over to"),
        "element": {
            "type": "static_select",
            "action_id": InputId.DEPARTMENT.value,
            "placeholder": plain("Choose a department"),
            "options": options[:100],
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
    blocks = [select, _note("Note")]
    return _modal(CallbackId.DISMISS, "No action", "Close it", brief, blocks)


def answer_of(view: dict[str, Any]) -> tuple[str, str, int | None]:
    """The answer input's block id, its text, and the saved reply it started from."""
    values = dig(view, "state", "values")
    prefix = BlockId.ANSWER_TEXT.value
    block = next((b for b in values if b == prefix or b.startswith(prefix + ".")), prefix)
    text = string(dig(values, block, InputId.ANSWER_TEXT.value).get("value"))
    return block, text, mention_id(block.removeprefix(prefix + "."))


def value_of(view: dict[str, Any], block: BlockId, action: InputId) -> str:
    """The submitted value of one input, whatever its element type; ``""`` when the state
    has no such input or holds something no Slack element sends."""
    element = dig(view, "state", "values", block.value, action.value)
    if "selected_option" in element:
        return string(dig(element, "selected_option").get("value"))
    if "selected_options" in element:  # checkboxes: the values, comma-joined
        options = element.get("selected_options")
        chosen = options if isinstance(options, list) else []
        return ",".join(string(o.get("value")) for o in chosen if isinstance(o, dict))
    return string(element.get("value"))
