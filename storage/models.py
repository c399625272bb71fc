"""The tables. Every state change of a mention is also an append-only ``Event``.

Constraints, not application checks, make retries and replicas safe: unique
``(source, external_id)`` on mentions, a unique idempotency key on outbox rows, and a unique key
per handled Slack request in ``SlackInbox``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def _utc(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


def _json() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class MentionStatus(StrEnum):
    NEW = "new"
    CLAIMED = "claimed"
    ANSWERED = "answered"
    DISMISSED = "dismissed"
    FOLDED = "folded"  # part of a campaign or a flood: shown on another mention's card


OPEN_STATUSES = (MentionStatus.NEW.value, MentionStatus.CLAIMED.value)


class EventKind(StrEnum):
    RECEIVED = "received"
    ROUTED = "routed"
    POSTED = "posted"
    CLAIMED = "claimed"
    RELEASED = "released"
    ANSWERED = "answered"
    HANDED_OVER = "handed_over"
    DISMISSED = "dismissed"
    NUDGED = "nudged"
    ESCALATED = "escalated"
    REPLIED = "replied"  # the answer reached the citizen on the source platform
    REPLY_FAILED = "reply_failed"
    SOURCE_UPDATED = "source_updated"  # e.g. a 311 request's status changed at the city
    SNOOZED = "snoozed"
    FOLDED = "folded"
    MUTED = "muted"
    # The urgent lane (bot/urgent): marked at ingest, paged (one event per stage), acknowledged
    # or downgraded ("not urgent") with one click; an on-call swap has no mention.
    URGENT = "urgent"
    PAGED = "paged"
    ACKNOWLEDGED = "acknowledged"
    DOWNGRADED = "downgraded"
    ONCALL_SWAPPED = "oncall_swapped"
    PURGED = "purged"  # its content removed under the retention policy
    ERASED = "erased"  # its content removed at its author's request
    # Approval of answers to "handle with care" mentions (bot/answering): the answer is held
    # for the comms team, then approved (and sent), sent back with a note, or void (closed).
    APPROVAL_REQUESTED = "approval_requested"
    APPROVED = "approved"
    SENT_BACK = "sent_back"
    APPROVAL_VOID = "approval_void"


class OutboxKind(StrEnum):
    POST_CARD = "post_card"
    UPDATE_CARD = "update_card"
    THREAD_REPLY = "thread_reply"
    EPHEMERAL = "ephemeral"
    PLATFORM_REPLY = "platform_reply"  # the answer, sent to the citizen by the source's adapter
    MESSAGE = "message"  # a plain message (a reminder to a channel or a direct message)
    FILE = "file"  # an image (a summary's chart) shared in a channel or a direct message


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


# Departments come from the YAML config at every start. Rules are seeded from it once, then
# managed from Slack (or `engage rules import`); routing and the card builders read both.
class Department(SQLModel, table=True):
    slug: str = Field(primary_key=True, max_length=64)
    name: str
    channel_id: str = Field(max_length=32)
    leads: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    timezone: str = "UTC"


class Rule(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=128)
    department: str = Field(max_length=64)
    priority: int = 100
    position: int = 0  # order in the config: breaks priority ties
    enabled: bool = True
    spec: dict[str, Any] = _json()  # keywords, hashtags, regex, sources, exclude
    updated_at: datetime = _utc()


class RuleChange(SQLModel, table=True):
    """The rules' audit log: who changed which rule, when, from what to what. Append-only.

    ``before``/``after`` are the rule as the comms team writes it (the YAML form), ``None``
    for a rule that did not exist before (added) or no longer exists after (retired).
    """

    id: int | None = Field(default=None, primary_key=True)
    rule: str = Field(max_length=128, index=True)
    action: str = Field(max_length=32)  # added, edited, moved, enabled, disabled, retired, ...
    actor: str | None = None  # a Slack user id, "config" (seeded), or "cli:<login>"
    at: datetime = _utc(index=True)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class Meta(SQLModel, table=True):
    """Small key/value facts shared by replicas, e.g. ``rules_version``."""

    key: str = Field(primary_key=True, max_length=64)
    value: str


# Mentions: one row per citizen post, whatever its source.
class Mention(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_mention_source_external_id"),
        Index("ix_mention_status_department", "status", "department"),
        Index("ix_mention_department_received", "department", "received_at"),
        Index("ix_mention_received", "received_at"),
        Index("ix_mention_answered", "answered_at"),
        Index("ix_mention_department_answered", "department", "answered_at"),
        Index("ix_mention_author_key_received", "author_key", "received_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=32)
    external_id: str = Field(max_length=512)
    adapter: str = Field(default="", max_length=128)
    author: str = ""
    url: str | None = None
    title: str | None = None
    text: str = ""
    language: str | None = Field(default=None, max_length=16)
    created_at: datetime | None = _utc(default=None)
    received_at: datetime = _utc()
    extra: dict[str, Any] = _json()
    department: str | None = Field(default=None, max_length=64)  # None: triage
    rule: str | None = None
    route_reason: str | None = None
    status: str = Field(default=MentionStatus.NEW.value, max_length=16)
    claimed_by: str | None = None
    claimed_at: datetime | None = _utc(default=None)
    answered_by: str | None = None
    answered_at: datetime | None = _utc(default=None)
    answer_text: str | None = None
    # The citizen's waits, for summaries: the first claim ever (a release or a hand-over does not
    # reset it), and the office time from arrival to that claim and to the answer, in
    # microseconds, in the hours of the department that held the mention at that moment. Set
    # once when it happens (None: not yet, or from before 0007 until a summary measures it), so
    # a summary counts and ranks them in SQL instead of redoing office-time arithmetic per row.
    first_claimed_at: datetime | None = _utc(default=None)
    claim_office_us: int | None = Field(default=None, sa_type=BigInteger)
    answer_office_us: int | None = Field(default=None, sa_type=BigInteger)
    dismissed_by: str | None = None
    dismissed_reason: str | None = None
    version: int = 0
    # The nudge sweep's schedule: when to look at this mention next, and for which stage
    # (None: the schedule must be worked out again, e.g. after a claim or a release).
    next_nudge_at: datetime | None = _utc(default=None, index=True)
    next_nudge_stage: str | None = Field(default=None, max_length=32)
    # Brigading: a near-duplicate fingerprint, and the mention whose card this one was folded
    # into (stored and counted, never dropped).
    fingerprint: int | None = Field(default=None, sa_type=BigInteger)
    folded_into: int | None = Field(default=None, foreign_key="mention.id", index=True)
    # Who posted it, for flood folding: a hash of (source, author), set only for a person's own
    # account (not a feed, a form or a 311 system), so counting a flood reads an index.
    author_key: int | None = Field(default=None, sa_type=BigInteger)


class Event(SQLModel, table=True):
    """Append-only: never updated, never deleted by the application."""

    __table_args__ = (Index("ix_event_kind_at", "kind", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int | None = Field(default=None, foreign_key="mention.id", index=True)
    kind: str = Field(max_length=32)
    actor: str | None = None  # Slack user id, or None for the system
    at: datetime = _utc()
    data: dict[str, Any] = _json()


class Card(SQLModel, table=True):
    """A Slack message showing a mention. A hand-over leaves the old card inactive."""

    __table_args__ = (Index("ix_card_channel_ts", "channel_id", "ts"),)

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mention.id", index=True)
    channel_id: str = Field(max_length=32)
    ts: str | None = Field(default=None, max_length=32)  # set once Slack has it
    department: str | None = Field(default=None, max_length=64)
    active: bool = True
    created_at: datetime = _utc()


# Outbox: every Slack call that follows a decision, carried at least once.
class Outbox(SQLModel, table=True):
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    idem_key: str = Field(unique=True, max_length=255)
    kind: str = Field(max_length=32)
    mention_id: int | None = Field(default=None, foreign_key="mention.id", index=True)
    card_id: int | None = Field(default=None, foreign_key="card.id")
    channel_id: str = Field(max_length=32)
    payload: dict[str, Any] = _json()
    status: str = Field(default=OutboxStatus.PENDING.value, max_length=16)
    attempts: int = 0
    # True while an attempt may have reached Slack without us learning the result:
    # the next attempt looks for the message before posting again.
    needs_check: bool = False
    # Real failures only (a 5xx, a timeout, a network error): a rate limit or a wait for the
    # channel's turn is not one. The time budget runs from the first of them, so a row is given
    # up only after failing for that long; a person's retry clears both.
    failures: int = 0
    failing_since: datetime | None = _utc(default=None)
    next_attempt_at: datetime = _utc()
    leased_until: datetime | None = _utc(default=None)
    last_error: str | None = None
    created_at: datetime = _utc()
    done_at: datetime | None = _utc(default=None)
    result: dict[str, Any] = _json()


class ChannelPace(SQLModel, table=True):
    """When a channel may next be posted to, shared by every replica (Slack allows about one
    message a second per channel, and answers a burst with 429s and ``Retry-After``)."""

    channel_id: str = Field(primary_key=True, max_length=32)
    next_at: datetime = _utc()


class DeliveryAlert(SQLModel, table=True):
    """One triage alert per (channel, error) of deliveries that failed for good: the key decides
    which failure announces it; a person's retry of the channel's rows removes it again."""

    channel_id: str = Field(primary_key=True, max_length=32)
    error: str = Field(primary_key=True, max_length=64)
    at: datetime = _utc()


# Adapters: the cursor each one gets back next time, its health, and a lease for replicas.
class AdapterState(SQLModel, table=True):
    name: str = Field(primary_key=True, max_length=128)
    source: str = Field(max_length=32)
    cursor: dict[str, Any] = _json()
    items_seen: int = 0
    item_errors: int = 0
    last_success_at: datetime | None = _utc(default=None)
    last_error_at: datetime | None = _utc(default=None)
    last_error: str | None = None
    consecutive_failures: int = 0
    next_run_at: datetime | None = _utc(default=None)
    lease_owner: str | None = None
    lease_until: datetime | None = _utc(default=None)


# Nudges: one row per (mention, stage), ever; the unique key decides which replica sends.
class Nudge(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("mention_id", "stage", name="uq_nudge_mention_stage"),)

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mention.id", index=True)
    stage: str = Field(max_length=32)
    target: str | None = None  # who was asked: a user id, or a channel
    sent_at: datetime = _utc()


class Muted(SQLModel, table=True):
    """Authors the comms team muted: their mentions are stored and counted, never posted."""

    author: str = Field(primary_key=True, max_length=255)
    muted_by: str
    at: datetime = _utc()


class Away(SQLModel, table=True):
    """``/engage away until <date>``: not picked for reminders before ``until``."""

    user_id: str = Field(primary_key=True, max_length=32)
    until: datetime = _utc()
    set_at: datetime = _utc()


class SlackInbox(SQLModel, table=True):
    """Keys of Slack requests already acted on: a retry or replay finds its key here."""

    key: str = Field(primary_key=True, max_length=255)
    received_at: datetime = _utc()
