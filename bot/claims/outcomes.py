"""What a staff action came to and, when it was refused, why, in words for the person who
clicked.

Pure: the reasons are read from the mention row as committed after a lost race (the service
reads it again), so the message names whoever won.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.models import Mention, MentionStatus


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str = ""  # why not, in words for the person who clicked
    duplicate: bool = False  # this exact Slack request was handled before


DUPLICATE = Outcome(ok=True, duplicate=True)
GONE = Outcome(ok=False, message="This mention no longer exists.")


def why_not_claim(m: Mention, user_id: str) -> str:
    if m.status == MentionStatus.CLAIMED and m.claimed_by == user_id:
        return "You have already claimed this."
    if m.status == MentionStatus.CLAIMED:
        return f"Already claimed by <@{m.claimed_by}>."
    return closed(m)


def closed(m: Mention) -> str:
    """Why a mention can no longer be answered, dismissed or handed over."""
    if m.status == MentionStatus.ANSWERED:
        return f"Already answered by <@{m.answered_by}>."
    if m.status == MentionStatus.DISMISSED:
        return f"Already closed without action by <@{m.dismissed_by}>."
    if m.status == MentionStatus.CLAIMED:
        return f"Already claimed by <@{m.claimed_by}>."
    return "It changed meanwhile; look at the card again."
