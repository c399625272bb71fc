"""Priority authors: a mention by someone on a ``priority: true`` author list gets a badge.

The press, councillors or the mayor's office are worth answering first, wherever they post.
Authors compare as routing compares them (:func:`bot.routing._criteria.author_key`), so the
list entry "@reporter@news.social" matches "Reporter@News.social", and "desk@gazette.example"
matches "Desk <desk@gazette.example>".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.config.service import AuthorListConfig
from bot.routing import author_key

# Keys in Mention.extra: the list's name (stable, for queries) and its label (for the card).
LIST_KEY = "priority_author"
LABEL_KEY = "priority_label"


@dataclass(frozen=True)
class Priority:
    list_name: str
    label: str

    def extra(self) -> dict[str, Any]:
        return {LIST_KEY: self.list_name, LABEL_KEY: self.label}


class PriorityAuthors:
    def __init__(self, lists: Mapping[str, AuthorListConfig]) -> None:
        self._by_author: dict[str, Priority] = {}
        for name, entry in lists.items():
            if not entry.priority:
                continue
            found = Priority(name, entry.label or name.replace("_", " ").capitalize())
            for member in entry.members:
                key = author_key(member)
                if key:
                    # The first list in the file wins: its label is the one the team expects.
                    self._by_author.setdefault(key, found)

    def of(self, author: str) -> Priority | None:
        return self._by_author.get(author_key(author)) if author else None


def label_of(extra: Mapping[str, Any]) -> str | None:
    """The badge a stored mention carries, if any."""
    label = extra.get(LABEL_KEY)
    return str(label) if label else None
