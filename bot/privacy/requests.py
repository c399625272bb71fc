"""A citizen's data requests: everything stored about them (export), and its removal (erase).

A person is named by one or more identities (a handle per platform, an e-mail address), which
compare as routing compares authors. What is about them: the mentions they wrote (on every
source), the events of those mentions, the answers and notes sent about them, whether they are
muted, and the author lists of the config that name them. What is about others (posts folded
into or linked to the same card by other people, the staff's Slack ids) is left out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.privacy.identity import Hasher, keys_of
from bot.privacy.retention import update_cards
from bot.routing import author_key
from storage import events as event_log
from storage.models import EventKind, Mention, OutboxKind
from storage.privacy import queries

# Outbox payload fields that carry what was said to or about the citizen.
_SENT_FIELDS = ("text",)
_STAFF = re.compile(r"<@[UW][A-Z0-9]+>")  # who on the staff wrote a note is not the citizen's
_SENT_KINDS = (OutboxKind.PLATFORM_REPLY.value, OutboxKind.THREAD_REPLY.value)


@dataclass(frozen=True)
class Erasure:
    mentions: int
    cards: int
    unmuted: int
    subject: str  # the keyed hash of the identities, as the audit log keeps it

    @property
    def found(self) -> bool:
        return bool(self.mentions or self.unmuted)

    def as_dict(self) -> dict[str, int]:
        return {"mentions": self.mentions, "cards": self.cards, "unmuted": self.unmuted}


def mentions_by(session: Session, keys: Sequence[str]) -> list[Mention]:
    """The mentions whose author is one of ``keys`` (comparable forms), on any source."""
    wanted = set(keys)
    candidates = queries.by_author_text(session=session, needles=[k.lower() for k in keys])
    return [m for m in candidates if m.author and author_key(m.author) in wanted]


def export(
    session: Session,
    *,
    authors: Sequence[str],
    now: datetime,
    author_lists: Mapping[str, Sequence[str]],
    hasher: Hasher,
) -> dict[str, Any]:
    """Everything stored about the person, as JSON-ready data."""
    keys = keys_of(authors)
    found = mentions_by(session, keys)
    ids = [m.id for m in found if m.id is not None]
    events: dict[int, list[dict[str, Any]]] = {}
    for event in queries.events_of(session=session, mention_ids=ids):
        assert event.mention_id is not None
        # Who on the staff acted is the staff's data, not the citizen's: kind, time, details.
        events.setdefault(event.mention_id, []).append(
            {"kind": event.kind, "at": event.at.isoformat(), "data": event.data}
        )
    sent: dict[int, list[dict[str, Any]]] = {}
    for row in queries.outbox_of(session=session, mention_ids=ids):
        if row.kind in _SENT_KINDS and row.mention_id is not None:
            said = {
                k: _STAFF.sub("a member of staff", str(row.payload[k]))
                for k in _SENT_FIELDS
                if k in row.payload
            }
            if said:
                sent.setdefault(row.mention_id, []).append(
                    {
                        "kind": "reply to you" if row.kind == OutboxKind.PLATFORM_REPLY else "note",
                        "at": row.created_at.isoformat(),
                        "status": row.status,
                        **said,
                    }
                )
    muted = [a for a in queries.muted_authors(session=session) if author_key(a) in keys]
    requests = queries.requests_about(session=session, subject_hash=hasher.keys(keys))
    return {
        "identities": list(authors),
        "compared_as": keys,
        "generated_at": now.isoformat(),
        "mentions": [
            _mention(m, events.get(m.id or 0, []), sent.get(m.id or 0, [])) for m in found
        ],
        "muted": bool(muted),
        "author_lists": sorted(
            name
            for name, members in author_lists.items()
            if any(author_key(member) in keys for member in members)
        ),
        "earlier_requests": [
            {"at": r.at.isoformat(), "action": r.action, "outcome": r.outcome} for r in requests
        ],
    }


def _mention(m: Mention, events: list[dict[str, Any]], sent: list[dict[str, Any]]) -> Any:
    return {
        "id": m.id,
        "source": m.source,
        "external_id": m.external_id,
        "url": m.url,
        "author": m.author,
        "title": m.title,
        "text": m.text,
        "language": m.language,
        "created_at": m.created_at.isoformat() if m.created_at else None,
        "received_at": m.received_at.isoformat(),
        "details": m.extra,
        "department": m.department,
        "status": m.status,
        "answered_at": m.answered_at.isoformat() if m.answered_at else None,
        "answer": m.answer_text,
        "events": events,
        "sent": sent,
    }


def erase(session: Session, *, authors: Sequence[str], now: datetime, hasher: Hasher) -> Erasure:
    """Remove the person's content everywhere; asked again, it finds nothing more to do."""
    keys = keys_of(authors)
    found = mentions_by(session, keys)
    ids = [m.id for m in found if m.id is not None]
    queries.remove_content(
        session=session,
        mentions=found,
        reason="erasure",
        at=now,
        author_hash=hasher.author,
        close=True,
    )
    for mention in found:
        event_log.record(
            session=session,
            mention_id=mention.id,
            kind=EventKind.ERASED,
            at=now,
            data={"reason": "erasure"},
        )
    queries.scrub_outbox(session=session, mention_ids=ids, drop_pending=True)
    cards = update_cards(session, mention_ids=ids, reason="erasure", now=now) if ids else 0
    muted = [a for a in queries.muted_authors(session=session) if author_key(a) in keys]
    unmuted = queries.unmute(session=session, authors=muted)
    return Erasure(mentions=len(ids), cards=cards, unmuted=unmuted, subject=hasher.keys(keys))
