"""What the claim modals (Answered, Hand over, No action) show about a mention.

A read, apart from the actions: a modal opens on what the mention was a moment ago, and the
action it submits is judged again against the row as it is then.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from bot.outbox.replies import Replies
from storage import mentions
from storage.models import MentionStatus


@dataclass(frozen=True)
class MentionBrief:
    """What a modal shows about a mention."""

    id: int
    source: str
    author: str
    text: str
    status: MentionStatus
    department: str | None
    reply_platform: str | None = None  # where an answer can be sent to the citizen, if anywhere


def brief(*, session: Session, mention_id: int, replies: Replies) -> MentionBrief | None:
    m = mentions.get(session=session, mention_id=mention_id)
    if m is None or m.id is None:
        return None
    return MentionBrief(
        m.id,
        m.source,
        m.author,
        m.text,
        MentionStatus(m.status),
        m.department,
        replies.platform(m.adapter),
    )
