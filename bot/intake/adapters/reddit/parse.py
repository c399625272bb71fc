"""Reddit things (the JSON children of a Listing) as mentions, and the rules around them.

Pure functions over Reddit's raw JSON (what ``praw.Reddit.request`` returns, asked with
``raw_json=1`` so bodies keep ``<``, ``>`` and ``&`` as written), so one malformed child becomes
one error instead of breaking praw's objectifying of the whole listing. Kept apart from the
adapter so tests can feed recorded children directly.

Also here, as pure helpers of the adapter: the per-stream cursor rules (``is_old``,
``next_state``) and the reading of Reddit's ``x-ratelimit-*`` headers (``RateBudget``).

Shapes handled: submissions (``t3``: ``title``, ``selftext``, ``permalink``), comments from a
subreddit's comment listing (``t1``: ``body``, ``link_id``, ``parent_id``, ``link_title``,
``permalink``) and username mentions from the inbox (``t1`` without ``permalink`` or
``link_id``: both are recovered from ``context``).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from bot.core.adapter import IncomingMention

SOURCE = "reddit"
WEB_URL = "https://www.reddit.com"  # links for people, whatever API host the adapter talks to
KINDS = {"t1": "comment", "t3": "submission"}
GONE = ("[deleted]", "[removed]")  # what Reddit shows instead of deleted or removed text

_FULLNAME = re.compile(r"t[1-9]_[0-9a-z]{1,13}\Z")
_SUBREDDIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]{1,20}\Z")
_LINK_IN_PATH = re.compile(r"/comments/([0-9a-z]{1,13})(?:/|\Z)")


def subreddit_name(value: str) -> str:
    """``r/Columbus``, ``/r/columbus/`` or ``Columbus`` -> ``columbus`` (names ignore case)."""
    name = value.strip().strip("/")
    name = name[2:] if name.lower().startswith("r/") else name
    if not _SUBREDDIT.match(name):
        raise ValueError(f"not a subreddit name: {value!r}")
    return name.lower()


def is_fullname(value: object) -> bool:
    return isinstance(value, str) and bool(_FULLNAME.match(value))


def fullname_of(child: object) -> str | None:
    """The thing's fullname (``t3_abc``), from ``name`` or from ``kind`` + ``id``."""
    if not isinstance(child, Mapping) or not isinstance(data := child.get("data"), Mapping):
        return None
    if is_fullname(name := data.get("name")):
        return str(name)
    candidate = f"{child.get('kind')}_{data.get('id')}"
    return candidate if is_fullname(candidate) else None


def item_key(child: object) -> str:
    """A stable key for any child: its fullname, or a hash of its JSON when it has none."""
    if name := fullname_of(child):
        return name
    raw = json.dumps(child, sort_keys=True, default=str, ensure_ascii=False)
    return "sha256:" + hashlib.sha256(raw.encode()).hexdigest()[:32]


