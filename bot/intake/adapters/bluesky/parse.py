"""Bluesky identifiers and post views turned into Engage mentions: pure functions, no network.

Kept apart from the adapter so that the syntax rules (checked against the AT Protocol interop test
vectors: handles, DIDs, AT-URIs) and the shape of a mention can be tested without a server, and
so that the adapter never trusts a payload: every field of a post view is checked here and a bad
one raises ``ValueError``, which the adapter turns into an ``ItemError`` for that post alone.

A post view is the JSON object ``app.bsky.feed.searchPosts`` returns in ``posts`` and, with a
``reason``, what ``app.bsky.notification.listNotifications`` returns in ``notifications``: both
carry ``uri``, ``cid``, ``author`` (``did``, ``handle``), ``record`` (the post itself) and
``indexedAt``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core.adapter import IncomingMention

SOURCE = "bluesky"
POST_COLLECTION = "app.bsky.feed.post"
WEB = "https://bsky.app"
INVALID_HANDLE = "handle.invalid"  # what the AppView shows when a handle no longer verifies

# Syntax from atproto.com/specs (handle, did, nsid, record-key, at-uri-scheme).
_HANDLE_RE = re.compile(
    r"([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
)
_DID_RE = re.compile(r"did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]")
_NSID_RE = re.compile(
    r"[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+"
    r"\.[a-zA-Z][a-zA-Z0-9]{0,62}"
)
_RKEY_RE = re.compile(r"[a-zA-Z0-9._:~-]{1,512}")
_FACET = "app.bsky.richtext.facet#"


def is_valid_handle(value: str) -> bool:
    return len(value) <= 253 and _HANDLE_RE.fullmatch(value) is not None


def is_valid_did(value: str) -> bool:
    return len(value) <= 2048 and _DID_RE.fullmatch(value) is not None


@dataclass(frozen=True)
class AtUri:
    """``at://<authority>[/<collection>[/<rkey>]]``; the authority is a DID or a handle."""

    authority: str
    collection: str | None = None
    rkey: str | None = None


def parse_at_uri(uri: str) -> AtUri:
    """Split and check an AT-URI (no query or fragment: Engage only handles record URIs)."""
    if len(uri) > 8192 or not uri.startswith("at://"):
        raise ValueError(f"not an at:// URI: {uri[:100]!r}")
    authority, *path = uri[len("at://") :].split("/")
    if not (is_valid_did(authority) or is_valid_handle(authority)):
        raise ValueError(f"AT-URI authority is neither a DID nor a handle: {uri[:100]!r}")
    if len(path) > 2:
        raise ValueError(f"AT-URI has too many path segments: {uri[:100]!r}")
    collection = path[0] if path else None
    if collection is not None and (len(collection) > 317 or not _NSID_RE.fullmatch(collection)):
        raise ValueError(f"AT-URI collection is not an NSID: {uri[:100]!r}")
    rkey = path[1] if len(path) > 1 else None
    if rkey is not None and (rkey in (".", "..") or not _RKEY_RE.fullmatch(rkey)):
        raise ValueError(f"AT-URI record key is invalid: {uri[:100]!r}")
    return AtUri(authority, collection, rkey)


def post_web_url(author: str, rkey: str) -> str:
    """The bsky.app page of a post; ``author`` is a handle or, when it does not verify, a DID."""
    return f"{WEB}/profile/{author}/post/{rkey}"


def parse_datetime(value: Any) -> datetime | None:
    """An ATProto datetime as aware UTC (a missing zone is taken as UTC), or None if unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def format_datetime(when: datetime) -> str:
    """``2025-05-19T17:10:09.813Z``: the form the XRPC ``since``/``until`` parameters take."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sort_time(view: Mapping[str, Any], *, notification: bool) -> datetime | None:
    """When the server sorts this item: a notification by ``indexedAt``; a post by the earlier of
    ``createdAt`` and ``indexedAt``, like the AppView's ``sortAt`` (a future-dated post sorts
    when it was indexed)."""
    indexed = parse_datetime(view.get("indexedAt"))
    if notification or indexed is None:
        return indexed
    record = view.get("record")
    created = parse_datetime(record.get("createdAt")) if isinstance(record, Mapping) else None
    return min(created, indexed) if created else indexed


def item_key(item: Any) -> str:
    """An item's at:// URI, or a digest when it has none (so a broken item is reported once)."""
    uri = item.get("uri") if isinstance(item, Mapping) else None
    if isinstance(uri, str) and uri:
        return uri
    raw = json.dumps(item, sort_keys=True, default=str).encode()
    return f"sha256:{hashlib.sha256(raw).hexdigest()}"


def read_stream(state: Any) -> tuple[datetime | None, dict[str, datetime]]:
    """A stream's stored watermark and seen URIs; unreadable parts count as absent."""
    state = state if isinstance(state, Mapping) else {}
    seen = state.get("seen") if isinstance(state.get("seen"), Mapping) else {}
    return parse_datetime(state.get("newest")), {
        uri: when for uri, value in seen.items() if (when := parse_datetime(value))
    }


