"""RSS and Atom feeds as a source of mentions: httpx fetches, feedparser parses the bytes.

Feeds have no since-parameter and no reliable order: entries are re-sorted, edited, dropped and
re-added, and their dates are missing or wrong. So the cursor remembers *which* entries were
already handed over, ``{"etag": ..., "modified": ..., "seen": [...]}``, where ``seen`` lists
external ids, most recently seen first. Every id in the current document is kept (a feed longer
than ``max_seen`` never repeats), plus older ids up to ``max_seen``, so an entry that drops out
and comes back is not repeated either. Only an entry that returns after more than ``max_seen``
newer ones is repeated, and storage deduplication on ``(source, external_id)`` catches that.
A restart with the stored cursor repeats nothing and misses nothing still in the feed.

The fetch is a conditional GET (ETag / Last-Modified; 304 means nothing new). Validators are
stored only from a well-formed document: after a truncated body the next poll gets the whole
feed again instead of a 304 for the broken copy, and the last entry of a cut-off document is
held back (it may be partial, even missing its id) until a complete copy brings it. feedparser
gets a stream, never a URL or bytes it could take for a file name (``parse(bytes)`` opens an
existing path!), and does its own encoding detection from the response headers.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import xml.sax
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser
import httpx

from bot.core.adapter import JSON, AdapterError, FetchResult, IncomingMention, ItemError
from bot.intake.adapters.common import check_status, html_to_text

ACCEPT = "application/rss+xml, application/atom+xml, application/xml, text/xml;q=0.9, */*;q=0.1"


def _plain(detail: Mapping[str, Any] | None) -> str:
    """Text of a feedparser ``*_detail``: tags stripped unless text/plain, spaces collapsed."""
    value = str((detail or {}).get("value") or "")
    if (detail or {}).get("type") != "text/plain":
        return html_to_text(value)
    return " ".join(value.split())


def _entry_id(entry: Mapping[str, Any]) -> str:
    if entry.get("id") or entry.get("link"):
        return str(entry.get("id") or entry.get("link"))
    raw = "\x00".join(str(entry.get(k) or "") for k in ("title", "summary", "published"))
    return "sha256:" + hashlib.sha256(raw.encode()).hexdigest()


def _when(entry: Mapping[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed"):
        if parsed := entry.get(key):
            try:
                return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
            except (OverflowError, ValueError, OSError):
                return None
    return None


def _normalise(entry: Mapping[str, Any], feed: Mapping[str, Any], name: str) -> IncomingMention:
    title = _plain(entry.get("title_detail"))
    content = entry.get("content")
    body = _plain(content[0] if content else entry.get("summary_detail"))
    if not title and not body:
        raise ValueError("entry has no title and no text")
    # Many feeds (comments, microblogs) repeat the start of the text as the title.
    text = body if title and body.startswith(title.rstrip(".… ")) else f"{title}\n{body}".strip()
    link = str(entry.get("link") or "")
    feed_title = _plain(feed.get("title_detail"))
    return IncomingMention(
        source="rss",
        external_id=_entry_id(entry),
        text=text,
        author=str((entry.get("author_detail") or {}).get("name") or entry.get("author") or "")
        or feed_title,
        url=link if urlsplit(link).scheme in ("http", "https") else None,
        title=title or None,
        created_at=_when(entry),
        language=(entry.get("title_detail") or {}).get("language") or feed.get("language"),
        extra={"feed": name, "feed_title": feed_title},
    )


def _parse(
    content: bytes, name: str, headers: Mapping[str, str] | None
) -> tuple[dict[str, IncomingMention | ItemError], dict[str, Any]]:
    """Entries by external id, in document order (a repeated id counts once), and feed facts."""
    parsed = feedparser.parse(
        io.BytesIO(content), response_headers=dict(headers or {}), sanitize_html=True
    )
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if not parsed.entries and not parsed.get("version"):
        reason = problem or ("empty body" if not content.strip() else "no RSS or Atom root element")
        raise AdapterError(f"not a feed: {name}: {reason}")
    well_formed = not isinstance(problem, xml.sax.SAXException)
    entries = list(parsed.entries)
    if not well_formed and not content.rstrip().endswith((b"rss>", b"feed>", b"RDF>")):
        entries = entries[:-1]  # cut off: the last entry may be partial, the next fetch has it
    items: dict[str, IncomingMention | ItemError] = {}
    for entry in entries:
        if (item_id := _entry_id(entry)) not in items:
            try:
                items[item_id] = _normalise(entry, parsed.feed, name)
            except Exception as exc:  # one bad entry never blocks the others
                items[item_id] = ItemError(item_id=item_id, reason=f"{name}: {exc or repr(exc)}")
    info = {
        "title": _plain(parsed.feed.get("title_detail")),
        "version": parsed.get("version") or "",
        "encoding": parsed.get("encoding"),
        "bozo": str(problem) if problem else None,
        "well_formed": well_formed,
    }
    return items, info


def feed_entries_from_bytes(
    content: bytes, *, name: str, headers: Mapping[str, str] | None = None
) -> tuple[list[IncomingMention], list[ItemError], dict[str, Any]]:
    """Parse one feed document: its mentions, its unusable entries and facts about the feed."""
    items, info = _parse(content, name, headers)
    mentions = [i for i in items.values() if isinstance(i, IncomingMention)]
    return mentions, [i for i in items.values() if isinstance(i, ItemError)], info


class RssAdapter:
    """Polls one RSS or Atom feed; see the module docstring for the cursor."""

    source = "rss"

    def __init__(
        self,
        *,
        name: str,
        url: str,
        http: httpx.Client | None = None,
        timeout: float = 20.0,
        max_seen: int = 1000,
        user_agent: str = "Engage/0.1 (+civic mention router)",
    ) -> None:
        self.name, self.url, self.timeout, self.max_seen = name, url, timeout, max_seen
        self.user_agent = user_agent
        self._own_http = http is None
        self._http = http or httpx.Client(timeout=timeout)

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    def fetch(self, cursor: JSON | None) -> FetchResult:
        state = cursor or {}
        seen = [str(i) for i in state.get("seen") or []]
        etag, modified = state.get("etag"), state.get("modified")
        headers = {"User-Agent": self.user_agent, "Accept": ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        where = f"{self.name}: {self.url}"
        try:
            response = self._http.get(
                self.url, headers=headers, follow_redirects=True, timeout=self.timeout
            )
        except httpx.TimeoutException as exc:
            raise AdapterError(f"{where}: timed out after {self.timeout:g}s ({exc!r})") from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise AdapterError(f"{where}: cannot fetch: {exc!r}") from exc

        if response.status_code == 304:
            return FetchResult([], {"etag": etag, "modified": modified, "seen": seen})
        check_status(
            response.status_code, response.reason_phrase, response.headers.get("Retry-After"), where
        )
        if not response.is_success:
            raise AdapterError(f"{where}: unexpected HTTP {response.status_code}")

        response_headers = dict(response.headers)  # feedparser reads the charset from these
        response_headers.setdefault("content-location", str(response.url))  # base for links
        items, info = _parse(response.content, self.name, response_headers)
        known, current = set(seen), list(items)
        fresh = [item for item_id, item in items.items() if item_id not in known]
        new_seen = current + [i for i in seen if i not in items]
        if info["well_formed"]:
            etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
        return FetchResult(
            mentions=[i for i in fresh if isinstance(i, IncomingMention)],
            cursor={
                "etag": etag,
                "modified": modified,
                "seen": new_seen[: max(self.max_seen, len(current))],
            },
            errors=[i for i in fresh if isinstance(i, ItemError)],
        )
