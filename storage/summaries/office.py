"""Office times a summary needs but nobody measured yet, and storing them once measured.

A claim or an answer records its office time as it happens (:mod:`storage.mentions`). Mentions
claimed or answered before migration 0007, or by a process that did not know the department's
hours, have none; storage cannot measure them (the hours are in the config, not the database),
so the summary asks for them here, measures them, and stores them: each mention is measured
once, and afterwards its figures come from SQL like everyone else's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, or_, text, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from storage.models import Mention
from storage.summaries.reads import in_scope, matters_to

_BATCH = 5000


@dataclass(frozen=True)
class Unmeasured:
    id: int
    department: str | None
    received_at: datetime
    claimed_at: datetime | None  # the first claim, or the answer of a mention never claimed
    answered_at: datetime | None


def unmeasured(
    *,
    session: Session,
    department: str | None,
    everywhere: bool,
    periods: Sequence[tuple[datetime, datetime]],
) -> list[Unmeasured]:
    """Mentions that matter to any of ``periods`` and were claimed or answered, but lack the
    office time of that claim or answer."""
    scope = in_scope(department, everywhere)
    claimed = func.coalesce(col(Mention.first_claimed_at), col(Mention.answered_at))
    missing = or_(
        (claimed.is_not(None)) & col(Mention.claim_office_us).is_(None),
        col(Mention.answered_at).is_not(None) & col(Mention.answer_office_us).is_(None),
    )
    query = (
        sa_select(
            col(Mention.id),
            col(Mention.department),
            col(Mention.received_at),
            col(Mention.first_claimed_at),
            col(Mention.answered_at),
        )
        .where(
            or_(*(matters_to(scope, start, end) for start, end in periods)),
            missing,
        )
        .order_by(col(Mention.id))
    )
    return [
        Unmeasured(
            id=int(r[0]),
            department=r[1],
            received_at=r[2],
            claimed_at=r[3] if r[3] is not None else r[4],
            answered_at=r[4],
        )
        for r in session.execute(query)
    ]


def record(*, session: Session, times: Sequence[tuple[int, int | None, int | None]]) -> None:
    """Store ``(mention id, claim office µs, answer office µs)``; a time already stored (a claim
    recorded meanwhile) is kept, so two processes measuring at once agree."""
    # In id order, as read: two summaries storing the same rows lock them in the same order.
    for at in range(0, len(times), _BATCH):
        batch = times[at : at + _BATCH]
        if session.get_bind().dialect.name == "postgresql":
            # One statement per batch (row by row took ~10 s for a city-wide month), after
            # locking the rows in id order: the statement itself may update in any order.
            ids, claims, answers = ([*column] for column in zip(*batch, strict=True))
            session.execute(_LOCK, {"ids": ids})
            session.execute(_UNNEST, {"ids": ids, "claims": claims, "answers": answers})
            continue
        rows = [{"mention": i, "claim": c, "answer": a} for i, c, a in batch]
        session.connection().execute(_ONE_BY_ONE, rows)


_ONE_BY_ONE = (
    update(Mention)
    .where(col(Mention.id) == bindparam("mention"))
    .values(
        claim_office_us=func.coalesce(col(Mention.claim_office_us), bindparam("claim")),
        answer_office_us=func.coalesce(col(Mention.answer_office_us), bindparam("answer")),
    )
    .execution_options(synchronize_session=False)
)
_LOCK = text("SELECT id FROM mention WHERE id = ANY(:ids) ORDER BY id FOR UPDATE")
_UNNEST = text(
    """
    UPDATE mention SET claim_office_us = coalesce(mention.claim_office_us, measured.claim),
        answer_office_us = coalesce(mention.answer_office_us, measured.answer)
    FROM unnest(CAST(:ids AS bigint[]), CAST(:claims AS bigint[]), CAST(:answers AS bigint[]))
        AS measured (id, claim, answer)
    WHERE mention.id = measured.id
    """
)
