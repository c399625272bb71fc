"""The outbox worker: leases due rows, makes one attempt each, and records how it ended.

At-least-once delivery made to look exactly-once: every message Engage posts carries its
outbox id in the message ``metadata``. An attempt that may have reached Slack without us
learning the result (a timeout, a 5xx, ``internal_error``, a crash) leaves the row marked
``needs_check``; the next attempt first looks for that id in the channel (or thread) and
only posts if it is not there.

Nothing is given up lightly. A rate limit reschedules the row after ``Retry-After`` (and keeps
its channel quiet that long) and is no failure: any number of them never fails a row. Transient
errors (5xx, timeouts, network errors) are retried with a backoff for a time budget
(``give_up_after``, hours) counted from the row's first failure, not for a number of attempts.
Only an answer no retry can change (``not_in_channel``, ``channel_not_found``...) or a budget
spent fails the row at once, and then people hear of it (:mod:`bot.outbox.failures`).

Posts to one channel are paced (about one a second) through the database, so several replicas
share each channel's turn (:mod:`bot.outbox.pacing`), and one busy or throttled channel never
holds up the others. Channels are served side by side: a dispatcher leases due rows, one per
channel with none in flight, for ``concurrency`` workers: N cards over C channels take ~N/C s.

This module owns the loop and the row's life: lease, the attempt, then done, retry or failed,
and the events and card fields that follow. The Slack calls themselves and what Slack's answers
mean are :mod:`bot.outbox.slack_api`'s; the row as an attempt sees it is
:mod:`bot.outbox.jobs`'s. Together they are the one place that calls Slack's Web API on the
bot's behalf.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.core.adapter import ReplyError
from bot.core.clock import Clock
from bot.outbox.card_state import CARD_KINDS, Batch, Ready, ready
from bot.outbox.completions import Completions
from bot.outbox.failures import ALERT, FailedDeliveries, announce
from bot.outbox.jobs import LOOKED_FOR, PACED, GiveUp, Job, Retry, backoff, take
from bot.outbox.pacing import ChannelPacer
from bot.outbox.replies import Replies
from bot.outbox.slack_api import SlackWriter
from storage import outbox
from storage.db import read_scope, session_scope
from storage.models import Outbox, OutboxKind

log = logging.getLogger(__name__)


class Delivery:
    """The outbox worker: a dispatcher and ``concurrency`` workers (see the module docstring)."""

    def __init__(
        self,
        *,
        engine: Engine,
        client: WebClient,
        clock: Clock,
        replies: Replies | None = None,
        channel_interval: float = 1.0,
        give_up_after: timedelta = timedelta(hours=6),
        alert_channel: str | None = None,
        lease_seconds: float = 60.0,
        poll_interval: float = 0.5,
        concurrency: int = 64,
    ) -> None:
        self.engine = engine
        self.client = client
        self.clock = clock
        self.replies = replies or Replies({})
        self.slack = SlackWriter(client)
        self.pacer = ChannelPacer(engine, channel_interval)
        self.give_up_after = give_up_after
        self.alert_channel = alert_channel  # the triage channel: failed deliveries are told there
        self.first_backoff = 2.0  # seconds after the first failure; doubles, up to 5 minutes
        self.lease_seconds = lease_seconds
        self.poll_interval = poll_interval
        self.failed = FailedDeliveries(engine=engine, clock=clock, wake=self.wake)
        self.completions = Completions(
            engine=engine, clock=clock, extra=self._reply_done, recorded=self._recorded
        )
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.concurrency = max(1, concurrency)  # Slack calls in flight, a channel each
        self._busy: set[str] = set()  # their channels
        self._busy_lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._full = False  # every worker was busy at the dispatcher's last look
        # Waits while Slack's requests are in flight (at most the seconds given): acks first.
        self.yield_to: Callable[[float], None] = lambda _: None

    # Lifecycle.
    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._stop.clear()
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="engage-delivery")
        self.completions.start()
        self._thread = threading.Thread(target=self._loop, name="engage-delivery", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the rows in flight, if any, are finished."""
        deadline = time.monotonic() + timeout
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        while self._busy and time.monotonic() < deadline:
            time.sleep(0.01)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self.completions.stop()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.yield_to(0.1)
            self._wake.clear()  # before looking: a wake() from now on cuts the wait short
            try:
                wait = self._dispatch()
            except Exception:  # the worker must outlive any one bad row or database hiccup
                log.exception("delivery loop error")
                wait = self.poll_interval
            if wait > 0 and self._wake.wait(wait) and self._full:
                time.sleep(0.005)  # let a few more workers finish: one look for several rows

    def _dispatch(self) -> float:
        """Lease what can go now and hand it to the workers; how long to wait (0: go on)."""
        with self._busy_lock:
            busy = set(self._busy)
        free = self.concurrency - len(busy)
        self._full = free <= 0
        if self._full:
            return self.poll_interval  # a worker that finishes wakes us
        jobs = self._take_batch(limit=free, busy=busy)
        if isinstance(jobs, float):
            return jobs
        assert self._pool is not None
        batch = Batch(self._read, jobs)  # what the cards' rows need, read for all at once
        for job in jobs:
            with self._busy_lock:
                self._busy.add(job.channel_id)
            self._pool.submit(self._work, job, batch)
        return 0.0

    def _work(self, job: Job, batch: Batch) -> None:
        try:
            self._attempt(job, batch, later=True)
        except Exception:
            log.exception("delivery attempt error", extra={"outbox_id": job.id})
        finally:
            with self._busy_lock:
                self._busy.discard(job.channel_id)
            # Paced, the channel's next turn is a second away: no need to look at the queue
            # again for each post, unless the workers were all busy.
            if self._full or self.pacer.interval <= 0:
                self.wake()

    def drain(self, timeout: float = 10.0) -> None:
        """Run until nothing is due (tests, CLI)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.run_once() == 0:
            pass

    # One row.
    def run_once(self) -> float:
        """Deliver one due row in this thread; how long to wait before trying again (0: go on)."""
        job = self._take()
        if isinstance(job, float):
            return job
        self._attempt(job, None)
        return 0.0

    def _attempt(self, job: Job, batch: Batch | None, *, later: bool = False) -> None:
        try:
            result = self._send(job, batch)
        except Retry as retry:
            self._retry(job, retry)
        except GiveUp as exc:
            self._give_up(job, str(exc), exc.code)
        except Exception as exc:  # a network error or timeout: Slack may have acted
            reason, code = f"{type(exc).__name__}: {exc}", type(exc).__name__
            self._retry(job, Retry(reason, ambiguous=True, code=code))
        else:
            if later and job.kind != OutboxKind.PLATFORM_REPLY:
                self.completions.later(job, result)  # recorded with others (see completions)
            else:
                self._done(job, result)

    def _take(self) -> Job | float:
        jobs = self._take_batch(limit=1)  # one row, for this thread (run_once)
        return jobs if isinstance(jobs, float) else jobs[0] if jobs else 0.01

    def _take_batch(self, *, limit: int, busy: Collection[str] = ()) -> list[Job] | float:
        return take(
            self.engine,
            now=self.clock.now(),
            pace_now=self.pacer.now() + timedelta(seconds=self.pacer.lookahead),
            limit=limit,
            busy=busy,
            lease_seconds=self.lease_seconds,
            poll_interval=self.poll_interval,
        )

    def _read(self, jobs: list[Job]) -> dict[int, Ready]:
        """Read and render what card rows need (reads only, beside the writers), after their
        lease: a change made since queues another update, which will show it."""
        if not any(job.kind in CARD_KINDS for job in jobs):
            return {}
        with read_scope(self.engine) as session:
            return ready(session, jobs)

    def _send(self, job: Job, batch: Batch | None = None) -> dict[str, Any]:
        if job.kind == OutboxKind.PLATFORM_REPLY:
            return self._reply(job)
        if job.kind == OutboxKind.MESSAGE:
            # Reminders and direct messages: a rare double after an uncertain attempt is
            # better than none (a DM has no history we may read to look first).
            self.pacer.take_turn(job.channel_id)
            return self.slack.message(job)
        if job.kind == OutboxKind.FILE:
            return self.slack.upload(job)
        if job.kind == OutboxKind.EPHEMERAL:
            return self.slack.ephemeral(job)
        # Read (reads only, beside the writers) with the batch; call Slack after it has ended.
        card = (batch and batch.get(job.id)) or self._read([job])[job.id]
        if not card.found:
            raise GiveUp("the card is gone")
        if job.kind == OutboxKind.POST_CARD:
            return self._post(job, text=card.text, blocks=card.blocks)
        if card.ts is None:
            with read_scope(self.engine) as session:
                if job.card_id and self._card_failed(session, job.card_id):
                    raise GiveUp("the card was never posted")
            raise Retry("waiting for the card to be posted", after=2)
        if job.kind == OutboxKind.UPDATE_CARD:
            return self.slack.update(
                channel=card.channel_id, ts=card.ts, text=card.text, blocks=card.blocks
            )
        return self._post(
            job,
            text=job.payload["text"],
            blocks=job.payload.get("blocks") or None,
            thread_ts=card.ts,
            broadcast=bool(job.payload.get("broadcast")),
        )

    def _reply(self, job: Job) -> dict[str, Any]:
        """Send a staff answer to the citizen through the adapter that brought the mention."""
        if job.mention_id is None:
            raise GiveUp("no mention to reply to")
        with read_scope(self.engine) as session:
            try:
                replier, target = self.replies.target(session, job.mention_id)
            except LookupError as exc:
                raise GiveUp(str(exc)) from None
        try:
            text = job.payload["text"]
            result = self.replies.send(replier, target, text, look_first=job.needs_check)
        except ReplyError as exc:
            if exc.retryable:
                raise Retry(str(exc), ambiguous=exc.ambiguous) from exc
            raise GiveUp(str(exc)) from exc
        return {"external_id": result.external_id, "url": result.url}

    def _post(
        self,
        job: Job,
        *,
        text: str,
        blocks: list[dict[str, Any]] | None,
        thread_ts: str | None = None,
        broadcast: bool = False,
    ) -> dict[str, Any]:
        """Post a card or thread reply once: after an uncertain attempt, look for it first."""
        if job.needs_check:
            found = self.slack.find(job, thread_ts)
            if found is not None:
                log.info(
                    "message found after an uncertain attempt; not posting again",
                    extra={"outbox_id": job.id, "ts": found},
                )
                return {"channel": job.channel_id, "ts": found, "recovered": True}
        self.pacer.take_turn(job.channel_id)
        return self.slack.post(
            job, text=text, blocks=blocks, thread_ts=thread_ts, broadcast=broadcast
        )

    # Outcomes.
    def _done(self, job: Job, result: dict[str, Any]) -> None:
        self.completions.done(job, result)

    def _reply_done(
        self, session: Session, job: Job, result: dict[str, Any], now: datetime
    ) -> None:
        if job.kind == OutboxKind.PLATFORM_REPLY and job.mention_id is not None:
            actor = job.payload.get("actor")
            self.replies.record_success(
                session, mention_id=job.mention_id, actor=actor, result=result, now=now
            )

    def _recorded(self) -> None:
        # Unpaced, a card's next row (its update, a note) may go at once; paced, the
        # dispatcher's next look (within ``poll_interval``) is soon enough.
        if self.pacer.interval <= 0:
            self.wake()

    @property
    def last_delivery_at(self) -> datetime | None:
        return self.completions.last_at

    def _retry(self, job: Job, retry: Retry) -> None:
        now = self.clock.now()
        if retry.is_failure:
            since = job.failing_since or now
            if now - since >= self.give_up_after:
                spent = f"failing for {_hours(now - since)}, {job.failures + 1} failures"
                self._give_up(job, f"{retry} ({spent})", retry.code or "gave_up")
                return
            delay = backoff(job.failures + 1, self.first_backoff)
        else:
            delay = retry.after or 0.0
        if retry.rate_limited and job.kind in PACED:
            self.pacer.hold(job.channel_id, delay)  # Slack's limit is per channel: all wait
        # A wait for the channel's turn or for the card is routine; failures and 429s are not.
        log.log(
            logging.WARNING if retry.is_failure or retry.rate_limited else logging.DEBUG,
            "delivery will retry",
            extra={"outbox_id": job.id, "error": str(retry), "retry_in": round(delay, 2)},
        )
        with session_scope(self.engine) as session:
            outbox.reschedule(
                session=session,
                row_id=job.id,
                at=now + timedelta(seconds=delay),
                error=str(retry),
                needs_check=job.kind in LOOKED_FOR and (retry.ambiguous or job.needs_check),
                failed_at=now if retry.is_failure else None,
            )
        self.wake()

    def _give_up(self, job: Job, error: str, code: str | None = None) -> None:
        log.error("delivery failed for good", extra={"outbox_id": job.id, "error": error})
        now = self.clock.now()
        with session_scope(self.engine) as session:
            outbox.fail(session=session, row_id=job.id, now=now, error=error)
            if job.kind == OutboxKind.PLATFORM_REPLY and job.mention_id is not None:
                self.replies.record_failure(
                    session,
                    mention_id=job.mention_id,
                    actor=job.payload.get("actor"),
                    error=error,
                    now=now,
                    row_id=job.id,
                )
            if code and self.alert_channel and not job.payload.get(ALERT):
                announce(
                    session,
                    channel_id=job.channel_id,
                    kind=job.kind,
                    code=code,
                    error=error,
                    triage=self.alert_channel,
                    now=now,
                )
        self.wake()

    @staticmethod
    def _card_failed(session: Session, card_id: int) -> bool:
        query = select(Outbox.status).where(
            Outbox.card_id == card_id, Outbox.kind == OutboxKind.POST_CARD.value
        )
        return session.exec(query).first() == "failed"

    def check_auth(self) -> bool:
        try:
            self.client.auth_test()
        except Exception:
            log.warning("Slack auth.test failed", exc_info=True)
            return False
        return True


def _hours(spent: timedelta) -> str:
    minutes = int(spent.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"
