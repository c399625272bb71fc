"""The retention purge: what is past its time loses its content; the figures stay.

Every day (and on ``engage purge``) mentions received longer ago than their source's retention
time lose their text, title, links, handle (kept only as a keyed hash), the answer's text and
the events' details; their Slack cards are updated to say the content was removed under the
retention policy. Event records older than the event retention time lose who did what and any
details. Every column a summary counts stays, so a summary of any period gives the same figures
before and after (the recurring words excepted: they are the texts). Each run is recorded in
``purgerun``; a dry run counts what would go and changes nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.config.retention import RetentionConfig
from bot.privacy.identity import Hasher
from storage import events as event_log
from storage import outbox
from storage.models import EventKind, OutboxKind
from storage.privacy import queries

BATCH = 500  # mentions per transaction: a first purge of years of data holds no long lock
EXPORT_PREFIX = "privacy:export:"  # outbox keys of exports sent as files


@dataclass(frozen=True)
class Cutoffs:
    by_source: dict[str, datetime]
    default: datetime | None
    events: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "sources": {s: at.isoformat() for s, at in self.by_source.items()},
            "citizen_data": self.default.isoformat() if self.default else None,
            "events": self.events.isoformat() if self.events else None,
        }

    @property
    def latest(self) -> datetime | None:
        """The most recent cut-off: copies of citizens' data older than this (a lead's list of
        overdue posts, an export sent as a file) are past every source's time."""
        kept = [*self.by_source.values(), *([self.default] if self.default else [])]
        return max(kept) if kept else None


@dataclass
class PurgeCounts:
    mentions: Counter[str] = field(default_factory=Counter)  # by source
    events: int = 0
    cards: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "mentions": dict(sorted(self.mentions.items())),
            "events": self.events,
            "cards": self.cards,
        }

    @property
    def total(self) -> int:
        return sum(self.mentions.values())


def cutoffs(config: RetentionConfig, now: datetime) -> Cutoffs:
    by_source = {s: now - d for s in config.sources if (d := config.citizen_window(s))}
    default = config.citizen_window("")
    return Cutoffs(
        by_source=by_source,
        default=now - default if default else None,
        events=now - timedelta(days=config.events) if config.events else None,
    )


def preview(session: Session, cut: Cutoffs) -> PurgeCounts:
    """What a purge would remove now (a dry run): mentions by source and event records."""
    counts = PurgeCounts()
    counts.mentions.update(
        queries.count_expired(session=session, cutoffs=cut.by_source, default=cut.default)
    )
    if cut.events is not None:
        counts.events = queries.count_old_events(session=session, before=cut.events)
    return counts


def remove_batch(
    session: Session,
    *,
    cut: Cutoffs,
    now: datetime,
    hasher: Hasher,
    counts: PurgeCounts,
) -> bool:
    """Remove one batch of expired mentions; whether there may be more."""
    rows = queries.expired(session=session, cutoffs=cut.by_source, default=cut.default, limit=BATCH)
    ids = [m.id for m in rows if m.id is not None]
    queries.remove_content(
        session=session, mentions=rows, reason="retention", at=now, author_hash=hasher.author
    )
    for mention in rows:
        event_log.record(
            session=session,
            mention_id=mention.id,
            kind=EventKind.PURGED,
            at=now,
            data={"reason": "retention"},
        )
        counts.mentions[mention.source] += 1
    queries.scrub_outbox(session=session, mention_ids=ids, drop_pending=False)
    counts.cards += update_cards(session, mention_ids=ids, reason="retention", now=now)
    return len(rows) == BATCH


def prune_events(session: Session, *, before: datetime, counts: PurgeCounts) -> bool:
    """Prune one batch of old event records; whether there may be more."""
    old = queries.old_events(session=session, before=before, limit=BATCH * 4)
    for event in old:
        queries.prune_event(session=session, event=event)
    counts.events += len(old)
    return len(old) == BATCH * 4


def update_cards(session: Session, *, mention_ids: list[int], reason: str, now: datetime) -> int:
    """Queue an update of every card that shows these mentions or lists their authors. A card
    is rendered when its update is sent, so one update already waiting will show the removal
    too; otherwise one is queued."""
    queued = 0
    for card in queries.cards_of(session=session, mention_ids=mention_ids):
        assert card.id is not None
        if outbox.update_pending(session=session, card_id=card.id):
            continue
        key = f"privacy:{reason}:{card.id}:{now.isoformat()}"
        if outbox.enqueue_for_card(
            session=session, card=card, kind=OutboxKind.UPDATE_CARD, idem_key=key, now=now
        ):
            queued += 1
    return queued
