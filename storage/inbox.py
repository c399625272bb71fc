"""Keys of Slack requests already handled, written in the same transaction as the effect.

:func:`once` and :func:`once_for_mention` are the one way a Slack request changes state:
remember its key, then act, in one transaction. A retried event, a replay or a double click
finds its key already there and changes nothing, and an effect is never committed without
its key (nor the key without its effect, if the action raises).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete

from storage import mentions
from storage.db import session_scope
from storage.insert import insert_ignore
from storage.models import Mention, SlackInbox

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
) -> T:
    """``act`` in one transaction with the request's ``key``; ``duplicate`` if it came before.

    An exception from ``act`` rolls back the key too, so a caller can undo a refused change
    whole by raising (and the retry of that request is then judged again).
    """
    with session_scope(engine) as session:
        if not remember(session=session, key=key, now=now):
            return duplicate
        return act(session)


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
