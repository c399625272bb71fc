"""Small helpers every adapter needs: HTML to plain text, Retry-After, HTTP status to error,
and recognising the city's own reply when an adapter looks for it after an uncertain post."""

from __future__ import annotations

import html
import math
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

from bot.core.adapter import AdapterError

_LINK = re.compile(r"https?://\S+")
_LEADING_HANDLES = re.compile(r"^(?:@[\w.@-]+\s+)+")
_BLOCK_TAGS = {"br", "p", "div", "li", "tr", "td", "h1", "h2", "h3", "blockquote", "hr"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        self.handle_starttag(tag, [])


def html_to_text(html: str) -> str:
    """Tags stripped, entities unescaped, whitespace collapsed (block tags become spaces)."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return " ".join("".join(extractor.parts).split())


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), if readable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


def check_status(status: int, reason: str, headers_retry_after: str | None, where: str) -> None:
    """Raise :class:`AdapterError` for a failed HTTP answer, with the wait the server asked."""
    label = f"HTTP {status} {reason}".strip()
    if status in (429, 503):
        wait = retry_after(headers_retry_after)
        later = "" if wait is None else f", retry after {wait:g}s"
        raise AdapterError(f"{where}: {label}{later}", retry_after=wait)
    if status >= 500:
        raise AdapterError(f"{where}: server error, {label}")
    if status in (401, 403):
        raise AdapterError(f"{where}: {label} (check the credentials and their access)")
    if status >= 400:
        raise AdapterError(f"{where}: {label}")


def same_reply_text(found: object, sent: str) -> bool:
    """Whether text found on a platform is the reply ``sent``, as platforms store and show it.

    Entities are unescaped (X sends ``&amp;``), leading ``@handles`` dropped (a platform may
    prefix the people answered), every link counts as the same link (X rewrites them to t.co)
    and whitespace is collapsed. Anything else must match exactly.
    """
    if not isinstance(found, str):
        return False

    def plain(text: str) -> str:
        text = _LEADING_HANDLES.sub("", html.unescape(text).strip())
        return " ".join(_LINK.sub("<link>", text).split())

    return plain(found) == plain(sent)
