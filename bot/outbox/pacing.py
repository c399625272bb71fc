"""Per-channel pacing of ``chat.postMessage``, shared by every replica through the database.

Slack allows roughly one message per second per channel and answers a burst with 429s. Each
channel's next turn is a row (``channelpace``): a post first takes the channel's turn with one
conditional upsert (:func:`storage.delivery.take_turn`), which only one replica can win, so three
replicas post to a channel no faster than one would. A 429's ``Retry-After`` moves the turn
later for everyone. The worker asks storage only for rows whose channel's turn has come, so a
busy or throttled channel never holds up the others.

The turn is taken right before the post, after the card is rendered, so posts reach Slack
spaced as their turns were taken, whichever replica made them; within this process a post also
waits until ``interval`` after the channel's previous one started. Workers that ask for turns
at the same moment get them in one unit of work (:class:`_Turns`): on SQLite each unit takes
the one writer's turn, and one per post kept sixty workers queueing for it.

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
        self._turns = _Turns(self)
        # Rows are handed to workers this long before their channel's turn, and the worker
        # waits for it: the next post goes at the turn, not at the turn plus the hand-over.
        self.lookahead = min(0.1, interval / 2) if interval > 0 else 0.0
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
        wait = self._turns.ask(channel)
        if 0 < wait <= self.lookahead:
            time.sleep(wait)
            wait = self._turns.ask(channel)
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


class _Slot:
    """One worker's request for a channel's turn, answered by whoever takes the batch."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.ready = threading.Event()
        self.lead = False  # told to take the next batch itself
        self.wait = 0.0
        self.error: BaseException | None = None

    def result(self) -> float:
        if self.error is not None:
            raise self.error
        return self.wait


class _Turns:
    """Turns asked for at once are taken in one unit of work, by the first who asked.

    The first worker to ask takes the batch (its own request and any queued meanwhile); while
    it waits for and holds the database, others queue; when it is done it answers them and
    hands the queue to the first of the next ones. Nobody waits for a timer.
    """

    def __init__(self, pacer: ChannelPacer) -> None:
        self.pacer = pacer
        self._lock = threading.Lock()
        self._queue: list[_Slot] = []
        self._leading = False

    def ask(self, channel: str) -> float:
        slot = _Slot(channel)
        with self._lock:
            self._queue.append(slot)
            lead = not self._leading
            self._leading = True
        if not lead:
            slot.ready.wait()
            if not slot.lead:
                return slot.result()
        with self._lock:
            batch, self._queue = self._queue, []
        try:
            with session_scope(self.pacer.engine) as session:
                waits = delivery.take_turns(
                    session=session,
                    channel_ids=[one.channel for one in batch],
                    now=self.pacer.now(),
                    interval=self.pacer.interval,
                )
            for one in batch:
                one.wait = waits[one.channel]
        except BaseException as exc:  # every one of them hears of it
            for one in batch:
                one.error = exc
        with self._lock:
            if self._queue:
                self._queue[0].lead = True
                self._queue[0].ready.set()
            else:
                self._leading = False
        for one in batch:
            one.ready.set()
        return slot.result()
