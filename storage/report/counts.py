"""Counts for the public report: of the mentions received in a period, how many are answered.

A mention folded into another's card (a copy, or the same issue reported elsewhere) is answered
when that card's mention is: the citizen got the answer given there.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from storage.models import Mention
from storage.summaries.reads import in_scope


def answered_of_received(
    *, session: Session, department: str | None, everywhere: bool, start: datetime, end: datetime
) -> tuple[int, int]:
    """``(received, answered so far)`` of the mentions received in [start, end)."""
    root = aliased(Mention)
    query = (
        sa_select(
            func.count(),
            func.count().filter(
                or_(col(Mention.answered_at).is_not(None), col(root.answered_at).is_not(None))
            ),
        )
        .select_from(Mention)
        .outerjoin(root, col(root.id) == col(Mention.folded_into))
        .where(
            in_scope(department, everywhere),
            col(Mention.received_at) >= start,
            col(Mention.received_at) < end,
        )
    )
    received, answered = session.execute(query).one()
    return int(received), int(answered)
