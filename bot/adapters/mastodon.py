"""Mastodon as a source of mentions, and a place to answer them, through Mastodon.py.

What it gathers, with the city's own account (one access token, one instance):

* ``notifications``: mention notifications (``types[]=mention``), the status inside each;
* ``tag:<name>``: each configured hashtag's timeline (as the instance knows it: local and
  federated posts; public posts only, as Mastodon gives);
* ``search:<query>``: optionally, full-text search of statuses. Only useful where the instance
  runs Elasticsearch/OpenSearch (otherwise Mastodon finds nothing, which looks like no matches)
  and only finds posts the instance may index (since 4.2: of authors who opted in).

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
``external_id`` is the status URI, the same from every instance (see :mod:`mastodon_parse`).
Posts by the city's own account in hashtag and search streams are skipped (its own replies and
announcements are not citizen mentions); that needs ``verify_credentials`` once per adapter.

**Failures.** The client throws on rate limits (``ratelimit_method="throw"``, never sleeps) and
does no version check up front. A rate limit, timeout, network or server error anywhere fails the
whole fetch (:class:`AdapterError`, with the wait from ``X-RateLimit-Reset``); the runner keeps
the old cursor. A hashtag or search the server refuses (a 4xx other than 401 and 429) is one
:class:`ItemError` for that stream, whose cursor stays, and the other streams go on. A refused
notifications call or a bad token fails the whole fetch. (Mastodon.py keeps the server's
``error`` text only for endpoints that return one object; for lists only the status remains.)

**Streaming** (:meth:`MastodonAdapter.stream`) hands over new posts as they arrive, over
Mastodon's server-sent events. It has no resume cursor: whatever arrives while the connection is
down is not replayed. The polling ``fetch`` with its cursor stays the gap-filler and keeps running
beside it; what both deliver is deduplicated by storage on ``(source, external_id)``.

**Replies** (:class:`MastodonReplier`) answer in the thread; see :meth:`MastodonReplier.reply`.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from mastodon import Mastodon, StreamListener
from mastodon.errors import (
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
    MastodonVersionError,
)

from bot.adapters.base import (
    JSON,
    AdapterError,
    FetchResult,
    IncomingMention,
    ItemError,
    ReplyError,
    ReplyResult,
    ReplyTarget,
)
from bot.adapters.mastodon_parse import (
    SOURCE,
    VISIBILITIES,
    id_key,
    newest_id,
    reply_visibility,
    snowflake_floor,
    status_mention,
    text_of,
    with_handle,
)

log = logging.getLogger(__name__)

USER_AGENT = "Engage/0.1 (+civic mention router)"
MAX_PAGE = 40  # Mastodon's own limit for notifications, timelines and search
MAX_RECENT = 1000  # ids kept per stream for the look-back window


def make_client(
    *, api_base_url: str, access_token: str, request_timeout: float, user_agent: str = USER_AGENT
) -> Mastodon:
    """A Mastodon.py client that never sleeps on a rate limit and never probes the version."""
    return Mastodon(
        access_token=access_token,
        api_base_url=api_base_url,
        request_timeout=request_timeout,
        ratelimit_method="throw",
        version_check_mode="none",
        user_agent=user_agent,
    )


def _http_status(exc: BaseException) -> int | None:
    # Mastodon.py raises ('Mastodon API returned error', status, reason, error message).
    codes = [a for a in exc.args if isinstance(a, int) and 100 <= a <= 599]
    return codes[0] if codes else None


def _describe(exc: BaseException) -> str:
    status = _http_status(exc)
    if status is None:
        return str(exc) or repr(exc)
    reason, message = [*exc.args[2:4], None, None][:2]
    return f"HTTP {status} {text_of(reason)}".strip() + (f": {message}" if message else "")


def _wait(client: Mastodon) -> float | None:
    """Seconds until the rate limit resets, as Mastodon.py read ``X-RateLimit-Reset``."""
    reset = getattr(client, "ratelimit_reset", None)
    return max(0.0, float(reset) - time.time()) if isinstance(reset, int | float) else None


class _Refused(Exception):
    """The server understood and said no (a 4xx other than 401 and 429): this stream only."""


def _call(client: Mastodon, where: str, call: Callable[[], Any]) -> Any:
    """Run one Mastodon.py call; everything but a refusal becomes :class:`AdapterError`."""
    try:
        return call()
    except MastodonRatelimitError as exc:
        wait = _wait(client)
        later = "" if wait is None else f", retry after {wait:.0f}s"
        raise AdapterError(f"{where}: rate limited{later}", retry_after=wait) from exc
    except MastodonNetworkError as exc:
        raise AdapterError(f"{where}: cannot reach the server: {exc}") from exc
    except MastodonUnauthorizedError as exc:
        raise AdapterError(f"{where}: {_describe(exc)} (check the access token)") from exc
    except MastodonServerError as exc:
        raise AdapterError(f"{where}: server error, {_describe(exc)}") from exc
    except MastodonAPIError as exc:
        status = _http_status(exc)
        if status is not None and 400 <= status < 500:
            raise _Refused(_describe(exc)) from exc
        raise AdapterError(f"{where}: {_describe(exc)}") from exc  # e.g. a body that is no JSON
    except MastodonVersionError as exc:
        raise _Refused(str(exc)) from exc
    except MastodonError as exc:
        raise AdapterError(f"{where}: {exc!r}") from exc


@dataclass(frozen=True)
class _Stream:
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


class MastodonAdapter:
    """Polls (and optionally streams) one Mastodon account's mentions, hashtags and searches.

    Also a replier (``reply``), with the same client. See the module docstring for details.
    """

    source = SOURCE

    def __init__(
        self,
        *,
        name: str,
        api_base_url: str,
        access_token: str,
        hashtags: Sequence[str] = (),
        keywords: Sequence[str] = (),
        mentions: bool = True,
        page_size: int = MAX_PAGE,
        max_pages: int = 10,
        first_run_limit: int = MAX_PAGE,
        lookback: float = 600.0,
        request_timeout: float = 20.0,
        stream_timeout: float = 90.0,
        reconnect_wait: float = 5.0,
        max_visibility: str = "unlisted",
        user_agent: str = USER_AGENT,
        client: Mastodon | None = None,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE}")
        self.name = name
        self.page_size, self.max_pages = page_size, max(1, max_pages)
        self.first_run_limit = max(0, min(first_run_limit, page_size))
        self.lookback = max(0.0, lookback)
        self.stream_timeout, self.reconnect_wait = stream_timeout, reconnect_wait
        self.client = client or make_client(
            api_base_url=api_base_url,
            access_token=access_token,
            request_timeout=request_timeout,
            user_agent=user_agent,
        )
        self.instance = text_of(self.client.api_base_url)
        tags = list(dict.fromkeys(t for t in map(_normalise_tag, hashtags) if t))
        queries = list(dict.fromkeys(q for q in (k.strip() for k in keywords) if q))
        self.streams = (
            ([_Stream("notifications", "notifications")] if mentions else [])
            + [_Stream(f"tag:{t}", "tag", t) for t in tags]
            + [_Stream(f"search:{q}", "search", q) for q in queries]
        )
        self.replier = MastodonReplier(client=self.client, max_visibility=max_visibility)
        self._own_id: str | None = None

    def close(self) -> None:
        self.client.session.close()

    # -- polling ---------------------------------------------------------------------------

    def fetch(self, cursor: JSON | None) -> FetchResult:
        state = dict(cursor or {})
        recent_in, known_in = _section(state, "recent"), _section(state, "known_to")
        lists = any(s.kind != "notifications" for s in self.streams)
        own = self._own_account_id() if lists else None
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
            except _Refused as exc:
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
        stream: _Stream,
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

    def _read(self, stream: _Stream, before: _Seen) -> tuple[list[_Item], _Seen]:
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

    def _window(self, stream: _Stream, since: str, floor: str) -> list[_Item]:
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

    def _pages(self, stream: _Stream, min_id: str) -> list[_Item]:
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
        stream: _Stream,
        *,
        min_id: str | None = None,
        max_id: str | None = None,
        since_id: str | None = None,
    ) -> list[_Item]:
        where = f"{self.name}: {stream.key}"
        ids = {"min_id": min_id, "max_id": max_id, "since_id": since_id, "limit": self.page_size}
        if stream.kind == "notifications":
            page = _call(
                self.client, where, lambda: self.client.notifications(types=["mention"], **ids)
            )
        else:
            page = _call(
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

    def _search(self, stream: _Stream, min_id: str | None) -> list[_Item]:
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
            result = _call(self.client, where, search)
            page = [s for s in (result or {}).get("statuses") or [] if s.get("id")]
            items.extend(_Item(s, text_of(s.get("id"))) for s in page)
            oldest = min((id_key(i.item_id) for i in items), default=None)
            if len(page) < self.page_size or (min_id and oldest and oldest <= id_key(min_id)):
                break
        return sorted(items, key=lambda i: id_key(i.item_id), reverse=True)

    def _own_account_id(self) -> str | None:
        if self._own_id is None:
            where = f"{self.name}: verify_credentials"
            try:
                account = _call(self.client, where, self.client.account_verify_credentials)
            except _Refused as exc:
                raise AdapterError(f"{where}: {exc} (check the token's read scope)") from exc
            self._own_id = text_of((account or {}).get("id")) or None
        return self._own_id

    # -- streaming -------------------------------------------------------------------------

    def stream(
        self, on_mentions: Callable[[list[IncomingMention]], None], stop: threading.Event
    ) -> None:
        """Hand over new posts as Mastodon streams them, until ``stop`` is set.

        One server-sent-events connection per stream: ``/api/v1/streaming/user/notification``
        for mentions (the notification stream only: the home timeline is not gathered), and
        ``/api/v1/streaming/hashtag?tag=...`` per hashtag. Search has no stream. Mastodon.py
        finds the streaming server from ``/api/v1/instance`` (``urls.streaming_api``) and
        reconnects on its own, every ``reconnect_wait`` seconds while the server is away.

        No resume: what arrives during a disconnect is not replayed, so keep polling ``fetch``
        beside the stream; storage deduplicates what both deliver. ``on_mentions`` is called
        from Mastodon.py's stream threads, one call at a time; an exception in it is logged
        and the stream goes on. A post streamed by two streams is handed over once.

        Limits, from Mastodon.py: a failed (re)connect is retried silently, a bad token too (the
        polling ``fetch`` reports it); after ``stop`` the handles are closed and this returns,
        but a stream thread blocked in a read ends only at the server's next heartbeat or after
        ``stream_timeout`` (they are daemon threads).
        """
        handover = _Handover(on_mentions)
        own = None
        if any(s.kind == "tag" for s in self.streams):
            try:
                own = self._own_account_id()
            except AdapterError as exc:
                log.warning("%s: streaming without own-account filter: %s", self.name, exc)
        wanted = [s for s in self.streams if s.kind in ("notifications", "tag")]
        # Its own client: Mastodon.py's session and rate-limit state stay the poller's.
        client = make_client(
            api_base_url=self.instance,
            access_token=text_of(self.client.access_token),
            request_timeout=float(self.client.request_timeout),
            user_agent=text_of(self.client.user_agent) or USER_AGENT,
        )
        handles: dict[str, Any] = {}
        try:
            while not stop.is_set():
                for stream in wanted:
                    handle = handles.get(stream.key)
                    if handle is not None and handle.is_alive():
                        continue
                    if handle is not None:
                        log.warning("%s: %s stream ended, restarting", self.name, stream.key)
                    try:
                        listener = _Listener(self, stream, own, handover)
                        handles[stream.key] = self._open(client, stream, listener)
                    except (MastodonError, OSError) as exc:
                        log.warning("%s: cannot open %s stream: %s", self.name, stream.key, exc)
                stop.wait(max(0.1, min(1.0, self.reconnect_wait)))
        finally:
            for handle in handles.values():
                handle.close()
            for handle in handles.values():
                handle.join(timeout=1.0)
            client.session.close()

    def _open(self, client: Mastodon, stream: _Stream, listener: StreamListener) -> Any:
        options: dict[str, Any] = {
            "run_async": True,
            "reconnect_async": True,
            "reconnect_async_wait_sec": self.reconnect_wait,
            "timeout": self.stream_timeout,
        }
        if stream.kind == "notifications":
            return client.stream_user_notifications(listener, **options)
        return client.stream_hashtag(stream.arg, listener, **options)

    # -- replying --------------------------------------------------------------------------

    def reply(self, target: ReplyTarget, text: str) -> ReplyResult:
        return self.replier.reply(target, text)


class _Handover:
    """Serialises calls to ``on_mentions``, drops repeats, and keeps its exceptions in."""

    def __init__(self, on_mentions: Callable[[list[IncomingMention]], None]) -> None:
        self.on_mentions = on_mentions
        self.lock = threading.Lock()
        self.seen: OrderedDict[str, None] = OrderedDict()

    def __call__(self, mention: IncomingMention) -> None:
        with self.lock:
            if mention.external_id in self.seen:
                return
            self.seen[mention.external_id] = None
            while len(self.seen) > 5000:
                self.seen.popitem(last=False)
            try:
                self.on_mentions([mention])
            except Exception:
                log.exception("mastodon stream: on_mentions failed for %s", mention.external_id)


class _Listener(StreamListener):
    def __init__(
        self, adapter: MastodonAdapter, stream: _Stream, own: str | None, handover: _Handover
    ) -> None:
        super().__init__()
        self.adapter, self.stream, self.own, self.handover = adapter, stream, own, handover

    def _status(self, status: Mapping[str, Any], notification_id: str | None = None) -> None:
        account_id = text_of((status.get("account") or {}).get("id"))
        if status.get("reblog") or (self.own and account_id == self.own):
            return
        try:
            mention = status_mention(
                status,
                via=self.stream.key,
                instance=self.adapter.instance,
                notification_id=notification_id,
            )
        except Exception as exc:  # an odd post never ends the stream
            log.warning("%s: %s: skipped: %s", self.adapter.name, self.stream.key, exc)
            return
        self.handover(mention)

    def on_update(self, status: Any) -> None:
        if self.stream.kind == "tag":
            self._status(status)

    def on_notification(self, notification: Any) -> None:
        if notification.get("type") == "mention" and notification.get("status"):
            self._status(notification["status"], text_of(notification.get("id")) or None)

    def on_abort(self, err: Any) -> None:
        log.warning("%s: %s stream dropped: %s", self.adapter.name, self.stream.key, err)

    def on_unknown_event(self, name: Any, unknown_event: Any = None) -> None:
        pass


class MastodonReplier:
    """Answers a Mastodon mention in its thread, as the city's account.

    * ``in_reply_to_id`` is ``extra["status_id"]`` when the mention came through this instance;
      otherwise (another instance, or no id stored) the status URI is resolved here first.
    * The text starts with ``@acct`` of the author (added unless already there): Mastodon only
      notifies, threads and, for a direct reply, shows it at all to mentioned accounts. Only the
      author is mentioned, never others the citizen tagged.
    * Visibility (:func:`mastodon_parse.reply_visibility`): the original's, never more public
      than ``max_visibility`` (default ``unlisted``: in the thread, on the city's profile and
      notified, but not pushed into public timelines); a followers-only or direct post gets a
      direct reply; an unknown visibility gets a direct one.
    * The original's content warning is kept as the reply's, as Mastodon's own clients do.
    * An ``Idempotency-Key`` (hash of status and text) makes a retry after a lost response safe.
    """

    source = SOURCE

    def __init__(
        self,
        *,
        client: Mastodon | None = None,
        api_base_url: str | None = None,
        access_token: str | None = None,
        request_timeout: float = 20.0,
        max_visibility: str = "unlisted",
        user_agent: str = USER_AGENT,
    ) -> None:
        if max_visibility not in VISIBILITIES:
            raise ValueError(f"max_visibility must be one of {', '.join(VISIBILITIES)}")
        if client is None:
            if not api_base_url or not access_token:
                raise ValueError("MastodonReplier needs a client or api_base_url and access_token")
            client = make_client(
                api_base_url=api_base_url,
                access_token=access_token,
                request_timeout=request_timeout,
                user_agent=user_agent,
            )
        self.client = client
        self.instance = text_of(client.api_base_url)
        self.max_visibility = max_visibility

    def reply(self, target: ReplyTarget, text: str) -> ReplyResult:
        extra = target.extra
        acct = text_of(extra.get("acct")) or target.author.lstrip("@")
        if not acct:
            raise ReplyError(f"{target.external_id}: no author to answer")
        if not text.strip():
            raise ReplyError(f"{target.external_id}: empty reply")
        status_id = text_of(extra.get("status_id"))
        if not status_id or text_of(extra.get("instance")) not in ("", self.instance):
            status_id = self._resolve(target.external_id)
        body = with_handle(acct, text)
        visibility = reply_visibility(text_of(extra.get("visibility")) or None, self.max_visibility)
        key = hashlib.sha256(f"{self.instance}\n{status_id}\n{body}".encode()).hexdigest()
        posted = self._guard(
            target,
            lambda: self.client.status_post(
                body,
                in_reply_to_id=status_id,
                visibility=visibility,
                spoiler_text=target.title or None,
                idempotency_key=key,
            ),
        )
        uri = text_of(posted.get("uri")) or text_of(posted.get("id"))
        if not uri:
            raise ReplyError(f"{target.external_id}: the server answered without a status")
        return ReplyResult(external_id=uri, url=text_of(posted.get("url")) or None)

    def _resolve(self, uri: str) -> str:
        """This instance's id for the status at ``uri`` (fetched over ActivityPub if needed)."""
        result = self._guard_uri(uri)
        for status in (result or {}).get("statuses") or []:
            if text_of(status.get("uri")) == uri or text_of(status.get("url")) == uri:
                return text_of(status.get("id"))
        raise ReplyError(f"{uri}: not found from {self.instance} (deleted, or not reachable)")

    def _guard_uri(self, uri: str) -> Any:
        return self._guard(
            None,
            lambda: self.client.search_v2(
                uri, resolve=True, result_type="statuses", exclude_unreviewed=False
            ),
        )

    def _guard(self, target: ReplyTarget | None, call: Callable[[], Any]) -> Any:
        where = target.external_id if target else self.instance
        try:
            return _call(self.client, where, call)
        except AdapterError as exc:
            raise ReplyError(str(exc), retryable=not _is_auth_error(exc)) from exc
        except _Refused as exc:
            raise ReplyError(f"{where}: refused: {exc}", retryable=False) from exc


def _is_auth_error(exc: AdapterError) -> bool:
    return isinstance(exc.__cause__, MastodonUnauthorizedError)


__all__ = ["MastodonAdapter", "MastodonReplier", "make_client"]
