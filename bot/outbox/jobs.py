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
    failures: int = 0
    failing_since: datetime | None = None


class Retry(Exception):
    """Try the row again: ``after`` seconds if that is known, else after a backoff.

    Only a retry without ``after`` is a failure, counted against the row's time budget: a rate
    limit (``rate_limited``, Slack's ``Retry-After``) or a wait for the channel's turn or for
    the card says when to come back and is no failure at all.

    ``ambiguous``: Slack may have acted, so a post must be looked for before it is sent again.
    ``code``: a short name of what went wrong (Slack's error, an HTTP status, an exception's
    type), the key of the triage alert if the row is given up.
    """

    def __init__(
        self,
        reason: str,
        *,
        after: float | None = None,
        ambiguous: bool = False,
        rate_limited: bool = False,
        code: str | None = None,
    ):
        super().__init__(reason)
        self.after = after
        self.ambiguous = ambiguous
        self.rate_limited = rate_limited
        self.code = code

    @property
    def is_failure(self) -> bool:
        return self.after is None


class GiveUp(Exception):
    """The row can never succeed without a change by a person: mark it failed.

    ``code`` (Slack's error, like ``not_in_channel``) means people must hear of it: the triage
    channel gets one alert per channel and code. Without one (the card is gone, the card it
    belongs to failed) the failure is the consequence of another, announced already.
    """

    def __init__(self, reason: str, *, code: str | None = None):
        super().__init__(reason)
        self.code = code
