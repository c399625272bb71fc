"""Claim and release acked as soon as the click is kept, and decided right after, in order.

Why (issue 15): with the decision on the ack path, 50 clicks at once queued behind each other's
transactions (about six statements each, one writer at a time on SQLite) and behind the work
those clicks start (delivery updating their cards), for a p99 of 100-200 ms. Now:

- **The ack path** (:meth:`ClickQueue.accept`) hands the click to a committer thread and waits
  for its commit: the committer writes every click that arrived meanwhile in one ``INSERT`` and
  one commit (:mod:`storage.claims.click_requests`), so 50 clicks cost a few commits, not 300
  statements in turn. Slack's ack still follows a commit: an acked click is never lost, and a
  retry (same request key) is refused by the row's unique key.
- **The worker** (:meth:`ClickQueue._apply_loop`) decides each kept click in the order kept,
  through :class:`~bot.claims.service.Claims` as before (the request's inbox key, the
  conditional ``UPDATE``, the event, the card update and thread note), in the transaction that
  deletes the row: applied once, whatever the restarts or replicas. The loser of a race was
  already told by an ephemeral message, never in the ack, so nothing changes for people except
  that the card changes a few milliseconds later.
- **Acks first**: one interpreter runs both, and Python has no thread priorities, so before
  each click the worker waits (up to ``yield_for``) while requests are in flight: a burst is
  acked, then decided. Traffic that never pauses cannot starve the worker: it waits at most
  that long before each click (0.1 s: ten decisions a second at the very least).

A process that only serves HTTP (``ENGAGE_WEB_PROCESSES`` > 1) keeps clicks and tells the bot's
process (``notify``), whose worker applies them all, so one user's claim and release are
decided in the order they were made. Rows a crash left behind are applied when a worker next
looks (at start, and every ``poll`` seconds).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from bot.claims.service import Claims
from bot.core.clock import Clock
from storage.claims import click_requests
from storage.claims.click_requests import Pending

log = logging.getLogger(__name__)

ACTIONS = ("claim", "release")
ATTEMPTS = 3  # a click whose decision raises this often is dropped (and logged)


@dataclass
class _Ticket:
    row: dict[str, Any]
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class ClickQueue:
    def __init__(
        self,
        *,
        engine: Engine,
        claims: Claims,
        clock: Clock,
        yield_to: Callable[[float], None] = lambda _: None,
        yield_for: float = 0.1,
        poll: float = 1.0,
    ) -> None:
        self.engine = engine
        self.claims = claims
        self.clock = clock
        self.yield_to = yield_to  # waits while requests are in flight, at most the seconds given
        self.yield_for = yield_for
        self.poll = poll
        self.notify: Callable[[], None] | None = None  # tells another process's worker
        self._cond = threading.Condition()
        self._waiting: list[_Ticket] = []
        self._closing = False
        self._committer: threading.Thread | None = None
        self._worker: threading.Thread | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._asked = 0  # settle() calls so far
        self._answered = 0  # the settle() calls a finished pass began after
        self._failures: dict[int, int] = {}

    # ------------------------------------------------------------------ the ack path
    def accept(
        self, *, action: str, mention_id: int, user_id: str, channel_id: str, request_key: str
    ) -> None:
        """Keep the click; return once it is committed (raises if it could not be)."""
        if action not in ACTIONS:
            raise ValueError(f"not a queued click: {action!r}")
        row = {
            "key": request_key[:255],
            "action": action,
            "mention_id": mention_id,
            "user_id": user_id,
            "channel_id": channel_id,
            "received_at": self.clock.now(),
        }
        ticket = _Ticket(row)
        with self._cond:
            running = self._committer is not None and not self._closing
            if running:
                self._waiting.append(ticket)
                self._cond.notify_all()
        if not running:  # not started, or stopping: commit in this thread
            self._commit([ticket])
            self._kept()
        ticket.done.wait()
        if ticket.error is not None:
            raise ticket.error

    def _commit_loop(self) -> None:
        while True:
            with self._cond:
                while not self._waiting and not self._closing:
                    self._cond.wait()
                if not self._waiting:
                    return
                batch, self._waiting = self._waiting, []
            self._commit(batch)
            self._kept()

    def _commit(self, batch: list[_Ticket]) -> None:
        try:
            click_requests.accept(engine=self.engine, rows=[t.row for t in batch])
        except Exception as exc:
            if len(batch) > 1:  # one bad row must not fail the clicks that came with it
                for ticket in batch:
                    self._commit([ticket])
                return
            batch[0].error = exc
        for ticket in batch:
            ticket.done.set()

    def _kept(self) -> None:
        if self._worker is not None:
            self._wake.set()
        elif self.notify is not None:
            self.notify()

    # ------------------------------------------------------------------ the worker
    def wake(self) -> None:
        self._wake.set()

    def start(self, *, apply: bool = True) -> None:
        """The committer, and (``apply``) the worker that decides the kept clicks."""
        self._closing = False
        self._stop.clear()
        self._committer = threading.Thread(
            target=self._commit_loop, name="engage-click-commit", daemon=True
        )
        self._committer.start()
        if apply:
            self._worker = threading.Thread(
                target=self._apply_loop, name="engage-click-apply", daemon=True
            )
            self._worker.start()
            self._wake.set()  # what a crash left behind

    def stop(self, timeout: float = 30.0) -> None:
        """Commit the clicks waiting, apply every kept one, then stop."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._committer is not None:
            self._committer.join(timeout)
            self._committer = None
        if self._worker is not None:
            self._stop.set()
            self._wake.set()
            self._worker.join(timeout)
            self._worker = None

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until every click kept so far is applied (tests, the sandbox)."""
        if self._worker is None:
            self.apply_pending()
            return True
        with self._cond:
            self._asked += 1
            asked = self._asked
        self._wake.set()
        with self._cond:
            return self._cond.wait_for(lambda: self._answered >= asked, timeout)

    def _apply_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.poll)
            self._wake.clear()
            try:
                self.apply_pending(yielding=True)
            except OperationalError as exc:  # the database is away: the rows wait for it
                log.warning("clicks not applied yet", extra={"error": type(exc).__name__})
                self._stop.wait(self.poll)
            except Exception:
                log.exception("click worker error")
        self.apply_pending()

    def apply_pending(self, *, yielding: bool = False) -> int:
        """Decide every kept click, oldest first; how many were decided."""
        with self._cond:
            asked = self._asked  # settled by this pass: it reads what they committed before
        applied, after = 0, 0
        while True:
            rows = click_requests.pending(engine=self.engine, limit=64, after=after)
            if not rows:
                break
            for row in rows:
                if yielding:
                    self.yield_to(self.yield_for)
                if self._apply(row):
                    applied += 1
                else:
                    after = row.id  # kept for another try next pass; go on past it
        with self._cond:
            self._answered = max(self._answered, asked)
            self._cond.notify_all()
        return applied

    def _apply(self, row: Pending) -> bool:
        decide = self.claims.claim if row.action == "claim" else self.claims.release
        try:
            decide(
                mention_id=row.mention_id,
                user_id=row.user_id,
                request_key=row.key,
                channel_id=row.channel_id,
                queued=row.id,
            )
        except OperationalError:
            raise
        except Exception as exc:
            tries = self._failures[row.id] = self._failures.get(row.id, 0) + 1
            log.error(
                "click not applied: %s: %s",
                type(exc).__name__,
                str(exc)[:300],
                extra={"click": row.key, "attempt": tries},
            )
            if tries < ATTEMPTS:
                time.sleep(0.05 * tries)
                return False
            click_requests.drop(engine=self.engine, click_id=row.id)
            self._failures.pop(row.id, None)
        return True
