"""Polling one Mastodon account: the streams it reads, and the cursor that says how far.

:class:`MastodonPoller` is what ``MastodonAdapter.fetch`` runs
(:mod:`bot.intake.adapters.mastodon.adapter`). It reads each stream (:func:`make_streams`:
mentions, hashtags, searches) after the stored cursor, turns the new statuses into mentions
(:mod:`parse`) and says where the next poll starts. Paging and the cursor are subtle
enough to live alone, apart from streaming and replies.

**Cursor.** Per stream the newest id handed over, e.g. ``{"notifications": "550622655",
"tag:potholes": "116275331587890092"}``. Each poll asks for what came after it with ``min_id``
(the page right after that id, not the newest page, as ``since_id`` would give), then the page
after that one, until a short or empty page says it caught up, at most ``max_pages`` pages of
``page_size`` (Mastodon gives at most 40). A longer backlog continues at the next poll from where
this one stopped, so nothing between two polls is skipped. A stream met for the first time (first
run, or a hashtag added to the config) hands over the newest ``first_run_limit`` posts only.

**Late posts.** Mastodon gives a remote post a snowflake id made from the time the post says it
was *published*, not the time it arrived (``Mastodon::Snowflake::Callbacks``; in the recorded
mastodon.social page a post published 23:05:57.000 and notified 23:05:58.286 has an id of
23:05:57.871): a post published at 12:00:00 that federates in at 12:00:05 sorts before a local
post from 12:00:03, and a bare ``min_id`` cursor would skip it. So status streams re-read from
``lookback`` seconds before the newest id (snowflakes carry their time), and the cursor keeps
the ids already handled in that window, ``"recent": {"tag:potholes": [...]}``: a late post is
new, an old one is not repeated. ``"known_to"`` marks an id at or below which everything counts
as handled (what a first run left out, what the ``recent`` cap forgot). Usually one request
covers window and news; when the window alone fills a page (a busy hashtag), its oldest and its
newest page are re-read (late posts land near the newest) and reading goes on from the newest
id, so the cursor always moves. Notification ids are serials given on arrival: no look-back
there. Servers whose ids are not snowflakes (Pleroma, GoToSocial) get the plain ``min_id``.

**Search** pages newest first (offset pages), so a burst of more than ``max_pages`` pages between
two polls loses its oldest matches; Mastodon.py needs the server version for ``min_id`` and
``offset`` in search, so the first search asks ``/api/v1/instance`` once (cached).

**Dedupe.** The same status can come through a notification and a hashtag: within one fetch it
is one mention, first seen first (notifications come first), ``extra["via"]`` lists every stream.
``external_id`` is the status URI, the same from every instance (see :mod:`parse`).
Posts by the city's own account in hashtag and search streams are skipped (its own replies and
announcements are not citizen mentions); that needs ``verify_credentials`` once per poller
(:meth:`MastodonPoller.own_account_id`, which streaming shares).

**Failures** (what counts as which, see :mod:`client`). A rate limit, timeout, network
or server error anywhere fails the whole fetch (:class:`AdapterError`); the runner keeps the old
cursor. A hashtag or search the server refuses is one :class:`ItemError` for that stream, whose
cursor stays, and the other streams go on. A refused notifications call or a bad token fails
the whole fetch.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from mastodon import Mastodon

from bot.core.adapter import JSON, AdapterError, FetchResult, IncomingMention, ItemError
from bot.intake.adapters.mastodon.client import Refused, api_call
from bot.intake.adapters.mastodon.parse import (
    id_key,
    newest_id,
    snowflake_floor,
    status_mention,
    text_of,
)

MAX_PAGE = 40  # Mastodon's own limit for notifications, timelines and search
MAX_RECENT = 1000  # ids kept per stream for the look-back window


@dataclass(frozen=True)
class Stream:
    """One thing the account reads: its mentions, a hashtag or a search."""

    key: str  # the cursor key: "notifications", "tag:potholes", "search:pothole"
    kind: str  # "notifications", "tag" or "search"
    arg: str = ""


@dataclass
class _Seen:
    """One stream's memory: newest id, ids handled in the look-back window, and the id at or
    below which everything counts as handled."""

    newest: str | None = None
    recent: list[str] = field(default_factory=list)
    known_to: str | None = None


def _section(state: JSON, key: str) -> dict[str, Any]:
    value = state.get(key)
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class _Item:
    status: Mapping[str, Any] | None  # None: an entry with nothing to hand over
    item_id: str  # the id the cursor counts in: notification id or status id
    notification: bool = False


def _normalise_tag(tag: str) -> str:
    return tag.strip().lstrip("#").lower()


def make_streams(
    *, mentions: bool, hashtags: Sequence[str], keywords: Sequence[str]
) -> list[Stream]:
    """The streams to read, in reading order: mentions first (they win the dedupe), then
    hashtags, then searches; hashtags without ``#`` and lowercased, repeats dropped."""
    tags = list(dict.fromkeys(t for t in map(_normalise_tag, hashtags) if t))
    queries = list(dict.fromkeys(q for q in (k.strip() for k in keywords) if q))
    return (
        ([Stream("notifications", "notifications")] if mentions else [])
        + [Stream(f"tag:{t}", "tag", t) for t in tags]
        + [Stream(f"search:{q}", "search", q) for q in queries]
    )


