"""The adapter interface: how a source hands citizen mentions to Engage.

An adapter is a small object with a ``name`` (the configured instance, e.g. ``city-news``), a
``source`` (the kind of platform, e.g. ``rss``) and ``fetch(cursor)``. It knows only its own
client library and this module: never storage, handlers or Slack.

``fetch`` receives the opaque JSON cursor it returned last time (``None`` on the first run) and
returns a :class:`FetchResult`: the new mentions, the cursor to store, and per-item errors.
The polling runner stores the mentions *and* the new cursor in one transaction, so a crash
either keeps both or neither: a restart never repeats and never skips an item.
Deduplication by ``(source, external_id)`` in storage stays the last line of defence.

A whole-fetch failure (network down, 5xx, rate limited) is raised as :class:`AdapterError`;
the runner records it, backs off and keeps the old cursor. One malformed item is reported in
``FetchResult.errors`` and never blocks the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

JSON = dict[str, Any]


@dataclass(frozen=True)
class IncomingMention:
    """One citizen mention, normalised, as it crosses from an adapter into Engage."""

    source: str
    external_id: str
    text: str
    author: str = ""
    url: str | None = None
    title: str | None = None
    created_at: datetime | None = None  # timezone-aware when the source says when
    language: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ItemError:
    """An item the adapter could not turn into a mention: recorded and skipped."""

    item_id: str
    reason: str


@dataclass(frozen=True)
class FetchResult:
    mentions: list[IncomingMention]
    cursor: JSON
    errors: list[ItemError] = field(default_factory=list)


class AdapterError(Exception):
    """The whole fetch failed; ``retry_after`` (seconds) is set when the source said when."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@runtime_checkable
class PollingAdapter(Protocol):
    name: str
    source: str

    def fetch(self, cursor: JSON | None) -> FetchResult: ...


# Answering citizens where they wrote: an adapter that can reply implements this too.
@dataclass(frozen=True)
class ReplyTarget:
    """What a replier needs to know about the mention it answers (copied from storage)."""

    source: str
    external_id: str
    author: str
    url: str | None
    title: str | None
    extra: Mapping[str, Any]


@dataclass(frozen=True)
class ReplyResult:
    """Where the reply now lives on the platform."""

    external_id: str
    url: str | None = None


class ReplyError(Exception):
    """The platform refused or could not take the reply; ``retryable`` if trying again may work.

    ``ambiguous``: the request may have reached the platform (a timeout, a 5xx, a connection
    lost after sending), so the reply may be published already: look before trying again.
    """

    def __init__(self, message: str, *, retryable: bool = False, ambiguous: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.ambiguous = ambiguous


@runtime_checkable
class Replier(Protocol):
    source: str

    def reply(self, target: ReplyTarget, text: str) -> ReplyResult: ...


@runtime_checkable
class ReplyFinder(Replier, Protocol):
    """A replier that can find a reply it may already have published, so that it never
    publishes one twice.

    Social platforms take posts without an idempotency key (Mastodon's ``Idempotency-Key`` is
    the exception), so a reply whose request ended ambiguously may be live. Before trying
    again, the outbox (:mod:`bot.outbox.replies`) calls ``find_reply``: the city account's own
    recent replies to the same parent, with the same text. A hit is adopted as the reply, the
    way delivery adopts a Slack message found by the outbox id in its metadata; ``None`` means
    it is not there (post it); a ``ReplyError`` means the platform could not be asked now.

    It is its own protocol, not a method every ``Replier`` must have, because only platforms
    without idempotency need it and only those whose API lists the account's replies can offer
    it: Mastodon needs nothing more, and a sent email cannot be looked up over SMTP. Such
    repliers keep working unchanged, and keep their own rules for retrying.
    """

    def find_reply(self, target: ReplyTarget, text: str) -> ReplyResult | None: ...
