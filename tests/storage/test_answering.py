"""The answering tables on SQLite and PostgreSQL: an approval is decided once, a saved reply's
use counts once per mention, and the summary's "used most" reads them per department."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from storage import mentions
from storage.answering import approvals, replies
from storage.answering.tables import ApprovalStatus
from storage.db import session_scope

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)


def _mention(engine: Engine, n: int) -> int:
    with session_scope(engine) as s:
        found = mentions.insert(
            session=s,
            values={
                "source": "mastodon",
                "external_id": str(n),
                "text": "t",
                "received_at": T0,
                "extra": {},
                "status": "new",
            },
        )
    assert found is not None
    return int(found)


def test_an_approval_is_decided_once(engine: Engine) -> None:
    m = _mention(engine, 1)
    with session_scope(engine) as s:
        row = approvals.create(
            session=s,
            mention_id=m,
            author="U0ALICE01",
            text="Sorry",
            reasons=["abusive language"],
            saved_reply_id=None,
            channel_id="C0TRIAGE01",
            now=T0,
        )
        approval = row.id or 0
        assert approvals.pending_for(session=s, mention_id=m) is not None
    with session_scope(engine) as s:
        assert approvals.decide(
            session=s, approval_id=approval, status=ApprovalStatus.SENT_BACK, by="U1", now=T0
        )
        assert not approvals.decide(
            session=s, approval_id=approval, status=ApprovalStatus.APPROVED, by="U2", now=T0
        )
    with session_scope(engine) as s:
        stored = approvals.get(session=s, approval_id=approval)
        assert stored is not None and (stored.status, stored.decided_by) == ("sent_back", "U1")
        assert approvals.pending_for(session=s, mention_id=m) is None
        assert approvals.posted_ts(session=s, idem_key="approval:1:draft") is None


def test_uses_count_once_per_mention_and_rank_by_department(engine: Engine) -> None:
    first, second = _mention(engine, 1), _mention(engine, 2)
    with session_scope(engine) as s:
        pothole = replies.put(
            session=s, values={"title": "Pothole", "text": "x", "keywords": []}, now=T0, row=None
        )
        thanks = replies.put(
            session=s, values={"title": "Thanks", "text": "y", "keywords": []}, now=T0, row=None
        )
        for mention, reply, department in (
            (first, pothole.id, "pw"),
            (first, pothole.id, "pw"),  # a retried submission
            (second, pothole.id, "pw"),
            (second, thanks.id, "parks"),
        ):
            assert reply is not None
            replies.record_use(
                session=s,
                reply_id=reply,
                mention_id=mention,
                department=department,
                user_id="U0ALICE01",
                at=T0,
            )
    with session_scope(engine) as s:
        end = T0 + timedelta(days=1)
        assert replies.most_used(session=s, start=T0, end=end, department=None) == [
            ("Pothole", 2),
            ("Thanks", 1),
        ]
        assert replies.most_used(session=s, start=T0, end=end, department="parks") == [
            ("Thanks", 1)
        ]
        assert replies.most_used(session=s, start=end, end=end, department=None) == []
        assert replies.use_counts(session=s) == {pothole.id: 2, thanks.id: 1}
