"""What the handlers call: the answer path with its approval gate, and the saved replies a
card's Answered modal offers and fills.

:meth:`Answering.answer` is the one way the Answered modal records an answer: an answer sent to
the citizen about a mention that needs approval is held (:mod:`bot.answering.approvals`);
anything else is the claims service's answer, as before.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.answering import fit
from bot.answering.approvals import Approvals
from bot.answering.placeholders import CardFacts, display_author, fill
from bot.answering.saved import SavedReplies
from bot.claims.outcomes import Outcome
from bot.claims.service import Claims
from bot.core.clock import Clock
from storage import mentions
from storage.answering import replies as stored
from storage.db import session_scope
from storage.models import Mention
from storage.rules import rows as rule_rows

OPEN311 = "open311"


class Answering:
    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        claims: Claims,
        saved: SavedReplies,
        approvals: Approvals,
        suggestions: int = 100,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.claims = claims
        self.saved = saved
        self.approvals = approvals
        self.suggestions = suggestions

    def answer(
        self,
        *,
        mention_id: int,
        user_id: str,
        text: str,
        request_key: str,
        send_reply: bool = False,
        saved_reply_id: int | None = None,
    ) -> Outcome:
        if send_reply and self.approvals.needs_approval(mention_id):
            return self.approvals.submit(
                mention_id=mention_id,
                user_id=user_id,
                text=text,
                request_key=request_key,
                saved_reply_id=saved_reply_id,
            )
        outcome = self.claims.answer(
            mention_id=mention_id,
            user_id=user_id,
            text=text,
            request_key=request_key,
            send_reply=send_reply,
        )
        if outcome.ok and not outcome.duplicate and saved_reply_id is not None:
            with session_scope(self.engine) as session:
                m = mentions.get(session=session, mention_id=mention_id)
                stored.record_use(
                    session=session,
                    reply_id=saved_reply_id,
                    mention_id=mention_id,
                    department=m.department if m else None,
                    user_id=user_id,
                    at=self.clock.now(),
                )
        return outcome

    # Saved replies for one card.
    def options(self, mention_id: int | None, query: str) -> list[tuple[str, str]]:
        """(value, label) of the saved replies that fit the card best, at most
        ``suggestions`` (Slack shows 100)."""
        with session_scope(self.engine) as session:
            m = mentions.get(session=session, mention_id=mention_id) if mention_id else None
            card = _card(m)
            uses = stored.use_counts(session=session)
            names = {d.slug: d.name for d in rule_rows.departments(session=session)}
            rows = stored.active(session=session)
        candidates = [
            fit.Candidate(
                id=r.id or 0,
                title=r.title,
                text=r.text,
                department=r.department,
                language=r.language,
                keywords=tuple(r.keywords),
            )
            for r in rows
        ]
        best = fit.rank(candidates, card, query=query, uses=uses, limit=self.suggestions)
        return [(str(c.id), fit.label(c, names)) for c in best]

    def text_for(self, *, mention_id: int, reply_id: int) -> str | None:
        """A saved reply's text with the card's placeholders filled; ``None``: no such reply
        (retired meanwhile) or no such mention."""
        with session_scope(self.engine) as session:
            m = mentions.get(session=session, mention_id=mention_id)
            row = stored.get(session=session, reply_id=reply_id)
            if m is None or row is None or not row.active:
                return None
            slug = m.department or m.extra.get("suggested_department")
            department = rule_rows.department(session=session, slug=slug) if slug else None
            facts = CardFacts(
                author=display_author(m.author),
                department=department.name if department else "",
                ref=m.external_id if m.source == OPEN311 else "",
                link=m.url or "",
            )
            return fill(row.text, facts.values())


def _card(m: Mention | None) -> fit.Card:
    if m is None:
        return fit.Card(department=None, language=None, text="")
    department = m.department or m.extra.get("suggested_department")
    text = f"{m.title}\n{m.text}" if m.title else m.text
    return fit.Card(department=department, language=m.language, text=text)
