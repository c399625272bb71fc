"""What one delivery attempt works on, and the two ways it can fail.

A :class:`Job` is a leased outbox row copied out of its session, so the Slack call that follows
holds no database transaction open. :class:`Retry` and :class:`GiveUp` are how the Slack side
(:mod:`bot.outbox.slack_api`) and the worker (:mod:`bot.outbox.delivery`) agree on what a
failure means; they live here so that neither has to import the other to say it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Job:
    """A leased outbox row, copied out of its session."""

    id: int
    kind: str
    channel_id: str
    mention_id: int | None
    card_id: int | None
    payload: dict[str, Any]
    attempts: int
    needs_check: bool
    created_at: datetime


class Retry(Exception):
    """Try the row again: ``after`` seconds if Slack said so (a 429), else after a backoff.

    ``ambiguous``: Slack may have acted, so a post must be looked for before it is sent again.
    """

    def __init__(self, reason: str, *, after: float | None = None, ambiguous: bool = False):
        super().__init__(reason)
        self.after = after
        self.ambiguous = ambiguous


class GiveUp(Exception):
    """The row can never succeed without a change by a person: mark it failed."""
