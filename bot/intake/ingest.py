"""Ingest: store a mention, route it and queue its card, all in one transaction.

The mention row, its ``received`` and ``routed`` events, its card row and the outbox row that
will post the card commit together or not at all, so a crash at any point either leaves no
trace (the adapter's cursor did not move either) or leaves everything delivery needs.

Before a mention gets a card, brigading may fold it into a campaign's card (a copy) and
linking may join it to the open card of the same issue reported elsewhere (another report);
either way it is stored, with an event, and shown on that card instead.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.config.file import BrigadingConfig, LinkingConfig
from bot.config.priority_authors import PriorityAuthors
from bot.core import metrics
from bot.core.adapter import IncomingMention
from bot.core.clock import Clock
from bot.core.mrkdwn import escape, one_line, safe
from bot.core.mrkdwn import link as mrkdwn_link
from bot.core.sources import source_label
from bot.intake.language import detect
from bot.intake.screening.brigading import Brigading, Decision
from bot.intake.screening.linking import LINKED_INTO, Link, Linking
from bot.intake.screening.linking_text import OPEN311
from bot.routing import MentionContext
from bot.rules.rulebook import Rulebook
from storage import cards, events, mentions, outbox
from storage.models import Card, EventKind, OutboxKind

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestResult:
    mention_id: int | None  # None when it was a duplicate
    duplicate: bool
    department: str | None = None
    rule: str | None = None


# An adapter reports a change to an item it brought before (Open311 status changes) as a
# mention whose extra names the original: it becomes a note on the original's card.
UPDATE_OF = "status_update_of"
FOLD_UPDATE_DELAY = timedelta(seconds=5)


class Ingestor:
    def __init__(
        self,
        *,
        rulebook: Rulebook,
        clock: Clock,
        brigading: Brigading | None = None,
        linking: Linking | None = None,
        priority: PriorityAuthors | None = None,
    ) -> None:
        self.rulebook = rulebook
        self.clock = clock
        self.brigading = brigading or Brigading(BrigadingConfig())
        self.linking = linking or Linking(LinkingConfig())
        self.priority = priority or PriorityAuthors({})

    def ingest(
        self, *, session: Session, items: Sequence[IncomingMention], adapter: str = ""
    ) -> list[IngestResult]:
        return [self._one(session, item, adapter) for item in items]

    def _one(self, session: Session, item: IncomingMention, adapter: str) -> IngestResult:
        if item.extra.get(UPDATE_OF):
            return self._update(session, item)
        now = self.clock.now()
        book = self.rulebook.current(session)
        routing_text = f"{item.title}\n{item.text}" if item.title else item.text
        language = item.language or detect(routing_text)
        match = book.route(routing_text, item.source, _context(item, language))
        department = match.department if match else None
        decision = self.brigading.decide(
            session,
            text=routing_text,
            author=item.author,
            department=department,
            now=now,
            source=item.source,
        )
        link = None
        if not (decision.muted or decision.fold_into or decision.care):
            # A report that needs care stays in front of the comms team, never on another card.
            link = self._link(session, item, now)
        extra = dict(item.extra)
        priority = self.priority.of(item.author)
        if priority is not None:
            extra.update(priority.extra())
        if link is not None:
            extra[LINKED_INTO] = link.root
        route_reason = match.reason if match else None
        if decision.care and not decision.fold_into:
            # Abusive language: the comms team sees it first and hands it on if it is work.
            extra["care"] = decision.care
            extra["suggested_department"] = department
            department, route_reason = None, "handle with care: " + ", ".join(decision.care)
        status = "new"
        if decision.muted:
            status = "dismissed"
        elif decision.fold_into or link:
            status = "folded"
        folded_into = decision.fold_into or (link.root if link else None)
        mention_id = mentions.insert(
            session=session,
            values={
                "source": item.source,
                "external_id": item.external_id[:512],
                "adapter": adapter,
                "author": item.author,
                "url": item.url,
                "title": item.title,
                "text": item.text,
                "language": language,
                "created_at": item.created_at,
                "received_at": now,
                "extra": extra,
                "department": department,
                "rule": match.rule if match else None,
                "route_reason": route_reason,
                "status": status,
                "dismissed_reason": "muted author" if decision.muted else None,
                "fingerprint": decision.fingerprint,
                "folded_into": folded_into,
                "version": 0,
                # The nudge sweep works out the schedule of what gets a card of its own.
                "next_nudge_at": now if status == "new" else None,
            },
        )
        if mention_id is None:
            return IngestResult(mention_id=None, duplicate=True)
        events.record(
            session=session,
            mention_id=mention_id,
            kind=EventKind.RECEIVED,
            at=now,
            data={"source": item.source, "adapter": adapter},
        )
        events.record(
            session=session,
            mention_id=mention_id,
            kind=EventKind.ROUTED,
            at=now,
            data={
                "department": department,
                "rule": match.rule if match else None,
                "reason": match.reason if match else "no rule matched",
            },
        )
        if decision.muted or folded_into:
            if link is not None:
                self._linked(session, mention_id, item, link, now)
            else:
                self._no_card(session, mention_id, decision, now)
            metrics.MENTIONS_RECEIVED.labels(source=item.source).inc()
            return IngestResult(
                mention_id=mention_id,
                duplicate=False,
                department=department,
                rule=match.rule if match else None,
            )
        channel = book.channels[department] if department else self.rulebook.triage_channel
        card = cards.create(
            session=session,
            mention_id=mention_id,
            channel_id=channel,
            department=department,
            now=now,
        )
        outbox.enqueue(
            session=session,
            kind=OutboxKind.POST_CARD,
            idem_key=f"card:{card.id}",
            channel_id=channel,
            mention_id=mention_id,
            card_id=card.id,
            now=now,
        )
        if match is not None and match.cc in book.channels and match.cc != department:
            outbox.enqueue(
                session=session,
                kind=OutboxKind.MESSAGE,
                idem_key=f"cc:{mention_id}",
                channel_id=book.channels[str(match.cc)],
                now=now,
                payload={
                    "text": (
                        f":incoming_envelope: For your information: a {source_label(item.source)} "
                        f"mention went to *{escape(book.names.get(department or '', 'triage'))}* "
                        f"(rule *{escape(match.rule)}*): {safe(one_line(item.text), 300)}"
                    )
                },
            )
        metrics.MENTIONS_RECEIVED.labels(source=item.source).inc()
        log.info(
            "mention stored",
            extra={"mention_id": mention_id, "source": item.source, "department": department},
        )
        return IngestResult(
            mention_id=mention_id,
            duplicate=False,
            department=department,
            rule=match.rule if match else None,
        )

    def _update(self, session: Session, item: IncomingMention) -> IngestResult:
        original = mentions.find(
            session=session, source=item.source, external_id=str(item.extra[UPDATE_OF])
        )
        if original is None or original.id is None:
            return IngestResult(mention_id=None, duplicate=True)  # we never had the original
        now = self.clock.now()
        card = cards.active(session=session, mention_id=original.id)
        note = f":arrows_counterclockwise: {safe(item.text, 2500)}"
        root = original.extra.get(LINKED_INTO) and original.folded_into
        if card is None and root:
            # A request linked to another report's card: the city's progress shows there.
            card = cards.active(session=session, mention_id=root)
            label = escape(f"{source_label(original.source)} #{original.external_id}")
            note = f":arrows_counterclockwise: {label}: {safe(item.text, 2500)}"
        queued = (
            card is not None
            and outbox.enqueue_for_card(
                session=session,
                card=card,
                kind=OutboxKind.THREAD_REPLY,
                idem_key=f"update:{item.source}:{item.external_id}",
                now=now,
                payload={"text": note},
            )
            is not None
        )
        if not queued and card is not None:
            return IngestResult(mention_id=original.id, duplicate=True)
        events.record(
            session=session,
            mention_id=original.id,
            kind=EventKind.SOURCE_UPDATED,
            at=now,
            data={"external_id": item.external_id, "text": item.text, **dict(item.extra)},
        )
        return IngestResult(mention_id=original.id, duplicate=False)

    def _link(self, session: Session, item: IncomingMention, now: datetime) -> Link | None:
        probe = self.linking.features(
            source=item.source,
            text=item.text,
            title=item.title,
            external_id=item.external_id,
            extra=item.extra,
        )
        return self.linking.find(session, new=probe, now=now)

    def _linked(
        self, session: Session, mention_id: int, item: IncomingMention, link: Link, now: datetime
    ) -> None:
        """Another report of an open card's issue: recorded, listed on that card, not posted."""
        events.record(
            session=session,
            mention_id=mention_id,
            kind=EventKind.FOLDED,
            at=now,
            data={"into": link.root, "reason": "same issue", "how": link.how, "via": link.matched},
        )
        card = cards.active(session=session, mention_id=link.root)
        if card is None:
            return
        if not outbox.update_pending(session=session, card_id=_id(card)):
            outbox.enqueue_for_card(
                session=session,
                card=card,
                kind=OutboxKind.UPDATE_CARD,
                idem_key=f"link:{card.id}:{mention_id}",
                now=now,
            )
        # In the thread too: whoever claimed the card hears of the new report.
        where = source_label(item.source)
        if item.source == OPEN311:
            where += f" #{item.external_id}"
        by = ""
        if item.author and item.source != OPEN311:  # 311 requests have no author to name
            by = f" by {safe(one_line(item.author), 80)}"
        outbox.enqueue_for_card(
            session=session,
            card=card,
            kind=OutboxKind.THREAD_REPLY,
            idem_key=f"linknote:{card.id}:{mention_id}",
            now=now,
            payload={
                "text": f":link: The same issue was reported on "
                f"*{mrkdwn_link(item.url, escape(where))}*{by} ({link.how}): "
                f"{safe(one_line(item.text), 300)}"
            },
        )

    def _no_card(
        self, session: Session, mention_id: int, decision: Decision, now: datetime
    ) -> None:
        """A muted author's post, or one folded into another card: recorded, not posted."""
        if decision.muted:
            events.record(session=session, mention_id=mention_id, kind=EventKind.MUTED, at=now)
            return
        assert decision.fold_into is not None
        events.record(
            session=session,
            mention_id=mention_id,
            kind=EventKind.FOLDED,
            at=now,
            data={"into": decision.fold_into, "reason": decision.fold_reason},
        )
        card = cards.active(session=session, mention_id=decision.fold_into)
        # One pending update is enough: it shows the count as it is when it is sent. Waiting
        # a few seconds lets a burst of 200 posts cost a few chat.update calls, not 200.
        if card is not None and not outbox.update_pending(session=session, card_id=_id(card)):
            outbox.enqueue_for_card(
                session=session,
                card=card,
                kind=OutboxKind.UPDATE_CARD,
                idem_key=f"fold:{card.id}:{mention_id}",
                now=now,
                not_before=now + FOLD_UPDATE_DELAY,
            )


def _id(card: Card) -> int:
    assert card.id is not None
    return card.id


def _context(item: IncomingMention, language: str | None) -> MentionContext:
    """What rules may match besides the text: language, author, 311 service, place."""
    extra = item.extra
    return MentionContext(
        language=language,
        author=item.author,
        service_code=_text(extra.get("service_code")),
        lat=_number(extra.get("lat")),
        lon=_number(extra.get("long", extra.get("lon"))),
    )


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _number(value: object) -> float | None:
    try:
        return float(value) if value is not None else None  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
