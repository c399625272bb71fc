"""What a card shows, read from storage: the mention's state and where hand-overs moved it.

Delivery reads what a batch of leased rows needs at once (:func:`ready`): a few statements per
batch, whatever its size, instead of several per card, which kept a drain over hundreds of
channels waiting on the database rather than on Slack.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from bot.config.priority_authors import label_of
from bot.outbox.cards import CardView, LinkedReport, render
from bot.outbox.jobs import Job
from storage import cards
from storage.models import Card, Event, Mention, MentionStatus, OutboxKind
from storage.privacy import REMOVED_KEY

log = logging.getLogger(__name__)

# The rows about a card: they need the card (its channel and ts), and posts and updates its look.
CARD_KINDS = (
    OutboxKind.POST_CARD.value,
    OutboxKind.UPDATE_CARD.value,
    OutboxKind.THREAD_REPLY.value,
)


@dataclass(frozen=True)
class Ready:
    """What one attempt at a card's row needs from storage, read with the rest of its batch."""

    found: bool  # False: the card is gone
    channel_id: str = ""
    ts: str | None = None
    text: str = ""  # the card rendered (a post, or an update of a posted card)
    blocks: list[dict[str, Any]] | None = None


class Batch:
    """:func:`ready` for a batch of jobs, read by the first of their workers that needs it (the
    others wait for it), so the dispatcher goes back to the queue at once. If the read fails,
    each worker reads its own."""

    def __init__(self, read: Callable[[list[Job]], dict[int, Ready]], jobs: list[Job]) -> None:
        self._read = read
        self._jobs = jobs
        self._lock = threading.Lock()
        self._found: dict[int, Ready] | None = None

    def get(self, job_id: int) -> Ready | None:
        with self._lock:
            if self._found is None:
                try:
                    self._found = self._read(self._jobs)
                except Exception:
                    log.exception("reading a batch of cards failed; reading them one by one")
                    self._found = {}
        return self._found.get(job_id)


def ready(session: Session, jobs: Sequence[Job]) -> dict[int, Ready]:
    """For each of ``jobs`` about a card, its card and, for a post or an update of a posted
    card, the card rendered as it is now."""
    wanted = [job for job in jobs if job.kind in CARD_KINDS]
    ids = {job.card_id for job in wanted if job.card_id}
    found = cards.with_mentions(session=session, card_ids=ids)
    # A post shows the card, and so does an update of a card that was posted; a note does not.
    shown = {
        job.id: job.card_id
        for job in wanted
        if job.card_id in found
        and (
            job.kind == OutboxKind.POST_CARD
            or (job.kind == OutboxKind.UPDATE_CARD and found[job.card_id][0].ts is not None)
        )
    }
    views = card_views(session, [found[c] for c in set(shown.values())])
    looks = {card_id: render(view) for card_id, view in views.items()}
    out: dict[int, Ready] = {}
    for job in wanted:
        if not job.card_id or job.card_id not in found:
            out[job.id] = Ready(found=False)
            continue
        card = found[job.card_id][0]
        text, blocks = looks[job.card_id] if job.id in shown else ("", None)
        out[job.id] = Ready(True, card.channel_id, card.ts, text, blocks)
    return out


def card_view(session: Session, card: Card) -> CardView:
    """The card's state, derived from the mention and its hand-over events."""
    assert card.id is not None
    return card_views(session, [(card, None)])[card.id]


def card_views(
    session: Session, pairs: Collection[tuple[Card, Mention | None]]
) -> dict[int, CardView]:
    """:func:`card_view` of each card (with its mention, if read already), in a few queries."""
    if not pairs:
        return {}
    missing = [card.id for card, mention in pairs if mention is None and card.id is not None]
    fresh = cards.with_mentions(session=session, card_ids=missing)
    both = [(card, mention or fresh[card.id][1]) for card, mention in pairs if card.id]
    handovers = cards.handovers(session=session, cards=[card for card, _ in both])
    # Only the departments these cards name (a city with 200 of them paid for all on each card).
    slugs = {card.department for card, _ in both} | {
        e.data.get(k) for events in handovers.values() for e in events for k in ("from", "to")
    }
    names = cards.department_names(session=session, slugs={s for s in slugs if isinstance(s, str)})
    roots = {mention.id for _, mention in both if mention is not None and mention.id}
    copies = cards.copies(session=session, root_ids=roots)
    views: dict[int, CardView] = {}
    for card, mention in both:
        assert mention is not None and mention.id is not None and card.id is not None
        views[card.id] = _view(card, mention, handovers[card.id], names, copies[mention.id])
    return views


def _view(
    card: Card,
    mention: Mention,
    handovers: list[Event],
    names: dict[str, str],
    copies: cards.Copies,
) -> CardView:
    assert mention.id is not None
    moved = next((e for e in handovers if e.data.get("from") == card.department), None)
    arrived = next((e for e in reversed(handovers) if e.data.get("to") == card.department), None)

    def name(slug: str | None) -> str:
        return names.get(slug, slug) if slug else "triage"

    # A list of words when screening set it; a mention stored before the webhook refused
    # senders' own "care" (``{"care": 7}``) must still render, not fail on every attempt.
    care = mention.extra.get("care")
    care = care if isinstance(care, list) else []
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
        folded=copies.folded,
        folded_authors=tuple(copies.folded_authors),
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
            for m in copies.linked_rows
        ),
        linked_total=copies.linked,
        removed=removed_reason(mention.extra),
    )


def removed_reason(extra: dict[str, Any]) -> str | None:
    """Why a mention's content is gone (``retention``, ``erasure``), or None if it is there."""
    removed = extra.get(REMOVED_KEY)
    return str(removed.get("reason") or "retention") if isinstance(removed, dict) else None
