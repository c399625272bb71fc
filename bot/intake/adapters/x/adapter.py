"""X (Twitter) as a source: the city account's mentions and recent search, via tweepy's v2 Client.

Two kinds of stream: the mentions timeline of the city account (``GET /2/users/:id/mentions``)
and one recent search per configured query (``GET /2/tweets/search/recent``). Both return
tweets newest first and take ``since_id`` (exclusive), so each stream's cursor is the newest
tweet id it has handed over; tweet ids grow with time. A poll pages with ``next_token`` until
it is caught up, at most ``max_pages`` pages per stream. If it stops before that, the stream
records a backfill, ``{"until_id": oldest handed over, "newest_id": newest seen}``, and the next
poll carries on downward from ``until_id`` (with the same ``since_id``) before it moves
``since_id`` to ``newest_id``: a burst larger than one poll is spread over several polls, not
skipped. ``until_id`` is a tweet id, not a pagination token, so it never expires. A first run
(no cursor for the stream) takes one page of recent tweets only; so does a search whose
``since_id`` has left recent search's 7-day window (X would refuse it).

Cursor: ``{"mentions": {"since_id", "backfill"} | None, "search": {query: {...}},
"recent": [ids]}``. ``recent`` remembers the last ``max_recent`` tweet ids handed over by any
stream, so a tweet that search indexes later than the mentions timeline showed it is not
repeated. A query removed from the settings drops its state; a new one starts as a first run.

Retweets and the city account's own tweets are skipped; how a tweet becomes a mention is
:mod:`bot.intake.adapters.x.parse`'s, and how tweepy is pointed at ``base_url`` and what its
errors mean is :mod:`bot.intake.adapters.x.client`'s. This module owns the streams, their
paging and cursor, and replies.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import requests
import tweepy

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
from bot.intake.adapters.x.client import X_API_HOST, XClient
from bot.intake.adapters.x.parse import SOURCE, int_id, obj, to_mention, tweet_url, users_of

TWEET_FIELDS = [
    "created_at",
    "lang",
    "conversation_id",
    "in_reply_to_user_id",
    "referenced_tweets",
    "author_id",
    "note_tweet",
]
USER_FIELDS = ["username", "name"]
SNOWFLAKE_EPOCH_MS = 1288834974657
SEARCH_WINDOW = 7 * 86400 - 600  # recent search reaches back 7 days; keep a margin
FIND_WITHIN = 100  # the account's tweets since the mention, looked through for our reply


class XAdapter:
    """Polls the city account's X mentions and recent searches; replies as the city account.

    ``user_id`` is the numeric id of the city account (mentions of it are gathered; its own
    tweets are skipped); ``queries`` are recent-search queries in X's syntax, e.g.
    ``"maplewood (pothole OR streetlight) -is:retweet"``. Reading needs ``bearer_token``
    (app-only) or the four OAuth 1.0a user-context credentials; replying needs the OAuth 1.0a
    ones (or a ``bearer_token`` that is an OAuth 2.0 user token with ``tweet.write``).
    ``account_username`` (the city's handle, without @) makes reply URLs readable.
    ``base_url`` replaces ``https://api.twitter.com`` (tests, a proxy); ``timeout`` is seconds
    per request; ``page_size`` is ``max_results`` (10 to 100); ``max_pages`` bounds one poll;
    ``clock`` gives the time (epoch seconds) for X's reset times and the 7-day search window.
    """

    source = SOURCE

    def __init__(
        self,
        *,
        name: str,
        user_id: str | None = None,
        queries: Sequence[str] = (),
        bearer_token: str | None = None,
        consumer_key: str | None = None,
        consumer_secret: str | None = None,
        access_token: str | None = None,
        access_token_secret: str | None = None,
        account_username: str | None = None,
        base_url: str = X_API_HOST,
        timeout: float = 20.0,
        page_size: int = 100,
        max_pages: int = 5,
        max_recent: int = 500,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not user_id and not queries:
            raise ValueError(f"{name}: X needs a user_id (mentions) or queries (search)")
        oauth1 = (consumer_key, consumer_secret, access_token, access_token_secret)
        self._user_context = all(oauth1)
        if not bearer_token and not self._user_context:
            raise ValueError(
                f"{name}: X needs bearer_token, or consumer_key, consumer_secret, access_token"
                " and access_token_secret"
            )
        self.name, self.user_id, self.queries = name, user_id, list(dict.fromkeys(queries))
        self.account_username = (account_username or "").lstrip("@")
        self.base_url, self.timeout = base_url.rstrip("/"), timeout
        self.page_size, self.max_pages = min(100, max(10, page_size)), max(1, max_pages)
        self.max_recent, self._clock = max_recent, clock
        self._me: str | None = None  # the account's own id, when user_id is not given
        # Reads use the bearer token when there is one (app-only limits), else user context.
        self._read_user_auth = not bearer_token
        self._client = XClient(
            bearer_token=bearer_token,
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            access_token=access_token,
            access_token_secret=access_token_secret,
            base_url=self.base_url,
            timeout=timeout,
            clock=clock,
        )

    def close(self) -> None:
        self._client.close()

    # --- reading ---------------------------------------------------------------------------

    def fetch(self, cursor: JSON | None) -> FetchResult:
        state = cursor or {}
        recent = [str(i) for i in state.get("recent") or []]
        handed = set(recent)
        mentions: list[IncomingMention] = []
        errors: list[ItemError] = []
        new_cursor: JSON = {"mentions": None, "search": {}}
        streams: list[tuple[str, str | None, Any]] = []
        if self.user_id:
            streams.append(("mentions", None, state.get("mentions")))
        searches = state.get("search") or {}
        streams += [("search", q, searches.get(q)) for q in self.queries]
        for kind, query, stream_state in streams:
            items, stream_cursor = self._stream(kind, query, stream_state)
            if kind == "mentions":
                new_cursor["mentions"] = stream_cursor
            else:
                new_cursor["search"][query] = stream_cursor
            for item in items:
                if isinstance(item, ItemError):
                    errors.append(item)
                elif item.external_id not in handed:
                    handed.add(item.external_id)
                    mentions.append(item)
        fresh = [m.external_id for m in mentions]
        new_cursor["recent"] = (fresh + [i for i in recent if i not in fresh])[: self.max_recent]
        return FetchResult(mentions=mentions, cursor=new_cursor, errors=errors)

    def _stream(
        self, kind: str, query: str | None, state: Any
    ) -> tuple[list[IncomingMention | ItemError], JSON]:
        state = state if isinstance(state, Mapping) else {}
        since = str(state["since_id"]) if int_id(state.get("since_id")) else None
        backfill = state.get("backfill") if isinstance(state.get("backfill"), Mapping) else None
        until = str(backfill["until_id"]) if backfill and int_id(backfill.get("until_id")) else None
        top = int_id(backfill.get("newest_id")) if backfill else None
        if kind == "search" and since and self._age(since) > SEARCH_WINDOW:
            since = until = top = None  # X answers 400 to a since_id older than 7 days
        first_run = since is None and until is None
        items: list[IncomingMention | ItemError] = []
        seen: list[int] = []
        token: str | None = None
        for _ in range(1 if first_run else self.max_pages):
            body = self._page(kind, query, since, until, token)
            meta = obj(body.get("meta"))
            seen += [i for i in map(int_id, (meta.get("newest_id"), meta.get("oldest_id"))) if i]
            users = users_of(body)
            for raw in body.get("data") or []:
                tweet_id = int_id(raw.get("id")) if isinstance(raw, Mapping) else None
                seen += [tweet_id] if tweet_id else []
                item = self._item(raw, users, kind, query)
                if item is not None:
                    items.append(item)
            token = meta.get("next_token") if isinstance(meta.get("next_token"), str) else None
            if not token:
                break
        newest = max([i for i in (top, *seen) if i] or [0]) or None
        if token and not first_run and seen:  # bounded before catching up: carry on next poll
            return items, {
                "since_id": since,
                "backfill": {"until_id": str(min(seen)), "newest_id": str(newest)},
            }
        if since and newest and newest < int(since):
            newest = int(since)
        return items, {"since_id": str(newest) if newest else since, "backfill": None}

    def _age(self, tweet_id: str) -> float:
        """Seconds since a tweet id was minted (ids are snowflakes: milliseconds << 22)."""
        return self._clock() - ((int(tweet_id) >> 22) + SNOWFLAKE_EPOCH_MS) / 1000

    def _page(
        self, kind: str, query: str | None, since: str | None, until: str | None, token: str | None
    ) -> JSON:
        params: dict[str, Any] = {
            "expansions": ["author_id"],
            "tweet_fields": TWEET_FIELDS,
            "user_fields": USER_FIELDS,
            "max_results": self.page_size,
            "since_id": since,
            "until_id": until,
            "user_auth": self._read_user_auth,
        }
        if kind == "mentions":
            where = f"{self.name}: X mentions of user {self.user_id}"
            call: Callable[[], Any] = partial(
                self._client.tweepy.get_users_mentions,
                self.user_id,
                pagination_token=token,
                **params,
            )
        else:
            where = f"{self.name}: X recent search {query!r}"
            call = partial(
                self._client.tweepy.search_recent_tweets, query, next_token=token, **params
            )
        body = self._client.call(call, where)
        if not isinstance(body, dict) or not isinstance(body.get("data") or [], list):
            raise AdapterError(f"{where}: unexpected response: {str(body)[:200]}")
        if body.get("errors") and "data" not in body and "meta" not in body:
            raise AdapterError(f"{where}: X answered with errors only: {str(body['errors'])[:300]}")
        return body

    def _item(
        self, raw: object, users: Mapping[str, Mapping[str, Any]], kind: str, query: str | None
    ) -> IncomingMention | ItemError | None:
        item_id = str(raw.get("id") or "") if isinstance(raw, Mapping) else ""
        try:
            return to_mention(raw, users, kind=kind, query=query, own_user_id=self.user_id)
        except Exception as exc:  # one bad tweet never blocks the others
            label = f"{kind}:{query}" if query else kind
            return ItemError(item_id=item_id or f"{label}:?", reason=f"{self.name}: {exc}")

    # --- replying --------------------------------------------------------------------------

    def reply(self, target: ReplyTarget, text: str) -> ReplyResult:
        """Post ``text`` as a reply to the mention's tweet (``POST /2/tweets``)."""
        tweet_id = str(target.extra.get("tweet_id") or target.external_id)
        where = f"{self.name}: X reply to tweet {tweet_id}"
        try:
            post = partial(
                self._client.tweepy.create_tweet,
                text=text,
                in_reply_to_tweet_id=tweet_id,
                user_auth=self._user_context,
            )
            body = self._client.call(post, where)
        except AdapterError as exc:
            cause = exc.__cause__
            # A 5xx or a lost answer may come after X created the tweet: find_reply looks.
            ambiguous = isinstance(cause, tweepy.TwitterServerError) or (
                isinstance(cause, requests.RequestException)
                and not isinstance(cause, requests.ConnectTimeout)
            )
            retryable = ambiguous or isinstance(cause, tweepy.TooManyRequests)
            raise ReplyError(str(exc), retryable=retryable, ambiguous=ambiguous) from exc
        data = body.get("data") if isinstance(body, dict) else None
        new_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(new_id, str) or not new_id:
            raise ReplyError(f"{where}: X answered without a tweet id: {str(body)[:200]}")
        return ReplyResult(external_id=new_id, url=tweet_url(self.account_username, new_id))

    def find_reply(self, target: ReplyTarget, text: str) -> ReplyResult | None:
        """The city account's reply to the mention's tweet with this text, if an earlier
        attempt posted it: the account's own tweets since that tweet (``GET
        /2/users/:id/tweets``, replies included, up to ``FIND_WITHIN``), matched by their
        ``replied_to`` reference and their text. The timeline shows a tweet at once, where
        recent search may index it only later."""
        tweet_id = str(target.extra.get("tweet_id") or target.external_id)
        where = f"{self.name}: X look for a reply to tweet {tweet_id}"
        try:
            own = self.user_id or self._own_id(where)
            lookup = partial(
                self._client.tweepy.get_users_tweets,
                own,
                since_id=tweet_id,
                max_results=FIND_WITHIN,
                exclude=["retweets"],
                tweet_fields=["referenced_tweets", "in_reply_to_user_id", "created_at"],
                user_auth=self._read_user_auth,
            )
            body = self._client.call(lookup, where)
        except AdapterError as exc:
            raise ReplyError(str(exc), retryable=True) from exc
        for raw in obj(body).get("data") or []:
            tweet = obj(raw)
            refs = [obj(ref) for ref in tweet.get("referenced_tweets") or []]
            answers = any(r.get("type") == "replied_to" and r.get("id") == tweet_id for r in refs)
            if answers and same_reply_text(tweet.get("text"), text) and int_id(tweet.get("id")):
                found = str(tweet["id"])
                return ReplyResult(external_id=found, url=tweet_url(self.account_username, found))
        return None

    def _own_id(self, where: str) -> str:
        """The account's id from ``GET /2/users/me`` (a search-only setup names none)."""
        if self._me is None:
            me = self._client.call(partial(self._client.tweepy.get_me, user_auth=True), where)
            found = obj(obj(me).get("data")).get("id")
            if not isinstance(found, str) or not found:
                raise AdapterError(f"{where}: X did not say who the account is: {str(me)[:200]}")
            self._me = found
        return self._me
