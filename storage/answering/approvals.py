"""Approvals as stored: one held answer each, decided once by a conditional update."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.answering.tables import Approval, ApprovalStatus
from storage.models import Outbox, OutboxStatus


def create(
    *,
    session: Session,
    mention_id: int,
    author: str,
    text: str,
    reasons: list[str],
    saved_reply_id: int | None,
    channel_id: str,
    now: datetime,
) -> Approval:
    row = Approval(
        mention_id=mention_id,
        author=author,
        text=text,
        reasons=reasons,
        saved_reply_id=saved_reply_id,
        channel_id=channel_id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def get(*, session: Session, approval_id: int) -> Approval | None:
    return session.get(Approval, approval_id, populate_existing=True)


def pending_for(*, session: Session, mention_id: int) -> Approval | None:
    query = select(Approval).where(
        col(Approval.mention_id) == mention_id, col(Approval.status) == ApprovalStatus.PENDING
    )
    return session.exec(query).first()


def decide(
    *,
    session: Session,
    approval_id: int,
    status: str,
    by: str,
    now: datetime,
    text: str | None = None,
    note: str | None = None,
    expect: str = ApprovalStatus.PENDING,
) -> bool:
    """Move an approval from ``expect`` to ``status``; ``False`` if someone decided first."""
    values: dict[str, object] = {"status": status, "decided_by": by, "decided_at": now}
    if text is not None:
        values["text"] = text
    if note is not None:
        values["note"] = note
    stmt = (
        update(Approval)
        .execution_options(synchronize_session=False)
        .where(col(Approval.id) == approval_id, col(Approval.status) == expect)
        .values(**values)
    )
    return session.execute(stmt.returning(col(Approval.id))).scalar_one_or_none() is not None


def posted_ts(*, session: Session, idem_key: str) -> str | None:
    """The ts of a message Engage posted through the outbox (``None``: not posted yet)."""
    row = session.exec(select(Outbox).where(col(Outbox.idem_key) == idem_key)).first()
    ts = row.result.get("ts") if row is not None and row.status == OutboxStatus.DONE else None
    return str(ts) if ts else None
