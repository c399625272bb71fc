"""The ``answering:`` section: where answers held for approval go, and what holds them.

An answer to a *handle with care* mention (abusive language), to an author on a priority
list (the press, councillors), or to a mention a rule marked ``approval: true`` waits for the
comms team before it reaches the citizen.
"""

from __future__ import annotations

from pydantic import field_validator

from bot.config.base import Model


class ApprovalConfig(Model):
    # Where the draft cards go; unset: the triage channel, which the comms team watches.
    channel: str | None = None
    care: bool = True  # abusive language ("handle with care") needs approval
    # Author lists whose authors' answers need approval; unset: every list with
    # ``priority: true``; ``[]``: none.
    author_lists: tuple[str, ...] | None = None

    @field_validator("channel")
    @classmethod
    def _channel(cls, v: str | None) -> str | None:
        if v is not None and not (v[:1] in ("C", "G") and v[1:].isalnum() and len(v) >= 9):
            raise ValueError(f"{v!r} is not a Slack channel id (like C012AB3CD)")
        return v


class AnsweringConfig(Model):
    approval: ApprovalConfig = ApprovalConfig()
    suggestions: int = 100  # saved replies offered in the Answered modal's menu (at most 100)

    @field_validator("suggestions")
    @classmethod
    def _suggestions(cls, v: int) -> int:
        if not 1 <= v <= 100:
            raise ValueError("must be from 1 to 100 (Slack shows at most 100 options)")
        return v
