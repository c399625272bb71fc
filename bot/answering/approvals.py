"""Answers to sensitive mentions, held for the comms team before they reach the citizen.

A mention needs approval when it was labelled *handle with care* (abusive language), when its
author is on a priority author list (the press, councillors; which lists is configurable), or
when the rule that routed it says ``approval: true``. Only answers *sent to the citizen* are
held: an answer recorded in Slack alone reaches nobody outside.

Every step is one transaction with its event (``approval_requested``, ``approved``,
``sent_back``, ``approval_void``) and its Slack calls queued in the outbox: the draft card in
the comms channel, its edit once decided, and a direct message to the author at each step. The
status moves by conditional update, so of two comms members clicking at once one decides.
An approval then answers through :meth:`bot.claims.service.Claims.answer`, keyed on the
approval: a retried click or a crash between the two steps sends the reply once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.answering import drafts
from bot.claims import followups
from bot.claims.outcomes import GONE, Outcome, closed
from bot.claims.service import Claims
from bot.config.answering import ApprovalConfig
from bot.config.comms import CommsTeam
from bot.config.priority_authors import LIST_KEY, label_of
from bot.core.clock import Clock
from bot.outbox.replies import Replies
from storage import cards, events, inbox, mentions, outbox
from storage.answering import approvals as held
from storage.answering import replies as saved_rows
from storage.answering.tables import Approval, ApprovalStatus
from storage.db import session_scope
from storage.models import EventKind, Mention, MentionStatus, OutboxKind
from storage.rules import rows as rule_rows

REFUSAL = "Only the comms team can approve, edit or send back answers."
WAITING = "An answer to this is already waiting for the comms team's approval."


class Approvals:
    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        comms: CommsTeam,
        claims: Claims,
        replies: Replies,
        config: ApprovalConfig,
        channel: str,
        priority_lists: Sequence[str],
        wake: Callable[[], None],
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.comms = comms
        self.claims = claims
        self.replies = replies
        self.config = config
        self.channel = config.channel or channel
        self.lists = set(config.author_lists if config.author_lists is not None else priority_lists)
        self.wake = wake

    def may_approve(self, user: str) -> bool:
        return self.comms.includes(user)

    def reasons(self, session: Session, m: Mention) -> list[str]:
        """Why an answer to ``m`` must wait for the comms team (empty: it need not)."""
        found: list[str] = []
        if self.config.care and m.extra.get("care"):
            found.append("abusive language")
        if m.extra.get(LIST_KEY) in self.lists:
            found.append(label_of(m.extra) or str(m.extra[LIST_KEY]))
        rule = rule_rows.rule(session=session, name=m.rule) if m.rule else None
        if rule is not None and rule.spec.get("approval") is True:
            found.append(f"rule {m.rule}")
        return found

    def needs_approval(self, mention_id: int) -> list[str]:
        with session_scope(self.engine) as session:
            m = mentions.get(session=session, mention_id=mention_id)
            return self.reasons(session, m) if m is not None else []

    def get(self, approval_id: int) -> Approval | None:
        with session_scope(self.engine) as session:
            return held.get(session=session, approval_id=approval_id)

    # The author's step.
    def submit(
        self,
        *,
        mention_id: int,
        user_id: str,
        text: str,
        request_key: str,
        saved_reply_id: int | None = None,
    ) -> Outcome:
        """Hold an answer for approval: the draft card, the author's note, the event."""

        def act(session: Session, m: Mention) -> Outcome:
            if m.status not in (MentionStatus.NEW, MentionStatus.CLAIMED):
                return Outcome(ok=False, message=closed(m))
            if held.pending_for(session=session, mention_id=mention_id) is not None:
                return Outcome(ok=False, message=WAITING)
            now = self.clock.now()
            reasons = self.reasons(session, m)
            row = held.create(
                session=session,
                mention_id=mention_id,
                author=user_id,
                text=text,
                reasons=reasons,
                saved_reply_id=saved_reply_id,
                channel_id=self.channel,
                now=now,
            )
            events.record(
                session=session,
                mention_id=mention_id,
                kind=EventKind.APPROVAL_REQUESTED,
                actor=user_id,
                at=now,
                data={"approval": row.id, "reasons": reasons, "text": text},
            )
            if saved_reply_id is not None:
                saved_rows.record_use(
                    session=session,
                    reply_id=saved_reply_id,
                    mention_id=mention_id,
                    department=m.department or m.extra.get("suggested_department"),
                    user_id=user_id,
                    at=now,
                )
            text_, blocks = drafts.draft_card(row, m, self.replies.platform(m.adapter) or "")
            self._message(session, f"approval:{row.id}:draft", self.channel, text_, blocks)
            self._tell_author(session, row, "asked")
            card = cards.active(session=session, mention_id=mention_id)
            if card is not None:
                followups.thread_note(
                    session=session,
                    card=card,
                    request_key=request_key,
                    now=now,
                    text=f":hourglass_flowing_sand: <@{user_id}>'s answer is waiting for the "
                    "comms team's approval.",
                )
            return Outcome(ok=True, message="Sent to the comms team for approval.")

        return inbox.once_for_mention(
            engine=self.engine,
            key=request_key,
            now=self.clock.now(),
            mention_id=mention_id,
            duplicate=Outcome(ok=True, duplicate=True),
            missing=GONE,
            act=act,
            then=self.wake,
        )

    # The comms team's steps.
    def approve(
        self,
        *,
        approval_id: int,
        user_id: str,
        request_key: str,
        channel_id: str,
        text: str | None = None,
    ) -> Outcome:
        """Approve (``text``: as edited) and send through the one answer path."""
        refused = self._refusal(user_id, request_key, channel_id)
        if refused is not None:
            return refused
        with session_scope(self.engine) as session:
            row = held.get(session=session, approval_id=approval_id)
            if row is None:
                return Outcome(ok=False, message="This draft no longer exists.")
            now = self.clock.now()
            edited = text is not None and text != row.text
            if held.decide(
                session=session,
                approval_id=approval_id,
                status=ApprovalStatus.APPROVED,
                by=user_id,
                now=now,
                text=text if edited else None,
            ):
                events.record(
                    session=session,
                    mention_id=row.mention_id,
                    kind=EventKind.APPROVED,
                    actor=user_id,
                    at=now,
                    data={"approval": approval_id, "author": row.author, "edited": edited}
                    | ({"text": text} if edited else {}),
                )
            row = held.get(session=session, approval_id=approval_id)
            assert row is not None
            if row.status != ApprovalStatus.APPROVED:
                return self._already(session, row, user_id, request_key, channel_id)
            mention_id, author, answer = row.mention_id, row.author, row.text
        # The approval's own key: whoever clicks, however often, the answer is sent once.
        outcome = self.claims.answer(
            mention_id=mention_id,
            user_id=author,
            text=answer,
            request_key=f"approval:{approval_id}",
            send_reply=True,
        )
        with session_scope(self.engine) as session:
            if outcome.ok:
                self._decided(session, approval_id, "approved")
            elif held.decide(
                session=session,
                approval_id=approval_id,
                status=ApprovalStatus.VOID,
                by=user_id,
                now=self.clock.now(),
                note=outcome.message.replace("<@", "@").replace(">", ""),
                expect=ApprovalStatus.APPROVED,
            ):
                events.record(
                    session=session,
                    mention_id=mention_id,
                    kind=EventKind.APPROVAL_VOID,
                    actor=user_id,
                    at=self.clock.now(),
                    data={"approval": approval_id, "why": outcome.message},
                )
                self._decided(session, approval_id, "void")
        self.wake()
        return outcome

    def send_back(
        self, *, approval_id: int, user_id: str, note: str, request_key: str, channel_id: str
    ) -> Outcome:
        refused = self._refusal(user_id, request_key, channel_id)
        if refused is not None:
            return refused
        with session_scope(self.engine) as session:
            row = held.get(session=session, approval_id=approval_id)
            if row is None:
                return Outcome(ok=False, message="This draft no longer exists.")
            now = self.clock.now()
            if not held.decide(
                session=session,
                approval_id=approval_id,
                status=ApprovalStatus.SENT_BACK,
                by=user_id,
                now=now,
                note=note,
            ):
                fresh = held.get(session=session, approval_id=approval_id) or row
                return self._already(session, fresh, user_id, request_key, channel_id)
            events.record(
                session=session,
                mention_id=row.mention_id,
                kind=EventKind.SENT_BACK,
                actor=user_id,
                at=now,
                data={"approval": approval_id, "author": row.author, "note": note},
            )
            self._decided(session, approval_id, "sent_back")
        self.wake()
        return Outcome(ok=True)

    def refuse(self, *, user_id: str, request_key: str, channel_id: str) -> Outcome:
        """Tell someone outside the comms team (an ephemeral in the channel) they may not."""
        self._ephemeral(user_id, request_key, channel_id, REFUSAL)
        return Outcome(ok=False, message=REFUSAL)

    # Plumbing.
    def _refusal(self, user_id: str, request_key: str, channel_id: str) -> Outcome | None:
        if self.may_approve(user_id):
            return None
        return self.refuse(user_id=user_id, request_key=request_key, channel_id=channel_id)

    def _ephemeral(self, user_id: str, request_key: str, channel_id: str, why: str) -> None:
        if not channel_id:
            return
        with session_scope(self.engine) as session:
            followups.refusal(
                session=session,
                request_key=request_key,
                user_id=user_id,
                channel_id=channel_id,
                why=why,
                now=self.clock.now(),
            )
        self.wake()

    def _already(
        self, session: Session, row: Approval, user_id: str, request_key: str, channel_id: str
    ) -> Outcome:
        why = drafts.decided_line(row).split(" ", 1)[-1]
        outbox.enqueue(
            session=session,
            kind=OutboxKind.EPHEMERAL,
            idem_key=f"ephemeral:{request_key}",
            channel_id=channel_id or row.channel_id,
            now=self.clock.now(),
            payload={"user": user_id, "text": f"Decided already. {why}"},
        )
        return Outcome(ok=False, message=f"Decided already. {why}")

    def _decided(self, session: Session, approval_id: int, step: str) -> None:
        """Edit the draft card to say how it was decided; tell the author."""
        row = held.get(session=session, approval_id=approval_id)
        m = mentions.get(session=session, mention_id=row.mention_id) if row else None
        if row is None or m is None:
            return
        ts = held.posted_ts(session=session, idem_key=f"approval:{approval_id}:draft")
        if ts:  # not posted yet (rare): its buttons answer "decided already"
            text, blocks = drafts.draft_card(row, m, self.replies.platform(m.adapter) or "")
            self._message(
                session, f"approval:{approval_id}:{step}:card", row.channel_id, text, blocks, ts=ts
            )
        self._tell_author(session, row, step)

    def _tell_author(self, session: Session, row: Approval, step: str) -> None:
        text = drafts.to_author(row, step)
        self._message(session, f"approval:{row.id}:{step}:dm", row.author, text, None)

    def _message(
        self,
        session: Session,
        key: str,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None,
        *,
        ts: str | None = None,
    ) -> None:
        payload: dict[str, Any] = {"text": text}
        if blocks:
            payload["blocks"] = blocks
        if ts:
            payload["ts"] = ts  # an edit of a message Engage posted (bot/outbox/delivery.py)
        outbox.enqueue(
            session=session,
            kind=OutboxKind.MESSAGE,
            idem_key=key,
            channel_id=channel,
            now=self.clock.now(),
            payload=payload,
        )