def created_of(child: object) -> float | None:
    """``created_utc`` as seconds since the epoch, or None when missing or not a number."""
    data = child.get("data") if isinstance(child, Mapping) else None
    value = data.get("created_utc") if isinstance(data, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None


def parse_listing(payload: object) -> tuple[list[Any], str | None]:
    """The children of a Listing and its ``after`` fullname (None on the last page)."""
    data = payload.get("data") if isinstance(payload, Mapping) else None
    if not isinstance(payload, Mapping) or payload.get("kind") != "Listing":
        raise ValueError("not a Listing")
    children = data.get("children") if isinstance(data, Mapping) else None
    if not isinstance(children, list):
        raise ValueError("a Listing without children")
    after = data.get("after") if isinstance(data, Mapping) else None
    return children, after if is_fullname(after) else None


def _term_pattern(term: str) -> re.Pattern[str]:
    words = r"\s+".join(re.escape(word) for word in term.split())
    return re.compile(rf"(?<!\w){words}(?!\w)", re.IGNORECASE)


class TermMatcher:
    """Case-insensitive whole-word match of configured terms; no terms matches everything.

    A term is matched where no letter, digit or underscore touches it on either side, so
    ``"311"`` matches ``"call 311."`` but not ``"13112"``; the words of a phrase may be
    separated by any whitespace (a line break in Markdown included).
    """

    def __init__(self, terms: Iterable[str]) -> None:
        self.terms = [" ".join(term.split()) for term in terms if term.strip()]
        self._patterns = [(term, _term_pattern(term)) for term in self.terms]

    def first(self, text: str) -> str | None:
        """The first configured term found in ``text``, in configuration order."""
        return next((term for term, pattern in self._patterns if pattern.search(text)), None)

    def accepts(self, text: str) -> tuple[bool, str | None]:
        """Whether ``text`` is wanted, and the term that made it so."""
        if not self._patterns:
            return True, None
        term = self.first(text)
        return term is not None, term


def _text(data: Mapping[str, Any], key: str, *, required: bool) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{key} is {'missing' if value is None else type(value).__name__}")
    return value.strip()


def _path(value: object) -> str | None:
    """A site-relative path (``/r/...``) without its query, or None."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return None
    return urlsplit(value).path or None


def author_of(data: Mapping[str, Any]) -> str:
    author = data.get("author")
    if not isinstance(author, str) or not author or author in GONE:
        return "[deleted]"
    return f"u/{author}"


def match_text(child: Mapping[str, Any]) -> str:
    """What terms are matched against: title + selftext, or a comment's body."""
    data = child.get("data")
    if not isinstance(data, Mapping):
        return ""
    keys = ("title", "selftext") if child.get("kind") == "t3" else ("body",)
    parts = [data.get(key) for key in keys]
    return "\n".join(p for p in parts if isinstance(p, str) and p not in GONE)


def to_mention(child: object, *, stream: str, matched_term: str | None) -> IncomingMention | None:
    """One child as a mention; None when its text is gone (deleted or removed).

    Raises ``ValueError`` for a child that cannot be a mention (no fullname, no date, no text).
    """
    if not isinstance(child, Mapping) or not isinstance(data := child.get("data"), Mapping):
        raise ValueError("not a Reddit thing")
    kind = child.get("kind")
    if kind not in KINDS:
        raise ValueError(f"unsupported kind {kind!r}")
    fullname = fullname_of(child)
    if fullname is None:
        raise ValueError("no fullname (name or id)")
    created = created_of(child)
    if created is None:
        raise ValueError(f"created_utc is not a time: {data.get('created_utc')!r}")
    subreddit = data.get("subreddit")
    subreddit = subreddit if isinstance(subreddit, str) else ""
    context = _path(data.get("context"))  # inbox items: /r/x/comments/link/slug/id/?context=3
    path = _path(data.get("permalink")) or context
    title: str | None = None
    link_id: Any
    parent_id: Any
    extra: dict[str, Any] = {}
    if kind == "t3":
        title = _text(data, "title", required=True)
        body = _text(data, "selftext", required=False)
        if not title:
            raise ValueError("submission without a title")
        text = f"{title}\n{body}" if body and body not in GONE else title
        link_id, parent_id = fullname, None
        link = data.get("url")
        if data.get("is_self") is False and isinstance(link, str) and link.startswith("http"):
            extra["link_url"] = link
    else:
        text = _text(data, "body", required=True)
        if text in GONE or not text:
            return None
        link_id = data.get("link_id")
        if not is_fullname(link_id) and path and (found := _LINK_IN_PATH.search(path)):
            link_id = f"t3_{found.group(1)}"
        parent_id = data.get("parent_id")
        link_title = data.get("link_title")
        extra["link_title"] = link_title if isinstance(link_title, str) else None
    return IncomingMention(
        source=SOURCE,
        external_id=fullname,
        text=text,
        author=author_of(data),
        url=f"{WEB_URL}{path}" if path else None,
        title=title,
        created_at=datetime.fromtimestamp(created, UTC),
        extra={
            "fullname": fullname,
            "subreddit": subreddit,
            "kind": KINDS[kind],
            "link_id": link_id if is_fullname(link_id) else None,
            "parent_id": parent_id if is_fullname(parent_id) else None,
            "matched_term": matched_term,
            "stream": stream,
            **extra,
        },
    )


def reply_permalink(data: Mapping[str, Any]) -> str | None:
    """The web URL of a comment Reddit just created (older answers carry no ``permalink``)."""
    if path := _path(data.get("permalink")):
        return f"{WEB_URL}{path}"
    link_id, comment_id = data.get("link_id"), data.get("id")
    if not is_fullname(link_id) or not isinstance(comment_id, str) or not comment_id.isalnum():
        return None
    subreddit = str(data.get("subreddit") or "")
    where = f"/r/{subreddit}" if _SUBREDDIT.match(subreddit) else ""  # Reddit resolves both
    return f"{WEB_URL}{where}/comments/{str(link_id)[3:]}/_/{comment_id}/"


class RateBudget:
    """Reddit's ``x-ratelimit-*`` answer headers: requests left and when the window resets."""

    def __init__(self) -> None:
        self.remaining: float | None = None
        self.reset_at = 0.0  # time.monotonic()

    def update(self, headers: Mapping[str, str]) -> None:
        try:
            remaining = float(headers["x-ratelimit-remaining"])
            reset = float(headers["x-ratelimit-reset"])
        except (KeyError, ValueError):
            return
        self.remaining, self.reset_at = remaining, time.monotonic() + max(0.0, reset)

    def wait(self) -> float | None:
        """Seconds until requests are allowed again, if the budget is used up."""
        left = self.reset_at - time.monotonic()
        return round(left, 1) if self.remaining is not None and self.remaining < 1 < left else None


# -- the cursor of one stream (see bot.intake.adapters.reddit.adapter) ----------------------


def number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def is_old(child: object, state: Mapping[str, Any], known: set[str]) -> bool:
    """Seen before, or older than what was seen: paging back can stop here."""
    created, floor = created_of(child), number(state.get("floor"))
    newest_created = number(state.get("newest_created"))
    if item_key(child) in known:
        return True
    if created is None:
        return False
    return (newest_created is not None and created < newest_created) or (
        floor is not None and created <= floor
    )


def next_state(
    state: Mapping[str, Any], fetched: Mapping[str, Any], *, first: bool, max_seen: int
) -> dict[str, Any]:
    """The stream's cursor after a poll that looked at ``fetched`` (key -> child, newest first).

    ``seen`` keeps every key fetched plus older ones up to ``max_seen``. When older keys must go,
    ``floor`` rises to the oldest thing fetched, so what was forgotten stays old; it is also set
    on the first poll, whose older things are never taken.
    """
    seen = [key for key in state.get("seen") or [] if isinstance(key, str)]
    floor = number(state.get("floor"))
    times = {key: t for key, child in fetched.items() if (t := created_of(child)) is not None}
    merged = list(fetched) + [key for key in seen if key not in fetched]
    keep = max(max_seen, len(fetched))
    if times and (first or len(merged) > keep):
        floor = max(floor if floor is not None else float("-inf"), min(times.values()))
    newest, newest_created = state.get("newest"), number(state.get("newest_created"))
    if named := {key: t for key, t in times.items() if is_fullname(key)}:
        key = max(named, key=lambda k: named[k])
        if newest_created is None or named[key] > newest_created:
            newest, newest_created = key, named[key]
    return {
        "newest": newest if is_fullname(newest) else None,
        "newest_created": newest_created,
        "floor": floor,
        "seen": merged[:keep],
    }
