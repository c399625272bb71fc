"""What staff do to a mention: claim, release, answer, hand over, dismiss.

Each action is one transaction: remember the Slack request's key (a retry finds it and does
nothing), make the conditional change, append the event, and queue the Slack calls that
follow (card update, thread note, or an ephemeral refusal) in the outbox. The Slack handler
acks only after this commits (or, for claim and release, after the click is kept for it:
:mod:`bot.claims.click_queue`), so an acked click is never lost.

This module owns the actions and what each decides; the wording of a refusal is
:mod:`bot.claims.outcomes`, the queued Slack calls that follow are :mod:`bot.claims.followups`,
what the modals show is :mod:`bot.claims.briefs`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.claims import briefs, followups
from bot.claims.briefs import MentionBrief
from bot.claims.clicks import ClickDecisions
from bot.claims.outcomes import DUPLICATE, GONE, Outcome, closed
from bot.core.clock import Clock
from bot.core.mrkdwn import escape, safe
from bot.core.office_time import OfficeHours
from bot.outbox.replies import Replies
from storage import cards, events, inbox, mentions, outbox
from storage.db import session_scope
from storage.models import Card, EventKind, Mention, MentionStatus, OutboxKind
from storage.rules import rows as stored

# What handlers import from here (the brief and Outcome live in their own modules).
__all__ = ["DISMISS_REASONS", "NOTE_LIMIT", "Claims", "MentionBrief", "Outcome"]

NOTE_LIMIT = 2500
DISMISS_REASONS = {
    "spam": "spam",
    "no_action": "no action needed",
    "duplicate": "duplicate",
    "abusive": "abusive",
    "other": "other",
}


class Claims:
    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        wake: Callable[[], None],
        replies: Replies,
        office_hours: Callable[[str | None], OfficeHours] | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.wake = wake  # tells the delivery worker there is work
        self.replies = replies
        self.office_hours = office_hours  # records the office time a claim/answer took
        # Claim and release run on the lean click path (see bot.claims.clicks for why).
        self.clicks = ClickDecisions(
            engine=engine, clock=clock, wake=wake, office_hours=office_hours
        )

    # Reads for the modals.
    def brief(self, mention_id: int) -> MentionBrief | None:
        with session_scope(self.engine) as session:
            return briefs.brief(session=session, mention_id=mention_id, replies=self.replies)

    def departments(self) -> list[tuple[str, str]]:
        with session_scope(self.engine) as session:
            return [(d.slug, d.name) for d in stored.departments(session=session)]

    # The actions.
    def claim(
        self,
        *,
        mention_id: int,
        user_id: str,
        request_key: str,
        channel_id: str,
        queued: int | None = None,
    ) -> Outcome:
        """``queued``: the click's row kept by :mod:`bot.claims.click_queue`, if it was."""
        note = f"<@{user_id}> claimed this."
        return self.clicks.claim(
            mention_id=mention_id,
            user_id=user_id,
            request_key=request_key,
            refuse_in=channel_id,
            note=note,
            queued=queued,
        )

    def release(
        self,
        *,
        mention_id: int,
        user_id: str,
        request_key: str,
        channel_id: str,
        queued: int | None = None,
    ) -> Outcome:
        return self.clicks.release(
            mention_id=mention_id,
            user_id=user_id,
            request_key=request_key,
            channel_id=channel_id,
            queued=queued,
        )

    def answer(
        self,
        *,
        mention_id: int,
        user_id: str,
        text: str,
        request_key: str,
        send_reply: bool = False,
    ) -> Outcome:
        def act(session: Session, m: Mention) -> Outcome:
            now = self.clock.now()
            if send_reply and self.replies.platform(m.adapter) is None:
                return Outcome(ok=False, message="Engage cannot reply on that platform.")
            if not mentions.answer(
                session=session,
                mention_id=mention_id,
                user_id=user_id,
                text=text,
                now=now,
                claim_office_us=self._office_us(m, m.first_claimed_at or now),
                answer_office_us=self._office_us(m, now),
            ):
                return Outcome(ok=False, message=closed(_fresh(session, m)))
            if m.claimed_by is None:
                events.record(
                    session=session,
                    mention_id=mention_id,
                    kind=EventKind.CLAIMED,
                    actor=user_id,
                    at=now,
                    data={"implicit": True},
                )
            events.record(
                session=session,
                mention_id=mention_id,
                kind=EventKind.ANSWERED,
                actor=user_id,
                at=now,
                data={"text": text, "via": "slack"},
            )
            quote = "\n".join(f"> {line}" for line in safe(text, NOTE_LIMIT).splitlines())
            if send_reply:
                followups.platform_reply(
                    session=session,
                    mention_id=mention_id,
                    user_id=user_id,
                    text=text,
                    request_key=request_key,
                    now=now,
                )
            # Allowed on someone else's claim (a colleague covers), but never silently.
            on = f" on <@{m.claimed_by}>'s claim" if m.claimed_by not in (None, user_id) else ""
            self._after(
                session, mention_id, request_key, f"<@{user_id}> answered the citizen{on}:\n{quote}"
            )
            return Outcome(ok=True)

        return self._run(mention_id, request_key, act)

    def dismiss(
        self, *, mention_id: int, user_id: str, reason: str, note: str, request_key: str
    ) -> Outcome:
        label = DISMISS_REASONS.get(reason)
        if label is None:
            return Outcome(ok=False, message=f"Unknown reason {reason!r}.")

        def act(session: Session, m: Mention) -> Outcome:
            if not mentions.dismiss(
                session=session, mention_id=mention_id, user_id=user_id, reason=label
            ):
                return Outcome(ok=False, message=closed(_fresh(session, m)))
            extra = f"\n> {safe(note, NOTE_LIMIT)}" if note else ""
            text = f"<@{user_id}> closed this without action ({label}).{extra}"
            return self._recorded(
                session,
                mention_id,
                EventKind.DISMISSED,
                user_id,
                request_key,
                text,
                {"reason": reason, "note": note},
            )

        return self._run(mention_id, request_key, act)

    def hand_over(
        self, *, mention_id: int, user_id: str, to_department: str, note: str, request_key: str
    ) -> Outcome:
        def act(session: Session, m: Mention) -> Outcome:
            now = self.clock.now()
            target = stored.department(session=session, slug=to_department)
            if target is None:
                return Outcome(ok=False, message=f"There is no department {to_department!r}.")
            if to_department == m.department:
                return Outcome(ok=False, message=f"It is already with {target.name}.")
            if not mentions.hand_over(
                session=session,
                mention_id=mention_id,
                from_department=m.department,
                to_department=to_department,
                now=now,
            ):
                return Outcome(ok=False, message=closed(_fresh(session, m)))
            events.record(
                session=session,
                mention_id=mention_id,
                kind=EventKind.HANDED_OVER,
                actor=user_id,
                at=now,
                data={"from": m.department, "to": to_department, "note": note},
            )
            old = cards.active(session=session, mention_id=mention_id)
            extra = f"\n> {safe(note, NOTE_LIMIT)}" if note else ""
            if old is not None:
                cards.deactivate(session=session, card_id=_id(old))
                followups.card_update(session=session, card=old, request_key=request_key, now=now)
                followups.thread_note(
                    session=session,
                    card=old,
                    request_key=request_key,
                    now=now,
                    text=f"<@{user_id}> handed this over to *{escape(target.name)}*.{extra}",
                )
            new = cards.create(
                session=session,
                mention_id=mention_id,
                channel_id=target.channel_id,
                department=to_department,
                now=now,
            )
            outbox.enqueue(
                session=session,
                kind=OutboxKind.POST_CARD,
                idem_key=f"card:{new.id}",
                channel_id=target.channel_id,
                mention_id=mention_id,
                card_id=new.id,
                now=now,
            )
            return Outcome(ok=True)

        return self._run(mention_id, request_key, act)

    def retry_reply(
        self, *, mention_id: int, user_id: str, request_key: str, channel_id: str
    ) -> Outcome:
        """Send the recorded answer to the citizen again, after a failed reply."""

        def act(session: Session, m: Mention) -> Outcome:
            if m.status != MentionStatus.ANSWERED or not m.answer_text:
                why = "There is no recorded answer to send."
                return self._refuse(session, request_key, user_id, channel_id, why)
            followups.platform_reply(
                session=session,
                mention_id=mention_id,
                user_id=user_id,
                text=m.answer_text,
                request_key=request_key,
                now=self.clock.now(),
            )
            return Outcome(ok=True)

        return self._run(mention_id, request_key, act)

    def claim_by_reply(
        self, *, channel_id: str, thread_ts: str, user_id: str, request_key: str
    ) -> Outcome:
        """A staff member who replies first in a card's thread owns the mention."""
        with session_scope(self.engine) as session:
            card = cards.by_message(session=session, channel_id=channel_id, ts=thread_ts)
            if card is None or not card.active:
                return Outcome(ok=False, message="not an open card")
            mention_id = card.mention_id

        # Nobody is told "already claimed" here: a reply in a thread is not a click.
        return self.clicks.claim(
            mention_id=mention_id,
            user_id=user_id,
            request_key=request_key,
            refuse_in=None,
            note=f"<@{user_id}> replied here first, so it is theirs now.",
            via="thread_reply",
        )

    # Plumbing shared by the actions.
    def _office_us(self, m: Mention, until: datetime) -> int | None:
        """Office time from the mention's arrival to ``until``, in its department's hours."""
        if self.office_hours is None:
            return None
        took = self.office_hours(m.department).between(m.received_at, until)
        return took // timedelta(microseconds=1)

    def _run(
        self, mention_id: int, request_key: str, act: Callable[[Session, Mention], Outcome]
    ) -> Outcome:
        """``act`` once per Slack request, then wake delivery for what it queued."""
        return inbox.once_for_mention(
            engine=self.engine,
            key=request_key,
            now=self.clock.now(),
            mention_id=mention_id,
            duplicate=DUPLICATE,
            missing=GONE,
            act=act,
            then=self.wake,
        )

    def _recorded(
        self,
        session: Session,
        mention_id: int,
        kind: EventKind,
        user_id: str,
        request_key: str,
        note: str,
        data: dict[str, Any] | None = None,
    ) -> Outcome:
        """The event of a decision taken, then the card update and the thread note."""
        events.record(
            session=session,
            mention_id=mention_id,
            kind=kind,
            actor=user_id,
            at=self.clock.now(),
            data=data or {},
        )
        self._after(session, mention_id, request_key, note)
        return Outcome(ok=True)

    def _after(self, session: Session, mention_id: int, request_key: str, note: str) -> None:
        followups.update_and_note(
            session=session,
            mention_id=mention_id,
            request_key=request_key,
            note=note,
            now=self.clock.now(),
        )

    def _refuse(
        self, session: Session, request_key: str, user_id: str, channel_id: str, why: str
    ) -> Outcome:
        return followups.refusal(
            session=session,
            request_key=request_key,
            user_id=user_id,
            channel_id=channel_id,
            why=why,
            now=self.clock.now(),
        )


def _fresh(session: Session, m: Mention) -> Mention:
    """The row as committed now: after a lost race, the winner's state, for the message."""
    assert m.id is not None
    return mentions.get(session=session, mention_id=m.id) or m


def _id(card: Card) -> int:
    assert card.id is not None
    return card.id
