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

Rotation: the thread rung (the only one that names a person) names one per mention, the person
who has waited longest at that point, so a grouped reminder names several in turn and each
counts as one turn. The channel-wide rung names nobody and so takes nobody's turn.

This module owns the schedule and who is named; what each rung says, and to whom, is
:mod:`bot.nudges.messages`; what people do with a reminder (the buttons, away and back) is
:mod:`bot.nudges.answers`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core.clock import Clock
from bot.core.slack_directory import SlackDirectory
from bot.nudges.answers import Answers
from bot.nudges.messages import NudgeMessages, Sent
from bot.nudges.policy import LADDERS, ROTATING, STAGES, Policy, Stage
from bot.nudges.rotation import Rotation
from storage import cards, events, mentions
from storage import nudges as rows
from storage.db import session_scope
from storage.models import Card, EventKind, Mention, MentionStatus

log = logging.getLogger(__name__)


@dataclass
class _Batch:
    """What one sweep read up front for all the mentions it handles."""

    done: dict[int, set[str]]  # stages sent (or skipped) per mention
    cards: dict[int, Card]  # the active card per mention


class Nudger(Answers):
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
        if stage.rotates:
            self._name(session, policy, items, now)
        for item in items:
            assert item.mention.id is not None
            who = item.mention.claimed_by if stage.ladder == "answer" else item.named
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
            self.messages.announce(session, policy, stage, items, now)

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
    def _name(self, session: Session, policy: Policy, items: list[Sent], now: datetime) -> None:
        """Name one person per reminder, in the order their nudge rows were recorded (which is
        the order the next sweep reads them back in), each one the person who has waited
        longest at that point."""
        department = items[0].mention.department
        bot = self.directory.bot_user()
        members = [
            u
            for u in self.directory.members(policy.channel)
            if u != bot and not self.directory.is_bot(u)
        ]
        if not members:
            return
        gone = rows.away(session=session, users=members, now=now)
        away = {u for u in members if u in gone or self.directory.is_away(u)}
        rotation = Rotation(
            members,
            care_limit=policy.care_limit,
            engaged=rows.last_engaged(session=session, users=members, asked_in=ROTATING),
            last_picked=rows.last_target(session=session, department=department, asked_in=ROTATING),
        )
        for item in items:
            chosen = rotation.next(now=now, away=away)
            item.named = chosen.user_id
            log.info(
                "rotation",
                extra={
                    "department": department,
                    "mention": item.mention.id,
                    "picked": chosen.user_id,
                    "reason": chosen.reason,
                },
            )


def _ladder(mention: Mention) -> str:
    return "answer" if mention.status == MentionStatus.CLAIMED else "claim"
