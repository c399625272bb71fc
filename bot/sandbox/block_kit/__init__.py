"""Block Kit as Slack checks it: the fake refuses every message and view that Slack would.

Why the fake checks at all: a stand-in that accepts any JSON lets the bot ship what Slack
refuses. The reminders' two snooze buttons shared one ``action_id`` in one actions block; the
fake took them, Slack answered ``invalid_blocks``, and every such reminder failed for good.
So the fake's Web API runs :func:`message_problems` on what ``chat.postMessage``,
``chat.update``, ``chat.postEphemeral`` and a ``response_url`` receive, and
:func:`view_problems` on what ``views.open``/``push``/``update``/``publish`` and a submission's
``response_action`` carry; tests call them directly on what the builders make.

The rules are Slack's documented ones (docs.slack.dev, the Block Kit reference: blocks, block
elements, composition objects, modal and Home views) for the blocks and elements Engage uses
and their near relatives. The parts, each a layer of one walk:

- ``values``: strings, flags, lists, text objects (which places take ``plain_text`` only;
  ``emoji`` only on ``plain_text``, ``verbatim`` only on ``mrkdwn``; 1 to 3,000 characters),
  options (text 75, value 150) and initial options that must be among them;
- ``elements``: buttons (text 75, value 2,000, url 3,000, style), select menus (up to 100
  options), overflow menus (1 to 5), checkboxes and radio buttons (1 to 10), text and number
  inputs, date pickers, images, confirm dialogs; ``action_id`` up to 255;
- ``blocks``: section, context, actions (``action_id`` unique in the block), header, divider,
  input, image..., and the surfaces: 50 blocks in a message, 100 in a modal or Home tab,
  ``block_id`` unique in each; a modal's title, submit and close, ``private_metadata``,
  ``callback_id``.

A problem reads as Slack words it, ``must be less than 3001 characters
[json-pointer:/blocks/0/text/text]``; :func:`refusal` wraps problems into Slack's answer.

Not modelled: Slack's undocumented cumulative size of a message (``msg_blocks_too_long``),
the insides of ``rich_text``, counting length in UTF-16 units, and ``external_id``'s length
(undocumented; 255 is assumed, like Slack's other ids). Slack does not document the wording
of its uniqueness errors either; ``duplicate action_id: <id>`` is ours.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.sandbox.block_kit.blocks import MESSAGE_BLOCKS, VIEW_BLOCKS, Blocks
from bot.sandbox.block_kit.values import JSON, TEXT, Problem

__all__ = [
    "MESSAGE_BLOCKS",
    "TEXT",
    "VIEW_BLOCKS",
    "Problem",
    "errors_problems",
    "message_problems",
    "options_problems",
    "refusal",
    "view_problems",
]


def message_problems(blocks: Any, pointer: str = "/blocks") -> list[Problem]:
    """What Slack would refuse in a message's ``blocks`` (post, update, ephemeral, response)."""
    check = Blocks()
    check.surface(blocks, pointer, MESSAGE_BLOCKS, message=True)
    return check.problems


def view_problems(view: Any, kind: str | None = None, pointer: str = "/view") -> list[Problem]:
    """What Slack would refuse in a modal or Home view; ``kind`` is the type the method takes
    (``modal`` for ``views.open``/``push``/``update``, ``home`` for ``views.publish``)."""
    check = Blocks()
    check.view(view, pointer, kind)
    return check.problems


def errors_problems(errors: Any, view: JSON, pointer: str = "/errors") -> list[Problem]:
    """What is wrong with a submission's ``response_action: errors``: each key must name an
    input block of the submitted view, each value be a message."""
    check = Blocks()
    if not check.is_object(errors, pointer):
        return check.problems
    if not errors:
        check.fail(pointer, "must provide at least 1 error")
    blocks = view.get("blocks") or []
    inputs = {b.get("block_id") for b in blocks if isinstance(b, dict) and b.get("type") == "input"}
    for key, message in errors.items():
        if key not in inputs:
            check.fail(f"{pointer}/{key}", "no input block has this block_id")
        check.string(message, f"{pointer}/{key}", TEXT)
    return check.problems


def options_problems(answer: Any, pointer: str = "") -> list[Problem]:
    """What Slack would refuse in the answer to an options request (``block_suggestion``):
    ``options`` (or ``option_groups``), at most 100, each with plain text up to 75 characters
    and a value up to 150. An empty list is an answer: "no options"."""
    check = Blocks()
    if not check.is_object(answer, pointer or "/"):
        return check.problems
    if "option_groups" in answer:
        groups = answer["option_groups"]
        if check.is_list(groups, f"{pointer}/option_groups", 100, 1):
            for i, group in enumerate(groups):
                if check.is_object(group, f"{pointer}/option_groups/{i}"):
                    check.options(group, f"{pointer}/option_groups/{i}", 100)
    elif answer.get("options") != []:
        check.options(answer, pointer, 100)
    return check.problems


def refusal(error: str, problems: Iterable[Problem]) -> JSON:
    """Slack's answer to refused Block Kit, less ``ok``: ``invalid_blocks`` (messages) lists
    the problems in ``errors`` too; ``invalid_arguments`` (views) opens with the schema line."""
    lines = [str(p) for p in problems]
    if error == "invalid_arguments":
        lines.insert(0, str(Problem("/view", "failed to match all allowed schemas")))
    messages = [f"[ERROR] {line}" for line in lines]
    answer: JSON = {"error": error, "response_metadata": {"messages": messages}}
    if error == "invalid_blocks":
        answer["errors"] = lines
    return answer
