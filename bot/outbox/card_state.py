"""What a card shows, read from storage: the mention's state and where hand-overs moved it."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from bot.config.priority_authors import label_of
from bot.outbox.cards import CardView, LinkedReport
from storage import events, mentions
from storage.intake import folding, linking
from storage.models import Card, EventKind, MentionStatus
from storage.privacy import REMOVED_KEY
from storage.rules import rows as stored


def card_view(session: Session, card: Card) -> CardView:
    """The card's state, derived from the mention and its hand-over events."""
    mention = mentions.get(session=session, mention_id=card.mention_id)
    assert mention is not None and mention.id is not None
    handovers = events.of_kind_since(
        session=session, mention_id=mention.id, kind=EventKind.HANDED_OVER, since=card.created_at
    )
    # Only the departments this card names (a city with 200 of them paid for all on each card).
    slugs = {card.department, *(e.data.get(k) for e in handovers for k in ("from", "to"))}
    found = (stored.department(session=session, slug=s) for s in slugs if isinstance(s, str))
    names = {d.slug: d.name for d in found if d is not None}
    moved = next((e for e in handovers if e.data.get("from") == card.department), None)
    arrived = next((e for e in reversed(handovers) if e.data.get("to") == card.department), None)

    def name(slug: str | None) -> str:
        return names.get(slug, slug) if slug else "triage"

    folded, authors = folding.folded(session=session, root_id=mention.id)
    # A list of words when screening set it; a mention stored before the webhook refused
    # senders' own "care" (``{"care": 7}``) must still render, not fail on every attempt.
    care = mention.extra.get("care")
    care = care if isinstance(care, list) else []
    linked_total, linked = linking.linked(session=session, root_id=mention.id)
    return CardView(
        mention_id=mention.id,
        source=mention.source,
        author=mention.author,
        text=mention.text,
        title=mention.title,
        url=mention.url,
        created_at=mention.created_at,
        received_at=mention.received_at,
        department_name=names.get(card.department or ""),
        rule=mention.rule,
        route_reason=mention.route_reason,
        status=MentionStatus(mention.status),
        claimed_by=mention.claimed_by,
        answered_by=mention.answered_by,
        dismissed_by=mention.dismissed_by,
        dismissed_reason=mention.dismissed_reason,
        moved_to=name(moved.data.get("to")) if moved and not card.active else None,
        moved_by=moved.actor if moved and not card.active else None,
        handed_from=name(arrived.data.get("from")) if arrived and card.active else None,
        handed_by=arrived.actor if arrived and card.active else None,
        folded=folded,
        folded_authors=tuple(authors),
        care=tuple(str(w) for w in care),
        priority=label_of(mention.extra),
        # Set at ingest by bot.urgent.detect (URGENT_KEY), removed by "Not urgent".
        urgent=str(mention.extra["urgent"]) if mention.extra.get("urgent") else None,
        linked=tuple(
            LinkedReport(
                source=m.source,
                url=m.url,
                author=m.author,
                request_id=m.external_id
                if m.source == "open311" and not removed_reason(m.extra)
                else None,
                priority=label_of(m.extra),
            )
            for m in linked
        ),
        linked_total=linked_total,
        removed=removed_reason(mention.extra),
    )


def removed_reason(extra: dict[str, Any]) -> str | None:
    """Why a mention's content is gone (``retention``, ``erasure``), or None if it is there."""
    removed = extra.get(REMOVED_KEY)
    return str(removed.get("reason") or "retention") if isinstance(removed, dict) else None
