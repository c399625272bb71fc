"""Ingest: store a mention, route it and queue its card, all in one transaction.

The mention row, its ``received`` and ``routed`` events, its card row and the outbox row that
will post the card commit together or not at all, so a crash at any point either leaves no
trace (the adapter's cursor did not move either) or leaves everything delivery needs.

Before a mention gets a card, brigading may fold it into a campaign's card (a copy) and
linking may join it to the open card of the same issue reported elsewhere (another report);
either way it is stored, with an event, and shown on that card instead.

What to store and where to show it is decided, without storage, by
:mod:`bot.intake.ingest_decision`; this module reads what that decision needs (the rules,
screening, linking) and makes the writes it calls for.
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
from bot.intake.ingest_decision import (
    IngestDecision,
    Show,
    decide,
    decide_update,
    may_link,
    routing_text,
    update_of,
)
from bot.intake.language import detect
from bot.intake.screening.brigading import Brigading
from bot.intake.screening.linking import Link, Linking
from bot.intake.screening.linking_text import OPEN311
from bot.routing import MentionContext
from bot.rules.rulebook import Rulebook
from bot.urgent.detect import DangerWords
from storage import cards, events, mentions, outbox
from storage.models import Card, EventKind, OutboxKind

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestResult:
    mention_id: int | None  # None when it was a duplicate
    duplicate: bool
    department: str | None = None
    rule: str | None = None


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
        danger: DangerWords | None = None,
    ) -> None:
        self.rulebook = rulebook
        self.clock = clock
        self.brigading = brigading or Brigading(BrigadingConfig())
        self.linking = linking or Linking(LinkingConfig())
        self.priority = priority or PriorityAuthors({})
        self.danger = danger  # bot/urgent: None is the built-in danger words

    def ingest(
        self, *, session: Session, items: Sequence[IncomingMention], adapter: str = ""
    ) -> list[IngestResult]:
        return [self._one(session, item, adapter) for item in items]

    def _one(self, session: Session, item: IncomingMention, adapter: str) -> IngestResult:
        """Read what the decision needs, let :func:`decide` decide, apply the decision."""
        of = update_of(item)
        if of is not None:
            return self._update(session, item, of)
        now = self.clock.now()
        book = self.rulebook.current(session)
        text = routing_text(item)
        language = item.language or detect(text)
        match = book.route(text, item.source, _context(item, language))
        screening = self.brigading.decide(
            session,
            text=text,
            author=item.author,
            department=match.department if match else None,
            now=now,
            source=item.source,
            adapter=adapter,
        )
        decision = decide(
            item,
            adapter=adapter,
            now=now,
            language=language,
            match=match,
            screening=screening,
            link=self._link(session, item, now) if may_link(screening) else None,
            priority=self.priority.of(item.author),
            book=book,
            triage_channel=self.rulebook.triage_channel,
            danger=self.danger,
        )
        return self._apply(session, item, decision, now, author_key=screening.author_key)

    def _apply(
        self,
        session: Session,
        item: IncomingMention,
        decision: IngestDecision,
        now: datetime,
        *,
        author_key: int | None = None,
    ) -> IngestResult:
        """The writes of a decision: the row, its events, then its card or the card it joins."""
        values = dict(decision.row) | {"author_key": author_key}
        mention_id = mentions.insert(session=session, values=values)
        if mention_id is None:
            return IngestResult(mention_id=None, duplicate=True)
        for kind, data in decision.events:
            events.record(
                session=session, mention_id=mention_id, kind=kind, at=now, data=dict(data)
            )
        if decision.show is Show.CARD:
            self._post(session, mention_id, decision, now)
        elif decision.show is Show.LINK:
            assert decision.link is not None
            self._linked(session, mention_id, item, decision.link, now)
        elif decision.show is Show.FOLD:
            assert decision.into is not None
            self._folded(session, mention_id, decision.into, now)
        metrics.MENTIONS_RECEIVED.labels(source=item.source).inc()
        if decision.show is Show.CARD:
            log.info(
                "mention stored",
                extra={
                    "mention_id": mention_id,
                    "source": item.source,
                    "department": decision.department,
                },
            )
        return IngestResult(
            mention_id=mention_id,
            duplicate=False,
            department=decision.department,
            rule=decision.rule,
        )

    def _post(
        self, session: Session, mention_id: int, decision: IngestDecision, now: datetime
    ) -> None:
        """A card of its own, and the note to a department the rule copies."""
        assert decision.channel is not None
        card = cards.create(
            session=session,
            mention_id=mention_id,
            channel_id=decision.channel,
            department=decision.department,
            now=now,
        )
        outbox.enqueue(
            session=session,
            kind=OutboxKind.POST_CARD,
            idem_key=f"card:{card.id}",
            channel_id=decision.channel,
            mention_id=mention_id,
            card_id=card.id,
            now=now,
        )
        if decision.cc is not None:
            outbox.enqueue(
                session=session,
                kind=OutboxKind.MESSAGE,
                idem_key=f"cc:{mention_id}",
                channel_id=decision.cc.channel,
                now=now,
                payload={"text": decision.cc.text},
            )

    def _update(self, session: Session, item: IncomingMention, of: str) -> IngestResult:
        original = mentions.find(session=session, source=item.source, external_id=of)
        if original is None or original.id is None:
            return IngestResult(mention_id=None, duplicate=True)  # we never had the original
        now = self.clock.now()
        card = cards.active(session=session, mention_id=original.id)
        update = decide_update(item, original, has_card=card is not None)
        if update.root is not None:
            card = cards.active(session=session, mention_id=update.root)
        queued = (
            card is not None
            and outbox.enqueue_for_card(
                session=session,
                card=card,
                kind=OutboxKind.THREAD_REPLY,
                idem_key=update.idem_key,
                now=now,
                payload={"text": update.note},
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
            data=dict(update.event),
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
        """Another report of an open card's issue: listed on that card and in its thread."""
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

    def _folded(self, session: Session, mention_id: int, into: int, now: datetime) -> None:
        """A near-duplicate or a flood: the card it is folded into shows the new count."""
        card = cards.active(session=session, mention_id=into)
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
