"""What becomes of one new mention, decided without touching storage.

Given the item, where routing sent it, and what screening (muted, folded, care) and linking
found, :func:`decide` says what row to store, which events to record, and where the mention
is shown: a card of its own (and who is copied), another mention's card (a folded copy or a
linked report of the same issue), or nowhere (a muted author). An update of an item stored
before (a 311 request's new status) is no new mention: :func:`decide_update` says which card
notes it and how. :class:`~bot.intake.ingest.Ingestor` reads what the decisions need and
applies them in one transaction. Kept apart so the rules can be read in one place and tested
as a table, with no database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.config.priority_authors import LABEL_KEY, LIST_KEY, Priority
from bot.core.adapter import IncomingMention
from bot.core.mrkdwn import escape, one_line, safe
from bot.core.sources import source_label
from bot.intake.screening.brigading import Decision
from bot.intake.screening.linking import LINKED_INTO, Link
from bot.routing import Match
from bot.rules.rulebook import Book
from bot.urgent.detect import DOWNGRADED_KEY, URGENT_KEY, DangerWords, urgency
from storage.models import EventKind, Mention, MentionStatus

# An adapter reports a change to an item it brought before (Open311 status changes) as a
# mention whose extra names the original: it becomes a note on the original's card.
UPDATE_OF = "status_update_of"
UPDATE_NOTE_LIMIT = 2500
MUTED_REASON = "muted author"
# Keys of a stored mention's extra that ingest sets from screening and linking, never the
# adapter: the care label, the priority author's badge, the card a linked report is on.
SCREENING_KEYS = frozenset(
    {"care", "suggested_department", LINKED_INTO, LIST_KEY, LABEL_KEY, URGENT_KEY, DOWNGRADED_KEY}
)
Events = tuple[tuple[EventKind, Mapping[str, Any]], ...]
CC_TEXT_LIMIT = 300


class Show(StrEnum):
    """Where a stored mention is shown."""

    CARD = "card"  # a card of its own, in its department's channel (or triage)
    FOLD = "fold"  # a near-duplicate or a flood: counted on another mention's card
    LINK = "link"  # the same issue reported elsewhere: listed on that open card
    MUTE = "mute"  # a muted author: stored and counted, shown nowhere


@dataclass(frozen=True)
class Copy:
    """A message telling a rule's ``cc`` department about a mention routed elsewhere."""

    channel: str
    text: str


@dataclass(frozen=True)
class IngestDecision:
    row: Mapping[str, Any]  # the mention's row, as stored
    events: Events  # recorded in this order once the row is stored
    show: Show
    department: str | None  # where it went in the end (None: triage)
    rule: str | None  # the rule that matched, even when the care label overrode it
    channel: str | None = None  # CARD: where its card is posted
    cc: Copy | None = None  # CARD: the rule's cc department, told for information
    into: int | None = None  # FOLD, LINK: the mention whose card shows this one
    link: Link | None = None  # LINK: how it was found to be the same issue


def routing_text(item: IncomingMention) -> str:
    """What routing and screening read: the title too, when the source has one."""
    return f"{item.title}\n{item.text}" if item.title else item.text


def may_link(screening: Decision) -> bool:
    """Linking is looked for only for what would otherwise get a card of its own.

    A report that needs care stays in front of the comms team, never on another card.
    """
    return not (screening.muted or screening.fold_into or screening.care)


