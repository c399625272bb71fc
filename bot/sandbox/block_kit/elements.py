"""Block elements as Slack checks them: buttons, menus, choices, inputs, pickers, images.

:class:`Elements` checks what every interactive element shares (``action_id`` up to 255,
``placeholder`` plain text up to 150, a ``confirm`` dialog) and then what its type needs.
Which types a place takes (an actions block, a section's accessory, an input block) is the
caller's to say; see ``blocks``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bot.sandbox.block_kit.values import JSON, TEXT, Values

ID = 255  # action_id, block_id, callback_id
URL = 3000

SELECTS = {
    f"{multi}{kind}_select"
    for multi in ("", "multi_")
    for kind in ("static", "external", "users", "conversations", "channels")
}
_PICKERS = {"checkboxes", "radio_buttons", "datepicker", "timepicker", "datetimepicker"}
INPUT_ELEMENTS = SELECTS | _PICKERS | {"plain_text_input", "number_input", "email_text_input"}
INPUT_ELEMENTS |= {"url_text_input", "file_input", "rich_text_input"}
ACTIONS_ELEMENTS = SELECTS | _PICKERS | {"button", "overflow", "workflow_button"}
ACCESSORIES = SELECTS | _PICKERS | {"button", "overflow", "image", "workflow_button"}


class Elements(Values):
    """Checks of block elements."""

    def element(self, element: Any, at: str, allowed: set[str]) -> None:
        if not self.is_object(element, at) or not self.required(element, "type", at):
            return
        kind = element["type"]
        if kind not in allowed:
            self.fail(f"{at}/type", f"unsupported type: {kind}")
            return
        if kind == "image":
            self.image(element, at)
            return
        self.optional(element, "action_id", at, self.sized(ID))
        self.optional(element, "placeholder", at, self.plain(150))
        self.optional(element, "confirm", at, self.confirm)
        self.flag(element, "focus_on_load", at)
        check = _ELEMENTS.get(kind)
        if check is not None:
            check(self, element, at)

    def button(self, element: JSON, at: str) -> None:
        if self.required(element, "text", at):
            self.text(element["text"], f"{at}/text", 75, plain=True)
        self.optional(element, "url", at, self.sized(URL))
        self.optional(element, "value", at, self.sized(2000))
        self.optional(element, "accessibility_label", at, self.sized(75))
        if "style" in element and element["style"] not in ("primary", "danger"):
            self.fail(f"{at}/style", "must be one of: primary, danger")

    def select(self, element: JSON, at: str) -> None:
        kind: str = element["type"]
        multi = kind.startswith("multi_")
        if kind.endswith("static_select"):
            has_options, has_groups = "options" in element, "option_groups" in element
            if has_options == has_groups:
                self.fail(at, "must provide exactly one of `options` or `option_groups`")
            options = self.options(element, at, 100) if has_options else []
            groups = element.get("option_groups")
            if has_groups and self.is_list(groups, f"{at}/option_groups", 100, 1):
                for i, group in enumerate(groups):
                    where = f"{at}/option_groups/{i}"
                    if not self.is_object(group, where):
                        continue
                    if self.required(group, "label", where):
                        self.text(group["label"], f"{where}/label", 75, plain=True)
                    options += self.options(group, where, 100)
            self.initial(element, at, options, multi)
        if kind.endswith("external_select"):  # options come from the app's options load URL
            if "options" in element or "option_groups" in element:
                self.fail(at, "options are loaded from the app, not given")
            length = element.get("min_query_length", 3)
            if type(length) is not int or length < 0:
                self.fail(f"{at}/min_query_length", "must be an integer of at least 0")
            chosen = element.get("initial_options" if multi else "initial_option")
            if chosen is not None:
                given = {"options": chosen if multi else [chosen]}
                self.options(given, f"{at}/initial_option{'s' if multi else ''}", 100)
        if multi and "max_selected_items" in element:
            count = element["max_selected_items"]
            if type(count) is not int or count < 1:
                self.fail(f"{at}/max_selected_items", "must be an integer of at least 1")

    def overflow(self, element: JSON, at: str) -> None:
        if self.required(element, "options", at):
            self.options(element, at, 5, urls=True)

    def choices(self, element: JSON, at: str) -> None:
        """Checkboxes and radio buttons: 1 to 10 options, whose text may be mrkdwn."""
        if self.required(element, "options", at):
            options = self.options(element, at, 10, rich=True)
            self.initial(element, at, options, element["type"] == "checkboxes")

    def text_input(self, element: JSON, at: str) -> None:
        bounds: dict[str, int] = {}
        for key, low in (("min_length", 0), ("max_length", 1)):
            value = element.get(key)
            if key not in element:
                continue
            if type(value) is not int or not low <= value <= TEXT:
                self.fail(f"{at}/{key}", f"must be an integer from {low} to {TEXT}")
            else:
                bounds[key] = value
        if bounds.get("min_length", 0) > bounds.get("max_length", TEXT):
            self.fail(f"{at}/min_length", "must not be more than max_length")
        # No limit on initial_value: Slack's Block Kit team says there is none, max_length or not.
        if "initial_value" in element and not isinstance(element["initial_value"], str):
            self.fail(f"{at}/initial_value", "must be a string")
        self.flag(element, "multiline", at)

    def number_input(self, element: JSON, at: str) -> None:
        if self.required(element, "is_decimal_allowed", at):
            self.flag(element, "is_decimal_allowed", at)
        number = r"-?\d+(\.\d+)?" if element.get("is_decimal_allowed") is True else r"-?\d+"
        for key in ("initial_value", "min_value", "max_value"):
            value = element.get(key)
            if key in element and not (isinstance(value, str) and re.fullmatch(number, value)):
                self.fail(f"{at}/{key}", "must be a number, as a string")

    def datepicker(self, element: JSON, at: str) -> None:
        value = element.get("initial_date")
        if "initial_date" in element and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)):
            self.fail(f"{at}/initial_date", "must be a date as YYYY-MM-DD")

    def image(self, element: JSON, at: str) -> None:
        """An image element or block: a URL or a Slack file, and the alt text."""
        if "image_url" not in element and "slack_file" not in element:
            self.fail(at, "must provide either `image_url` or `slack_file`")
        self.optional(element, "image_url", at, self.sized(URL))
        if self.required(element, "alt_text", at):
            self.string(element["alt_text"], f"{at}/alt_text", 2000)

    def confirm(self, value: Any, at: str) -> None:
        if not self.is_object(value, at):
            return
        for key, limit, plain in (("title", 100, True), ("text", 300, False)):
            if self.required(value, key, at):
                self.text(value[key], f"{at}/{key}", limit, plain=plain)
        for key in ("confirm", "deny"):
            if self.required(value, key, at):
                self.text(value[key], f"{at}/{key}", 30, plain=True)


_ELEMENTS: dict[str, Callable[[Elements, JSON, str], None]] = {
    "button": Elements.button,
    "overflow": Elements.overflow,
    "checkboxes": Elements.choices,
    "radio_buttons": Elements.choices,
    "plain_text_input": Elements.text_input,
    "number_input": Elements.number_input,
    "datepicker": Elements.datepicker,
    **{kind: Elements.select for kind in SELECTS},
}
