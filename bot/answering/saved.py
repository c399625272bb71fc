"""The saved replies: the comms team adds, edits and retires them; everyone uses them.

Managed like the routing rules (:mod:`bot.rules.admin`): permission checked on every change,
not only when the form opens; a form opened before someone else's change is refused (its
token); each change recorded with who, when, before and after; a Slack retry of the same
submission changes nothing twice (its request key, kept in the same transaction).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.answering.fit import Candidate
from bot.answering.placeholders import PLACEHOLDERS, unknown
from bot.config.comms import CommsTeam
from bot.core.clock import Clock
from storage import inbox
from storage.answering import replies as stored
from storage.answering.tables import SavedReply, SavedReplyChange
from storage.db import session_scope
from storage.rules import rows as rule_rows

REFUSAL = "Only the comms team can change saved replies. Use `/engage replies <words>` to find one."
TITLE_MAX = 75
TEXT_MAX = 3000
KEYWORDS_MAX = 20
KEYWORD_MAX = 60
LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?")


@dataclass(frozen=True)
class Change:
    ok: bool
    message: str
    problems: Mapping[str, str] | None = None  # {field: what to do}
    changed: bool = True  # False: nothing to record


@dataclass(frozen=True)
class Line:
    """A saved reply as lists and forms show it."""

    id: int
    doc: dict[str, Any]  # title, text, department, language, keywords
    token: str

    def candidate(self) -> Candidate:
        return Candidate(
            id=self.id,
            title=self.doc["title"],
            text=self.doc["text"],
            department=self.doc.get("department"),
            language=self.doc.get("language"),
            keywords=tuple(self.doc.get("keywords", ())),
        )


def doc_of(row: SavedReply) -> dict[str, Any]:
    return {
        "title": row.title,
        "text": row.text,
        "department": row.department,
        "language": row.language,
        "keywords": list(row.keywords),
    }


def problems(doc: Mapping[str, Any], *, departments: Mapping[str, str]) -> dict[str, str]:
    """What is wrong with a saved reply, by field; empty when nothing is."""
    found: dict[str, str] = {}
    title, text = str(doc.get("title") or "").strip(), str(doc.get("text") or "").strip()
    if not title:
        found["title"] = "Give it a short title."
    elif len(title) > TITLE_MAX:
        found["title"] = f"Keep the title under {TITLE_MAX} characters."
    if not text:
        found["text"] = "Write the reply."
    elif len(text) > TEXT_MAX:
        found["text"] = f"Keep the reply under {TEXT_MAX:,} characters."
    elif unknown(text):
        known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
        found["text"] = f"Unknown placeholder {{{unknown(text)[0]}}}: use {known}."
    department = doc.get("department")
    if department is not None and department not in departments:
        found["department"] = "Choose a department, or city-wide."
    language = doc.get("language")
    if language is not None and not LANGUAGE.fullmatch(str(language)):
        found["language"] = "A language code like en, fr or pt-BR, or empty for any language."
    keywords = list(doc.get("keywords") or [])
    if len(keywords) > KEYWORDS_MAX or any(len(str(k)) > KEYWORD_MAX for k in keywords):
        found["keywords"] = f"At most {KEYWORDS_MAX} keywords of {KEYWORD_MAX} characters."
    return found


class SavedReplies:
    def __init__(self, *, engine: Engine, clock: Clock, comms: CommsTeam) -> None:
        self.engine = engine
        self.clock = clock
        self.comms = comms

    def may_manage(self, user: str) -> bool:
        return self.comms.includes(user)

    # Reads.
    def lines(self) -> list[Line]:
        with session_scope(self.engine) as session:
            return [_line(row) for row in stored.active(session=session)]

    def line(self, reply_id: int) -> Line | None:
        with session_scope(self.engine) as session:
            row = stored.get(session=session, reply_id=reply_id)
            return _line(row) if row is not None and row.active else None

    def departments(self) -> dict[str, str]:
        with session_scope(self.engine) as session:
            return {d.slug: d.name for d in rule_rows.departments(session=session)}

    def history(self, *, limit: int = 20) -> list[SavedReplyChange]:
        with session_scope(self.engine) as session:
            return stored.history(session=session, limit=limit)

    def uses(self) -> dict[int, int]:
        with session_scope(self.engine) as session:
            return stored.use_counts(session=session)

    # Changes.
    def save(
        self,
        *,
        user: str,
        doc: Mapping[str, Any],
        reply_id: int | None,
        token: str | None,
        request_key: str,
    ) -> Change:
        """Add a saved reply (``reply_id`` None) or replace one, refusing a stale form."""
        clean = _clean(doc)

        def act(session: Session) -> Change:
            row = stored.get(session=session, reply_id=reply_id) if reply_id else None
            if reply_id is not None and (row is None or not row.active):
                return Change(False, "This saved reply was retired meanwhile.")
            if row is not None and token != _token(row):
                return Change(
                    False,
                    "Someone changed this saved reply while you were editing: close this form "
                    "and open it again to see their change.",
                )
            names = {d.slug: d.name for d in rule_rows.departments(session=session)}
            found = problems(clean, departments=names)
            if found:
                message = next(iter(found.values()))
                return Change(False, message, found)
            before = doc_of(row) if row is not None else None
            if before == clean:
                return Change(True, "Nothing changed.", changed=False)
            saved = stored.put(session=session, values=clean, now=self.clock.now(), row=row)
            assert saved.id is not None
            stored.record(
                session=session,
                reply_id=saved.id,
                title=saved.title,
                action="added" if row is None else "edited",
                actor=user,
                at=self.clock.now(),
                before=before,
                after=clean,
            )
            return Change(True, f"Saved *{saved.title}*.")

        return self._change(user, request_key, act)

    def retire(self, *, user: str, reply_id: int, request_key: str) -> Change:
        def act(session: Session) -> Change:
            row = stored.get(session=session, reply_id=reply_id)
            if row is None or not row.active:
                return Change(True, "This saved reply was retired already.", changed=False)
            before = doc_of(row)
            stored.retire(session=session, row=row, now=self.clock.now())
            stored.record(
                session=session,
                reply_id=reply_id,
                title=row.title,
                action="retired",
                actor=user,
                at=self.clock.now(),
                before=before,
                after=None,
            )
            return Change(True, f"Retired *{row.title}*: its history stays.")

        return self._change(user, request_key, act)

    def _change(self, user: str, request_key: str, act: Callable[[Session], Change]) -> Change:
        if not self.may_manage(user):
            return Change(False, REFUSAL)

        # A refused change, or one that changes nothing, leaves no request key: fix and resend.
        return inbox.once(
            engine=self.engine,
            key=request_key,
            now=self.clock.now(),
            duplicate=Change(True, "Done already."),
            act=act,
            kept=lambda change: change.ok and change.changed,
        )


def _clean(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical form: trimmed strings, ``None`` for "any", keywords deduplicated."""
    language = str(doc.get("language") or "").strip()
    keywords = [str(k).strip() for k in doc.get("keywords") or [] if str(k).strip()]
    return {
        "title": str(doc.get("title") or "").strip(),
        "text": str(doc.get("text") or "").strip(),
        "department": doc.get("department") or None,
        "language": language.lower() if language.isalpha() else (language or None),
        "keywords": list(dict.fromkeys(keywords)),
    }


def _token(row: SavedReply) -> str:
    # The content too, not only the time: two edits within one clock tick differ all the same.
    digest = hashlib.sha256(json.dumps(doc_of(row), sort_keys=True).encode()).hexdigest()[:16]
    return f"{row.id}:{row.updated_at.isoformat()}:{digest}"


def _line(row: SavedReply) -> Line:
    assert row.id is not None
    return Line(id=row.id, doc=doc_of(row), token=_token(row))
