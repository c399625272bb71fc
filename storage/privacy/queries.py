"""Finding one author's data, or what is past its retention time, and removing its content.

Removing keeps every column a summary counts (source, department, times, statuses, who on the
staff claimed and answered, the stored office times, hand-over and reminder events) and drops
what is about the citizen: text, title, links, handle, the answer's text, location and
screening details, the events' free-text payloads and the outbox payloads that copied them.
A removed mention carries ``extra["removed"]`` so it is never removed twice.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, or_, true, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from storage.models import Card, Event, Mention, Muted, Outbox, OutboxKind, OutboxStatus
from storage.privacy import AUTHOR_HASH_KEY, REMOVED_KEY
from storage.privacy.tables import PrivacyRequest, PurgeRun

# What stays in a removed mention's ``extra``: how it was linked or folded (the cards and the
# summaries need it) and the department screening suggested; nothing that says who or where.
KEEP_EXTRA = frozenset({"linked_into", "suggested_department", "service_code"})
# What stays in an event's payload: where a hand-over went, which reminder, where a card was
# posted; the answer's text, notes, errors and who was asked go.
KEEP_EVENT_DATA = frozenset(
    {"from", "to", "stage", "via", "channel", "ts", "card_id", "implicit", "choice", "until"}
)
PRUNED_KEY = "pruned"  # on an event whose record is past the event retention time
# Outbox rows that cannot be sent without their payload: dropped when their mention is erased.
_NEEDS_PAYLOAD = (
    OutboxKind.THREAD_REPLY.value,
    OutboxKind.PLATFORM_REPLY.value,
    OutboxKind.EPHEMERAL.value,
    OutboxKind.MESSAGE.value,
    OutboxKind.FILE.value,
)


def not_removed() -> Any:
    return col(Mention.extra)[REMOVED_KEY].as_string().is_(None)


def by_author_text(*, session: Session, needles: Collection[str]) -> list[Mention]:
    """Mentions whose author contains one of ``needles`` (lower case), for the caller to match
    exactly: the database narrows, Python decides (authors compare as routing compares them)."""
    if not needles:
        return []
    lowered = func.lower(col(Mention.author))
    query = select(Mention).where(or_(*(lowered.contains(n, autoescape=True) for n in needles)))
    return list(session.exec(query.order_by(col(Mention.id))))


def _expired(cutoffs: Mapping[str, datetime], default: datetime | None) -> Any:
    """Mentions received before their source's cut-off (``default`` for other sources) whose
    content is still there; None if nothing is ever past its time."""
    conditions = [
        and_(col(Mention.source) == source, col(Mention.received_at) < at)
        for source, at in cutoffs.items()
    ]
    if default is not None:
        others = col(Mention.source).not_in(list(cutoffs)) if cutoffs else true()
        conditions.append(and_(others, col(Mention.received_at) < default))
    return and_(or_(*conditions), not_removed()) if conditions else None


def expired(
    *,
    session: Session,
    cutoffs: Mapping[str, datetime],
    default: datetime | None,
    limit: int,
) -> list[Mention]:
    """The expired mentions (see :func:`_expired`), oldest first, at most ``limit``."""
    where = _expired(cutoffs, default)
    if where is None:
        return []
    query = select(Mention).where(where).order_by(col(Mention.received_at), col(Mention.id))
    return list(session.exec(query.limit(limit)))


def count_expired(
    *, session: Session, cutoffs: Mapping[str, datetime], default: datetime | None
) -> dict[str, int]:
    """How many mentions of each source are past their time (a dry run)."""
    where = _expired(cutoffs, default)
    if where is None:
        return {}
    query = sa_select(col(Mention.source), func.count()).where(where).group_by(col(Mention.source))
    return {str(source): int(n) for source, n in session.execute(query)}


def count_old_events(*, session: Session, before: datetime) -> int:
    query = sa_select(func.count()).where(
        col(Event.at) < before, col(Event.data)[PRUNED_KEY].as_string().is_(None)
    )
    return int(session.execute(query).scalar_one())


def remove_content(
    *,
    session: Session,
    mentions: Sequence[Mention],
    reason: str,
    at: datetime,
    author_hash: Callable[[str], str],
    close: bool = False,
) -> None:
    """Remove what the mentions say about their authors; keep what summaries count.

    ``close`` (an erasure) also closes a mention still open, so nobody is asked to answer
    a post that is no longer there; a retention purge leaves statuses as they are, so past
    summaries keep their figures. One statement per table for the whole batch (executemany).
    """
    if not mentions:
        return
    table = Mention.__table__  # type: ignore[attr-defined]
    rows: list[dict[str, Any]] = []
    for m in mentions:
        assert m.id is not None
        extra = {k: v for k, v in m.extra.items() if k in KEEP_EXTRA}
        extra[REMOVED_KEY] = {"reason": reason, "at": at.isoformat()}
        if m.author:
            extra[AUTHOR_HASH_KEY] = author_hash(m.author)
        closing = close and m.status in ("new", "claimed")
        rows.append(
            {
                "b_id": m.id,
                "b_extra": extra,
                # Unique with the source; no longer the platform's id of the post.
                "b_external_id": f"removed:{m.id}",
                "b_version": m.version + 1,
                "b_status": "dismissed" if closing else m.status,
                "b_reason": "erased at the author's request" if closing else m.dismissed_reason,
                "b_nudge_at": None if closing else m.next_nudge_at,
                "b_stage": None if closing else m.next_nudge_stage,
            }
        )
    session.execute(
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(
            text="",
            title=None,
            url=None,
            author="",
            answer_text=None,
            route_reason=None,
            fingerprint=None,
            extra=bindparam("b_extra"),
            external_id=bindparam("b_external_id"),
            version=bindparam("b_version"),
            status=bindparam("b_status"),
            dismissed_reason=bindparam("b_reason"),
            next_nudge_at=bindparam("b_nudge_at"),
            next_nudge_stage=bindparam("b_stage"),
        ),
        rows,
    )
    ids = [m.id for m in mentions]
    events = Event.__table__  # type: ignore[attr-defined]
    changed = [
        {"b_id": event_id, "b_data": kept}
        for event_id, data in session.execute(
            sa_select(events.c.id, events.c.data).where(events.c.mention_id.in_(ids))
        )
        if (kept := {k: v for k, v in data.items() if k in KEEP_EVENT_DATA}) != data
    ]
    if changed:
        session.execute(
            update(events).where(events.c.id == bindparam("b_id")).values(data=bindparam("b_data")),
            changed,
        )


def scrub_outbox(*, session: Session, mention_ids: Collection[int], drop_pending: bool) -> int:
    """Empty the payloads of the mentions' outbox rows (answers, notes, messages that quoted
    them); ``drop_pending`` also deletes the ones still waiting that cannot go without it."""
    if not mention_ids:
        return 0
    ids = list(mention_ids)
    dropped = 0
    if drop_pending:
        result = session.execute(
            delete(Outbox).where(
                col(Outbox.mention_id).in_(ids),
                col(Outbox.status) == OutboxStatus.PENDING.value,
                col(Outbox.kind).in_(_NEEDS_PAYLOAD),
            )
        )
        dropped = int(result.rowcount or 0)  # type: ignore[attr-defined]
    session.execute(
        update(Outbox)
        .execution_options(synchronize_session=False)
        .where(col(Outbox.mention_id).in_(ids), col(Outbox.status) != OutboxStatus.PENDING.value)
        .values(payload={}, last_error=None)
    )
    return dropped


def scrub_old_outbox(*, session: Session, before: datetime) -> int:
    """Empty the payloads of finished rows created before ``before`` (a lead's list, an
    export sent as a file): whatever they copied is past its time too."""
    result = session.execute(
        update(Outbox)
        .execution_options(synchronize_session=False)
        .where(
            col(Outbox.created_at) < before,
            col(Outbox.status) != OutboxStatus.PENDING.value,
        )
        .values(payload={})
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def scrub_sent(*, session: Session, prefix: str) -> int:
    """Empty the payloads of sent rows whose key starts with ``prefix`` (exports, once
    delivered: the file is in the asker's Slack, and need not stay in the database)."""
    result = session.execute(
        update(Outbox)
        .execution_options(synchronize_session=False)
        .where(
            col(Outbox.idem_key).startswith(prefix),
            col(Outbox.status) != OutboxStatus.PENDING.value,
        )
        .values(payload={})
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def old_events(*, session: Session, before: datetime, limit: int) -> list[Event]:
    """Events recorded before ``before`` whose record has not been pruned yet."""
    query = (
        select(Event)
        .where(col(Event.at) < before, col(Event.data)[PRUNED_KEY].as_string().is_(None))
        .order_by(col(Event.id))
        .limit(limit)
    )
    return list(session.exec(query))


def prune_event(*, session: Session, event: Event) -> None:
    """Keep what the event counts as (its kind, time, mention, hand-over departments); drop
    who did it and everything else it said."""
    kept = {k: v for k, v in event.data.items() if k in KEEP_EVENT_DATA}
    kept[PRUNED_KEY] = True
    event.data = kept
    event.actor = None
    session.add(event)


def cards_of(*, session: Session, mention_ids: Collection[int]) -> list[Card]:
    """Every card that showed these mentions (active or not), and the cards they were folded
    or linked into (which list their authors)."""
    if not mention_ids:
        return []
    ids = list(mention_ids)
    roots = sa_select(col(Mention.folded_into)).where(
        col(Mention.id).in_(ids), col(Mention.folded_into).is_not(None)
    )
    query = select(Card).where(
        or_(col(Card.mention_id).in_(ids), col(Card.mention_id).in_(roots)),
        col(Card.ts).is_not(None),
    )
    return list(session.exec(query.order_by(col(Card.id))))


def muted_authors(*, session: Session) -> list[str]:
    return list(session.exec(select(Muted.author)))


def unmute(*, session: Session, authors: Collection[str]) -> int:
    if not authors:
        return 0
    result = session.execute(delete(Muted).where(col(Muted.author).in_(list(authors))))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def events_of(*, session: Session, mention_ids: Collection[int]) -> list[Event]:
    if not mention_ids:
        return []
    query = select(Event).where(col(Event.mention_id).in_(list(mention_ids)))
    return list(session.exec(query.order_by(col(Event.id))))


def outbox_of(*, session: Session, mention_ids: Collection[int]) -> list[Outbox]:
    if not mention_ids:
        return []
    query = select(Outbox).where(col(Outbox.mention_id).in_(list(mention_ids)))
    return list(session.exec(query.order_by(col(Outbox.id))))


def log_request(
    *,
    session: Session,
    at: datetime,
    action: str,
    actor: str,
    subject_hash: str,
    outcome: str,
    counts: dict[str, Any] | None = None,
) -> None:
    session.add(
        PrivacyRequest(
            at=at,
            action=action,
            actor=actor[:64],
            subject_hash=subject_hash,
            outcome=outcome,
            counts=counts or {},
        )
    )


def requests_about(*, session: Session, subject_hash: str) -> list[PrivacyRequest]:
    query = select(PrivacyRequest).where(PrivacyRequest.subject_hash == subject_hash)
    return list(session.exec(query.order_by(col(PrivacyRequest.id))))


def requests(*, session: Session, limit: int = 100) -> list[PrivacyRequest]:
    query = select(PrivacyRequest).order_by(col(PrivacyRequest.id).desc()).limit(limit)
    return list(session.exec(query))


def log_purge(
    *,
    session: Session,
    at: datetime,
    actor: str,
    cutoffs: dict[str, Any],
    counts: dict[str, Any],
) -> None:
    session.add(PurgeRun(at=at, actor=actor[:64], cutoffs=cutoffs, counts=counts))


def purges(*, session: Session, limit: int = 20) -> list[PurgeRun]:
    query = select(PurgeRun).order_by(col(PurgeRun.id).desc()).limit(limit)
    return list(session.exec(query))
