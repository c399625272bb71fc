"""Mastodon as a source of mentions, and a place to answer them, through Mastodon.py.

What it gathers, with the city's own account (one access token, one instance):

* ``notifications``: mention notifications (``types[]=mention``), the status inside each;
* ``tag:<name>``: each configured hashtag's timeline (as the instance knows it: local and
  federated posts; public posts only, as Mastodon gives);
* ``search:<query>``: optionally, full-text search of statuses. Only useful where the instance
  runs Elasticsearch/OpenSearch (otherwise Mastodon finds nothing, which looks like no matches)
  and only finds posts the instance may index (since 4.2: of authors who opted in).

:class:`MastodonAdapter` is the one object the rest of Engage sees (a polling adapter that can
also stream and reply); it holds the configuration and one client and hands each job to the
module that owns it, so each can be read on its own:

* :mod:`poll`: ``fetch``, its paging and cursor (late posts, look-back, dedupe);
* :mod:`stream`: ``stream``, new posts over server-sent events, no resume (polling
  stays the gap-filler beside it; storage deduplicates on ``(source, external_id)``);
* :mod:`reply`: :class:`MastodonReplier`, answers in the thread;
* :mod:`client`: the Mastodon.py client (throws on rate limits, never sleeps) and what
  its exceptions mean (:class:`AdapterError`, or a refusal confined to one stream or reply);
* :mod:`parse`: statuses as mentions, ids, visibility, ``@``-handles.

``MastodonReplier`` and ``make_client`` are re-exported: callers keep importing them from here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from mastodon import Mastodon

from bot.core.adapter import JSON, FetchResult, IncomingMention, ReplyResult, ReplyTarget
from bot.intake.adapters.mastodon.client import USER_AGENT, make_client
from bot.intake.adapters.mastodon.parse import SOURCE, text_of
from bot.intake.adapters.mastodon.poll import MAX_PAGE, MastodonPoller, make_streams
from bot.intake.adapters.mastodon.reply import MastodonReplier
from bot.intake.adapters.mastodon.stream import run_streams


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
        self.name = name
        self.stream_timeout, self.reconnect_wait = stream_timeout, reconnect_wait
        self.client = client or make_client(
            api_base_url=api_base_url,
            access_token=access_token,
            request_timeout=request_timeout,
            user_agent=user_agent,
        )
        self.instance = text_of(self.client.api_base_url)
        self.streams = make_streams(mentions=mentions, hashtags=hashtags, keywords=keywords)
        self.poller = MastodonPoller(  # checks page_size: ValueError unless 1 to MAX_PAGE
            name=name,
            client=self.client,
            streams=self.streams,
            page_size=page_size,
            max_pages=max_pages,
            first_run_limit=first_run_limit,
            lookback=lookback,
        )
        self.replier = MastodonReplier(client=self.client, max_visibility=max_visibility)

    # The polling settings live on the poller (which clamps them); read here as before.
    @property
    def page_size(self) -> int:
        return self.poller.page_size

    @property
    def max_pages(self) -> int:
        return self.poller.max_pages

    @property
    def first_run_limit(self) -> int:
        return self.poller.first_run_limit

    @property
    def lookback(self) -> float:
        return self.poller.lookback

    def close(self) -> None:
        self.client.session.close()

    def fetch(self, cursor: JSON | None) -> FetchResult:
        """The new mentions after ``cursor``, and the next cursor (see :mod:`poll`)."""
        return self.poller.fetch(cursor)

    def stream(
        self, on_mentions: Callable[[list[IncomingMention]], None], stop: threading.Event
    ) -> None:
        """Hand over new posts as Mastodon streams them, until ``stop`` is set.

        See :func:`mastodon_stream.run_streams`: no resume, so keep polling ``fetch`` beside it.
        """
        run_streams(
            name=self.name,
            client=self.client,
            streams=self.streams,
            own_account_id=self.poller.own_account_id,
            on_mentions=on_mentions,
            stop=stop,
            stream_timeout=self.stream_timeout,
            reconnect_wait=self.reconnect_wait,
        )

    def reply(self, target: ReplyTarget, text: str) -> ReplyResult:
        return self.replier.reply(target, text)


__all__ = ["MastodonAdapter", "MastodonReplier", "make_client"]
