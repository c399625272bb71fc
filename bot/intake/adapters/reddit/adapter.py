"""Reddit as a source: new posts and comments in the city's subreddits that name it, mentions of
the city's account, and replies posted as that account; all through praw.

Reddit has no push API, so the adapter polls listings. Each *stream* (a subreddit's ``/new``
posts, its ``/comments``, optionally the inbox's ``/message/mentions``) is read newest first,
``page_size`` things a request, paging back with ``after`` until it meets something seen, at
most ``max_pages`` pages. Budget: about 100 requests a minute per OAuth client (averaged over
ten minutes). A poll costs one request per stream, ``subreddits x (posts + comments) +
mentions``, more pages only when over ``page_size`` things arrived, and a token request when
the token expires: three subreddits, both kinds and mentions every minute is 7 a minute.

Cursor ``{"version": 1, "streams": {key: {"newest", "newest_created", "floor", "seen"}}}``,
key ``r/<subreddit>/submissions``, ``r/<subreddit>/comments`` or ``inbox/mentions``: ``seen``
holds the fullnames of everything looked at, newest first (the last poll's pages plus older
ones up to ``max_seen``); a thing created at or before ``floor`` is old (``floor`` rises to the
oldest thing of a poll when ``seen`` must forget); paging back stops at ``newest_created``.
New means: not in ``seen`` and younger than ``floor``. So a restart with the stored cursor
repeats nothing, and re-ordered listings or deletions that shift older things up are handled.
A stream's first poll (nothing seen yet) takes only the first page: no backfill. Over
``max_pages x page_size`` new things between polls: the older ones are skipped, with an
ItemError. A comment found by two streams in different polls is left to storage dedup.

praw's waiting is switched off (:mod:`bot.intake.adapters.reddit.client`, which also says what
praw's errors mean): nothing sleeps, and a used-up request budget is an AdapterError with
``retry_after``. Things are read as raw JSON (``Reddit.request``), not praw objects, and turned
into mentions by :mod:`bot.intake.adapters.reddit.parse`, so a malformed thing is one
ItemError; an unreadable subreddit, one per stream. This module owns the streams, their paging
and cursor, and replies.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import prawcore
import requests
from praw.exceptions import RedditAPIException

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
from bot.intake.adapters.reddit.client import (
    CREDENTIALS_HINT,
    HttpFailure,
    adapter_error,
    connect,
)
from bot.intake.adapters.reddit.parse import (
    SOURCE,
    RateBudget,
    TermMatcher,
    created_of,
    is_fullname,
    is_old,
    item_key,
    match_text,
    next_state,
    number,
    parse_listing,
    reply_permalink,
    subreddit_name,
    to_mention,
)

_EPOCH = datetime.fromtimestamp(0, UTC)
FIND_WITHIN = 25  # the account's newest comments looked through for a reply already posted


class _StreamUnavailable(Exception):
    """A subreddit that is private, banned or gone: its streams are skipped this poll."""


@dataclass(frozen=True)
class _Stream:
    key: str  # cursor key and label
    path: str  # API path under oauth_url
    filtered: bool  # whether the configured terms apply


class RedditAdapter:
    """Polls subreddits (and the inbox) for mentions and replies as the city's account."""

    source = SOURCE

    def __init__(
        self,
        *,
        name: str,
        client_id: str,
        client_secret: str,
        username: str | None = None,
        password: str | None = None,
        user_agent: str | None = None,
        subreddits: Sequence[str] = (),
        terms: Sequence[str] = (),
        submissions: bool = True,
        comments: bool = True,
        mentions: bool = False,
        page_size: int = 100,
        max_pages: int = 3,
        max_seen: int = 500,
        oauth_url: str = "https://oauth.reddit.com",
        reddit_url: str = "https://www.reddit.com",
        timeout: float = 16.0,
    ) -> None:
        """Set up one Reddit source; nothing is requested until the first fetch or reply.

        :param name: this configured instance, used in errors (e.g. ``reddit-columbus``).
        :param client_id: the app's client id (reddit.com/prefs/apps, under the app's name).
        :param client_secret: the app's secret.
        :param username: the city's Reddit account, without ``u/``; needed for ``mentions``
            and for replies. Without it the adapter reads public listings app-only.
        :param password: that account's password (a ``script`` app signs in with it).
        :param user_agent: Reddit asks for ``<platform>:<app id>:<version> (by u/<account>)``;
            the default follows that pattern.
        :param subreddits: subreddits to watch (``Columbus``, ``r/Columbus``).
        :param terms: words or phrases a post or comment must contain (case-insensitive,
            whole words); empty means everything in the watched subreddits.
        :param submissions: watch new posts of the subreddits.
        :param comments: watch new comments of the subreddits.
        :param mentions: watch the account's inbox for ``u/<username>`` mentions, anywhere on
            Reddit; they are not filtered by ``terms``.
        :param page_size: things per request, at most 100 (Reddit's maximum).
        :param max_pages: requests per stream and poll when paging back to what was seen.
        :param max_seen: fullnames remembered per stream beyond the last poll's pages.
        :param oauth_url: base URL of the API (scheme, host and port only).
        :param reddit_url: base URL of the token endpoint ``/api/v1/access_token``.
        :param timeout: seconds to wait for connecting and for each answer.
        """
        if not client_id or not client_secret:
            raise ValueError(f"{name}: reddit needs a client id and a client secret")
        if mentions and not (username and password):
            raise ValueError(f"{name}: reddit mentions need the account's username and password")
        if not 1 <= page_size <= 100 or max_pages < 1 or max_seen < 0 or timeout <= 0:
            raise ValueError(f"{name}: reddit: page_size 1..100, max_pages >= 1, timeout > 0")
        self.name, self.username, self.timeout = name, username or None, timeout
        self.page_size, self.max_pages, self.max_seen = page_size, max_pages, max_seen
        self.terms = TermMatcher(terms)
        names = list(dict.fromkeys(subreddit_name(s) for s in subreddits))
        self._streams = [
            stream
            for sub in names
            for stream in (
                _Stream(f"r/{sub}/submissions", f"r/{sub}/new", True) if submissions else None,
                _Stream(f"r/{sub}/comments", f"r/{sub}/comments/", True) if comments else None,
            )
            if stream
        ]
        if mentions:
            self._streams.append(_Stream("inbox/mentions", "message/mentions", False))
        self._budget = RateBudget()
        self._session = requests.Session()
        self._lock = threading.Lock()
        agent = user_agent or f"python:engage-civic-bot:0.1 (by u/{username or 'unknown'})"
        self._reddit = connect(
            client_id=client_id,
            client_secret=client_secret,
            username=username,
            password=password,
            user_agent=agent,
            oauth_url=oauth_url,
            reddit_url=reddit_url,
            timeout=timeout,
            budget=self._budget,
            session=self._session,
        )

    def close(self) -> None:
        self._session.close()

    # -- polling -------------------------------------------------------------------------

    def fetch(self, cursor: JSON | None) -> FetchResult:
        old = (cursor or {}).get("streams")
        old = old if isinstance(old, Mapping) else {}
        mentions: list[IncomingMention] = []
        errors: list[ItemError] = []
        streams: dict[str, Any] = {}
        emitted: set[str] = set()
        with self._lock:
            for stream in self._streams:
                state = old.get(stream.key)
                state = state if isinstance(state, Mapping) else None
                try:
                    found, failed, streams[stream.key] = self._poll(stream, state, emitted)
                except _StreamUnavailable as exc:
                    errors.append(ItemError(item_id=stream.key, reason=f"{self.name}: {exc}"))
                    if state is not None:
                        streams[stream.key] = dict(state)
                    continue
                mentions += reversed(found)  # listings are newest first
                errors += failed
        mentions.sort(key=lambda m: m.created_at or _EPOCH)  # oldest first, streams mixed
        return FetchResult(mentions, {"version": 1, "streams": streams}, errors)

    def _poll(
        self, stream: _Stream, state: Mapping[str, Any] | None, emitted: set[str]
    ) -> tuple[list[IncomingMention], list[ItemError], dict[str, Any]]:
        state = state or {}
        known = {key for key in state.get("seen") or [] if isinstance(key, str)}
        floor = number(state.get("floor"))
        first = not is_fullname(state.get("newest"))
        fetched: dict[str, Any] = {}  # by key, in listing order; a repeated thing counts once
        after: str | None = None
        gap = False
        for page in range(1 if first else self.max_pages):
            children, after = self._listing(stream, after)
            for child in children:
                fetched.setdefault(item_key(child), child)
            if first or not after or len(children) < self.page_size:
                break
            if any(is_old(child, state, known) for child in children):
                break
            gap = page == self.max_pages - 1

        mentions: list[IncomingMention] = []
        errors: list[ItemError] = []
        for key, child in fetched.items():
            created = created_of(child)
            too_old = created is not None and floor is not None and created <= floor
            if key in known or key in emitted or too_old:
                continue
            wanted, term = (
                self.terms.accepts(match_text(child)) if stream.filtered else (True, None)
            )
            try:
                mention = to_mention(child, stream=stream.key, matched_term=term)
            except ValueError as exc:
                errors.append(ItemError(item_id=key, reason=f"{self.name}: {stream.key}: {exc}"))
                continue
            if mention is not None and wanted:
                emitted.add(key)
                mentions.append(mention)
        if gap:
            lost = f"over {self.max_pages * self.page_size} new since the last poll, older skipped"
            errors.append(ItemError(f"{stream.key}:gap", f"{self.name}: {stream.key}: {lost}"))
        return mentions, errors, next_state(state, fetched, first=first, max_seen=self.max_seen)

    def _listing(self, stream: _Stream, after: str | None) -> tuple[list[Any], str | None]:
        if (wait := self._budget.wait()) is not None:
            raise AdapterError(
                f"{self.name}: reddit: request budget used up, retry after {wait:g}s",
                retry_after=wait,
            )
        params: dict[str, str | int] = {"limit": self.page_size}
        if after:
            params["after"] = after
        try:
            payload = self._reddit.request(method="GET", path=stream.path, params=params)
        except (prawcore.Forbidden, prawcore.NotFound, prawcore.Redirect) as exc:
            status = exc.response.status_code
            hint = (
                "the account may not read its inbox; " + CREDENTIALS_HINT
                if stream.path.startswith("message/")
                else "the subreddit is private, quarantined, banned or does not exist"
            )
            raise _StreamUnavailable(f"{stream.key}: HTTP {status}: {hint}") from exc
        except Exception as exc:
            if (error := adapter_error(self.name, exc)) is exc:
                raise
            raise error from exc
        try:
            return parse_listing(payload)
        except ValueError as exc:
            raise AdapterError(f"{self.name}: reddit: {stream.key}: odd answer: {exc}") from exc

    # -- replying ------------------------------------------------------------------------

    def reply(self, target: ReplyTarget, text: str) -> ReplyResult:
        """Post ``text`` as a comment under the submission or comment ``target`` names."""
        fullname = str(target.extra.get("fullname") or target.external_id)
        where = f"{self.name}: reddit: reply to {fullname}"
        if not self.username:
            raise ReplyError(f"{where}: replies need the city account's username and password")
        kind, _, thing_id = fullname.partition("_")
        if not is_fullname(fullname) or kind not in ("t1", "t3"):
            raise ReplyError(f"{where}: only submissions (t3) and comments (t1) take replies")
        if (wait := self._budget.wait()) is not None:
            raise ReplyError(f"{where}: request budget used up for {wait:g}s", retryable=True)
        thing = (
            self._reddit.comment(thing_id) if kind == "t1" else self._reddit.submission(thing_id)
        )
        with self._lock:
            try:
                created = thing.reply(text)
            except RedditAPIException as exc:
                codes = {item.error_type for item in exc.items}
                raise ReplyError(
                    f"{where}: Reddit refused: {exc}", retryable="RATELIMIT" in codes
                ) from exc
            except HttpFailure as exc:
                refused = exc.status in (401, 429)  # Reddit answered without posting
                maybe = exc.sent and not refused  # find_reply looks before the next attempt
                note = "; it may be posted" if maybe else ""
                retryable = exc.status == 429 or not exc.sent or maybe
                raise ReplyError(
                    f"{where}: {exc}{note}", retryable=retryable, ambiguous=maybe
                ) from exc
            except prawcore.Forbidden as exc:
                raise ReplyError(
                    f"{where}: HTTP 403: locked or archived, or the account is banned there"
                ) from exc
            except prawcore.NotFound as exc:
                raise ReplyError(f"{where}: HTTP 404: it no longer exists") from exc
            except Exception as exc:
                error = adapter_error(self.name, exc)
                if error is exc:
                    raise
                raise ReplyError(str(error).replace(f"{self.name}: reddit", where)) from exc
        if created is None:  # quarantined subreddit: posted, but Reddit did not say where
            raise ReplyError(f"{where}: posted, but Reddit did not return the new comment")
        data = {k: v for k, v in vars(created).items() if not k.startswith("_")}
        data["subreddit"] = str(data.get("subreddit") or "")
        return ReplyResult(external_id=str(created.fullname), url=reply_permalink(data))

    def find_reply(self, target: ReplyTarget, text: str) -> ReplyResult | None:
        """The account's comment under ``target`` with this text, if an earlier attempt posted
        it: its ``FIND_WITHIN`` newest comments (``/user/<name>/comments?sort=new``, one
        request), matched by ``parent_id`` and body."""
        fullname = str(target.extra.get("fullname") or target.external_id)
        where = f"{self.name}: reddit: look for a reply to {fullname}"
        if not self.username:
            return None  # no account, so no reply was ever posted
        if (wait := self._budget.wait()) is not None:
            raise ReplyError(f"{where}: request budget used up for {wait:g}s", retryable=True)
        params: dict[str, str | int] = {"sort": "new", "limit": FIND_WITHIN}
        with self._lock:
            try:
                payload = self._reddit.request(
                    method="GET", path=f"user/{self.username}/comments", params=params
                )
                children, _ = parse_listing(payload)
            except (prawcore.PrawcoreException, HttpFailure, ValueError) as exc:
                error = adapter_error(self.name, exc)
                raise ReplyError(f"{where}: {error}", retryable=True) from exc
        for child in children:
            data = child.get("data") if isinstance(child, Mapping) else None
            if not isinstance(data, Mapping) or data.get("parent_id") != fullname:
                continue
            if same_reply_text(data.get("body"), text) and is_fullname(data.get("name")):
                return ReplyResult(external_id=str(data["name"]), url=reply_permalink(data))
        return None
