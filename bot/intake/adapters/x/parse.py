"""X's tweets as mentions: pure functions over the raw JSON of API v2 (no I/O).

Retweets (no citizen text of their own) and the city account's own tweets are skipped. X
escapes ``&``, ``<`` and ``>`` in tweet text; the text is unescaped, never tag-stripped. A long
post's full text is in ``note_tweet``. Authors come from the page's ``includes.users``
(``expansions=author_id``). Reading raw JSON rather than ``tweepy.Tweet`` means one malformed
tweet is a ``ValueError`` here, which the adapter turns into one ``ItemError``, instead of a
``KeyError`` inside tweepy that would sink its whole page.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.core.adapter import IncomingMention

SOURCE = "x"
# "und" undetermined, "zxx" no linguistic content; X's own: media, hashtags, mentions,
# cashtags only, or too short to tell.
NO_LANGUAGE = {"und", "zxx", "qme", "qht", "qam", "qct", "qst", "art"}


def tweet_url(username: str, tweet_id: str) -> str:
    if username:
        return f"https://x.com/{username}/status/{tweet_id}"
    return f"https://x.com/i/web/status/{tweet_id}"


def obj(value: object) -> Mapping[str, Any]:
    """``value`` if it is a JSON object, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def int_id(value: object) -> int | None:
    """A numeric id string as an int (ids are snowflakes and grow with time)."""
    return int(value) if isinstance(value, str) and value.isdigit() else None


def users_of(body: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The page's expanded authors by id."""
    found = obj(body.get("includes")).get("users")
    found = found if isinstance(found, list) else []
    return {str(u["id"]): u for u in found if isinstance(u, Mapping) and u.get("id")}


def to_mention(
    raw: object,
    users: Mapping[str, Mapping[str, Any]],
    *,
    kind: str,
    query: str | None,
    own_user_id: str | None,
) -> IncomingMention | None:
    """One tweet as a mention; None for a retweet or the city's own tweet; ValueError if
    the tweet cannot be read."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"tweet is not an object: {str(raw)[:80]}")
    tweet_id = raw.get("id")
    if not isinstance(tweet_id, str) or not tweet_id.isdigit():
        raise ValueError("tweet has no numeric id")
    references = raw.get("referenced_tweets") or []
    if any(isinstance(r, Mapping) and r.get("type") == "retweeted" for r in references):
        return None
    author_id = str(raw.get("author_id") or "")
    if own_user_id and author_id == own_user_id:
        return None  # the city's own tweet (a search hit, or our reply)
    note = raw.get("note_tweet")
    text = note.get("text") if isinstance(note, Mapping) else None
    text = text if isinstance(text, str) and text.strip() else raw.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("tweet has no text")
    username = str((users.get(author_id) or {}).get("username") or "")
    lang = raw.get("lang")
    return IncomingMention(
        source=SOURCE,
        external_id=tweet_id,
        text=html.unescape(text).strip(),
        author=f"@{username}" if username else "",
        url=tweet_url(username, tweet_id),
        created_at=_when(raw.get("created_at")),
        language=lang if isinstance(lang, str) and lang and lang not in NO_LANGUAGE else None,
        extra={
            "tweet_id": tweet_id,
            "author_id": author_id or None,
            "username": username or None,
            "conversation_id": raw.get("conversation_id"),
            "stream": kind,
            "query": query,
        },
    )


def _when(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None
