"""The Slack calls that follow a staff action, queued in the outbox in the action's transaction.

The card update, the note in the card's thread, the answer sent to the citizen and the
ephemeral refusal each take their outbox key from the Slack request's key: the action and
what follows it commit together, and a retried request queues nothing twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.claims.outcomes import Outcome
from storage import cards, outbox
from storage.models import Card, OutboxKind


def update_and_note(
    *, session: Session, mention_id: int, request_key: str, note: str, now: datetime
) -> None:
    """The mention's active card shows its new state, and its thread says who did what."""
    card = cards.active(session=session, mention_id=mention_id)
    if card is None:
        return
    card_update(session=session, card=card, request_key=request_key, now=now)
    thread_note(session=session, card=card, request_key=request_key, now=now, text=note)


def card_update(*, session: Session, card: Card, request_key: str, now: datetime) -> None:
    # The update renders the card's state when it is sent, so it needs no payload.
    outbox.enqueue_for_card(
        session=session,
        card=card,
        kind=OutboxKind.UPDATE_CARD,
        idem_key=f"update:{card.id}:{request_key}",
        now=now,
    )


def thread_note(
    *, session: Session, card: Card, request_key: str, now: datetime, text: str
) -> None:
    outbox.enqueue_for_card(
        session=session,
        card=card,
        kind=OutboxKind.THREAD_REPLY,
        idem_key=f"note:{request_key}",
        now=now,
        payload={"text": text},
    )


def platform_reply(
    *,
    session: Session,
    mention_id: int,
    user_id: str,
    text: str,
    request_key: str,
    now: datetime,
) -> None:
    """The answer, sent to the citizen on the source platform by the mention's adapter."""
    card = cards.active(session=session, mention_id=mention_id)
    outbox.enqueue(
        session=session,
        kind=OutboxKind.PLATFORM_REPLY,
        idem_key=f"reply:{request_key}",
        channel_id=card.channel_id if card else "",
        mention_id=mention_id,
        card_id=card.id if card else None,
        now=now,
        payload={"text": text, "actor": user_id},
    )


def refusal(
    *,
    session: Session,
    request_key: str,
    user_id: str,
    channel_id: str,
    why: str,
    now: datetime,
) -> Outcome:
    """Tell only the person who clicked (an ephemeral message) why nothing happened."""
    outbox.enqueue(
        session=session,
        kind=OutboxKind.EPHEMERAL,
        idem_key=f"ephemeral:{request_key}",
        channel_id=channel_id,
        now=now,
        payload={"user": user_id, "text": why},
    )
    return Outcome(ok=False, message=why)
