"""What people do with a reminder: snooze it, answer the claimer's check-in, go away and back.

Each button press is one request, acted on once (a retried request or a double click has one
effect, :func:`storage.inbox.once_for_mention`). The claimer's check-in (*Still on it*, *Hand
back*, *Need help*) is an answer whichever button it is: *Hand back* releases the claim (the
claims service does that), and the other two record the answer on the hand-back rung's nudge
row, so the claim is never handed back "for want of an answer" after one. The leads still hear
at 2x if the mention stays unanswered.

Kept apart from :mod:`bot.nudges.sweep`, which owns the schedule; :class:`Answers` is the part
of the :class:`~bot.nudges.sweep.Nudger` that handlers call when someone clicks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core.clock import Clock
from bot.core.office_time import OfficeHours
from bot.nudges.messages import NudgeMessages
from bot.nudges.policy import CHECKED_IN, Policy
from storage import events, inbox, mentions
from storage import nudges as rows
from storage.db import session_scope
from storage.models import EventKind, Mention, MentionStatus

# The hand-back stage's nudge row when the claimer answered the check-in instead.
ANSWERED = "answered"


class Answers:
    """What people do with a reminder. Each method returns True when done (or done already,
    for a retried request), False when the mention is gone or cannot change."""

    engine: Engine
    clock: Clock
    messages: NudgeMessages
    wake: Callable[[], None]

    def policy(self, department: str | None) -> Policy:
        raise NotImplementedError

    def snooze(self, *, mention_id: int, user_id: str, choice: str, request_key: str) -> bool:
        now = self.clock.now()

        def act(session: Session, m: Mention) -> bool:
            hours = self.policy(m.department).hours
            until = (
                _tomorrow_morning(hours, now)
                if choice == "tomorrow"
                else hours.add(now, timedelta(hours=1))
            )
            if mentions.snooze(session=session, mention_id=mention_id, until=until) is None:
                return False
            events.record(
                session=session,
                mention_id=mention_id,
                kind=EventKind.SNOOZED,
                actor=user_id,
                at=now,
                data={"until": until.isoformat(), "choice": choice},
            )
            return True

        return self._once(mention_id, request_key, now, act)

    def still_on_it(self, *, mention_id: int, user_id: str, request_key: str) -> bool:
        """The claimer answered the check-in: the claim stays theirs, and no reminder comes
        for an hour (the leads still hear at 2x if it is not answered by then)."""
        now = self.clock.now()

        def act(session: Session, m: Mention) -> bool:
            if not self._checked_in(session, m, user_id, now):
                return False  # the claim is no longer theirs: an old message
            until = self.policy(m.department).hours.add(now, timedelta(hours=1))
            mentions.set_schedule(
                session=session, mention_id=mention_id, version=m.version, at=until, stage=None
            )
            events.record(
                session=session,
                mention_id=mention_id,
                kind=EventKind.SNOOZED,
                actor=user_id,
                at=now,
                data={"until": until.isoformat(), "choice": "still_on_it"},
            )
            return True

        return self._once(mention_id, request_key, now, act)

    def need_help(self, *, mention_id: int, user_id: str, request_key: str) -> bool:
        """Ask the channel for a second person. From the claimer it also answers the
        check-in: the claim stays theirs."""
        now = self.clock.now()

        def act(session: Session, m: Mention) -> bool:
            if self._checked_in(session, m, user_id, now):
                mentions.set_schedule(
                    session=session, mention_id=mention_id, version=m.version, at=now, stage=None
                )
            events.record(
                session=session,
                mention_id=mention_id,
                kind=EventKind.NUDGED,
                actor=user_id,
                at=now,
                data={"stage": "help"},
            )
            self.messages.help_wanted(session, m, user_id, request_key, now)
            return True

        return self._once(mention_id, request_key, now, act, then=self.wake)

    @staticmethod
    def _checked_in(session: Session, m: Mention, user_id: str, now: datetime) -> bool:
        """Record that the claimer answered the check-in, so the claim is not handed back for
        want of an answer; False if ``user_id`` does not hold the claim (any more)."""
        if m.id is None or m.status != MentionStatus.CLAIMED or m.claimed_by != user_id:
            return False
        # The hand-back stage's row, marked answered: the stage is then never sent.
        if rows.record(
            session=session, mention_id=m.id, stage=CHECKED_IN, target=ANSWERED, now=now
        ):
            return True
        # There already: an earlier button (still an answer), or a sweep handing the claim back
        # this very moment (too late: the claim is going back).
        return rows.target(session=session, mention_id=m.id, stage=CHECKED_IN) == ANSWERED

    def _once(
        self,
        mention_id: int,
        request_key: str,
        now: datetime,
        act: Callable[[Session, Mention], bool],
        then: Callable[[], None] | None = None,
    ) -> bool:
        return inbox.once_for_mention(
            engine=self.engine,
            key=request_key,
            now=now,
            mention_id=mention_id,
            duplicate=True,
            missing=False,
            act=act,
            then=then,
        )

    def set_away(self, *, user_id: str, until: datetime | None) -> None:
        now = self.clock.now()
        with session_scope(self.engine) as session:
            if until is None:
                rows.clear_away(session=session, user_id=user_id)
            else:
                rows.set_away(session=session, user_id=user_id, until=until, now=now)


def _tomorrow_morning(hours: OfficeHours, now: datetime) -> datetime:
    local = now.astimezone(ZoneInfo(hours.timezone))
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), local.tzinfo)
    return hours.next_open(midnight)
