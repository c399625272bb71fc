"""Bluesky as a source of mentions, and a place to answer them, through the atproto SDK.

The city's account logs in with its handle and an *app password*; the login, token refresh and
what the SDK's errors mean are :mod:`bot.intake.adapters.bluesky.session`'s, and turning posts
into mentions is :mod:`bot.intake.adapters.bluesky.parse`'s. This module owns the streams, their
paging and cursor, and replies.

Each fetch reads independent *streams*: the account's notifications
(``app.bsky.notification.listNotifications``, reasons mention, reply and quote) and, for each
configured term, ``app.bsky.feed.searchPosts`` sorted by latest. Both are newest first and are
paged with the API cursor until the items get older than the stream's watermark (at most
``max_pages`` pages; more than that is reported as an ``ItemError`` so a gap is never silent).
The cursor is ``{"notifications": S, "search": {term: S}}`` with ``S = {"newest": iso, "seen":
{uri: iso}}``: ``newest`` is the latest sort time seen, ``seen`` the URIs of the last ``overlap``
before it (at most ``max_seen``). Each poll re-reads that overlap, because a post can be indexed a
little after posts that sort later, and ``seen`` drops what was already handed over. A restart
with the stored cursor therefore neither repeats nor misses a post; a URI found by two streams
(a mention that also matches a term) is handed over once.

A stream's first run (no cursor, or a newly configured term) reads one page only and keeps what is
younger than ``initial_lookback``: it sets the watermark without flooding the channels with old
posts. The account's own posts are skipped (our replies may match a search term). Payloads are
read as raw JSON through ``invoke_query`` rather than the SDK's models, so one malformed post is an
``ItemError`` instead of a failed page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from atproto import models

from bot.core.adapter import (
    JSON,
    FetchResult,
    IncomingMention,
    ItemError,
    ReplyError,
    ReplyResult,
    ReplyTarget,
)
from bot.intake.adapters.bluesky.parse import (
    SOURCE,
    format_datetime,
    item_key,
    parse_at_uri,
    post_web_url,
    read_stream,
    reply_refs,
    sort_time,
    stream_state,
    strong_ref,
    to_mention,
)
from bot.intake.adapters.bluesky.session import BlueskySession, Failure
from bot.intake.adapters.common import same_reply_text

try:  # link and hashtag facets, so URLs in a reply are clickable (no network involved)
    from atproto_client.utils.facet_detection import detect_facets
except ImportError:  # pragma: no cover - older SDKs: replies go out as plain text
    detect_facets = None

REASONS = ("mention", "reply", "quote")
POST_NSID = "app.bsky.feed.post"
FIND_WITHIN = 50  # the account's latest posts looked through for a reply already published


class BlueskyAdapter:
    """Polls the city account's mentions and post searches, and replies in-thread as the city."""

    source = SOURCE

    def __init__(
        self,
        *,
        name: str,
        handle: str,
        app_password: str,
        base_url: str = "https://bsky.social",
        search_terms: Sequence[str] = (),
        search_language: str | None = None,
        notifications: bool = True,
        page_size: int = 50,
        max_pages: int = 10,
        overlap: timedelta = timedelta(minutes=10),
        initial_lookback: timedelta | None = timedelta(days=1),
        max_seen: int = 1000,
        reply_language: str = "en",
        timeout: float = 20.0,
    ) -> None:
        """
        Args:
            name: the configured instance name, used in messages and ``ItemError`` ids.
            handle: the city account's handle (``city.bsky.social``) or DID, to log in with.
            app_password: an app password of that account (Settings > Privacy > App passwords).
            base_url: the PDS or entryway to log in at; after login the SDK follows the account's
                own PDS as its DID document says. Point it at 127.0.0.1 in tests.
            search_terms: queries for ``searchPosts`` (its syntax: words, ``"phrases"``,
                ``#tags``, ``from:``, ...); each keeps its own cursor.
            search_language: only posts in this language (``lang`` parameter), e.g. ``en``.
            notifications: read mentions, replies and quotes of the account.
            page_size: items per request (1 to 100).
            max_pages: pages per stream and fetch before giving up on reaching the watermark.
            overlap: how far before the watermark each poll looks again for late-indexed posts.
            initial_lookback: on a stream's first run, ignore posts older than this (None: keep
                the whole first page).
            max_seen: bound on the URIs remembered per stream.
            reply_language: the ``langs`` given to replies.
            timeout: seconds for each HTTP request.
        """
        self.name, self.handle, self.base_url = name, handle.removeprefix("@"), base_url
        self.search_terms = list(dict.fromkeys(t for t in search_terms if t.strip()))
        self.search_language, self.notifications = search_language, notifications
        self.page_size, self.max_pages = max(1, min(100, page_size)), max(1, max_pages)
        self.overlap, self.initial_lookback, self.max_seen = overlap, initial_lookback, max_seen
        self.reply_language, self.timeout = reply_language, timeout
        self.session = BlueskySession(
            name=name,
            handle=self.handle,
            app_password=app_password,
            base_url=base_url,
            timeout=timeout,
        )

    def close(self) -> None:
        self.session.close()

    # -- fetch -------------------------------------------------------------------------------

    def fetch(self, cursor: JSON | None) -> FetchResult:
        state = cursor or {}
        search = state.get("search")
        old_search: Mapping[str, Any] = search if isinstance(search, Mapping) else {}
        streams = [state.get("notifications"), *old_search.values()]
        known = {uri for s in streams if isinstance(s, Mapping) for uri in s.get("seen") or {}}
        mentions: list[IncomingMention] = []
        errors: list[ItemError] = []
        new_state: JSON = {"search": {}}
        if self.notifications:
            new_state["notifications"] = self._stream(
                "notifications", None, state.get("notifications"), known, mentions, errors
            )
        for term in self.search_terms:
            new_state["search"][term] = self._stream(
                f"search {term!r}", term, old_search.get(term), known, mentions, errors
            )
        return FetchResult(mentions=mentions, cursor=new_state, errors=errors)

    def _page(self, term: str | None, api_cursor: str | None, floor: datetime | None) -> Any:
        if term is None:
            return models.AppBskyNotificationListNotifications.Params(
                limit=self.page_size, reasons=list(REASONS), cursor=api_cursor
            )
        return models.AppBskyFeedSearchPosts.Params(
            q=term,
            sort="latest",
            limit=self.page_size,
            cursor=api_cursor,
            since=format_datetime(floor) if floor else None,
            lang=self.search_language,
        )

    def _stream(
        self,
        what: str,
        term: str | None,
        old: Any,
        known: set[str],
        mentions: list[IncomingMention],
        errors: list[ItemError],
    ) -> JSON:
        """Read one stream down to its watermark; returns the stream's new cursor."""
        now = datetime.now(UTC)
        newest, seen = read_stream(old)
        first = newest is None
        if newest:
            floor: datetime | None = newest - self.overlap
        else:
            floor = now - self.initial_lookback if self.initial_lookback else None
        search = term is not None
        nsid = "app.bsky.feed.searchPosts" if search else "app.bsky.notification.listNotifications"
        key = "posts" if search else "notifications"
        api_cursor: str | None = None
        for page_number in range(1, self.max_pages + 1):
            body = self.session.query(what, nsid, self._page(term, api_cursor, floor))
            items = body.get(key)
            if not isinstance(items, list):
                raise Failure(f"bluesky {self.name}: {what}: answer has no {key}", retryable=True)
            oldest: datetime | None = None
            for item in items:
                when = (
                    sort_time(item, notification=not search) if isinstance(item, Mapping) else None
                )
                when = min(when, now) if when else None  # a clock far ahead must not skip posts
                if when:
                    oldest = min(oldest or when, when)
                    newest = max(newest or when, when)
                found = self._take(what, term, item, when or now, floor, known, seen)
                if isinstance(found, IncomingMention):
                    mentions.append(found)
                elif found is not None:
                    errors.append(found)
            api_cursor = body.get("cursor") if isinstance(body.get("cursor"), str) else None
            if first or not items or not api_cursor or (oldest and floor and oldest < floor):
                break
            if page_number == self.max_pages:
                reason = (
                    f"{what}: more than {self.max_pages} pages of new posts since the last poll;"
                    " older ones were skipped (poll more often or raise max_pages)"
                )
                errors.append(ItemError(item_id=f"{self.name}:{what}", reason=reason))
        return stream_state(newest or now, seen, self.overlap, self.max_seen)

    def _take(
        self,
        what: str,
        term: str | None,
        item: Any,
        when: datetime,
        floor: datetime | None,
        known: set[str],
        seen: dict[str, datetime],
    ) -> IncomingMention | ItemError | None:
        """One item: a new mention, an ItemError, or None (old, seen, or not ours to route)."""
        item_id = item_key(item)
        if isinstance(item, Mapping) and term is None and item.get("reason") not in REASONS:
            return None
        if (floor and when < floor) or item_id in seen:
            return None
        seen[item_id] = when
        if item_id in known:
            return None
        known.add(item_id)
        if not isinstance(item, Mapping):
            return ItemError(item_id=item_id, reason=f"{what}: item is not an object")
        author = item.get("author")
        if isinstance(author, Mapping) and author.get("did") == self.session.did:
            return None  # the city's own post, e.g. a reply of ours that matches a term
        try:
            reason = "search" if term is not None else str(item.get("reason"))
            return to_mention(item, reason=reason, search_term=term)
        except Exception as exc:
            return ItemError(item_id=item_id, reason=f"{what}: {exc}")

    # -- reply -------------------------------------------------------------------------------

    def reply(self, target: ReplyTarget, text: str) -> ReplyResult:
        """Post ``text`` as the city, in the thread of ``target`` (root kept, parent = target)."""
        if target.source != SOURCE:
            raise ReplyError(f"bluesky {self.name}: cannot answer a {target.source} mention")
        if not text.strip() or len(text.encode()) > 3000:  # the lexicon's limit in bytes
            raise ReplyError(
                f"bluesky {self.name}: reply refused: empty or too long"
                " (a post holds 300 characters)"
            )
        extra = target.extra or {}
        uri = str(extra.get("uri") or target.external_id)
        try:
            parse_at_uri(uri)
        except ValueError as exc:
            raise ReplyError(f"bluesky {self.name}: reply: {exc}") from exc
        parent = strong_ref({"uri": uri, "cid": extra.get("cid")})
        root = strong_ref(extra.get("reply_root"))
        sending = False
        try:
            if parent is None:  # no cid stored: ask the AppView for it (and for the thread root)
                parent, root = self._lookup(uri)
            ref = models.AppBskyFeedPost.ReplyRef(
                root=models.ComAtprotoRepoStrongRef.Main(**(root or parent)),
                parent=models.ComAtprotoRepoStrongRef.Main(**parent),
            )
            facets = detect_facets(text) if detect_facets else None
            sending = True
            created = self.session.call(
                "reply",
                lambda: self.session.client.send_post(
                    text,
                    profile_identify=self.session.did,
                    reply_to=ref,
                    langs=[self.reply_language],
                    facets=facets or None,
                ),
            )
        except Failure as exc:
            ambiguous = sending and exc.ambiguous
            raise ReplyError(str(exc), retryable=exc.retryable, ambiguous=ambiguous) from exc
        except Exception as exc:  # the SDK's models refuse the record (e.g. text too long)
            raise ReplyError(f"bluesky {self.name}: reply refused: {exc}"[:500]) from exc
        return self._posted(str(created.uri))

    def find_reply(self, target: ReplyTarget, text: str) -> ReplyResult | None:
        """The city's reply to ``target`` with this text, if an earlier attempt published it.

        Read from the account's own repository (``com.atproto.repo.listRecords``, newest
        first) on its PDS, where ``createRecord`` wrote: a post that went through is listed
        there at once, while the AppView's feeds (``getAuthorFeed``, ``getPostThread``) show
        it only once indexed. The last ``FIND_WITHIN`` posts of the account are looked at.
        """
        uri = str((target.extra or {}).get("uri") or target.external_id)
        params = models.ComAtprotoRepoListRecords.Params(
            repo=self.session.did or self.handle, collection=POST_NSID, limit=FIND_WITHIN
        )
        try:
            body = self.session.query("reply: look for it", "com.atproto.repo.listRecords", params)
        except Failure as exc:
            raise ReplyError(str(exc), retryable=exc.retryable) from exc
        for record in body.get("records") or []:
            value = record.get("value") if isinstance(record, Mapping) else None
            if not isinstance(value, Mapping) or not isinstance(record.get("uri"), str):
                continue
            _, parent = reply_refs(value)
            if parent and parent.get("uri") == uri and same_reply_text(value.get("text"), text):
                return self._posted(record["uri"])
        return None

    def _posted(self, uri: str) -> ReplyResult:
        """Where the city's post ``uri`` lives; never fails (the post exists) over its URL."""
        try:
            rkey = parse_at_uri(uri).rkey
        except ValueError:
            rkey = None
        author = self.session.account_handle or self.session.did
        url = post_web_url(author, rkey) if rkey and author else None
        return ReplyResult(external_id=uri, url=url)

    def _lookup(self, uri: str) -> tuple[dict[str, str], dict[str, str] | None]:
        """The strong ref and thread root of a post whose cid was not stored."""
        params = models.AppBskyFeedGetPosts.Params(uris=[uri])
        posts = self.session.query("reply: look up", "app.bsky.feed.getPosts", params).get("posts")
        view = posts[0] if isinstance(posts, list) and posts else None
        if not isinstance(view, Mapping) or not isinstance(view.get("cid"), str):
            raise Failure(f"bluesky {self.name}: reply: post not found: {uri}", retryable=False)
        record = view.get("record")
        root, _ = reply_refs(record) if isinstance(record, Mapping) else (None, None)
        return {"uri": uri, "cid": view["cid"]}, root
