"""Claim and release, the clicks staff make most and all at once: the decision in one short
transaction of Core statements (for a click, right after its ack: :mod:`bot.claims.click_queue`).

The guarantees are :mod:`bot.claims.service`'s (one transaction holds the request's inbox key,
the conditional change, its event and the queued card update and thread note; a retry finds
its key and changes nothing; of two clicks racing, the database's conditional ``UPDATE`` lets
one win and the other is told why by an ephemeral message). What differs is the cost:
:class:`storage.inbox.Click` runs statements built once, on the session's connection, instead
of loading and flushing ORM objects. Measured with ``benchmarks/bench_click_ack.py`` (issue
15): about 3 ms of CPU per click before, most of it SQLAlchemy's own work, which at 50 clicks
in flight queued for about 200 ms; the refusal of a lost race, rarer, keeps the ORM path.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from bot.claims import followups
from bot.claims.outcomes import DUPLICATE, GONE, Outcome, why_not_claim
from bot.core import metrics
from bot.core.clock import Clock
from bot.core.office_time import OfficeHours
from storage import inbox, mentions
from storage.inbox import Click, Followup, Head
from storage.models import EventKind, Mention, OutboxKind


class ClickDecisions:
    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        wake: Callable[[], None],
        office_hours: Callable[[str | None], OfficeHours] | None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.wake = wake
        self.office_hours = office_hours

    def claim(
        self,
        *,
        mention_id: int,
        user_id: str,
        request_key: str,
        refuse_in: str | None,
        note: str,
        via: str | None = None,
        queued: int | None = None,
    ) -> Outcome:
        """Claim an open, unclaimed mention; ``refuse_in`` is where a refusal is told (None:
        nowhere, the outcome only)."""

        def act(click: Click, head: Head) -> Outcome:
            now = self.clock.now()
            if not click.claim(mention_id, user_id, now, self._office_us(head, now)):
                why = why_not_claim(self._fresh(click, mention_id), user_id)
                if refuse_in is None:
                    return Outcome(ok=False, message=why)
                return self._refuse(click, request_key, user_id, refuse_in, why)
            click.event(mention_id, EventKind.CLAIMED, user_id, now, {"via": via} if via else {})
            metrics.CLAIM_LATENCY.observe((now - head.received_at).total_seconds())
            self._follow(click, mention_id, request_key, note)
            return Outcome(ok=True)

        return self._once(mention_id, request_key, act, queued)

    def release(
        self,
        *,
        mention_id: int,
        user_id: str,
        request_key: str,
        channel_id: str,
        queued: int | None = None,
    ) -> Outcome:
        """Give a claim back; only the person who holds it can."""

        def act(click: Click, head: Head) -> Outcome:
            now = self.clock.now()
            if not click.release(mention_id, user_id, now):
                m = self._fresh(click, mention_id)
                why = (
                    f"Only <@{m.claimed_by}>, who claimed it, can release it."
                    if m.claimed_by and m.claimed_by != user_id
                    else "It is not claimed any more."
                )
                return self._refuse(click, request_key, user_id, channel_id, why)
            click.event(mention_id, EventKind.RELEASED, user_id, now, {})
            note = f"<@{user_id}> released this: it is open for anyone to claim."
            self._follow(click, mention_id, request_key, note)
            return Outcome(ok=True)

        return self._once(mention_id, request_key, act, queued)

    def _once(
        self,
        mention_id: int,
        request_key: str,
        act: Callable[[Click, Head], Outcome],
        queued: int | None,
    ) -> Outcome:
        return inbox.once_for_click(
            engine=self.engine,
            key=request_key,
            now=self.clock.now(),
            mention_id=mention_id,
            duplicate=DUPLICATE,
            missing=GONE,
            act=act,
            then=self.wake,
            queued=queued,
        )

    def _office_us(self, head: Head, until: datetime) -> int | None:
        """Office time from the mention's arrival to ``until``, in its department's hours."""
        if self.office_hours is None:
            return None
        took = self.office_hours(head.department).between(head.received_at, until)
        return took // timedelta(microseconds=1)

    def _follow(self, click: Click, mention_id: int, request_key: str, note: str) -> None:
        # The same rows and keys as followups.update_and_note: the card shows its new state
        # and its thread says who did what; a retried request queues neither twice.
        rows = [
            Followup(OutboxKind.UPDATE_CARD, f"update:{{card}}:{request_key}", {}),
            Followup(OutboxKind.THREAD_REPLY, f"note:{request_key}", {"text": note}),
        ]
        click.follow(mention_id, self.clock.now(), rows)

    @staticmethod
    def _fresh(click: Click, mention_id: int) -> Mention:
        """The row as committed now: after a lost race, the winner's state, for the message."""
        m = mentions.get(session=click.session, mention_id=mention_id)
        assert m is not None  # the head was read in this transaction, and nothing deletes one
        return m

    def _refuse(
        self, click: Click, request_key: str, user_id: str, channel_id: str, why: str
    ) -> Outcome:
        return followups.refusal(
            session=click.session,
            request_key=request_key,
            user_id=user_id,
            channel_id=channel_id,
            why=why,
            now=self.clock.now(),
        )
