"""Cards: the Slack messages that show a mention, found again by ``(channel, ts)``."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.models import Card


def create(
    *, session: Session, mention_id: int, channel_id: str, department: str | None, now: datetime
) -> Card:
    card = Card(mention_id=mention_id, channel_id=channel_id, department=department, created_at=now)
    session.add(card)
    session.flush()
    return card


def get(*, session: Session, card_id: int) -> Card | None:
    return session.get(Card, card_id, populate_existing=True)


def set_ts(*, session: Session, card_id: int, channel_id: str, ts: str) -> None:
    session.execute(
        update(Card)
        .execution_options(synchronize_session=False)
        .where(col(Card.id) == card_id)
        .values(channel_id=channel_id, ts=ts)
    )


def active(*, session: Session, mention_id: int) -> Card | None:
    query = (
        select(Card)
        .where(Card.mention_id == mention_id, col(Card.active).is_(True))
        .order_by(col(Card.id).desc())
    )
    return session.exec(query).first()


def deactivate(*, session: Session, card_id: int) -> None:
    session.execute(
        update(Card)
        .execution_options(synchronize_session=False)
        .where(col(Card.id) == card_id)
        .values(active=False)
    )


def by_message(*, session: Session, channel_id: str, ts: str) -> Card | None:
    query = select(Card).where(Card.channel_id == channel_id, Card.ts == ts)
    return session.exec(query).first()


def active_for(*, session: Session, mention_ids: Collection[int]) -> dict[int, Card]:
    """The active card of each mention, in one query."""
    query = select(Card).where(col(Card.mention_id).in_(list(mention_ids)), col(Card.active))
    return {card.mention_id: card for card in session.exec(query.order_by(col(Card.id)))}
