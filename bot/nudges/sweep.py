"""Nudges: bring stale mentions back to people's attention, fairly and only in office hours.

The ladder (each rung can be switched off per department):

- unclaimed, counted in office time from arrival against the claim SLA:
  ``claim_warn`` (a heads-up at ``warn_at``), ``claim_thread`` (the thread, naming one person
  picked by rotation), ``claim_channel`` (the whole channel, at 1.5x), ``claim_lead`` (the
  leads, at 2x);
- claimed but unanswered, counted from the claim against the answer SLA: ``answer_warn``,
  ``answer_dm`` (a direct message to the claimer with *still on it* / *hand back* / *need
  help*), ``answer_return`` (no reply: the claim returns to the channel, both names kept on
  record, at 1.5x), ``answer_lead`` (at 2x).

How it stays cheap and safe: each mention carries when to look at it next and for which stage
(``next_nudge_at``, indexed), so a sweep reads only what is due. Any change of state clears the
stage and the sweep works the schedule out again. A ``Nudge`` row per (mention, stage) with a
unique key decides who sends: a stage is sent once per mention, ever, even with several
replicas sweeping at once. Outside office hours nothing is sent; what fell due is looked at
again when the office opens, and a department's reminders of one stage in one sweep go out as
one grouped message rather than a burst.

This module owns the ladder, the policies and the schedule (and who is picked by rotation);
what each rung says, and to whom, is :mod:`bot.nudges.messages`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core.clock import Clock
from bot.core.office_time import OfficeHours
from bot.core.slack_directory import SlackDirectory
from bot.nudges.messages import NudgeMessages, Sent
from bot.nudges.policy import LADDERS, STAGES, Policy, Stage
from bot.nudges.rotation import Candidate, pick
from storage import cards, events, inbox, mentions
from storage import nudges as rows
from storage.db import session_scope
from storage.models import Card, EventKind, Mention, MentionStatus

log = logging.getLogger(__name__)


@dataclass
class _Batch:
    """What one sweep read up front for all the mentions it handles."""

    done: dict[int, set[str]]  # stages sent (or skipped) per mention
    cards: dict[int, Card]  # the active card per mention


class Nudger:
    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        policies: Mapping[str | None, Policy],
        directory: SlackDirectory,
        wake: Callable[[], None],
        batch: int = 500,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.policies = dict(policies)  # by department slug; None: triage
        self.directory = directory
        self.messages = NudgeMessages(directory)
        self.wake = wake
        self.batch = batch

    def policy(self, department: str | None) -> Policy:
        return self.policies.get(department) or self.policies[None]

    # The sweep.
    def sweep(self) -> int:
        """Send what is due now; return how many reminders went out. Safe to run anywhere."""
        now = self.clock.now()
        sent: dict[tuple[str | None, str], list[Sent]] = defaultdict(list)
        with session_scope(self.engine) as session:
            due = mentions.due_for_nudge(session=session, now=now, limit=self.batch)
            ids = [m.id for m in due if m.id is not None]
            # Read once for the whole batch what each mention needs.
            batch = _Batch(
                done=rows.sent_stages(session=session, mention_ids=ids),
                cards=cards.active_for(session=session, mention_ids=ids),
            )
            for mention in due:
                item = self._consider(session, batch, mention, now)
                if item is not None:
                    sent[(mention.department, item.stage.name)].append(item)
            for (department, stage), items in sent.items():
                self._announce(session, self.policy(department), STAGES[stage], items, now)
        if sent:
            self.wake()
        return sum(len(items) for items in sent.values())

    def _consider(
        self, session: Session, batch: _Batch, mention: Mention, now: datetime
    ) -> Sent | None:
        assert mention.id is not None
        policy = self.policy(mention.department)
        stage = STAGES.get(mention.next_nudge_stage or "")
        if stage is None or stage.ladder != _ladder(mention):
            stage, at = self._next(session, batch, mention, policy)
            if stage is None or at is None or at > now:
                mentions.set_schedule(
                    session=session,
                    mention_id=mention.id,
                    version=mention.version,
                    at=at,
                    stage=stage.name if stage else None,
                )
                return None
        stage = self._catch_up(session, batch, mention, policy, stage, now)
        if not policy.hours.is_open(now):
            # Nothing at night: look again when the office opens, with everything else due.
            mentions.set_schedule(
                session=session,
                mention_id=mention.id,
                version=mention.version,
                at=policy.hours.next_open(now),
                stage=stage.name,
            )
            return None
        if rows.record(
            session=session, mention_id=mention.id, stage=stage.name, target=None, now=now
        ):
            batch.done[mention.id].add(stage.name)
        else:
            stage = None  # sent already (another replica): only the schedule moves on
        following, at = self._next(session, batch, mention, policy)
        mentions.set_schedule(
            session=session,
            mention_id=mention.id,
            version=mention.version,
            at=at,
            stage=following.name if following else None,
        )
        if stage is None:
            return None
        card = batch.cards.get(mention.id)
        return Sent(mention, stage, card.channel_id if card else None, card.ts if card else None)

    def _catch_up(
        self,
        session: Session,
        batch: _Batch,
        mention: Mention,
        policy: Policy,
        stage: Stage,
        now: datetime,
    ) -> Stage:
        """A heads-up whose deadline has already passed is skipped for the reminder itself.

        The skipped heads-up gets its nudge row, so it is never sent later either.
        """
        assert mention.id is not None
        ladder = LADDERS[stage.ladder]
        at = ladder.index(stage)
        for later in ladder[at + 1 :]:
            if stage.rung != "warn":
                break  # real reminders are never skipped, only a heads-up that came too late
            if later.rung not in policy.rungs:
                continue
            due = policy.due(later, mention)
            if due is None or due > now:
                break
            rows.record(
                session=session, mention_id=mention.id, stage=stage.name, target="skipped", now=now
            )
            batch.done.setdefault(mention.id, set()).add(stage.name)
            stage = later
        return stage

    def _next(
        self, session: Session, batch: _Batch, mention: Mention, policy: Policy
    ) -> tuple[Stage | None, datetime | None]:
        assert mention.id is not None
        done = batch.done.setdefault(mention.id, set())
        for stage in LADDERS[_ladder(mention)]:
            if stage.name in done or stage.rung not in policy.rungs:
                continue
            return stage, policy.due(stage, mention)
        return None, None

    # Who hears about it, and what it changes.
    def _announce(
        self, session: Session, policy: Policy, stage: Stage, items: list[Sent], now: datetime
    ) -> None:
        kind = EventKind.ESCALATED if stage.escalation else EventKind.NUDGED
        if stage.name in ("claim_thread", "claim_channel"):
            target = self._rotate(session, policy, items[0].mention, now)
        else:
            target = None
        for item in items:
            assert item.mention.id is not None
            who = item.mention.claimed_by if stage.ladder == "answer" else target
            if who:
                rows.set_target(
                    session=session, mention_id=item.mention.id, stage=stage.name, target=who
                )
            events.record(
                session=session,
                mention_id=item.mention.id,
                kind=kind,
                at=now,
                data={"stage": stage.name, "target": who},
            )
        if stage.name == "answer_return":
            for item in items:
                self._hand_back(session, item, now)
        else:
            self.messages.announce(session, policy, stage, items, target, now)

    def _hand_back(self, session: Session, item: Sent, now: datetime) -> None:
        m = item.mention
        assert m.id is not None
        claimer = m.claimed_by
        if not claimer or not mentions.release(
            session=session, mention_id=m.id, user_id=claimer, now=now
        ):
            return
        events.record(
            session=session,
            mention_id=m.id,
            kind=EventKind.RELEASED,
            at=now,
            data={"previous": claimer, "reason": "no answer after the reminder"},
        )
        self.messages.handed_back(session, item, claimer, now)

    # Rotation.
    def _rotate(self, session: Session, policy: Policy, m: Mention, now: datetime) -> str | None:
        bot = self.directory.bot_user()
        members = [
            u
            for u in self.directory.members(policy.channel)
            if u != bot and not self.directory.is_bot(u)
        ]
        if not members:
            return None
        engaged = rows.last_engaged(session=session, users=members)
        gone = rows.away(session=session, users=members, now=now)
        candidates = [
            Candidate(u, engaged.get(u), away=u in gone or self.directory.is_away(u))
            for u in members
        ]
        chosen = pick(
            candidates,
            last_picked=rows.last_target(session=session, department=m.department),
            care_limit=policy.care_limit,
        )
        log.info(
            "rotation",
            extra={"department": m.department, "picked": chosen.user_id, "reason": chosen.reason},
        )
        return chosen.user_id

    # What people do with a reminder: True when done (or done already, for a retried request),
    # False when the mention is gone or cannot change.
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

    def need_help(self, *, mention_id: int, user_id: str, request_key: str) -> bool:
        now = self.clock.now()

        def act(session: Session, m: Mention) -> bool:
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


def _ladder(mention: Mention) -> str:
    return "answer" if mention.status == MentionStatus.CLAIMED else "claim"


def _tomorrow_morning(hours: OfficeHours, now: datetime) -> datetime:
    local = now.astimezone(ZoneInfo(hours.timezone))
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), local.tzinfo)
    return hours.next_open(midnight)
