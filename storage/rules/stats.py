"""The reads behind learning from hand-overs: what each rule routed, and what staff moved.

A mention's ``rule`` is the rule that routed it at ingest and never changes; its
``department`` follows the hand-overs. Where it was routed to is therefore the ``from`` of its
first ``handed_over`` event (or, never handed over, its department now). Folded and muted
mentions never had a card of their own, so nobody could hand them over: they are left out.

Every query is bounded by the period through ``mention(received_at)``,
``mention(department, received_at)`` or ``event(kind, at)`` (a hand-over is never earlier
than its mention's arrival, so ``event.at >= since`` is a safe bound too), and otherwise looks
up one mention's events through ``event(mention_id)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from storage.models import Event, EventKind, Mention

_HANDED_OVER = EventKind.HANDED_OVER.value


@dataclass(frozen=True)
class MentionText:
    id: int
    source: str
    author: str
    title: str | None
    text: str


@dataclass(frozen=True)
class RuleHandOver:
    """A mention a rule routed that staff handed over, once whatever the number of moves."""

    mention_id: int
    rule: str
    routed_to: str | None  # the department before the first hand-over (None: triage)


@dataclass(frozen=True)
class HandedOver:
    mention: MentionText
    routed_to: str | None  # before the first hand-over (None: triage)
    ended_in: str  # after the last one


def _muted_since(since: datetime) -> Any:
    # Muted mentions are the only ones the system dismisses at ingest; their event is as old
    # as they are, so the event index bounds this to the period. NULLs would make NOT IN
    # reject every row.
    return sa_select(col(Event.mention_id)).where(
        col(Event.kind) == EventKind.MUTED.value,
        col(Event.at) >= since,
        col(Event.mention_id).is_not(None),
    )


def _own_card(since: datetime, *, by_period: bool = False) -> tuple[Any, ...]:
    """Received since ``since``, neither folded nor muted (``by_period``: through its index)."""
    folded = col(Mention.folded_into)
    return (
        col(Mention.received_at) >= since,
        (_unindexed(folded) if by_period else folded).is_(None),
        col(Mention.id).not_in(_muted_since(since)),
    )


def _unindexed(column: Any) -> Any:
    # The same value, but not a condition an index can serve. SQLite has no statistics (nobody
    # runs ANALYZE) and picks indexes by the shape of the conditions: it would walk
    # ix_mention_folded_into for "IS NULL" (almost every mention ever stored) rather than the
    # period's index, and every hand-over ever made in time order (ix_event_kind_at) to find
    # one mention's first, rather than that mention's few events. Only where needed: it also
    # hides the condition from PostgreSQL's estimates.
    return func.coalesce(column, None)


def routed_counts(*, session: Session, since: datetime) -> dict[str, int]:
    """Per rule, its mentions received since ``since`` that had a card in a department.

    Mentions a rule matched that are in triage (a "handle with care" label sent them to the
    comms team instead) are not counted; the same ones handed over since are in
    :func:`rule_hand_overs` with ``routed_to`` None.
    """
    query = (
        sa_select(col(Mention.rule), func.count())
        .where(
            *_own_card(since, by_period=True),
            col(Mention.rule).is_not(None),
            col(Mention.department).is_not(None),
        )
        .group_by(col(Mention.rule))
    )
    return {str(rule): int(n) for rule, n in session.execute(query)}


def rule_hand_overs(*, session: Session, since: datetime) -> list[RuleHandOver]:
    """Mentions received since ``since``, routed by a rule and handed over at least once."""
    query = (
        sa_select(col(Event.mention_id), col(Mention.rule), col(Event.data))
        .join(Mention, col(Mention.id) == col(Event.mention_id))
        .where(
            col(Event.kind) == _HANDED_OVER,
            col(Event.at) >= since,
            col(Mention.received_at) >= since,
            col(Mention.rule).is_not(None),
        )
        .order_by(col(Event.mention_id), col(Event.at), col(Event.id))
    )
    first: dict[int, RuleHandOver] = {}
    for mention_id, rule, data in session.execute(query):
        if mention_id not in first:
            first[mention_id] = RuleHandOver(int(mention_id), str(rule), _department(data, "from"))
    return list(first.values())


def latest_hand_overs(*, session: Session, since: datetime, limit: int) -> list[HandedOver]:
    """The mentions of the latest ``limit`` hand-overs since ``since``, latest first.

    Where each was routed to comes from its first hand-over, even one older than the window.
    """
    first = aliased(Event)
    first_move = (
        sa_select(col(first.data))
        .where(
            col(first.mention_id) == col(Event.mention_id),
            _unindexed(col(first.kind)) == _HANDED_OVER,
        )
        .order_by(col(first.at), col(first.id))
        .limit(1)
        .scalar_subquery()
    )
    query = (
        sa_select(*_text_columns(), col(Event.data), first_move)
        .join(Event, col(Event.mention_id) == col(Mention.id))
        .where(col(Event.kind) == _HANDED_OVER, col(Event.at) >= since)
        .order_by(col(Event.at).desc(), col(Event.id).desc())
        .limit(limit)
    )
    found: dict[int, HandedOver] = {}
    for row in session.execute(query):
        mention, last, routed = _text(row), row[-2], row[-1]
        ended_in = _department(last, "to")
        # The first row of a mention is its latest hand-over: where it ended.
        if mention.id not in found and ended_in:
            found[mention.id] = HandedOver(mention, _department(routed, "from"), ended_in)
    return list(found.values())


def kept(
    *, session: Session, department: str | None, since: datetime, limit: int
) -> list[MentionText]:
    """The latest ``limit`` mentions routed to ``department`` (None: triage) that stayed there."""
    same = (
        col(Mention.department).is_(None)
        if department is None
        else col(Mention.department) == department
    )
    moves = aliased(Event)
    handed = exists().where(
        col(moves.mention_id) == col(Mention.id), col(moves.kind) == _HANDED_OVER
    )
    query = (
        sa_select(*_text_columns())
        .where(same, *_own_card(since), ~handed)
        .order_by(col(Mention.received_at).desc(), col(Mention.id).desc())
        .limit(limit)
    )
    return [_text(row) for row in session.execute(query)]


def _text_columns() -> Sequence[Any]:
    return (
        col(Mention.id),
        col(Mention.source),
        col(Mention.author),
        col(Mention.title),
        col(Mention.text),
    )


def _text(row: Iterable[Any]) -> MentionText:
    mention_id, source, author, title, text = tuple(row)[:5]
    return MentionText(int(mention_id), source, author or "", title, text or "")


def _department(data: Any, key: str) -> str | None:
    value = data.get(key) if isinstance(data, dict) else None
    return str(value) if value else None
