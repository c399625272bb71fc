"""How a department lead's summary reads: one period's figures next to the period before.

:func:`~bot.summaries.figures.compute` gives the numbers; this module decides how they are shown
and compared (:class:`Comparison` and its deltas, :func:`format_duration`, :func:`render_text`
as Slack mrkdwn, opening with the one-sentence :func:`headline`), so wording and escaping can
change without touching the arithmetic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from bot.core.mrkdwn import escape
from bot.core.sources import source_label
from bot.summaries.figures import Figures
from bot.summaries.periods import Period

__all__ = ["Comparison", "format_duration", "headline", "render_text", "wall_clock_age"]

_COUNTS = frozenset(
    {
        "received",
        "answered",
        "no_action",
        "handed_over",
        "still_open",
        "sla_breaches",
        "nudges",
        "escalations",
        "answerers",
    }
)
_DURATIONS = frozenset(
    {"oldest_open_age", "claim_median", "claim_p90", "answer_median", "answer_p90"}
)
_SHARES = frozenset({"busiest_share"})
_RATIOS = frozenset({"gini"})


@dataclass(frozen=True)
class Comparison:
    """A period's figures next to those of the period before, for "+3 (12 → 15)" lines.

    ``period`` (the current one) is optional and only used for the heading of the text.
    """

    current: Figures
    previous: Figures
    period: Period | None = None

    def delta(self, name: str) -> str:
        """How the figure ``name`` changed, with both values, ready to display.

        Counts change by their difference ("+3 (12 → 15)"), durations by a percentage
        ("-20% (10 min → 8 min)"), the busiest share by percentage points ("+10 pts (40% →
        50%)") and the Gini by its difference ("+0.10 (0.40 → 0.50)"). An unchanged figure
        reads "no change (12)"; a figure missing on either side shows "—" and no change.
        """
        if name not in _COUNTS | _DURATIONS | _SHARES | _RATIOS:
            known = ", ".join(sorted(_COUNTS | _DURATIONS | _SHARES | _RATIOS))
            raise ValueError(f"no delta for {name!r} (one of: {known})")
        before = getattr(self.previous, name)
        after = getattr(self.current, name)
        if name in _COUNTS:
            return _change(before, after, f"{after - before:+d}", str(before), str(after))
        if name in _DURATIONS:
            days = name == "oldest_open_age"
            shown = (_show(before, days), _show(after, days))
            if before is None or after is None or not before:
                return _change(before, after, None, *shown)
            percent = round((after - before) / before * 100)
            return _change(before, after, f"{percent:+d}%", *shown)
        if name in _SHARES:
            shown = (_share(before), _share(after))
            if before is None or after is None:
                return _change(before, after, None, *shown)
            return _change(before, after, f"{round((after - before) * 100):+d} pts", *shown)
        shown = (_ratio(before), _ratio(after))
        if before is None or after is None:
            return _change(before, after, None, *shown)
        return _change(before, after, f"{after - before:+.2f}", *shown)


def _change(
    before: object, after: object, difference: str | None, shown_before: str, shown_after: str
) -> str:
    if shown_before == shown_after and before == after:
        return f"no change ({shown_after})"
    if difference is None:
        return f"{shown_before} → {shown_after}"
    return f"{difference} ({shown_before} → {shown_after})"


def format_duration(value: timedelta, *, days: bool = False) -> str:
    """A duration for people: "8 min", "3 h 05 min", or with ``days`` "2 d 4 h".

    Office time is always shown in hours: "1 d" would read as a calendar day, while 24 office
    hours are three working days. Rounded down, like the nudge messages: to the minute, and to
    the hour once shown in days.
    """
    minutes = int(value.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if days and hours >= 24:
        whole_days, hours = divmod(hours, 24)
        return f"{whole_days} d {hours} h" if hours else f"{whole_days} d"
    return f"{hours} h {rest:02d} min" if rest else f"{hours} h"


def wall_clock_age(value: timedelta) -> str:
    """How long a citizen has waited, for a sentence: "5 h 20 min", "1 day", "6 days".

    Calendar time (unlike office time) reads naturally in days; rounded down like the rest.
    """
    days = value.days
    if days >= 1:
        return "1 day" if days == 1 else f"{days} days"
    return format_duration(value)


def _show(value: timedelta | None, days: bool = False) -> str:
    return "—" if value is None else format_duration(value, days=days)


def _share(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)}%"


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


def _person(member: str) -> str:
    """A Slack mention for a user id; anything else is shown as escaped text, never a ping."""
    return f"<@{member}>" if _USER_ID.fullmatch(member) else escape(member)


def render_text(comparison: Comparison, *, department: str, lead_view: bool) -> str:
    """The summary as Slack mrkdwn: each figure, then how it moved since the previous period.

    Words from citizens' posts (the recurring terms) are escaped so they print literally and
    can never ping or link; the department name and source names are escaped too. The list of
    members who have not answered yet is only for the lead (``lead_view``): it is meant as an
    invitation to include them, and would read as a public ranking in the channel.
    """
    cur = comparison.current
    d = comparison.delta
    heading = f":bar_chart: *{escape(department)}: summary"
    if comparison.period is not None:
        before = comparison.period.previous().label
        heading += f" for {escape(comparison.period.label)}* (compared with {escape(before)})"
    else:
        heading += "* (compared with the period before)"
    lines = [heading, headline(comparison), ""]

    sources = ", ".join(f"{escape(source_label(s))} {n}" for s, n in cur.received_by_source.items())
    by_source = f" ({sources})" if sources else ""
    lines.append(f"*Received:* {cur.received}{by_source}  _{d('received')}_")
    lines.append(f"*Answered:* {cur.answered}  _{d('answered')}_")
    lines.append(f"*No action needed:* {cur.no_action}  _{d('no_action')}_")
    lines.append(f"*Handed over:* {cur.handed_over}  _{d('handed_over')}_")
    oldest = (
        f" (oldest waiting {format_duration(cur.oldest_open_age, days=True)})"
        if cur.oldest_open_age is not None
        else ""
    )
    lines.append(f"*Still open at the end:* {cur.still_open}{oldest}  _{d('still_open')}_")

    lines.append("")
    lines.append("*Time to claim* (office hours, from arrival):")
    lines.append(f"     median {_show(cur.claim_median)}  _{d('claim_median')}_")
    lines.append(f"     90% within {_show(cur.claim_p90)}  _{d('claim_p90')}_")
    lines.append("*Time to answer* (office hours, from arrival):")
    lines.append(f"     median {_show(cur.answer_median)}  _{d('answer_median')}_")
    lines.append(f"     90% within {_show(cur.answer_p90)}  _{d('answer_p90')}_")
    lines.append(f"*Past a service level:* {cur.sla_breaches}  _{d('sla_breaches')}_")
    lines.append(f"*Reminders sent:* {cur.nudges}  _{d('nudges')}_")
    lines.append(f"*Escalations:* {cur.escalations}  _{d('escalations')}_")

    lines.append("")
    if cur.answered:
        spread = (
            f"; spread {_ratio(cur.gini)} (0 = evenly shared, near 1 = one person)"
            if cur.gini is not None
            else ""
        )
        lines.append(
            f"*Who answered:* {cur.answerers} {'person' if cur.answerers == 1 else 'people'}"
            f"; the busiest gave {_share(cur.busiest_share)} of the answers{spread}"
        )
    else:
        lines.append("*Who answered:* nobody yet")
    if cur.top_terms:
        terms = ", ".join(f"{escape(word)} ({n})" for word, n in cur.top_terms)
        lines.append(f"*Recurring words:* {terms}")

    if lead_view and cur.not_yet_answered:
        people = ", ".join(_person(m) for m in cur.not_yet_answered)
        lines.append("")
        lines.append(
            f"*No answer yet in this period:* {people}. A good moment to invite them to take one?"
        )
    return "\n".join(lines)


def headline(comparison: Comparison) -> str:
    """One sentence, as mrkdwn: what changed since the period before, and what needs attention.

    Derived from the figures alone, so the same figures always give the same sentence. What
    changed is told by the answers (what the team did), or by what came in when nothing was
    answered. Something needs attention when mentions are still open *and* some went past a
    service level; open mentions all within it are only reported, and late answers with nothing
    left open are reported with their trend.
    """
    cur, prev = comparison.current, comparison.previous
    before = _than(comparison)
    if not cur.received and not cur.answered:
        earlier = f"against {prev.received} {before}" if prev.received else f"none {before} either"
        change = f"No mentions came in, {earlier}"
    else:
        # "of" only when it reads as a fraction: answers in a period may outnumber arrivals,
        # since mentions from before it get answered too.
        done = f"Answered {cur.answered}"
        done += f" of {cur.received}" if cur.answered <= cur.received else f" ({cur.received} new)"
        change = f"{done}, {_more_or_fewer(cur.answered - prev.answered, before)}"
    return f"{change}; {_attention(cur, prev, before)}."


def _more_or_fewer(difference: int, before: str) -> str:
    if difference > 0:
        return f"{difference} more than {before}"
    if difference < 0:
        return f"{-difference} fewer than {before}"
    return f"as many as {before}"


def _attention(cur: Figures, prev: Figures, before: str) -> str:
    late, still_open = cur.sla_breaches, cur.still_open
    oldest = (
        f", the oldest waiting {wall_clock_age(cur.oldest_open_age)}"
        if cur.oldest_open_age is not None
        else ""
    )
    if late and still_open:
        return (
            f"{late} past a service level{_late_trend(late, prev.sla_breaches, before)}"
            f" and {still_open} still open{oldest}: that needs attention"
        )
    if late:
        return (
            f"{late} went past a service level{_late_trend(late, prev.sla_breaches, before)},"
            " and nothing is still open"
        )
    if still_open:
        return f"{still_open} still open{oldest}, none past a service level yet"
    if not cur.received and not cur.answered:
        return "nothing is waiting"
    how = "answered" if not (cur.no_action or cur.handed_over) else "handled"
    return f"nothing needs attention: every mention was {how} within the service level"


def _late_trend(late: int, earlier: int, before: str) -> str:
    if earlier == late:
        return ""
    if not earlier:
        return f" (none {before})"
    return f" ({'up' if late > earlier else 'down'} from {earlier})"


def _than(comparison: Comparison) -> str:
    """The previous period's name as it reads after "than": "the week before", "on 2026-11-04"."""
    if comparison.period is None:
        return "in the period before"
    label = escape(comparison.period.previous().label)
    if label[:1].isdigit():
        return f"{'in' if ' to ' in label else 'on'} {label}"
    return f"in {label}" if label.startswith("the period") else label
