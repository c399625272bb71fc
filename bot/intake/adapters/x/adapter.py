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

Retweets (no citizen text of their own) and the city account's own tweets are skipped. X
escapes ``&``, ``<`` and ``>`` in tweet text; the text is unescaped, never tag-stripped. A long
post's full text is in ``note_tweet``.

Pointing tweepy elsewhere: ``tweepy.Client`` builds every URL from the constant
``https://api.twitter.com`` inside ``BaseClient.request`` and sends no timeout. The client's
documented ``session`` attribute is replaced by :class:`_RoutedSession`, a ``requests.Session``
whose ``prepare_request`` swaps that host for ``base_url`` and whose ``send`` adds the timeout.
Nothing else of tweepy changes: its bearer and OAuth 1.0a auth and its error classes work as
usual (OAuth 1.0a signs the rewritten URL, which is what a server at ``base_url`` checks).
``return_type=dict`` keeps the raw JSON, so one malformed tweet is an :class:`ItemError`
instead of a ``KeyError`` inside ``tweepy.Tweet`` that would sink its whole page.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
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
from bot.intake.adapters.common import retry_after

X_API_HOST = "https://api.twitter.com"  # the host tweepy.Client hard-codes
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
# "und" undetermined, "zxx" no linguistic content; X's own: media, hashtags, mentions,
# cashtags only, or too short to tell.
NO_LANGUAGE = {"und", "zxx", "qme", "qht", "qam", "qct", "qst", "art"}


