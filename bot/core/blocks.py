"""Block Kit builders: the one place that knows the shape and the limits of a block.

Every message, modal and App Home the bot sends is built from these, so each one is cut to
Slack's documented limits here (section text 3,000, context 2,000, header 150, button text
75, value 2,000, option text 75) rather than refused by Slack with ``invalid_blocks``; a text
object is never empty and a button never links a URL longer than Slack takes. The fake Slack
checks every message and view against the same rules (``bot.sandbox.block_kit``). Text given to
:func:`section` and :func:`context` is mrkdwn that the caller has already escaped
(:mod:`bot.core.mrkdwn`); it is sent ``verbatim`` so Slack does not turn what a citizen wrote
into links or mentions.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from bot.core.mrkdwn import CONTEXT_TEXT_LIMIT, SECTION_TEXT_LIMIT, URL_LIMIT

Block = dict[str, Any]

HEADER_TEXT_LIMIT = 150
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
OPTION_TEXT_LIMIT = 75
OPTION_VALUE_LIMIT = 150  # an option's value is its identity: too long, it cannot be offered
VIEW_TITLE_LIMIT = 24  # a modal's title, submit and close


def plain(text: str, limit: int = HEADER_TEXT_LIMIT) -> Block:
    """A ``plain_text`` object; Slack refuses an empty one, so it is never empty."""
    return {"type": "plain_text", "text": text[:limit] or " "}


def mrkdwn(text: str, limit: int = SECTION_TEXT_LIMIT) -> Block:
    """A ``mrkdwn`` object; like :func:`plain`, never empty (Slack refuses that)."""
    return {"type": "mrkdwn", "text": text[:limit] or " ", "verbatim": True}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, HEADER_TEXT_LIMIT)}


def section(text: str, accessory: Block | None = None, *, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text, SECTION_TEXT_LIMIT)}
    if accessory:
        block["accessory"] = accessory
    return _with_id(block, block_id)


def context(text: str, *, block_id: str | None = None) -> Block:
    return _with_id({"type": "context", "elements": [mrkdwn(text, CONTEXT_TEXT_LIMIT)]}, block_id)


def divider() -> Block:
    return {"type": "divider"}


def button(
    text: str,
    action: str | Enum,
    value: str = "",
    style: str | None = None,
    *,
    url: str | None = None,
) -> Block:
    """A button; ``action`` is an :class:`~bot.core.slack_ids.ActionId` (or its value)."""
    element: Block = {
        "type": "button",
        "text": plain(text, BUTTON_TEXT_LIMIT),
        "action_id": action.value if isinstance(action, Enum) else action,
    }
    if value:  # optional in Block Kit; a button that carries nothing sends none
        element["value"] = value[:BUTTON_VALUE_LIMIT]
    if style:
        element["style"] = style
    if url and len(url) <= URL_LIMIT:  # cut, a link would lead nowhere: better none
        element["url"] = url
    return element


def option(text: str, value: str) -> Block:
    """An option of a select menu, overflow menu or checkboxes; ``value`` must fit
    (:data:`OPTION_VALUE_LIMIT`): it comes back as the choice, so it is never cut."""
    return {"text": plain(text, OPTION_TEXT_LIMIT), "value": value}


def actions(elements: list[Block], *, block_id: str | None = None) -> Block:
    return _with_id({"type": "actions", "elements": elements}, block_id)


def _with_id(block: Block, block_id: str | None) -> Block:
    if block_id:
        block["block_id"] = block_id
    return block