class MastodonPoller:
    """Reads ``streams`` after a cursor; see the module docstring."""

    def __init__(
        self,
        *,
        name: str,
        client: Mastodon,
        streams: Sequence[Stream],
        page_size: int = MAX_PAGE,
        max_pages: int = 10,
        first_run_limit: int = MAX_PAGE,
        lookback: float = 600.0,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE}")
        self.name = name
        self.client = client
        self.instance = text_of(client.api_base_url)
        self.streams = list(streams)
        self.page_size, self.max_pages = page_size, max(1, max_pages)
        self.first_run_limit = max(0, min(first_run_limit, page_size))
        self.lookback = max(0.0, lookback)
        self._own_id: str | None = None

    def fetch(self, cursor: JSON | None) -> FetchResult:
        state = dict(cursor or {})
        recent_in, known_in = _section(state, "recent"), _section(state, "known_to")
        lists = any(s.kind != "notifications" for s in self.streams)
        own = self.own_account_id() if lists else None
        found: dict[str, IncomingMention] = {}
        order: dict[str, tuple[int, int, str]] = {}
        errors: list[ItemError] = []
        new_cursor: JSON = {}
        recent_out: dict[str, list[str]] = {}
        known_out: dict[str, str] = {}
        for stream in self.streams:
            before = _Seen(
                newest=text_of(state.get(stream.key)) or None,
                recent=[text_of(i) for i in recent_in.get(stream.key) or []],
                known_to=text_of(known_in.get(stream.key)) or None,
            )
            try:
                items, after = self._read(stream, before)
            except Refused as exc:
                if stream.kind == "notifications":  # the city's own mentions: nothing works
                    where = f"{self.name}: {stream.key}"
                    raise AdapterError(f"{where}: {exc} (check the token's scopes)") from exc
                errors.append(ItemError(item_id=stream.key, reason=f"{self.name}: {exc}"))
                items, after = [], before
            if after.newest:
                new_cursor[stream.key] = after.newest
            if after.recent:
                recent_out[stream.key] = after.recent
            if after.known_to:
                known_out[stream.key] = after.known_to
            for item in items:
                self._take(stream, item, own, found, order, errors)
        if recent_out:
            new_cursor["recent"] = recent_out
        if known_out:
            new_cursor["known_to"] = known_out
        mentions = sorted(found.values(), key=lambda m: order[m.external_id])
        return FetchResult(mentions=mentions, cursor=new_cursor, errors=errors)

    def _take(
        self,
        stream: Stream,
        item: _Item,
        own: str | None,
        found: dict[str, IncomingMention],
        order: dict[str, tuple[int, int, str]],
        errors: list[ItemError],
    ) -> None:
        status = item.status
        if (
            not status
            or status.get("reblog")
            or (own and text_of((status.get("account") or {}).get("id")) == own)
        ):
            return
        try:
            mention = status_mention(
                status,
                via=stream.key,
                instance=self.instance,
                notification_id=item.item_id if item.notification else None,
            )
        except Exception as exc:  # one odd status never blocks the others
            item_id = text_of(status.get("uri")) or f"{stream.key}/{item.item_id}"
            errors.append(ItemError(item_id=item_id, reason=f"{self.name}: {exc}"))
            return
        if (earlier := found.get(mention.external_id)) is not None:
            via = [*earlier.extra["via"], stream.key]
            found[mention.external_id] = replace(earlier, extra={**earlier.extra, "via": via})
            return
        found[mention.external_id] = mention
        order[mention.external_id] = id_key(text_of(status.get("id")) or "0")

    def _read(self, stream: Stream, before: _Seen) -> tuple[list[_Item], _Seen]:
        """The new items of one stream, and what to remember about it."""
        since = before.newest
        looks_back = stream.kind != "notifications" and self.lookback > 0
        floor = None
        if looks_back and since:
            floor = newest_id([snowflake_floor(since, self.lookback), before.known_to])
        if stream.kind == "search":
            fetched = self._search(stream, floor or since)
        elif since is None:
            fetched = self._page(stream)
        elif floor is None:
            fetched = self._pages(stream, since)
        else:
            fetched = self._window(stream, since, floor)

        newest = newest_id([since, *(i.item_id for i in fetched)])
        if since is None:
            fresh = fetched[: self.first_run_limit]  # a first page comes newest first
        else:
            low, known = id_key(floor or since), set(before.recent)
            fresh = [i for i in fetched if id_key(i.item_id) > low and i.item_id not in known]
        fresh = list({i.item_id: i for i in fresh}.values())  # pages can share a post

        after = _Seen(newest=newest)
        window = snowflake_floor(newest, self.lookback) if looks_back and newest else None
        if window:
            # Every fetched post counts as handled, handed over or not. Below ``known_to`` all
            # posts count as handled: what a first run left out, what the cap forgot.
            known_to = before.known_to
            if since is None and len(fetched) >= self.page_size:
                known_to = min((i.item_id for i in fetched), key=id_key)
            ids = {*before.recent, *(i.item_id for i in fetched)}
            inside = sorted((i for i in ids if id_key(i) > id_key(window)), key=id_key)[::-1]
            if len(inside) > MAX_RECENT:
                inside = inside[:MAX_RECENT]
                known_to = newest_id([known_to, inside[-1]])
            after.recent = inside
            if known_to and id_key(known_to) > id_key(window):
                after.known_to = known_to
        return fresh, after

    def _window(self, stream: Stream, since: str, floor: str) -> list[_Item]:
        """Posts after ``floor``: the look-back window (for late posts), then what is new.

        Usually one request covers both. When the window alone fills a page (a busy hashtag),
        its oldest page (that one request) and its newest page (below ``since``, where posts a
        few seconds late land) are read, and the new posts from ``since`` on: the middle of a
        busy window is not re-read, and the cursor always moves on.
        """
        first = self._page(stream, min_id=floor)
        if len(first) < self.page_size:
            return first
        top = newest_id(i.item_id for i in first) or floor
        if id_key(top) >= id_key(since):
            return first + self._pages(stream, top)
        return first + self._page(stream, max_id=since, since_id=floor) + self._pages(stream, since)

    def _pages(self, stream: Stream, min_id: str) -> list[_Item]:
        """Pages after ``min_id``, oldest page first, until caught up or ``max_pages``."""
        items: list[_Item] = []
        for _ in range(self.max_pages):
            page = self._page(stream, min_id=min_id)
            items.extend(page)
            if len(page) < self.page_size:
                break
            min_id = newest_id(i.item_id for i in page) or min_id
        return items

    def _page(
        self,
        stream: Stream,
        *,
        min_id: str | None = None,
        max_id: str | None = None,
        since_id: str | None = None,
    ) -> list[_Item]:
        where = f"{self.name}: {stream.key}"
        ids = {"min_id": min_id, "max_id": max_id, "since_id": since_id, "limit": self.page_size}
        if stream.kind == "notifications":
            page = api_call(
                self.client, where, lambda: self.client.notifications(types=["mention"], **ids)
            )
        else:
            page = api_call(
                self.client, where, lambda: self.client.timeline_hashtag(stream.arg, **ids)
            )
        if not isinstance(page, list):
            raise AdapterError(f"{where}: expected a list, got {type(page).__name__}")
        if stream.kind != "notifications":
            return [_Item(s, text_of(s.get("id"))) for s in page if s.get("id")]
        # An old server ignores types[]: the type is checked here too. A mention whose status
        # is gone (deleted, or hidden from the city) comes with "status": null. Such entries
        # still count for paging and the cursor, with nothing to hand over.
        return [
            _Item(n.get("status") if n.get("type") == "mention" else None, text_of(n["id"]), True)
            for n in page
            if n.get("id")
        ]

    def _search(self, stream: Stream, min_id: str | None) -> list[_Item]:
        """Matches newer than ``min_id``, newest first, in offset pages."""
        where = f"{self.name}: {stream.key}"
        items: list[_Item] = []
        for number in range(self.max_pages if min_id else 1):
            search = functools.partial(
                self.client.search_v2,
                stream.arg,
                resolve=False,
                result_type="statuses",
                min_id=min_id,
                offset=number * self.page_size or None,
                limit=self.page_size,
                exclude_unreviewed=False,
            )
            result = api_call(self.client, where, search)
            page = [s for s in (result or {}).get("statuses") or [] if s.get("id")]
            items.extend(_Item(s, text_of(s.get("id"))) for s in page)
            oldest = min((id_key(i.item_id) for i in items), default=None)
            if len(page) < self.page_size or (min_id and oldest and oldest <= id_key(min_id)):
                break
        return sorted(items, key=lambda i: id_key(i.item_id), reverse=True)

    def own_account_id(self) -> str | None:
        """The city's own account id (``verify_credentials``, asked once, then cached)."""
        if self._own_id is None:
            where = f"{self.name}: verify_credentials"
            try:
                account = api_call(self.client, where, self.client.account_verify_credentials)
            except Refused as exc:
                raise AdapterError(f"{where}: {exc} (check the token's read scope)") from exc
            self._own_id = text_of((account or {}).get("id")) or None
        return self._own_id
