"""Deliveries that failed for good: the alert people see, the list they read, the retry they press.

A row fails for good only when no retry can help without a person (``not_in_channel``, an
archived channel, a revoked token) or when transient errors outlast the time budget. Either
way nobody reads the log, so the failure must be seen in Slack:

- **an alert in the triage channel**, through the outbox like any message, once per (channel,
  error): a unique ``deliveryalert`` row decides, so fifty cards failing for one reason (or
  three replicas failing at once) make one alert; a person's retry in that channel re-arms it;
- **the comms team's App Home** lists the failed rows with a Retry button (``bot.home``);
- **the CLI**: ``engage outbox`` lists them, ``engage outbox retry ID|--all`` puts them back.

Retrying puts a row back with a fresh time budget and keeps ``needs_check``, so a post that
may have reached Slack is still looked for before it is sent again (exactly one card).

Only rows people see in Slack are listed and retried: ephemerals are answers to a click that
mean nothing later, and replies to citizens have their own Retry on the card
(:mod:`bot.outbox.replies`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core.clock import Clock
from bot.core.mrkdwn import escape
from storage import delivery, outbox
from storage.db import session_scope
from storage.models import OutboxKind

RETRYABLE = (
    OutboxKind.POST_CARD.value,
    OutboxKind.UPDATE_CARD.value,
    OutboxKind.THREAD_REPLY.value,
    OutboxKind.MESSAGE.value,
    OutboxKind.FILE.value,
)
# The payload key marking a triage alert: its own failure is never announced (by itself).
ALERT = "delivery_alert"

KIND_LABELS = {
    OutboxKind.POST_CARD.value: "card",
    OutboxKind.UPDATE_CARD.value: "card update",
    OutboxKind.THREAD_REPLY.value: "thread note",
    OutboxKind.MESSAGE.value: "message",
    OutboxKind.FILE.value: "file",
}
# What a person can do about the commonest causes.
HINTS = {
    "not_in_channel": "Engage is not a member of that channel: `/invite @Engage` there.",
    "channel_not_found": "The channel does not exist (any more), or Engage cannot see it: "
    "check the channel id in the config.",
    "is_archived": "The channel is archived: unarchive it, or move the department to another.",
    "channel_is_archived": "The channel is archived: unarchive it, or move the department.",
    "invalid_auth": "Slack refuses the bot token: check `SLACK_BOT_TOKEN`.",
    "token_revoked": "The bot token was revoked: reinstall the app and update the token.",
    "account_inactive": "The bot token belongs to a deactivated app or user.",
    "missing_scope": "The app lacks a permission it needs: reinstall it from the manifest.",
}


@dataclass(frozen=True)
class FailedDelivery:
    """A failed row as people see it."""

    id: int
    kind: str
    channel_id: str
    mention_id: int | None
    text: str | None  # the mention's, for a card
    error: str
    failed_at: datetime | None
    failures: int

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


class FailedDeliveries:
    """List and retry the failed rows (the App Home and the CLI both use this)."""

    def __init__(self, *, engine: Engine, clock: Clock, wake: Callable[[], None]) -> None:
        self.engine = engine
        self.clock = clock
        self.wake = wake

    def count(self) -> int:
        with session_scope(self.engine) as session:
            return outbox.count_failed(session=session, kinds=RETRYABLE)

    def recent(self, limit: int | None = None) -> list[FailedDelivery]:
        """The failed rows, the most recent failure first."""
        with session_scope(self.engine) as session:
            rows = outbox.failed(session=session, kinds=RETRYABLE, limit=limit)
        return [
            FailedDelivery(
                id=row.id or 0,
                kind=row.kind,
                channel_id=row.channel_id,
                mention_id=row.mention_id,
                text=text,
                error=row.last_error or "",
                failed_at=row.done_at,
                failures=row.failures,
            )
            for row, text in rows
        ]

    def retry(self, row_id: int | None = None) -> list[int]:
        """Put one failed row (``None``: every one) back in the queue; the ids put back."""
        if row_id is not None and not 0 < row_id < 2**31:  # no row has it (PostgreSQL: an error)
            return []
        with session_scope(self.engine) as session:
            rows = outbox.retry_failed(
                session=session, now=self.clock.now(), kinds=RETRYABLE, row_id=row_id
            )
            delivery.rearm_alerts(session=session, channel_ids={r.channel_id for r in rows})
        if rows:
            self.wake()
        return [r.id or 0 for r in rows]


def announce(
    session: Session,
    *,
    channel_id: str,
    kind: str,
    code: str,
    error: str,
    triage: str,
    now: datetime,
) -> bool:
    """Queue the triage alert about a failed row, unless this (channel, code) had one."""
    if kind not in RETRYABLE or not delivery.alert_once(
        session=session, channel_id=channel_id, error=code, now=now
    ):
        return False
    what = KIND_LABELS.get(kind, "message")
    hint = HINTS.get(code, "")
    text = (
        f":warning: A {what} for {where(channel_id)} could not be delivered: `{escape(code)}`. "
        f"{hint + ' ' if hint else ''}"
        "Then press *Retry* under *Failed deliveries* on Engage's App Home, or run "
        "`engage outbox retry --all`. Other deliveries there failing the same way are not "
        "announced again until then."
    )
    outbox.enqueue(
        session=session,
        kind=OutboxKind.MESSAGE,
        idem_key=f"{ALERT}:{channel_id}:{code}:{now.isoformat()}",
        channel_id=triage,
        now=now,
        payload={"text": text, ALERT: True, "error": error[:500]},
    )
    return True


def where(channel_id: str) -> str:
    """A channel or person as Slack shows them (ids only: no citizen text here)."""
    if channel_id[:1] in ("C", "G"):
        return f"<#{channel_id}>"
    if channel_id[:1] in ("U", "W"):
        return f"<@{channel_id}>"
    return "a direct message"
