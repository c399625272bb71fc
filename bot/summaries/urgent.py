"""The summary's line about the urgent lane: how many mentions were urgent in the period, how
soon a page was acknowledged, and how many were false alarms.

Kept apart from :mod:`bot.summaries.figures` (its size limit): one read, one line, shown only
when something was urgent. The time to acknowledge is wall-clock time (night and weekend
included): an urgent mention is paged whatever the office hours, so that is the wait.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine

from bot.summaries.figures import Period
from storage.db import session_scope
from storage.urgent import rows


def urgent_line(engine: Engine, *, department: str | None, period: Period) -> str | None:
    """A line like *Urgent:* 3 (1 not urgent after all); acknowledged in 4 min (median), 9 min
    at most; 1 never acknowledged. ``None``: nothing urgent in the period."""
    with session_scope(engine) as session:
        found = rows.in_period(
            session=session, department=department, start=period.start, end=period.end
        )
    if not found:
        return None
    false_alarms = sum(1 for u in found if u.downgraded_at is not None)
    waits = sorted(
        u.acknowledged_at - u.detected_at for u in found if u.acknowledged_at is not None
    )
    unanswered = sum(1 for u in found if u.acknowledged_at is None and u.downgraded_at is None)
    parts = [f"*Urgent:* {len(found)}"]
    if false_alarms:
        parts[0] += f" ({false_alarms} not urgent after all)"
    if waits:
        middle = waits[(len(waits) - 1) // 2]  # the lower median: a wait that happened
        parts.append(f"acknowledged in {_minutes(middle)} (median), {_minutes(waits[-1])} at most")
    if unanswered:
        parts.append(f"{unanswered} never acknowledged")
    return "; ".join(parts)


def _minutes(wait: timedelta) -> str:
    minutes = max(0, round(wait.total_seconds() / 60))
    return f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"
