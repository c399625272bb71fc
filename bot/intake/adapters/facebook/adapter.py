"""A Facebook Page as a source: what visitors post on it and comments on its recent posts.

Plain httpx against the Graph API with a Page access token: the requests, their
authentication and what Graph's errors mean are :mod:`bot.intake.adapters.facebook.graph`'s,
and how a post or comment becomes a mention is :mod:`bot.intake.adapters.facebook.parse`'s.
This module owns the streams, their paging and cursor, and replies.

Streams. Each edge in ``post_edges`` (``feed`` by default; ``visitor_posts`` and ``tagged``
also work) is one stream of posts; the Page's own posts are skipped. Graph documents
``visitor_posts`` as unsupported for Pages on the New Pages Experience, where visitors' posts
are in ``feed``. The ``comments`` stream reads ``/{post-id}/comments?filter=stream
&order=reverse_chronological`` (replies included) for each of the Page's ``max_posts`` latest
posts (``/{page-id}/posts``); the Page's own replies are skipped. Comments on older posts are
not gathered.

Cursor: ``{stream: {"newest": ISO time, "seen": [ids]}}``. Graph has no since-id and its
pagination cursors must not be stored (they expire), so a stream remembers the newest
``created_time`` it has seen and the ids it handed over, most recent first, up to ``max_seen``.
A poll pages (following ``paging.next``, whose absence is the documented end) until a page
reaches back past ``newest - overlap``; anything in that window not in ``seen`` is new. The
overlap covers comments that land on one post while another post's comments are being read,
and Graph's delays; within it ``seen`` dedups, so a restart repeats nothing. A first run takes
one page per list. If ``max_pages`` pages are not enough to catch up, the rest is skipped and
said so as an :class:`ItemError`. A malformed item becomes an ItemError once (its id, or a hash
of it, goes into ``seen``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx

from bot.core.adapter import (
    JSON,
    AdapterError,
    FetchResult,
    IncomingMention,
    ItemError,
    ReplyError,
    ReplyResult,
    ReplyTarget,
)
from bot.intake.adapters.common import same_reply_text
from bot.intake.adapters.facebook.graph import (
    DEFAULT_BASE_URL,
    GraphClient,
    GraphError,
    next_params,
)
from bot.intake.adapters.facebook.parse import SOURCE, to_mention, when

POST_FIELDS = "id,message,from,created_time,permalink_url"
COMMENT_FIELDS = "id,message,from,created_time,permalink_url,parent"
COMMENT_ORDER = {"filter": "stream", "order": "reverse_chronological"}  # replies too, newest first
FIND_ORDER = {"filter": "toplevel", "order": "reverse_chronological"}  # the object's own comments
FIND_WITHIN = 50  # an object's latest comments looked through for a reply already posted


class FacebookAdapter:
    """Polls one Facebook Page's visitor posts and comments; replies as the Page.

    ``page_id`` is the Page's numeric id and ``access_token`` a Page access token (reading
    needs ``pages_read_engagement`` and ``pages_read_user_content``, replying
    ``pages_manage_engagement``). ``app_secret`` adds ``appsecret_proof``, which apps set to
    "require app secret" must send. ``base_url`` is the versioned Graph root. ``post_edges``
    are the Page edges read as post streams; ``max_posts`` how many of the Page's latest posts
    have their comments read; ``page_size`` the ``limit``; ``max_pages`` bounds one list per
    poll; ``overlap`` (seconds) and ``max_seen`` are explained in the module docstring;
    ``timeout`` is seconds per request.
    """

    source = SOURCE

    def __init__(
        self,
        *,
        name: str,
        page_id: str,
        access_token: str,
        app_secret: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        post_edges: Sequence[str] = ("feed",),
        max_posts: int = 10,
        page_size: int = 50,
        max_pages: int = 5,
        overlap: float = 900.0,
        max_seen: int = 1000,
        timeout: float = 20.0,
        http: httpx.Client | None = None,
        user_agent: str = "Engage/0.1 (+civic mention router)",
    ) -> None:
        if not page_id or not access_token:
            raise ValueError(f"{name}: Facebook needs page_id and access_token")
        self.name, self.page_id = name, str(page_id)
        self.post_edges = list(dict.fromkeys(post_edges))
        self.max_posts, self.page_size = max(0, max_posts), min(100, max(1, page_size))
        self.max_pages, self.overlap = max(1, max_pages), timedelta(seconds=overlap)
        self.max_seen = max_seen
        self._graph = GraphClient(
            name=name,
            access_token=access_token,
            app_secret=app_secret,
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            http=http,
            user_agent=user_agent,
        )

    def close(self) -> None:
        self._graph.close()

    # --- reading ---------------------------------------------------------------------------

    def fetch(self, cursor: JSON | None) -> FetchResult:
        state = cursor or {}
        mentions: list[IncomingMention] = []
        errors: list[ItemError] = []
        new_cursor: JSON = {}
        for stream in [*self.post_edges, *(["comments"] if self.max_posts else [])]:
            items, new_cursor[stream] = self._stream(stream, state.get(stream), self._lists(stream))
            mentions += [i for i in items if isinstance(i, IncomingMention)]
            errors += [i for i in items if isinstance(i, ItemError)]
        return FetchResult(mentions=mentions, cursor=new_cursor, errors=errors)

    def _lists(self, stream: str) -> list[tuple[str, dict[str, str], str | None]]:
        """(path, query, post id for comments) of each list a stream reads, newest first."""
        limit = str(self.page_size)
        if stream != "comments":
            fields = {"fields": POST_FIELDS, "limit": limit}
            return [(f"/{self.page_id}/{stream}", fields, None)]
        query = {"fields": COMMENT_FIELDS, "limit": limit, **COMMENT_ORDER}
        return [(f"/{post_id}/comments", query, post_id) for post_id in self._recent_posts()]

    def _recent_posts(self) -> list[str]:
        params = {"fields": "id,created_time", "limit": str(self.max_posts)}
        body = self._graph.call("GET", f"/{self.page_id}/posts", params)
        data = body.get("data")
        if not isinstance(data, list):
            raise AdapterError(f"{self.name}: Facebook /{self.page_id}/posts: no data list")
        ids = [p["id"] for p in data if isinstance(p, Mapping) and isinstance(p.get("id"), str)]
        return ids[: self.max_posts]

    def _stream(
        self,
        stream: str,
        state: Any,
        lists: Sequence[tuple[str, Mapping[str, str], str | None]],
    ) -> tuple[list[IncomingMention | ItemError], JSON]:
        state = state if isinstance(state, Mapping) else {}
        newest = when(state.get("newest"))
        seen_before = [str(i) for i in state.get("seen") or []]
        seen = set(seen_before)
        threshold = newest - self.overlap if newest else None
        latest = newest
        out: list[IncomingMention | ItemError] = []
        handed: list[str] = []
        for path, base_params, post_id in lists:
            params = dict(base_params)
            for page in range(1 if threshold is None else self.max_pages):
                body = self._graph.call("GET", path, params)
                data = body.get("data")
                if not isinstance(data, list):
                    raise AdapterError(f"{self.name}: Facebook GET {path}: no data list")
                reached = False
                for raw in data:
                    item, created = self._item(raw, stream, post_id)
                    if created is not None:
                        latest = max(latest, created) if latest else created
                        reached = reached or (threshold is not None and created < threshold)
                    if item is None or _key(item) in seen:
                        continue
                    if created is not None and threshold is not None and created < threshold:
                        continue
                    seen.add(_key(item))
                    handed.append(_key(item))
                    out.append(item)
                follow = next_params(body, base_params)
                if reached or follow is None:
                    break
                if threshold is not None and data and page == self.max_pages - 1:
                    out.append(
                        ItemError(
                            item_id=f"{stream}:{path}",
                            reason=f"{self.name}: more than {self.max_pages} pages new since the"
                            " last poll; the older rest was skipped",
                        )
                    )
                params = follow
        fresh = [i for i in handed if i not in seen_before]
        kept = fresh + seen_before
        return out, {
            "newest": latest.isoformat() if latest else None,
            "seen": kept[: max(self.max_seen, len(fresh))],
        }

    def _item(
        self, raw: object, stream: str, post_id: str | None
    ) -> tuple[IncomingMention | ItemError | None, datetime | None]:
        created = when(raw.get("created_time")) if isinstance(raw, Mapping) else None
        try:
            mention = to_mention(
                raw, stream=stream, post_id=post_id, created=created, page_id=self.page_id
            )
            return mention, created
        except Exception as exc:  # one bad item never blocks the others
            obj_id = raw.get("id") if isinstance(raw, Mapping) else None
            if not isinstance(obj_id, str) or not obj_id:
                digest = json.dumps(raw, sort_keys=True, default=str).encode()
                obj_id = "sha256:" + hashlib.sha256(digest).hexdigest()
            return ItemError(item_id=obj_id, reason=f"{self.name}: {exc}"), created

    # --- replying --------------------------------------------------------------------------

    def reply(self, target: ReplyTarget, text: str) -> ReplyResult:
        """Comment ``text`` under the mention, as the Page (``POST /{id}/comments``).

        Graph threads are two levels deep: a reply to a reply goes under its parent comment.
        """
        object_id = _replied_object(target)
        try:
            body = self._graph.call("POST", f"/{object_id}/comments", {}, data={"message": text})
        except GraphError as exc:
            raise ReplyError(str(exc), retryable=exc.retryable, ambiguous=exc.ambiguous) from exc
        new_id = body.get("id")
        if not isinstance(new_id, str) or not new_id:
            raise ReplyError(f"{self.name}: Facebook answered without a comment id: {body!r}")
        link = body.get("permalink_url")
        return ReplyResult(external_id=new_id, url=link if isinstance(link, str) else None)

    def find_reply(self, target: ReplyTarget, text: str) -> ReplyResult | None:
        """The Page's comment under the object :meth:`reply` comments on, with this text, if
        an earlier attempt posted it: that object's own comments, newest first
        (``filter=toplevel``, ``FIND_WITHIN`` of them), whose ``from`` is the Page."""
        object_id = _replied_object(target)
        query = {"fields": COMMENT_FIELDS, "limit": str(FIND_WITHIN), **FIND_ORDER}
        try:
            body = self._graph.call("GET", f"/{object_id}/comments", query)
        except GraphError as exc:
            raise ReplyError(str(exc), retryable=exc.retryable) from exc
        data = body.get("data")
        for raw in data if isinstance(data, list) else []:
            item = raw if isinstance(raw, Mapping) else {}
            author = item.get("from")
            mine = isinstance(author, Mapping) and str(author.get("id")) == self.page_id
            if mine and same_reply_text(item.get("message"), text) and item.get("id"):
                link = item.get("permalink_url")
                url = link if isinstance(link, str) else None
                return ReplyResult(external_id=str(item["id"]), url=url)
        return None


def _replied_object(target: ReplyTarget) -> str:
    """What a reply comments on: Graph threads are two levels deep, so a reply to a reply goes
    under its parent comment."""
    return str(target.extra.get("parent_id") or target.external_id)


def _key(item: IncomingMention | ItemError) -> str:
    return item.external_id if isinstance(item, IncomingMention) else item.item_id
