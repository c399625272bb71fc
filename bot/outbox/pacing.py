"""Per-channel pacing of ``chat.postMessage``, shared by every replica through the database.

Slack allows roughly one message per second per channel and answers a burst with 429s. Each
channel's next turn is a row (``channelpace``): a post first takes the channel's turn with one
conditional upsert (:func:`storage.delivery.take_turn`), which only one replica can win, so three
replicas post to a channel no faster than one would. A 429's ``Retry-After`` moves the turn
later for everyone. The worker asks storage only for rows whose channel's turn has come, so a
busy or throttled channel never holds up the others.

The turn is taken right before the post, after the card is rendered, so posts reach Slack
spaced as their turns were taken, whichever replica made them; within this process a post also
waits until ``interval`` after the channel's previous one started.

Why not in memory only, as before: each process kept its own clock of each channel, and with
three replicas a channel got up to three times the posts Slack allows, which Slack answered with
429s. Times are the wall clock, not the injectable clock that tests and the sandbox move
forward; replicas on several machines need their clocks in step (NTP), as they do anyway.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from bot.outbox.jobs import Retry
from storage import delivery
from storage.db import session_scope


class ChannelPacer:
    """When each channel may next be posted to, in the database (and, in this process, when
    its last post started)."""

    def __init__(self, engine: Engine, interval: float) -> None:
        self.engine = engine
        self.interval = interval
        self._started: dict[str, float] = {}  # channel -> monotonic start of its last post
        self._lock = threading.Lock()

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)

    def take_turn(self, channel: str) -> None:
        """Take ``channel``'s turn for a post about to go out, or raise a :class:`Retry` for
        when it comes (another replica took it, or Slack asked us to wait)."""
        if self.interval <= 0:
            return  # no pacing: a 429's hold still keeps the channel's rows back (``due``)
        with session_scope(self.engine) as session:
            wait = delivery.take_turn(
                session=session, channel_id=channel, now=self.now(), interval=self.interval
            )
        if wait > 0:
            raise Retry("waiting for the channel's turn", after=wait)
        self._space(channel)

    def _space(self, channel: str) -> None:
        """Wait, if need be, until ``interval`` after this process's last post to ``channel``
        started (one post per channel is in flight at a time, so this never queues)."""
        with self._lock:
            last = self._started.get(channel)
        if last is not None:
            time.sleep(max(0.0, last + self.interval - time.monotonic()))
        with self._lock:
            self._started[channel] = time.monotonic()
            if len(self._started) > 10_000:  # channels posted to long ago need no spacing
                cutoff = time.monotonic() - self.interval
                self._started = {c: t for c, t in self._started.items() if t > cutoff}

    def hold(self, channel: str, seconds: float) -> None:
        """Keep ``channel`` free of posts for ``seconds`` (Slack's ``Retry-After``)."""
        with session_scope(self.engine) as session:
            delivery.hold_channel(
                session=session, channel_id=channel, until=self.now() + timedelta(seconds=seconds)
            )