def stream_state(
    newest: datetime, seen: Mapping[str, datetime], keep: timedelta, limit: int
) -> dict[str, Any]:
    """A stream's cursor: the watermark and the URIs seen within ``keep`` of it, newest first."""
    recent = sorted(((w, uri) for uri, w in seen.items() if w >= newest - keep), reverse=True)
    return {
        "newest": format_datetime(newest),
        "seen": {uri: format_datetime(w) for w, uri in recent[:limit]},
    }


def strong_ref(value: Any) -> dict[str, str] | None:
    """``{"uri", "cid"}`` if ``value`` is a well-formed strong ref to a record, else None."""
    if not isinstance(value, Mapping):
        return None
    uri, cid = value.get("uri"), value.get("cid")
    if not (isinstance(uri, str) and isinstance(cid, str) and uri and cid):
        return None
    try:
        parse_at_uri(uri)
    except ValueError:
        return None
    return {"uri": uri, "cid": cid}


def reply_refs(record: Mapping[str, Any]) -> tuple[dict[str, str] | None, dict[str, str] | None]:
    """The (root, parent) strong refs of a post that is a reply; (None, None) otherwise."""
    reply = record.get("reply")
    if not isinstance(reply, Mapping):
        return None, None
    root, parent = strong_ref(reply.get("root")), strong_ref(reply.get("parent"))
    return (root, parent) if root and parent else (None, None)


def _features(record: Mapping[str, Any], kind: str, key: str) -> list[str]:
    found: list[str] = []
    facets = record.get("facets")
    for facet in facets if isinstance(facets, list) else []:
        features = facet.get("features") if isinstance(facet, Mapping) else None
        for feature in features if isinstance(features, list) else []:
            if isinstance(feature, Mapping) and feature.get("$type") == _FACET + kind:
                value = feature.get(key)
                if isinstance(value, str) and value and value not in found:
                    found.append(value)
    return found


def _alt_texts(embed: Any) -> list[str]:
    """Image alt texts, also inside a quote-with-media embed (used when a post has no text)."""
    if not isinstance(embed, Mapping):
        return []
    images = embed.get("images")
    if not isinstance(images, list):
        return _alt_texts(embed.get("media"))
    return [
        " ".join(i["alt"].split())
        for i in images
        if isinstance(i, Mapping) and isinstance(i.get("alt"), str) and i["alt"].strip()
    ]


def to_mention(
    view: Mapping[str, Any], *, reason: str, search_term: str | None = None
) -> IncomingMention:
    """One post view as a mention; raises ``ValueError`` naming what is wrong with it."""
    uri = view.get("uri")
    if not isinstance(uri, str):
        raise ValueError("post has no uri")
    at = parse_at_uri(uri)
    if at.collection != POST_COLLECTION or not at.rkey:
        raise ValueError(f"not a post URI: {uri}")
    cid = view.get("cid")
    if not isinstance(cid, str) or not cid:
        raise ValueError("post has no cid")
    author = view.get("author")
    author = author if isinstance(author, Mapping) else {}
    did = author.get("did")
    if not isinstance(did, str) or not is_valid_did(did):
        raise ValueError(f"post author has no valid DID: {did!r}")
    handle = author.get("handle")
    if not (isinstance(handle, str) and handle != INVALID_HANDLE and is_valid_handle(handle)):
        handle = None
    record = view.get("record")
    if not isinstance(record, Mapping):
        raise ValueError("post has no record")
    text = record.get("text")
    if not isinstance(text, str):
        raise ValueError("post record has no text field")
    if not text.strip():
        text = "\n".join(f"[image: {alt}]" for alt in _alt_texts(record.get("embed")))
        if not text:
            raise ValueError("post has no text (only embeds)")
    langs = [lang for lang in record.get("langs") or [] if isinstance(lang, str) and lang]
    created = parse_datetime(record.get("createdAt")) or parse_datetime(view.get("indexedAt"))
    tags = _features(record, "tag", "tag")
    outline_tags = record.get("tags")
    for tag in outline_tags if isinstance(outline_tags, list) else []:
        if isinstance(tag, str) and tag and tag not in tags:
            tags.append(tag)
    root, parent = reply_refs(record)
    display_name = author.get("displayName")
    subject = view.get("reasonSubject")
    return IncomingMention(
        source=SOURCE,
        external_id=uri,
        text=text,
        author=f"@{handle}" if handle else did,
        url=post_web_url(handle or did, at.rkey),
        created_at=created,
        language=langs[0] if langs else None,
        extra={
            "uri": uri,
            "cid": cid,
            "author_did": did,
            "handle": handle,
            "display_name": display_name if isinstance(display_name, str) else None,
            "reason": reason,
            "reason_subject": subject if isinstance(subject, str) else None,
            "search_term": search_term,
            "reply_root": root,
            "reply_parent": parent,
            "tags": tags,
            "links": _features(record, "link", "uri"),
            "langs": langs,
            "indexed_at": view.get("indexedAt") if isinstance(view.get("indexedAt"), str) else None,
        },
    )
