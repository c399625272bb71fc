"""Keys of Slack requests already handled, written in the same transaction as the effect.

:func:`once`, :func:`once_for_mention` and :func:`once_for_click` (claim and release, with
statements built once: see "the click path" below) are the one way a Slack request changes state:
remember its key, then act, in one transaction. A retried event, a replay or a double click
finds its key already there and changes nothing, and an effect is never committed without
its key (nor the key without its effect, if the action raises).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import BigInteger, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.sql.expression import Executable
from sqlmodel import Session, col, delete

from storage import mentions
from storage.claims import click_requests
from storage.db import session_scope
from storage.insert import insert_ignore
from storage.models import Card, Event, Mention, MentionStatus, Outbox, OutboxStatus, SlackInbox
from storage.types import UTCDateTime

T = TypeVar("T")


def remember(*, session: Session, key: str, now: datetime) -> bool:
    """Record ``key``; ``False`` when it was already there (a retry or a replay)."""
    return insert_ignore(session, SlackInbox, {"key": key[:255], "received_at": now}) is not None


def forget_before(*, session: Session, cutoff: datetime) -> int:
    result = session.exec(delete(SlackInbox).where(col(SlackInbox.received_at) < cutoff))
    return int(result.rowcount or 0)


def once(
    *,
    engine: Engine,
    key: str,
    now: datetime,
    duplicate: T,
    act: Callable[[Session], T],
    kept: Callable[[T], bool] = lambda _: True,
) -> T:
    """``act`` in one transaction with the request's ``key``; ``duplicate`` if it came before.

    When ``kept(result)`` is false (a refused change, or one that changed nothing) the whole
    transaction is rolled back, the key too, so a retry of that request is judged again. An
    exception from ``act`` rolls everything back as well.
    """
    with session_scope(engine) as session:
        if not remember(session=session, key=key, now=now):
            return duplicate
        result = act(session)
        if not kept(result):
            session.rollback()
        return result


def once_for_mention(
    *,
    engine: Engine,
    key: str,
    now: datetime,
    mention_id: int,
    duplicate: T,
    missing: T,
    act: Callable[[Session, Mention], T],
    then: Callable[[], None] | None = None,
) -> T:
    """:func:`once` for a request about one mention: ``missing`` if it is gone, else ``act``.

    ``then`` runs after the commit, and only when ``act`` ran: it tells a worker (delivery)
    there is work, which it must not look for before the transaction is visible.
    """
    acted = False

    def load(session: Session) -> T:
        nonlocal acted
        mention = mentions.get(session=session, mention_id=mention_id)
        if mention is None:
            return missing
        acted = True
        return act(session, mention)

    result = once(engine=engine, key=key, now=now, duplicate=duplicate, act=load)
    if acted and then is not None:
        then()
    return result


# --------------------------------------------------------------------------- the click path
# Claim and release are what staff click most, and all at once on a busy morning: each click
# waits for its decision to commit before Slack gets the ack. Measured (issue 15), the ORM
# path cost about 3 ms of CPU per click, most of it SQLAlchemy building statements, loading
# the mention as an ORM object and flushing the event, so 50 clicks in flight queued for about
# 200 ms on one interpreter. Here the same statements are built once per dialect, with bound
# parameters, and run as Core on the session's connection, in the session's transaction: one
# indexed SELECT of the four columns the decision needs, the conditional UPDATE ... RETURNING,
# the event, the active card's id and one multi-row INSERT of its update and thread note. A
# refusal (a lost race) is rare and goes back to the ORM for its message.


@dataclass(frozen=True)
class Head:
    """What a click's decision reads of its mention before changing it."""

    received_at: datetime
    department: str | None
    status: str
    claimed_by: str | None


@dataclass(frozen=True)
class Followup:
    """An outbox row about the mention's active card (its update, a note in its thread)."""

    kind: str
    idem_key: str  # ``{card}`` is replaced by the card's id
    payload: dict[str, Any]


