"""Cards: the Slack messages that show a mention, found again by ``(channel, ts)``."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from storage.intake.linking import is_linked
from storage.models import Card, Department, Event, EventKind, Mention


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


def set_ts_many(*, session: Session, posted: Collection[tuple[int, str, str]]) -> None:
    """:func:`set_ts` for several cards (id, channel, ts): one statement, executed for each."""
    if not posted:
        return
    table = Card.__table__  # type: ignore[attr-defined]
    stmt = (
        table.update()
        .where(table.c.id == bindparam("card_id"))
        .values(channel_id=bindparam("card_channel"), ts=bindparam("card_ts"))
    )
    rows = [{"card_id": i, "card_channel": c, "card_ts": ts} for i, c, ts in posted]
    session.execute(stmt, rows)


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


# Reads for rendering many cards at once (delivery renders a batch of leased rows together):
# a handful of statements per batch instead of several per card.
def with_mentions(
    *, session: Session, card_ids: Collection[int]
) -> dict[int, tuple[Card, Mention | None]]:
    """Each card with its mention, fresh from the database, in one query."""
    if not card_ids:
        return {}
    query = (
        select(Card, Mention)
        .join(Mention, col(Mention.id) == col(Card.mention_id), isouter=True)
        .where(col(Card.id).in_(list(card_ids)))
        .execution_options(populate_existing=True)
    )
    return {card.id: (card, mention) for card, mention in session.exec(query) if card.id}


def handovers(*, session: Session, cards: Collection[Card]) -> dict[int, list[Event]]:
    """Per card, its mention's hand-over events since the card was made, oldest first."""
    if not cards:
        return {}
    query = (
        select(Event)
        .where(
            col(Event.mention_id).in_({c.mention_id for c in cards}),
            Event.kind == EventKind.HANDED_OVER.value,
            col(Event.at) >= min(c.created_at for c in cards),
        )
        .order_by(col(Event.id))
    )
    found = list(session.exec(query))
    return {
        card.id: [e for e in found if e.mention_id == card.mention_id and e.at >= card.created_at]
        for card in cards
        if card.id is not None
    }


def department_names(*, session: Session, slugs: Collection[str]) -> dict[str, str]:
    if not slugs:
        return {}
    query = select(Department.slug, Department.name).where(col(Department.slug).in_(list(slugs)))
    return {slug: name for slug, name in session.exec(query)}


@dataclass(frozen=True)
class Copy:
    """A mention folded or linked into a card's mention, as the card shows it."""

    source: str
    url: str | None
    author: str
    external_id: str
    extra: dict[str, Any]


@dataclass
class Copies:
    """What was folded into one root (counted, first authors) and linked to it (listed)."""

    folded: int = 0
    folded_authors: list[str] = field(default_factory=list)
    linked: int = 0
    linked_rows: list[Copy] = field(default_factory=list)


def copies(
    *, session: Session, root_ids: Collection[int], show_folded: int = 12, show_linked: int = 10
) -> dict[int, Copies]:
    """For each root: :func:`storage.intake.folding.folded` and
    :func:`storage.intake.linking.linked`, for all the roots in one query."""
    found = {root: Copies() for root in root_ids}
    if not found:
        return found
    flag = is_linked()
    part = (col(Mention.folded_into), flag)
    ranked = (
        core_select(
            col(Mention.id).label("id"),
            col(Mention.folded_into).label("root"),
            flag.label("linked"),
            col(Mention.author).label("author"),
            col(Mention.source).label("source"),
            col(Mention.url).label("url"),
            col(Mention.external_id).label("external_id"),
            col(Mention.extra).label("extra"),
            func.row_number().over(partition_by=part, order_by=col(Mention.id)).label("n"),
            func.count().over(partition_by=part).label("total"),
        )
        .where(col(Mention.folded_into).in_(list(found)))
        .subquery()
    )
    query = core_select(ranked).where(ranked.c.n <= max(show_folded, show_linked))
    for row in session.execute(query.order_by(ranked.c.id)):
        one = found[int(row.root)]
        if row.linked:
            one.linked = int(row.total)
            if row.n <= show_linked:
                copy = Copy(row.source, row.url, row.author, row.external_id, dict(row.extra))
                one.linked_rows.append(copy)
        else:
            one.folded = int(row.total)
            if row.n <= show_folded and row.author:
                one.folded_authors.append(row.author)
    return found
