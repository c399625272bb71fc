"""The smallest pieces Slack checks: strings, flags, lists, text objects, options; and the
:class:`Problem` every check reports.

:class:`Values` is the base of the walk (``elements`` and ``blocks`` build on it): it collects
problems instead of stopping at the first, as Slack lists them all, and words each as Slack
does (``must be less than 3001 characters``, ``no more than 10 items allowed``,
``missing required field: text``), at a JSON pointer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeGuard

JSON = dict[str, Any]
Checker = Callable[[Any, str], None]
"""Checks one value found at a JSON pointer."""

TEXT = 3000  # any text object
OPTION_TEXT = 75  # an option's text and description
OPTION_VALUE = 150


@dataclass(frozen=True)
class Problem:
    """One thing Slack would refuse: where it is (a JSON pointer) and what is wrong."""

    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.message} [json-pointer:{self.pointer}]"


class Values:
    """Checks of values, text objects and options; the problems found so far."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, at: str, message: str) -> None:
        self.problems.append(Problem(at, message))

    def is_object(self, value: Any, at: str) -> TypeGuard[JSON]:
        if isinstance(value, dict):
            return True
        self.fail(at, "must provide an object")
        return False

    def is_list(self, value: Any, at: str, limit: int, minimum: int = 0) -> TypeGuard[list[Any]]:
        if not isinstance(value, list):
            self.fail(at, "must provide an array")
            return False
        if len(value) > limit:
            self.fail(at, f"no more than {limit} items allowed")
        if len(value) < minimum:
            self.fail(at, f"must provide at least {minimum} items")
        return True

    def string(self, value: Any, at: str, limit: int, minimum: int = 1) -> None:
        if not isinstance(value, str):
            self.fail(at, "must be a string")
        elif len(value) < minimum:
            self.fail(at, f"must be more than {minimum - 1} characters")
        elif len(value) > limit:
            self.fail(at, f"must be less than {limit + 1} characters")

    def flag(self, parent: JSON, key: str, at: str) -> None:
        if key in parent and not isinstance(parent[key], bool):
            self.fail(f"{at}/{key}", "must be a boolean")

    def required(self, parent: JSON, key: str, at: str) -> bool:
        if key in parent:
            return True
        self.fail(at, f"missing required field: {key}")
        return False

    def optional(self, parent: JSON, key: str, at: str, check: Checker) -> None:
        if key in parent:  # present means checked: Slack refuses a null where it wants a value
            check(parent[key], f"{at}/{key}")

    def sized(self, limit: int, minimum: int = 1) -> Checker:
        return lambda value, at: self.string(value, at, limit, minimum)

    # ------------------------------------------------------------------ text objects
    def text(self, value: Any, at: str, limit: int = TEXT, *, plain: bool = False) -> None:
        """A text object; ``plain`` where Slack takes ``plain_text`` only."""
        if not self.is_object(value, at):
            return
        kind = value.get("type")
        if kind not in ("plain_text", "mrkdwn"):
            self.fail(f"{at}/type", f"unsupported type: {kind}")
            return
        if plain and kind != "plain_text":
            self.fail(f"{at}/type", "must be plain_text here")
        if self.required(value, "text", at):
            self.string(value["text"], f"{at}/text", limit)
        for key, owner in (("emoji", "plain_text"), ("verbatim", "mrkdwn")):
            if key in value and kind != owner:
                self.fail(f"{at}/{key}", f"{key} is only allowed on {owner}")
            self.flag(value, key, at)

    def plain(self, limit: int) -> Checker:
        return lambda value, at: self.text(value, at, limit, plain=True)

    # ------------------------------------------------------------------ options
    def options(
        self,
        parent: JSON,
        at: str,
        limit: int,
        *,
        rich: bool = False,
        urls: bool = False,
    ) -> list[JSON]:
        """``parent["options"]``: 1 to ``limit`` options; ``rich`` (checkboxes, radio buttons)
        allows mrkdwn text, ``urls`` (overflow menus) a link on each."""
        options = parent.get("options")
        if not self.is_list(options, f"{at}/options", limit, 1):
            return []
        for i, option in enumerate(options):
            where = f"{at}/options/{i}"
            if not self.is_object(option, where):
                continue
            if self.required(option, "text", where):
                self.text(option["text"], f"{where}/text", OPTION_TEXT, plain=not rich)
            if self.required(option, "value", where):
                self.string(option["value"], f"{where}/value", OPTION_VALUE)
            if "description" in option:
                self.text(
                    option["description"], f"{where}/description", OPTION_TEXT, plain=not rich
                )
            if "url" in option and not urls:
                self.fail(f"{where}/url", "url is only allowed in overflow menus")
            self.optional(option, "url", where, self.sized(3000))
        return [o for o in options if isinstance(o, dict)]

    def initial(self, element: JSON, at: str, options: list[JSON], multi: bool) -> None:
        """``initial_option(s)``, when given, must be among the options, as Slack compares."""
        key = "initial_options" if multi else "initial_option"
        if key not in element:
            return
        chosen = element[key]
        if multi:
            if not self.is_list(chosen, f"{at}/{key}", max(len(options), 1), 1):
                return
            picked = list(chosen)
        elif self.is_object(chosen, f"{at}/{key}"):
            picked = [chosen]
        else:
            return
        for i, option in enumerate(picked):
            if option not in options:
                self.fail(f"{at}/{key}/{i}" if multi else f"{at}/{key}", "must match an option")
