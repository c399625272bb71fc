"""Reads and writes for brigading: recent cards to fold into, floods, muted authors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from storage.insert import insert_ignore
from storage.intake.linking import is_not_linked
from storage.models import Mention, MentionStatus, Muted


def _same(department: str | None) -> object:
    return (
        col(Mention.department).is_(None)
        if department is None
        else col(Mention.department) == department
    )


@dataclass(frozen=True)
class Root:
    """A recent mention with a card of its own, as folding compares a new one with it."""

    id: int
    fingerprint: int | None
    author_key: int | None
    source: str
    adapter: str


def recent_roots(
    *, session: Session, department: str | None, since: datetime, limit: int = 500
) -> list[Root]:
    """The department's recent mentions that have a card of their own, newest first."""
    columns = (Mention.id, Mention.fingerprint, Mention.author_key, Mention.source, Mention.adapter)
    query = (
        core_select(*(col(c) for c in columns))
        .where(
            _same(department),  # type: ignore[arg-type]
            col(Mention.received_at) >= since,
            col(Mention.folded_into).is_(None),
            col(Mention.status) != MentionStatus.DISMISSED.value,
        )
        .order_by(col(Mention.received_at).desc())
        .limit(limit)
    )
    return [Root(int(i), fp, key, src, ad) for i, fp, key, src, ad in session.execute(query)]


def flood_target(*, session: Session, author_key: int, since: datetime, limit: int) -> int | None:
    """The mention an author's next post folds into if they posted ``limit`` times since
    ``since`` (their first card in that time), else ``None``.

    Two reads of the ``(author_key, received_at)`` index, each stopping early: a count of at
    most ``limit`` rows, and the author's first row in the window that has a card of its own.
    """
    recent = (
        select(Mention.id)
        .where(col(Mention.author_key) == author_key, col(Mention.received_at) >= since)
        .limit(limit)
        .subquery()
    )
    if session.exec(select(func.count()).select_from(recent)).one() < limit:
        return None
    window = (col(Mention.author_key) == author_key, col(Mention.received_at) >= since)
    by_time = col(Mention.received_at), col(Mention.id)
    own = session.exec(
        select(Mention.id)
        .where(*window, col(Mention.folded_into).is_(None))
        .order_by(*by_time)
        .limit(1)
    ).first()
    if own is not None:
        return int(own)
    # Every one of them was folded already (into a twin's card): the first one's card.
    into = session.exec(
        select(Mention.folded_into).where(*window).order_by(*by_time).limit(1)
    ).first()
    return int(into) if into is not None else None


def folded(*, session: Session, root_id: int, show: int = 12) -> tuple[int, list[str]]:
    """How many copies were folded into ``root_id``, and the first few authors.

    Reports of the same issue linked from other platforms are not copies: the card lists
    them by source (see ``storage.intake.linking``).
    """
    where = (col(Mention.folded_into) == root_id, is_not_linked())
    count = session.exec(select(func.count()).select_from(Mention).where(*where)).one()
    authors = session.exec(
        select(Mention.author).where(*where).order_by(col(Mention.id)).limit(show)
    )
    return int(count), [a for a in authors if a]


def is_muted(*, session: Session, author: str) -> bool:
    return bool(author) and session.get(Muted, author) is not None


def mute(*, session: Session, author: str, by: str, now: datetime) -> bool:
    """``False`` if the author was muted already."""
    return insert_ignore(session, Muted, {"author": author, "muted_by": by, "at": now}) is not None


def unmute(*, session: Session, author: str) -> bool:
    result = session.exec(delete(Muted).where(col(Muted.author) == author))
    return bool(result.rowcount)
