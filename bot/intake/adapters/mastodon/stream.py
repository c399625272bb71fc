"""Streaming one Mastodon account's mentions and hashtags as they arrive.

:func:`run_streams` is what ``MastodonAdapter.stream`` runs
(:mod:`bot.intake.adapters.mastodon.adapter`): it hands over new posts as Mastodon pushes them
over server-sent events. It lives apart from polling because it shares nothing with the cursor:
threads, reconnects and a handover that drops repeats are its own concerns.

It has no resume cursor: whatever arrives while the connection is down is not replayed. The
polling ``fetch`` with its cursor (:mod:`poll`) stays the gap-filler and keeps running
beside it; what both deliver is deduplicated by storage on ``(source, external_id)``.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mastodon import Mastodon, StreamListener
from mastodon.errors import MastodonError

from bot.core.adapter import AdapterError, IncomingMention
from bot.intake.adapters.mastodon.client import USER_AGENT, make_client
from bot.intake.adapters.mastodon.parse import status_mention, text_of
from bot.intake.adapters.mastodon.poll import Stream

log = logging.getLogger(__name__)

MAX_HANDED_OVER = 5000  # external ids remembered to drop a post that two streams deliver


def run_streams(
    *,
    name: str,
    client: Mastodon,
    streams: Sequence[Stream],
    own_account_id: Callable[[], str | None],
    on_mentions: Callable[[list[IncomingMention]], None],
    stop: threading.Event,
    stream_timeout: float,
    reconnect_wait: float,
) -> None:
    """Hand over new posts as Mastodon streams them, until ``stop`` is set.

    One server-sent-events connection per stream: ``/api/v1/streaming/user/notification``
    for mentions (the notification stream only: the home timeline is not gathered), and
    ``/api/v1/streaming/hashtag?tag=...`` per hashtag. Search has no stream. Mastodon.py
    finds the streaming server from ``/api/v1/instance`` (``urls.streaming_api``) and
    reconnects on its own, every ``reconnect_wait`` seconds while the server is away.

    ``client`` is the poller's: only its settings are copied, into a client of the streams' own,
    so Mastodon.py's session and rate-limit state stay the poller's. ``own_account_id`` gives the
    city's account, whose posts in hashtags are skipped; if it fails, streaming goes on without
    that filter.

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
    instance = text_of(client.api_base_url)
    own = None
    if any(s.kind == "tag" for s in streams):
        try:
            own = own_account_id()
        except AdapterError as exc:
            log.warning("%s: streaming without own-account filter: %s", name, exc)
    wanted = [s for s in streams if s.kind in ("notifications", "tag")]
    # Its own client: Mastodon.py's session and rate-limit state stay the poller's.
    streaming = make_client(
        api_base_url=instance,
        access_token=text_of(client.access_token),
        request_timeout=float(client.request_timeout),
        user_agent=text_of(client.user_agent) or USER_AGENT,
    )
    handles: dict[str, Any] = {}
    try:
        while not stop.is_set():
            for stream in wanted:
                handle = handles.get(stream.key)
                if handle is not None and handle.is_alive():
                    continue
                if handle is not None:
                    log.warning("%s: %s stream ended, restarting", name, stream.key)
                try:
                    listener = _Listener(name, instance, stream, own, handover)
                    handles[stream.key] = _open(
                        streaming, stream, listener, stream_timeout, reconnect_wait
                    )
                except (MastodonError, OSError) as exc:
                    log.warning("%s: cannot open %s stream: %s", name, stream.key, exc)
            stop.wait(max(0.1, min(1.0, reconnect_wait)))
    finally:
        for handle in handles.values():
            handle.close()
        for handle in handles.values():
            handle.join(timeout=1.0)
        streaming.session.close()


def _open(
    client: Mastodon,
    stream: Stream,
    listener: StreamListener,
    stream_timeout: float,
    reconnect_wait: float,
) -> Any:
    options: dict[str, Any] = {
        "run_async": True,
        "reconnect_async": True,
        "reconnect_async_wait_sec": reconnect_wait,
        "timeout": stream_timeout,
    }
    if stream.kind == "notifications":
        return client.stream_user_notifications(listener, **options)
    return client.stream_hashtag(stream.arg, listener, **options)


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
            while len(self.seen) > MAX_HANDED_OVER:
                self.seen.popitem(last=False)
            try:
                self.on_mentions([mention])
            except Exception:
                log.exception("mastodon stream: on_mentions failed for %s", mention.external_id)


class _Listener(StreamListener):
    """One stream's events: mention notifications or hashtag updates, as mentions."""

    def __init__(
        self, name: str, instance: str, stream: Stream, own: str | None, handover: _Handover
    ) -> None:
        super().__init__()
        self.name, self.instance = name, instance
        self.stream, self.own, self.handover = stream, own, handover

    def _status(self, status: Mapping[str, Any], notification_id: str | None = None) -> None:
        account_id = text_of((status.get("account") or {}).get("id"))
        if status.get("reblog") or (self.own and account_id == self.own):
            return
        try:
            mention = status_mention(
                status,
                via=self.stream.key,
                instance=self.instance,
                notification_id=notification_id,
            )
        except Exception as exc:  # an odd post never ends the stream
            log.warning("%s: %s: skipped: %s", self.name, self.stream.key, exc)
            return
        self.handover(mention)

    def on_update(self, status: Any) -> None:
        if self.stream.kind == "tag":
            self._status(status)

    def on_notification(self, notification: Any) -> None:
        if notification.get("type") == "mention" and notification.get("status"):
            self._status(notification["status"], text_of(notification.get("id")) or None)

    def on_abort(self, err: Any) -> None:
        log.warning("%s: %s stream dropped: %s", self.name, self.stream.key, err)

    def on_unknown_event(self, name: Any, unknown_event: Any = None) -> None:
        pass
