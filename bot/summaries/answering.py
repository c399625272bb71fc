"""The summary's line about answering: which saved replies were used most in the period.

Kept apart from :mod:`bot.summaries.figures` (its own size limit): one read, one line, shown
only when a saved reply was used at all.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.core.mrkdwn import safe
from bot.summaries.figures import Period
from storage.answering import replies
from storage.db import session_scope

SHOWN = 3


def saved_replies_line(engine: Engine, *, department: str | None, period: Period) -> str | None:
    """The line, like "*Saved replies used most:* Pothole repair (12)"; ``None``: none used."""
    with session_scope(engine) as session:
        top = replies.most_used(
            session=session,
            start=period.start,
            end=period.end,
            department=department,
            limit=SHOWN,
        )
    if not top:
        return None
    return "*Saved replies used most:* " + ", ".join(f"{safe(t, 75)} ({n})" for t, n in top)
