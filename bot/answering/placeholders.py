"""Placeholders in a saved reply's text, filled from the card it answers.

Only the four names below are placeholders; any other ``{word}`` is refused when the reply is
saved (a typo would otherwise reach a citizen as "{autor}"). A value the card has not (no 311
request number, no link) leaves nothing behind, and the staff member edits the text anyway.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

PLACEHOLDERS = {
    "author": "the citizen's name or handle",
    "department": "the department's name",
    "ref": "the 311 request number",
    "link": "the link to the citizen's post",
}
_FIELD = re.compile(r"\{([^{}\s]{0,40})\}")


@dataclass(frozen=True)
class CardFacts:
    """What a card offers the placeholders."""

    author: str = ""
    department: str = ""
    ref: str = ""
    link: str = ""

    def values(self) -> dict[str, str]:
        return {
            "author": self.author,
            "department": self.department,
            "ref": self.ref,
            "link": self.link,
        }


def unknown(text: str) -> list[str]:
    """The ``{names}`` in ``text`` that are not placeholders, in order, once each."""
    return list(dict.fromkeys(m for m in _FIELD.findall(text) if m not in PLACEHOLDERS))


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each placeholder replaced; anything else left exactly as written."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        return values.get(name, "") if name in PLACEHOLDERS else match.group(0)

    return _FIELD.sub(one, text)


def display_author(author: str) -> str:
    """How a citizen is named in an answer: "Ann Lee <ann@x.org>" is "Ann Lee"."""
    name, _, address = author.partition("<")
    return (name.strip().strip('"') or address.rstrip(">").strip()) if address else author.strip()