def decide(
    item: IncomingMention,
    *,
    adapter: str,
    now: datetime,
    language: str | None,
    match: Match | None,
    screening: Decision,
    link: Link | None,
    priority: Priority | None,
    book: Book,
    triage_channel: str,
    danger: DangerWords | None = None,
) -> IngestDecision:
    """Everything storage is told about a new mention. Pure: same inputs, same decision."""
    department = match.department if match else None
    rule = match.rule if match else None
    route_reason = match.reason if match else None
    # What screening decides is screening's alone, whatever the adapter's extra claimed.
    extra = {k: v for k, v in item.extra.items() if k not in SCREENING_KEYS}
    if priority is not None:
        extra.update(priority.extra())
    if link is not None:
        extra[LINKED_INTO] = link.root
    if screening.care and not screening.fold_into:
        # Abusive language: the comms team sees it first and hands it on if it is work.
        extra["care"] = screening.care
        extra["suggested_department"] = department
        department, route_reason = None, "handle with care: " + ", ".join(screening.care)
    status = MentionStatus.NEW
    if screening.muted:
        status = MentionStatus.DISMISSED
    elif screening.fold_into or link:
        status = MentionStatus.FOLDED
    into = screening.fold_into or (link.root if link else None)
    # Urgent (bot/urgent): only what gets a card of its own; the pager finds the event.
    urgent = None
    if not (screening.muted or into):
        text = routing_text(item)
        urgent = urgency(
            text, language=language, rule=rule, urgent_rules=book.urgent, danger=danger
        )
    if urgent:
        extra[URGENT_KEY] = urgent
    row = {
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
        "rule": rule,
        "route_reason": route_reason,
        "status": status.value,
        "dismissed_reason": MUTED_REASON if screening.muted else None,
        "fingerprint": screening.fingerprint,
        "folded_into": into,
        "version": 0,
        # The nudge sweep works out the schedule of what gets a card of its own.
        "next_nudge_at": now if status == MentionStatus.NEW else None,
    }
    arrived: Events = (
        (EventKind.RECEIVED, {"source": item.source, "adapter": adapter}),
        (
            EventKind.ROUTED,
            {
                "department": department,
                "rule": rule,
                "reason": match.reason if match else "no rule matched",
            },
        ),
    )
    show, shown = _where(screening, link, into)
    card = show is Show.CARD
    return IngestDecision(
        row=row,
        events=(*arrived, *shown, *([(EventKind.URGENT, {"reason": urgent})] if urgent else [])),
        show=show,
        department=department,
        rule=rule,
        channel=(book.channels[department] if department else triage_channel) if card else None,
        cc=_copy(item, match, department, book) if card else None,
        into=into,
        link=link,
    )


def _where(screening: Decision, link: Link | None, into: int | None) -> tuple[Show, Events]:
    """Where the mention is shown, and the event that says so when it is not a card."""
    if not (screening.muted or into):
        return Show.CARD, ()
    if link is not None:
        how = {"into": link.root, "reason": "same issue", "how": link.how, "via": link.matched}
        return Show.LINK, ((EventKind.FOLDED, how),)
    if screening.muted:
        return Show.MUTE, ((EventKind.MUTED, {}),)
    folded = {"into": screening.fold_into, "reason": screening.fold_reason}
    return Show.FOLD, ((EventKind.FOLDED, folded),)


def _copy(
    item: IncomingMention, match: Match | None, department: str | None, book: Book
) -> Copy | None:
    if match is None or match.cc not in book.channels or match.cc == department:
        return None
    return Copy(
        channel=book.channels[str(match.cc)],
        text=(
            f":incoming_envelope: For your information: a {source_label(item.source)} "
            f"mention went to *{escape(book.names.get(department or '', 'triage'))}* "
            f"(rule *{escape(match.rule)}*): {safe(one_line(item.text), CC_TEXT_LIMIT)}"
        ),
    )


@dataclass(frozen=True)
class UpdateDecision:
    """A change the source reports to an item it brought before."""

    note: str  # the thread note on the card that shows the original
    idem_key: str  # one note per update, however often the source reports it
    event: Mapping[str, Any]  # the ``source_updated`` event's data, recorded on the original
    root: int | None = None  # the original has no card: the mention whose card lists it


def update_of(item: IncomingMention) -> str | None:
    """The external id of the item ``item`` reports a change to; ``None``: a new mention."""
    original = item.extra.get(UPDATE_OF)
    return str(original) if original else None


def decide_update(item: IncomingMention, original: Mention, *, has_card: bool) -> UpdateDecision:
    linked = not has_card and original.extra.get(LINKED_INTO)
    root = original.folded_into if linked else None
    text = safe(item.text, UPDATE_NOTE_LIMIT)
    if root:
        # A request linked to another report's card: the city's progress shows there.
        text = f"{escape(f'{source_label(original.source)} #{original.external_id}')}: {text}"
    return UpdateDecision(
        note=f":arrows_counterclockwise: {text}",
        idem_key=f"update:{item.source}:{item.external_id}",
        event={"external_id": item.external_id, "text": item.text, **dict(item.extra)},
        root=root or None,
    )
