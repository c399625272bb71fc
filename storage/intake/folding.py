"""Reads and writes for brigading: recent cards to fold into, floods, muted authors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func
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


def recent_roots(
    *, session: Session, department: str | None, since: datetime, limit: int = 500
) -> list[tuple[int, int | None]]:
    """(id, fingerprint) of the department's recent mentions that have a card of their own."""
    query = (
        select(Mention.id, Mention.fingerprint)
        .where(
            _same(department),  # type: ignore[arg-type]
            col(Mention.received_at) >= since,
            col(Mention.folded_into).is_(None),
            col(Mention.status) != MentionStatus.DISMISSED.value,
        )
        .order_by(col(Mention.received_at).desc())
        .limit(limit)
    )
    return [(int(i), fp) for i, fp in session.exec(query) if i is not None]


def by_author(*, session: Session, author: str, since: datetime) -> list[Mention]:
    """An author's mentions since ``since``, oldest first."""
    query = (
        select(Mention)
        .where(col(Mention.author) == author, col(Mention.received_at) >= since)
        .order_by(col(Mention.received_at))
    )
    return list(session.exec(query))


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