class Click:
    """The click's statements on one connection, inside the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.conn = session.connection()
        self.statements = _statements(self.conn.dialect.name)

    def remember(self, key: str, now: datetime) -> bool:
        row = self.conn.execute(self.statements.remember, {"b_key": key[:255], "b_now": now})
        return row.first() is not None

    def head(self, mention_id: int) -> Head | None:
        row = self.conn.execute(self.statements.head, {"b_mention": mention_id}).first()
        return None if row is None else Head(*row)

    def claim(self, mention_id: int, user_id: str, now: datetime, office_us: int | None) -> bool:
        values = {"b_mention": mention_id, "b_user": user_id, "b_now": now, "b_office": office_us}
        return self.conn.execute(self.statements.claim, values).first() is not None

    def release(self, mention_id: int, user_id: str, now: datetime) -> bool:
        values = {"b_mention": mention_id, "b_user": user_id, "b_now": now}
        return self.conn.execute(self.statements.release, values).first() is not None

    def event(
        self, mention_id: int, kind: str, actor: str, at: datetime, data: dict[str, Any]
    ) -> None:
        values = {"mention_id": mention_id, "kind": kind, "actor": actor, "at": at, "data": data}
        self.conn.execute(self.statements.event, values)

    def follow(self, mention_id: int, now: datetime, rows: list[Followup]) -> None:
        """Queue ``rows`` about the mention's active card (none if it has no card)."""
        card = self.conn.execute(self.statements.card, {"b_mention": mention_id}).first()
        if card is None:
            return
        card_id, channel_id = card
        self.conn.execute(
            self.statements.follow,
            [
                {
                    "idem_key": row.idem_key.replace("{card}", str(card_id))[:255],
                    "kind": row.kind,
                    "mention_id": mention_id,
                    "card_id": card_id,
                    "channel_id": channel_id,
                    "payload": row.payload,
                    "status": OutboxStatus.PENDING.value,
                    "next_attempt_at": now,
                    "created_at": now,
                    "result": {},
                }
                for row in rows
            ],
        )


def once_for_click(
    *,
    engine: Engine,
    key: str,
    now: datetime,
    mention_id: int,
    duplicate: T,
    missing: T,
    act: Callable[[Click, Head], T],
    then: Callable[[], None] | None = None,
    queued: int | None = None,
) -> T:
    """:func:`once_for_mention` on the click path: the same guarantees, Core statements.

    ``queued``: the click's row in :mod:`storage.claims.click_requests`, deleted in this
    transaction (``duplicate`` if another worker took it first).
    """
    with session_scope(engine) as session:
        click = Click(session)
        if queued is not None and not click_requests.take(click.conn, queued):
            return duplicate
        if not click.remember(key, now):
            return duplicate
        head = click.head(mention_id)
        if head is None:
            return missing
        result = act(click, head)
    if then is not None:
        then()
    return result


@dataclass(frozen=True)
class _Statements:
    remember: Executable
    head: Executable
    claim: Executable
    release: Executable
    event: Executable
    card: Executable
    follow: Executable


@cache
def _statements(dialect: str) -> _Statements:
    inbox, mention = SlackInbox.__table__, Mention.__table__  # type: ignore[attr-defined]
    event, card, box = Event.__table__, Card.__table__, Outbox.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    m = mention.c
    # Typed once: a bound value inside coalesce() would not get the column's type (UTC).
    office = bindparam("b_office", type_=BigInteger)
    now = bindparam("b_now", type_=UTCDateTime)

    def change(where: list[Any], **values: Any) -> Executable:
        # As mentions._change: a new version, and the nudge schedule worked out again.
        return (
            update(mention)
            .where(m.id == bindparam("b_mention"), *where)
            .values(version=m.version + 1, next_nudge_at=now, next_nudge_stage=None)
            .values(**values)
            .returning(m.version)
        )

    return _Statements(
        remember=insert(inbox)
        .values(key=bindparam("b_key"), received_at=now)
        .on_conflict_do_nothing()
        .returning(inbox.c.key),
        head=select(m.received_at, m.department, m.status, m.claimed_by).where(
            m.id == bindparam("b_mention")
        ),
        claim=change(
            [m.status == MentionStatus.NEW.value, m.claimed_by.is_(None)],
            status=MentionStatus.CLAIMED.value,
            claimed_by=bindparam("b_user"),
            claimed_at=now,
            first_claimed_at=func.coalesce(m.first_claimed_at, now),
            claim_office_us=func.coalesce(m.claim_office_us, office),
        ),
        release=change(
            [m.status == MentionStatus.CLAIMED.value, m.claimed_by == bindparam("b_user")],
            status=MentionStatus.NEW.value,
            claimed_by=None,
            claimed_at=None,
        ),
        event=event.insert(),
        card=select(card.c.id, card.c.channel_id)
        .where(card.c.mention_id == bindparam("b_mention"), card.c.active.is_(True))
        .order_by(card.c.id.desc())
        .limit(1),
        follow=insert(box).on_conflict_do_nothing(),
    )
