"""Reads for cross-platform linking: open cards to compare with, 311 requests by id, and the
mentions linked to a card.

A linked mention is folded into its root (``folded_into``) like a near-duplicate, and says so
in ``extra["linked_into"]``; that key is what tells "another report of the same issue" (listed
by source on the card) from "a copy in a campaign" (counted).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from storage.models import OPEN_STATUSES, Mention, MentionStatus

LINKED_INTO = "linked_into"
OPEN311 = "open311"
# A root's open state is checked separately: what matters here is the row can lead to one.
_LIVE = (*OPEN_STATUSES, MentionStatus.FOLDED.value)


def is_linked() -> Any:
    """A SQL condition: the mention was linked to another's card (not folded as a copy)."""
    return col(Mention.extra)[LINKED_INTO].as_string().is_not(None)


def is_not_linked() -> Any:
    return col(Mention.extra)[LINKED_INTO].as_string().is_(None)


def _fresh(query: Any) -> Any:
    # Statuses change in other sessions: never trust a row the identity map already holds.
    return query.execution_options(populate_existing=True)


def by_ids(*, session: Session, ids: Collection[int]) -> list[Mention]:
    if not ids:
        return []
    return list(session.exec(_fresh(select(Mention).where(col(Mention.id).in_(list(ids))))))


def open311_requests(*, session: Session, keys: Collection[str]) -> list[Mention]:
    """Stored 311 requests named by these id keys (whole ids, or the digits after a "-")."""
    if not keys:
        return []
    # Keys are folded (lower case); Boston's ids are digits or "H323401-101003193368".
    exact = sorted({form for key in keys for form in (key, key.upper())})
    tails = [col(Mention.external_id).endswith(f"-{key}") for key in keys if key.isdigit()]
    query = select(Mention).where(
        col(Mention.source) == OPEN311,
        col(Mention.status).in_(_LIVE),
        or_(col(Mention.external_id).in_(exact), *tails),
    )
    return list(session.exec(_fresh(query.order_by(col(Mention.id)))))


def naming(*, session: Session, numbers: Collection[str], since: datetime) -> list[Mention]:
    """Recent mentions from other platforms whose text or title contains one of ``numbers``.

    Only a first sieve (a number inside a longer one passes too): the caller checks that the
    text really names the request.
    """
    if not numbers:
        return []
    hits = [
        cond
        for n in numbers
        for cond in (col(Mention.text).contains(n), col(Mention.title).contains(n))
    ]
    query = select(Mention).where(
        col(Mention.source) != OPEN311,
        col(Mention.received_at) >= since,
        col(Mention.status).in_(_LIVE),
        or_(*hits),
    )
    return list(session.exec(_fresh(query.order_by(col(Mention.received_at)).limit(50))))


@dataclass(frozen=True)
class Ref:
    """A mention as linking names it: ``(source, external_id)`` identify its text for good."""

    id: int
    source: str
    external_id: str
    root: int | None = None  # for a linked mention, the mention whose card shows it


def open_roots(*, session: Session, since: datetime, limit: int) -> list[Ref]:
    """Open mentions with a card of their own that arrived since ``since``, newest first."""
    query = (
        select(Mention.id, Mention.source, Mention.external_id)
        .where(
            col(Mention.received_at) >= since,
            col(Mention.folded_into).is_(None),
            col(Mention.status).in_(OPEN_STATUSES),
        )
        .order_by(col(Mention.received_at).desc(), col(Mention.id).desc())
        .limit(limit)
    )
    return [Ref(int(i), source, ext) for i, source, ext in session.exec(query) if i is not None]


def members(*, session: Session, root_ids: Collection[int]) -> list[Ref]:
    """The mentions linked to these roots."""
    if not root_ids:
        return []
    query = select(Mention.id, Mention.source, Mention.external_id, Mention.folded_into).where(
        col(Mention.folded_into).in_(list(root_ids)), is_linked()
    )
    return [
        Ref(int(i), source, ext, root)
        for i, source, ext, root in session.exec(query.order_by(col(Mention.id)))
        if i is not None
    ]


def states(*, session: Session, ids: Collection[int]) -> dict[int, tuple[str, int | None]]:
    """(status, folded_into) of these mentions, as committed now."""
    if not ids:
        return {}
    query = select(Mention.id, Mention.status, Mention.folded_into).where(
        col(Mention.id).in_(list(ids))
    )
    return {int(i): (status, root) for i, status, root in session.exec(query) if i is not None}


def linked(*, session: Session, root_id: int, show: int = 10) -> tuple[int, list[Mention]]:
    """How many mentions are linked to ``root_id``, and the first ``show`` of them."""
    where = (col(Mention.folded_into) == root_id, is_linked())
    count = session.exec(select(func.count()).select_from(Mention).where(*where)).one()
    rows = session.exec(select(Mention).where(*where).order_by(col(Mention.id)).limit(show))
    return int(count), list(rows)