class _RoutedSession(requests.Session):
    """A requests session that sends tweepy's fixed host to ``base_url``, with a timeout."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        url = request.url
        if isinstance(url, str) and url.startswith(X_API_HOST + "/"):
            request.url = self.base_url + url[len(X_API_HOST) :]
        return super().prepare_request(request)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


def _oneline(exc: BaseException) -> str:
    return "; ".join(part for part in str(exc).splitlines() if part.strip()) or repr(exc)


def _tweet_url(username: str, tweet_id: str) -> str:
    if username:
        return f"https://x.com/{username}/status/{tweet_id}"
    return f"https://x.com/i/web/status/{tweet_id}"


def _when(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _obj(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _int_id(value: object) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else None


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

    source = "x"

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
        # Reads use the bearer token when there is one (app-only limits), else user context.
        self._read_user_auth = not bearer_token
        self._credentials = (
            "bearer_token"
            if bearer_token
            else "consumer_key/consumer_secret/access_token/access_token_secret"
        )
        self._client = tweepy.Client(
            bearer_token=bearer_token,
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            access_token=access_token,
            access_token_secret=access_token_secret,
            return_type=dict,
            wait_on_rate_limit=False,
        )
        self._client.session = _RoutedSession(self.base_url, timeout)

    def close(self) -> None:
        self._client.session.close()

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
        since = str(state["since_id"]) if _int_id(state.get("since_id")) else None
        backfill = state.get("backfill") if isinstance(state.get("backfill"), Mapping) else None
        until = (
            str(backfill["until_id"]) if backfill and _int_id(backfill.get("until_id")) else None
        )
        top = _int_id(backfill.get("newest_id")) if backfill else None
        if kind == "search" and since and self._age(since) > SEARCH_WINDOW:
            since = until = top = None  # X answers 400 to a since_id older than 7 days
        first_run = since is None and until is None
        items: list[IncomingMention | ItemError] = []
        seen: list[int] = []
        token: str | None = None
        for _ in range(1 if first_run else self.max_pages):
            body = self._page(kind, query, since, until, token)
            meta = _obj(body.get("meta"))
            seen += [i for i in map(_int_id, (meta.get("newest_id"), meta.get("oldest_id"))) if i]
            users = _users(body)
            for raw in body.get("data") or []:
                tweet_id = _int_id(raw.get("id")) if isinstance(raw, Mapping) else None
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
                self._client.get_users_mentions, self.user_id, pagination_token=token, **params
            )
        else:
            where = f"{self.name}: X recent search {query!r}"
            call = partial(self._client.search_recent_tweets, query, next_token=token, **params)
        body = self._call(call, where)
        if not isinstance(body, dict) or not isinstance(body.get("data") or [], list):
            raise AdapterError(f"{where}: unexpected response: {str(body)[:200]}")
        if body.get("errors") and "data" not in body and "meta" not in body:
            raise AdapterError(f"{where}: X answered with errors only: {str(body['errors'])[:300]}")
        return body

    def _call(self, call: Callable[[], Any], where: str) -> Any:
        try:
            return call()
        except tweepy.TooManyRequests as exc:
            reset = getattr(exc, "reset_time", None)
            if reset is not None:
                wait: float | None = max(0.0, float(reset) - self._clock())
            else:
                wait = retry_after(exc.response.headers.get("retry-after"))
            later = "" if wait is None else f", retry after {wait:.0f}s"
            raise AdapterError(
                f"{where}: rate limited (HTTP 429){later}", retry_after=wait
            ) from exc
        except tweepy.Unauthorized as exc:
            raise AdapterError(
                f"{where}: X rejected the credentials ({_oneline(exc)}); check {self._credentials}"
            ) from exc
        except tweepy.Forbidden as exc:
            raise AdapterError(
                f"{where}: forbidden ({_oneline(exc)}); check the app's access level and that"
                f" the endpoint is in its plan ({self._credentials})"
            ) from exc
        except tweepy.TwitterServerError as exc:
            raise AdapterError(f"{where}: server error, {_oneline(exc)}") from exc
        except tweepy.HTTPException as exc:
            raise AdapterError(f"{where}: HTTP {_oneline(exc)}") from exc
        except requests.Timeout as exc:
            raise AdapterError(f"{where}: timed out after {self.timeout:g}s ({exc!r})") from exc
        except requests.JSONDecodeError as exc:
            raise AdapterError(f"{where}: the answer is not JSON ({exc})") from exc
        except requests.RequestException as exc:
            raise AdapterError(f"{where}: cannot reach X: {exc!r}") from exc
        except tweepy.TweepyException as exc:
            raise AdapterError(f"{where}: {_oneline(exc)}") from exc

    def _item(
        self, raw: object, users: Mapping[str, Mapping[str, Any]], kind: str, query: str | None
    ) -> IncomingMention | ItemError | None:
        item_id = str(raw.get("id") or "") if isinstance(raw, Mapping) else ""
        try:
            return self._normalise(raw, users, kind, query)
        except Exception as exc:  # one bad tweet never blocks the others
            label = f"{kind}:{query}" if query else kind
            return ItemError(item_id=item_id or f"{label}:?", reason=f"{self.name}: {exc}")

    def _normalise(
        self, raw: object, users: Mapping[str, Mapping[str, Any]], kind: str, query: str | None
    ) -> IncomingMention | None:
        if not isinstance(raw, Mapping):
            raise ValueError(f"tweet is not an object: {str(raw)[:80]}")
        tweet_id = raw.get("id")
        if not isinstance(tweet_id, str) or not tweet_id.isdigit():
            raise ValueError("tweet has no numeric id")
        references = raw.get("referenced_tweets") or []
        if any(isinstance(r, Mapping) and r.get("type") == "retweeted" for r in references):
            return None
        author_id = str(raw.get("author_id") or "")
        if self.user_id and author_id == self.user_id:
            return None  # the city's own tweet (a search hit, or our reply)
        note = raw.get("note_tweet")
        text = note.get("text") if isinstance(note, Mapping) else None
        text = text if isinstance(text, str) and text.strip() else raw.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ValueError("tweet has no text")
        username = str((users.get(author_id) or {}).get("username") or "")
        lang = raw.get("lang")
        return IncomingMention(
            source=self.source,
            external_id=tweet_id,
            text=html.unescape(text).strip(),
            author=f"@{username}" if username else "",
            url=_tweet_url(username, tweet_id),
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

    # --- replying --------------------------------------------------------------------------

    def reply(self, target: ReplyTarget, text: str) -> ReplyResult:
        """Post ``text`` as a reply to the mention's tweet (``POST /2/tweets``)."""
        tweet_id = str(target.extra.get("tweet_id") or target.external_id)
        where = f"{self.name}: X reply to tweet {tweet_id}"
        try:
            post = partial(
                self._client.create_tweet,
                text=text,
                in_reply_to_tweet_id=tweet_id,
                user_auth=self._user_context,
            )
            body = self._call(post, where)
        except AdapterError as exc:
            cause = exc.__cause__
            retryable = isinstance(
                cause,
                (tweepy.TooManyRequests, tweepy.TwitterServerError, requests.RequestException),
            )
            raise ReplyError(str(exc), retryable=retryable) from exc
        data = body.get("data") if isinstance(body, dict) else None
        new_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(new_id, str) or not new_id:
            raise ReplyError(f"{where}: X answered without a tweet id: {str(body)[:200]}")
        return ReplyResult(external_id=new_id, url=_tweet_url(self.account_username, new_id))


def _users(body: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    users = _obj(body.get("includes")).get("users")
    users = users if isinstance(users, list) else []
    return {str(u["id"]): u for u in users if isinstance(u, Mapping) and u.get("id")}
