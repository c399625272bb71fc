"""The urgent lane's service: the paging ladder, acknowledgements, "Not urgent", on-call.

The ladder, whatever the office hours: ``oncall`` (the person on call, at once), ``next`` (the
next person of the rotation), ``lead`` (the department's leads), ``comms`` (the comms team),
each ``ack_minutes`` after the one before while nobody acknowledged. A mention in triage goes
to the comms team at once. A stage with nobody to page is passed over.

How it is safe: ingest records an ``urgent`` event with the mention; the sweep gives it a
paging state (one row per mention, inserted once), and pages a stage by inserting its
``UrgentPage`` row (unique per mention and stage) and the outbox rows of its direct messages
(unique keys) in one transaction, after moving the schedule on with a conditional update. A
restart, a second replica, or a sweep that runs twice page nobody twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from bot.config.comms import CommsTeam
from bot.config.file import EngageConfig
from bot.core.clock import Clock
from bot.core.slack_directory import SlackDirectory
from bot.urgent.detect import DOWNGRADED_KEY, URGENT_KEY
from bot.urgent.oncall import OnCall
from bot.urgent.pages import page
from storage import cards, events, outbox
from storage.db import session_scope
from storage.models import EventKind, Mention, MentionStatus, OutboxKind
from storage.urgent import rows
from storage.urgent.tables import UrgentMention

log = logging.getLogger(__name__)
ADOPT_WINDOW = timedelta(days=2)  # how far back the sweep looks for newly marked mentions


@dataclass(frozen=True)
class Stage:
    name: str
    targets: tuple[str, ...]


class UrgentDesk(OnCall):
    """The ladder, the buttons, and (from :class:`OnCall`) who is on call and the swaps."""

    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        config: EngageConfig,
        directory: SlackDirectory,
        comms: CommsTeam,
        wake: Callable[[], None],
    ) -> None:
        super().__init__(
            engine=engine, clock=clock, config=config, directory=directory, comms=comms
        )
        self.wake = wake
        self.wait = timedelta(minutes=config.urgent.ack_minutes)

    def ladder(self, session: Session, slug: str | None, now: datetime) -> list[Stage]:
        comms = Stage("comms", tuple(self.comms.members()))
        department = self.config.department(slug) if slug else None
        if department is None:
            return [comms]
        duty = self.on_call(session, department, now)
        return [
            Stage("oncall", (duty.person,) if duty.person else ()),
            Stage("next", (duty.next_person,) if duty.next_person else ()),
            Stage("lead", tuple(department.leads)),
            comms,
        ]

    # The sweep.
    def sweep(self) -> int:
        """Page what is due now; return how many stages were paged. Safe to run anywhere."""
        now = self.clock.now()
        paged = 0
        with session_scope(self.engine) as session:
            rows.adopt(session=session, since=now - ADOPT_WINDOW)
            for state in rows.due(session=session, now=now):
                paged += self._escalate(session, state, now)
        if paged:
            self.wake()
        return paged

    def _escalate(self, session: Session, state: UrgentMention, now: datetime) -> int:
        mention = session.get(Mention, state.mention_id)
        if mention is None or mention.status != MentionStatus.NEW.value:
            # Claimed, answered or closed: someone is on it, nobody needs waking.
            rows.stop(session=session, mention_id=state.mention_id)
            return 0
        ladder = self.ladder(session, state.department, now)
        at = state.next_stage
        while at < len(ladder) and not ladder[at].targets:
            at += 1  # nobody to page at this stage: the next one, now
        last = at >= len(ladder) - 1
        moved = rows.advance(
            session=session,
            mention_id=state.mention_id,
            stage=state.next_stage,
            next_stage=at + 1,
            at=None if last else now + self.wait,
        )
        if not moved or at >= len(ladder):
            return 0
        stage = ladder[at]
        if not rows.record_page(
            session=session,
            mention_id=state.mention_id,
            stage=stage.name,
            targets=stage.targets,
            now=now,
        ):
            return 0  # paged already, before a restart or by another replica
        self._page(session, mention, state, stage, ladder, now)
        return 1

    def _page(
        self,
        session: Session,
        mention: Mention,
        state: UrgentMention,
        stage: Stage,
        ladder: list[Stage],
        now: datetime,
    ) -> None:
        assert mention.id is not None
        card = cards.active(session=session, mention_id=mention.id)
        department = self.config.department(state.department or "")
        first = ladder[0].targets[0] if ladder[0].targets else None
        text, blocks = page(
            mention,
            stage=stage.name,
            where=department.name if department else "triage",
            reason=state.reason,
            first=first,
            waited=int((now - state.detected_at).total_seconds() // 60),
            card_link=self.directory.permalink(card.channel_id, card.ts) if card else None,
        )
        for user in stage.targets:
            outbox.enqueue(
                session=session,
                kind=OutboxKind.MESSAGE,
                idem_key=f"urgent:{mention.id}:{stage.name}:{user}",
                channel_id=user,
                mention_id=mention.id,
                now=now,
                payload={"text": text, "blocks": blocks, "open_dm": True},
            )
        events.record(
            session=session,
            mention_id=mention.id,
            kind=EventKind.PAGED,
            at=now,
            data={"stage": stage.name, "targets": list(stage.targets)},
        )
        if card is not None:
            who = ", ".join(f"<@{u}>" for u in stage.targets)
            outbox.enqueue_for_card(
                session=session,
                card=card,
                kind=OutboxKind.THREAD_REPLY,
                idem_key=f"urgentnote:{mention.id}:{stage.name}",
                now=now,
                payload={"text": f":rotating_light: Urgent: paged {who} ({stage.name})."},
            )
        log.info(
            "urgent page",
            extra={"mention_id": mention.id, "stage": stage.name, "targets": stage.targets},
        )

    # The buttons.
    def acknowledge(
        self, *, mention_id: int, user_id: str, channel_id: str = "", request_key: str = ""
    ) -> str:
        """The *Acknowledge* button: stops the escalation; the clicker is told what happened."""
        with session_scope(self.engine) as session:
            said = self._acknowledge(session, mention_id, user_id, self.clock.now())
            self._tell(session, user_id, channel_id, request_key, said)
        self.wake()
        return said

    def downgrade(
        self, *, mention_id: int, user_id: str, channel_id: str = "", request_key: str = ""
    ) -> str:
        """*Not urgent* (on a page or on the card): no more pages, the badge goes, on record."""
        with session_scope(self.engine) as session:
            said = self._downgrade(session, mention_id, user_id, self.clock.now())
            self._tell(session, user_id, channel_id, request_key, said)
        self.wake()
        return said

    def _tell(
        self, session: Session, user_id: str, channel_id: str, request_key: str, text: str
    ) -> None:
        if channel_id and request_key:  # a retried click has the same key: told once
            outbox.enqueue(
                session=session,
                kind=OutboxKind.EPHEMERAL,
                idem_key=f"urgent-reply:{request_key}",
                channel_id=channel_id,
                now=self.clock.now(),
                payload={"user": user_id, "text": text},
            )

    def _acknowledge(self, session: Session, mention_id: int, user_id: str, now: datetime) -> str:
        state = rows.get(session=session, mention_id=mention_id)
        if state is None:
            return "This mention is not urgent."
        if not rows.acknowledge(session=session, mention_id=mention_id, user_id=user_id, now=now):
            session.refresh(state)  # whoever won may have done it since we read it
            if state.downgraded_by:
                return f"<@{state.downgraded_by}> marked this not urgent."
            return f"<@{state.acknowledged_by}> acknowledged this already: no more pages."
        after = int((now - state.detected_at).total_seconds())
        events.record(
            session=session,
            mention_id=mention_id,
            kind=EventKind.ACKNOWLEDGED,
            actor=user_id,
            at=now,
            data={"seconds": after},
        )
        self._note(
            session,
            mention_id,
            f"ack:{mention_id}",
            f":white_check_mark: <@{user_id}> acknowledged the page ({after // 60} min after "
            "it came in): no more pages.",
            now,
        )
        return (
            ":white_check_mark: Acknowledged: nobody else will be paged. Claim the card to "
            "answer the citizen."
        )

    def _downgrade(self, session: Session, mention_id: int, user_id: str, now: datetime) -> str:
        state = rows.get(session=session, mention_id=mention_id)
        if state is None or not rows.downgrade(
            session=session, mention_id=mention_id, user_id=user_id, now=now
        ):
            return "This mention is not urgent (any more)."
        mention = session.get(Mention, mention_id)
        if mention is not None:
            extra = dict(mention.extra)
            extra[DOWNGRADED_KEY] = {"reason": extra.pop(URGENT_KEY, None), "by": user_id}
            session.execute(
                update(Mention)
                .execution_options(synchronize_session=False)
                .where(col(Mention.id) == mention_id)
                .values(extra=extra)
            )
        events.record(
            session=session,
            mention_id=mention_id,
            kind=EventKind.DOWNGRADED,
            actor=user_id,
            at=now,
            data={"reason": state.reason},
        )
        self._note(
            session,
            mention_id,
            f"downgrade:{mention_id}",
            f":arrow_down: <@{user_id}> marked this *not urgent*: no more pages; it waits "
            "for office hours like any other mention.",
            now,
            refresh=True,
        )
        return ":arrow_down: Marked not urgent: no more pages. It waits for office hours."

    def _note(
        self,
        session: Session,
        mention_id: int,
        key: str,
        text: str,
        now: datetime,
        *,
        refresh: bool = False,
    ) -> None:
        card = cards.active(session=session, mention_id=mention_id)
        if card is None:
            return
        outbox.enqueue_for_card(
            session=session,
            card=card,
            kind=OutboxKind.THREAD_REPLY,
            idem_key=key,
            now=now,
            payload={"text": text},
        )
        if refresh and not outbox.update_pending(session=session, card_id=card.id or 0):
            outbox.enqueue_for_card(
                session=session,
                card=card,
                kind=OutboxKind.UPDATE_CARD,
                idem_key=f"{key}:card",
                now=now,
            )
