"""The compiled rules and departments, recompiled only when the stored rules change.

Each ingest asks the database for ``rules_version`` (one tiny read); a change made by any
replica, from Slack or by ``engage rules import``, is picked up on the next mention without a
restart.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from bot.config.file import EngageConfig
from bot.routing import AreaIndex, Match, MentionContext, Router
from bot.rules.docs import doc_of_row, rule_def
from storage.rules import rows as stored


@dataclass(frozen=True)
class Book:
    version: int
    router: Router
    channels: dict[str, str] = field(default_factory=dict)  # department slug -> channel id
    names: dict[str, str] = field(default_factory=dict)  # department slug -> name
    urgent: frozenset[str] = frozenset()  # names of the rules marked ``urgent: true``

    def route(self, text: str, source: str, context: MentionContext | None = None) -> Match | None:
        match = self.router.route(text, source, context=context)
        if match is not None and match.department not in self.channels:
            return None  # a rule for a department that no longer exists: triage
        return match


class Rulebook:
    def __init__(
        self,
        *,
        triage_channel: str,
        areas: AreaIndex | None = None,
        author_lists: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.triage_channel = triage_channel
        self.areas = areas
        self.author_lists = author_lists or {}
        self._lock = threading.Lock()
        self._book: Book | None = None

    def current(self, session: Session) -> Book:
        version = stored.version(session=session)
        book = self._book
        if book is not None and book.version == version:
            return book
        with self._lock:
            if self._book is None or self._book.version != version:
                self._book = self._compile(session, version)
            return self._book

    def _compile(self, session: Session, version: int) -> Book:
        rows = stored.rules_in_order(session)
        defs = [rule_def(doc_of_row(r), self.author_lists) for r in rows]
        departments = stored.departments(session=session)
        return Book(
            version=version,
            router=Router(defs, areas=self.areas),
            channels={d.slug: d.channel_id for d in departments},
            names={d.slug: d.name for d in departments},
            urgent=frozenset(r.name for r in rows if r.spec.get("urgent") is True),
        )


def config_departments(config: EngageConfig) -> list[dict[str, Any]]:
    """Departments from the YAML config, shaped as storage keeps them."""
    return [
        {
            "slug": d.slug,
            "name": d.name,
            "channel_id": d.channel,
            "leads": list(d.leads),
            "timezone": d.timezone,
        }
        for d in config.departments
    ]
