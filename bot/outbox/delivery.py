"""The outbox worker: leases due rows, makes one attempt each, and records how it ended.

At-least-once delivery made to look exactly-once: every message Engage posts carries its
outbox id in the message ``metadata``. An attempt that may have reached Slack without us
learning the result (a timeout, a 5xx, ``internal_error``, a crash) leaves the row marked
``needs_check``; the next attempt first looks for that id in the channel (or thread) and
only posts if it is not there.

Rate limits reschedule the row instead of sleeping (``Retry-After``), and posts to one channel
are paced (about one a second), so one busy or throttled channel never holds up the others.

This module owns the loop and the row's life: lease, the attempt, then done, retry (with
backoff) or failed, and the events and card fields that follow. The Slack calls themselves and
what Slack's answers mean are :mod:`bot.outbox.slack_api`'s; when each channel may be posted to
again is :mod:`bot.outbox.pacing`'s; the row as an attempt sees it is :mod:`bot.outbox.jobs`'s.
Together they are the one place that calls Slack's Web API on the bot's behalf.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.core import metrics
from bot.core.adapter import ReplyError
from bot.core.clock import Clock
from bot.outbox.card_state import card_view
from bot.outbox.cards import render
from bot.outbox.jobs import GiveUp, Job, Retry
from bot.outbox.pacing import ChannelPacer
from bot.outbox.replies import Replies
from bot.outbox.slack_api import SlackWriter
from storage import cards, events, outbox
from storage.db import session_scope
from storage.models import Card, EventKind, Outbox, OutboxKind

log = logging.getLogger(__name__)

# Posts that carry their outbox id in metadata and are looked for after an uncertain attempt.
POSTS = (OutboxKind.POST_CARD.value, OutboxKind.THREAD_REPLY.value)
# Everything that goes through chat.postMessage is paced per channel.
PACED = (*POSTS, OutboxKind.MESSAGE.value)


class Delivery:
    """The outbox worker: one thread, one row at a time (see the module docstring)."""

    def __init__(
        self,
        *,
        engine: Engine,
        client: WebClient,
        clock: Clock,
        replies: Replies | None = None,
        channel_interval: float = 1.0,
        max_attempts: int = 8,
        lease_seconds: float = 60.0,
        poll_interval: float = 0.5,
    ) -> None:
        self.engine = engine
        self.client = client
        self.clock = clock
        self.replies = replies or Replies({})
        self.slack = SlackWriter(client)
        self.pacer = ChannelPacer(channel_interval)
        self.max_attempts = max_attempts
        self.lease_seconds = lease_seconds
        self.poll_interval = poll_interval
        self.last_delivery_at: datetime | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # Lifecycle.
    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="engage-delivery", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the row in flight, if any, is finished."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                wait = self.run_once()
            except Exception:  # the worker must outlive any one bad row or database hiccup
                log.exception("delivery loop error")
                wait = self.poll_interval
            if wait > 0:
                self._wake.wait(wait)
                self._wake.clear()

    def drain(self, timeout: float = 10.0) -> None:
        """Run until nothing is due (tests, CLI)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.run_once() == 0:
            pass

    # One row.
    def run_once(self) -> float:
        """Deliver one due row; return how long to wait before trying again (0: go on)."""
        job = self._take()
        if isinstance(job, float):
            return job
        try:
            result = self._send(job)
        except Retry as retry:
            self._retry(job, retry)
        except GiveUp as exc:
            self._give_up(job, str(exc))
        except Exception as exc:  # a network error or timeout: Slack may have acted
            self._retry(job, Retry(f"{type(exc).__name__}: {exc}", ambiguous=True))
        else:
            self._done(job, result)
        return 0.0

    def _take(self) -> Job | float:
        mono = time.monotonic()
        with session_scope(self.engine) as session:
            now = self.clock.now()
            busy = self.pacer.busy(mono)
            rows = outbox.due(
                session=session, now=now, limit=1, busy_channels=busy, paced_kinds=PACED
            )
            for row in rows:
                job = Job(
                    id=_id(row),
                    kind=row.kind,
                    channel_id=row.channel_id,
                    mention_id=row.mention_id,
                    card_id=row.card_id,
                    payload=dict(row.payload),
                    attempts=row.attempts,
                    needs_check=row.needs_check,
                    created_at=row.created_at,
                )
                if not outbox.lease(
                    session=session, row_id=job.id, now=now, seconds=self.lease_seconds
                ):
                    return 0.0
                if job.kind in POSTS:
                    # If we die during the call, whoever retries must look before posting.
                    outbox.mark_needs_check(session=session, row_id=job.id)
                return job
        return min([self.poll_interval, *busy.values()])

    def _send(self, job: Job) -> dict[str, Any]:
        if job.kind == OutboxKind.PLATFORM_REPLY:
            return self._reply(job)
        if job.kind == OutboxKind.MESSAGE:
            # Reminders and direct messages: a rare double after an uncertain attempt is
            # better than none (a DM has no history we may read to look first).
            self.pacer.posting(job.channel_id)
            return self.slack.message(job)
        if job.kind == OutboxKind.FILE:
            return self.slack.upload(job)
        if job.kind == OutboxKind.EPHEMERAL:
            return self.slack.ephemeral(job)
        # Read and render in one short unit of work; call Slack after it has ended.
        blocks: list[dict[str, Any]] | None
        with session_scope(self.engine) as session:
            card = cards.get(session=session, card_id=job.card_id) if job.card_id else None
            if card is None:
                raise GiveUp("the card is gone")
            if job.kind == OutboxKind.POST_CARD:
                text, blocks = render(card_view(session, card))
                channel, ts = card.channel_id, None
            elif card.ts is None:
                if self._card_failed(session, card):
                    raise GiveUp("the card was never posted")
                raise Retry("waiting for the card to be posted", after=2)
            elif job.kind == OutboxKind.UPDATE_CARD:
                text, blocks = render(card_view(session, card))
                channel, ts = card.channel_id, card.ts
            else:
                text, channel, ts = job.payload["text"], card.channel_id, card.ts
                blocks = job.payload.get("blocks") or None
        if job.kind == OutboxKind.POST_CARD:
            return self._post(job, text=text, blocks=blocks)
        if job.kind == OutboxKind.UPDATE_CARD:
            return self.slack.update(channel=channel, ts=ts, text=text, blocks=blocks)
        return self._post(
            job,
            text=text,
            blocks=blocks,
            thread_ts=ts,
            broadcast=bool(job.payload.get("broadcast")),
        )

    def _reply(self, job: Job) -> dict[str, Any]:
        """Send a staff answer to the citizen through the adapter that brought the mention."""
        if job.mention_id is None:
            raise GiveUp("no mention to reply to")
        with session_scope(self.engine) as session:
            try:
                replier, target = self.replies.target(session, job.mention_id)
            except LookupError as exc:
                raise GiveUp(str(exc)) from None
        try:
            result = self.replies.send(replier, target, job.payload["text"])
        except ReplyError as exc:
            if exc.retryable:
                raise Retry(str(exc)) from exc
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
        self.pacer.posting(job.channel_id)
        return self.slack.post(
            job, text=text, blocks=blocks, thread_ts=thread_ts, broadcast=broadcast
        )

    # Outcomes.
    def _done(self, job: Job, result: dict[str, Any]) -> None:
        now = self.clock.now()
        with session_scope(self.engine) as session:
            outbox.complete(session=session, row_id=job.id, now=now, result=result)
            if job.kind == OutboxKind.POST_CARD and job.card_id is not None:
                cards.set_ts(
                    session=session,
                    card_id=job.card_id,
                    channel_id=result["channel"],
                    ts=result["ts"],
                )
                events.record(
                    session=session,
                    mention_id=job.mention_id,
                    kind=EventKind.POSTED,
                    at=now,
                    data={"channel": result["channel"], "ts": result["ts"], "card_id": job.card_id},
                )
            if job.kind == OutboxKind.PLATFORM_REPLY and job.mention_id is not None:
                self.replies.record_success(
                    session,
                    mention_id=job.mention_id,
                    actor=job.payload.get("actor"),
                    result=result,
                    now=now,
                )
        if job.kind == OutboxKind.POST_CARD:
            metrics.CARDS_POSTED.inc()
        self.last_delivery_at = now

    def _retry(self, job: Job, retry: Retry) -> None:
        if retry.after is None and job.attempts + 1 >= self.max_attempts:
            self._give_up(job, f"{retry} (after {job.attempts + 1} attempts)")
            return
        delay = retry.after if retry.after is not None else _backoff(job.attempts + 1)
        if retry.after is not None and job.kind in PACED:
            self.pacer.hold(job.channel_id, delay)
        log.warning(
            "delivery will retry",
            extra={"outbox_id": job.id, "error": str(retry), "retry_in": round(delay, 2)},
        )
        with session_scope(self.engine) as session:
            outbox.reschedule(
                session=session,
                row_id=job.id,
                at=self.clock.now() + timedelta(seconds=delay),
                error=str(retry),
                needs_check=job.kind in POSTS and (retry.ambiguous or job.needs_check),
            )
        self.wake()

    def _give_up(self, job: Job, error: str) -> None:
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
        self.wake()

    @staticmethod
    def _card_failed(session: Session, card: Card) -> bool:
        query = select(Outbox.status).where(
            Outbox.card_id == card.id, Outbox.kind == OutboxKind.POST_CARD.value
        )
        return session.exec(query).first() == "failed"

    def check_auth(self) -> bool:
        try:
            self.client.auth_test()
        except Exception:
            log.warning("Slack auth.test failed", exc_info=True)
            return False
        return True


def _backoff(attempt: int) -> float:
    return float(min(300.0, 2.0**attempt) * random.uniform(0.5, 1.0))


def _id(row: Outbox) -> int:
    assert row.id is not None
    return row.id
