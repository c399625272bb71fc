"""Blocks and the surfaces that hold them (a message's blocks, a modal, a Home tab), as Slack
checks them.

:class:`Blocks` adds to :class:`~bot.sandbox.block_kit.elements.Elements` what a block needs
(a section's text or fields, a context's 1 to 10 elements, an actions block's 1 to 25
elements with distinct ``action_id``, a header's plain text up to 150, an input's label and
element) and what a surface needs: at most 50 blocks in a message and 100 in a view, distinct
``block_id``, and a modal's title, submit and close (plain text up to 24; ``submit`` required
once there is an input block), ``private_metadata`` up to 3,000, ``callback_id`` up to 255.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.sandbox.block_kit.elements import (
    ACCESSORIES,
    ACTIONS_ELEMENTS,
    ID,
    INPUT_ELEMENTS,
    Elements,
)
from bot.sandbox.block_kit.values import JSON, TEXT

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
VIEW_LABEL = 24  # a modal's title, submit and close
MESSAGE_ONLY = {"markdown", "file"}


class Blocks(Elements):
    """Checks of blocks and surfaces."""

    def surface(self, blocks: Any, at: str, limit: int, *, message: bool) -> None:
        if not self.is_list(blocks, at, limit):
            return
        block_ids: set[str] = set()
        for i, block in enumerate(blocks):
            self.block(block, f"{at}/{i}", message=message)
            block_id = block.get("block_id") if isinstance(block, dict) else None
            if isinstance(block_id, str):
                if block_id in block_ids:
                    self.fail(f"{at}/{i}/block_id", f"duplicate block_id: {block_id}")
                block_ids.add(block_id)

    def view(self, view: Any, at: str, kind: str | None) -> None:
        if not self.is_object(view, at):
            return
        vtype = view.get("type")
        if vtype not in ("modal", "home") or (kind is not None and vtype != kind):
            self.fail(f"{at}/type", f"unsupported type: {vtype}")
            return
        if self.required(view, "blocks", at):
            self.surface(view["blocks"], f"{at}/blocks", VIEW_BLOCKS, message=False)
        if vtype == "modal":
            if self.required(view, "title", at):
                self.text(view["title"], f"{at}/title", VIEW_LABEL, plain=True)
            blocks = view.get("blocks") if isinstance(view.get("blocks"), list) else []
            if "submit" not in view and any(_is_input(b) for b in blocks or []):
                self.fail(at, "must define `submit` to use an `input` block in modals")
        for key in ("submit", "close"):
            if vtype == "home" and key in view:
                self.fail(f"{at}/{key}", f"a home view cannot have `{key}`")
            self.optional(view, key, at, self.plain(VIEW_LABEL))
        self.optional(view, "private_metadata", at, self.sized(3000, 0))
        for key in ("callback_id", "external_id"):
            self.optional(view, key, at, self.sized(ID, 0))
        for key in ("clear_on_close", "notify_on_close", "submit_disabled"):
            self.flag(view, key, at)

    def block(self, block: Any, at: str, *, message: bool) -> None:
        if not self.is_object(block, at) or not self.required(block, "type", at):
            return
        kind = block["type"]
        check = _BLOCKS.get(kind)
        if check is None or (kind in MESSAGE_ONLY and not message):
            self.fail(f"{at}/type", f"unsupported type: {kind}")
            return
        self.optional(block, "block_id", at, self.sized(ID))
        check(self, block, at)

    def section(self, block: JSON, at: str) -> None:
        if "text" not in block and "fields" not in block:
            self.fail(at, "must define either `text` or `fields`")
        self.optional(block, "text", at, self.text)
        fields = block.get("fields")
        if "fields" in block and self.is_list(fields, f"{at}/fields", 10, 1):
            for i, item in enumerate(fields):
                self.text(item, f"{at}/fields/{i}", 2000)
        if "accessory" in block:
            self.element(block["accessory"], f"{at}/accessory", ACCESSORIES)

    def context(self, block: JSON, at: str) -> None:
        if not self.required(block, "elements", at):
            return
        elements = block["elements"]
        if self.is_list(elements, f"{at}/elements", 10, 1):
            for i, item in enumerate(elements):
                if isinstance(item, dict) and item.get("type") == "image":
                    self.image(item, f"{at}/elements/{i}")
                else:
                    self.text(item, f"{at}/elements/{i}", TEXT)

    def actions(self, block: JSON, at: str) -> None:
        if not self.required(block, "elements", at):
            return
        elements = block["elements"]
        if not self.is_list(elements, f"{at}/elements", 25, 1):
            return
        seen: set[str] = set()
        for i, item in enumerate(elements):
            where = f"{at}/elements/{i}"
            self.element(item, where, ACTIONS_ELEMENTS)
            action_id = item.get("action_id") if isinstance(item, dict) else None
            if isinstance(action_id, str):
                if action_id in seen:  # Slack: unique among the action_ids of the block
                    self.fail(f"{where}/action_id", f"duplicate action_id: {action_id}")
                seen.add(action_id)

    def header(self, block: JSON, at: str) -> None:
        if self.required(block, "text", at):
            self.text(block["text"], f"{at}/text", 150, plain=True)

    def input(self, block: JSON, at: str) -> None:
        if self.required(block, "label", at):
            self.text(block["label"], f"{at}/label", 2000, plain=True)
        if self.required(block, "element", at):
            self.element(block["element"], f"{at}/element", INPUT_ELEMENTS)
        self.optional(block, "hint", at, self.plain(2000))
        for key in ("optional", "dispatch_action"):
            self.flag(block, key, at)

    def image_block(self, block: JSON, at: str) -> None:
        self.image(block, at)
        self.optional(block, "title", at, self.plain(2000))

    def markdown(self, block: JSON, at: str) -> None:
        if self.required(block, "text", at):
            self.string(block["text"], f"{at}/text", 12_000)

    def rich_text(self, block: JSON, at: str) -> None:
        if self.required(block, "elements", at):
            self.is_list(block["elements"], f"{at}/elements", 10_000)

    def file(self, block: JSON, at: str) -> None:
        if self.required(block, "external_id", at):
            self.string(block["external_id"], f"{at}/external_id", ID)

    def divider(self, block: JSON, at: str) -> None:
        """Nothing but its type (and a block_id)."""


def _is_input(block: Any) -> bool:
    return isinstance(block, dict) and block.get("type") == "input"


_BLOCKS: dict[str, Callable[[Blocks, JSON, str], None]] = {
    "section": Blocks.section,
    "context": Blocks.context,
    "actions": Blocks.actions,
    "header": Blocks.header,
    "divider": Blocks.divider,
    "input": Blocks.input,
    "image": Blocks.image_block,
    "markdown": Blocks.markdown,
    "rich_text": Blocks.rich_text,
    "file": Blocks.file,
}
