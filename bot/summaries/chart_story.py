"""What the summary chart says, as plain data and words: no drawing, no matplotlib.

:mod:`bot.summaries.chart` draws; this module decides what there is to draw (the periods'
rows, the days grouped into bars) and says it in words, both on the picture and in the alt text
read to people who cannot see it. Keeping the two apart lets the words be read and tested
without rendering anything, and keeps the picture and its alt text from telling different
stories: both are made from the same :class:`ChartView`.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot.summaries.figures import Figures
from bot.summaries.text import Comparison, format_duration, wall_clock_age

__all__ = ["Bucket", "ChartView", "alt_text", "bucket_labels", "buckets", "outcome", "people"]

_ALT_TEXT_LIMIT = 1000  # Slack's limit for a file's alt text
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class ChartView:
    """What is drawn: one or two periods' figures, the names they go by, the service level."""

    title: str
    current: Figures
    now: str  # the current period's name, e.g. "last week"
    previous: Figures | None = None
    before: str = "the period before"  # the previous period's name, e.g. "the week before"
    service_level: timedelta | None = None  # office time from arrival; None: no line

    @classmethod
    def of(
        cls, comparison: Comparison, *, department: str, service_level: timedelta | None
    ) -> ChartView:
        period = comparison.period
        return cls(
            title=f"{department}: {period.label}" if period else department,
            current=comparison.current,
            now=period.label if period else "this period",
            previous=comparison.previous,
            before=period.previous().label if period else "the period before",
            service_level=service_level,
        )

    def rows(self, *, short: bool = False) -> list[tuple[str, Figures]]:
        """The periods top to bottom: the current one first, where the eye starts.

        ``short`` names them to fit a phone's width: a date range becomes "this period" (the
        title has the dates) and the previous period "before".
        """
        now = "this period" if short and self.now[:1].isdigit() else self.now
        pairs = [(now, self.current)]
        if self.previous is not None:
            pairs.append(("before" if short else self.before, self.previous))
        return pairs


@dataclass(frozen=True)
class Bucket:
    """One bar of the volume panel: a day, a week or a month of the period."""

    first: date  # the first day of the period in this bucket
    days: int  # days of the period in it: fewer than ``full`` for a week or month cut short
    full: int  # days in a whole bucket
    received: int

    @property
    def partial(self) -> bool:
        return self.days < self.full


def buckets(daily: Sequence[tuple[date, int, timedelta | None]]) -> tuple[str, list[Bucket]]:
    """The days grouped so that a phone shows at most ~18 bars: by day, week or month.

    Weeks start on Monday, as the periods' weeks do; a period that starts or ends mid-week has
    a partial week at that edge, which the chart marks rather than hides.
    """
    unit = "day" if len(daily) <= 14 else "week" if len(daily) <= 120 else "month"
    grouped: dict[date, list[tuple[date, int]]] = {}
    for day, received, _ in daily:
        if unit == "day":
            key = day
        elif unit == "week":
            key = day - timedelta(days=day.weekday())
        else:
            key = day.replace(day=1)
        grouped.setdefault(key, []).append((day, received))
    out = []
    for key, days in grouped.items():
        full = {"day": 1, "week": 7}.get(unit) or calendar.monthrange(key.year, key.month)[1]
        out.append(Bucket(days[0][0], len(days), full, sum(n for _, n in days)))
    return unit, out


def bucket_labels(unit: str, bars: list[Bucket]) -> list[str]:
    """Tick labels: "Mon\\nNov 16" then "Tue\\n17"; "Nov 23\\n(2 d)"; "Jan\\n2026".

    Built from numbers and fixed English names, not strftime, so the server's locale cannot
    change the picture. The month (for days) or the year (for months) is written where it
    changes; a partial week or month says how many days it has.
    """
    labels = []
    for i, b in enumerate(bars):
        month = _MONTHS[b.first.month - 1]
        if unit == "day":
            new_month = i == 0 or b.first.month != bars[i - 1].first.month
            day = f"{month} {b.first.day}" if new_month else str(b.first.day)
            labels.append(f"{_WEEKDAYS[b.first.weekday()]}\n{day}")
        elif b.partial:
            labels.append(f"{month if unit == 'month' else f'{month} {b.first.day}'}\n({b.days} d)")
        elif unit == "week":
            labels.append(f"{month} {b.first.day}")
        else:
            labels.append(month + (f"\n{b.first.year}" if i == 0 or b.first.month == 1 else ""))
    return labels


def people(figures: Figures) -> str:
    """How many answered, with the share each would have had if answering were even."""
    if figures.answerers == 1:
        return "1 person gave every answer"
    return f"{figures.answerers} people (an even share: {round(100 / figures.answerers)}%)"


def outcome(figures: Figures) -> str:
    """What was left at the end: "8 still open, oldest 6 days" or "none still open"."""
    if not figures.still_open:
        return "none still open"
    age = figures.oldest_open_age
    return f"{figures.still_open} still open" + (f", oldest {wall_clock_age(age)}" if age else "")


def alt_text(view: ChartView) -> str:
    """The chart's story in a few plain sentences (no mrkdwn: Slack shows alt text as is)."""
    cur = view.current
    unit, bars = buckets(cur.daily)
    received = f"Received by {unit}: {cur.received}"
    if view.previous is not None:
        received += f" ({view.previous.received} {view.before})"
    busiest = max(bars, key=lambda b: b.received, default=None)
    if busiest is not None and busiest.received and len(bars) > 1:
        received += f", most on {_bucket_name(unit, busiest)} ({busiest.received})"
    late = f"{cur.sla_breaches} past a service level"
    if view.previous is not None:
        late += f" ({view.previous.sla_breaches} {view.before})"
    times = [
        f"{label}: no answers"
        if f.answer_median is None or f.answer_p90 is None
        else f"{label}: median {format_duration(f.answer_median)},"
        f" 90% within {format_duration(f.answer_p90)}"
        for label, f in view.rows()
    ]
    sla = view.service_level
    level = f" against a service level of {format_duration(sla)}" if sla is not None else ""
    who = [
        f"{label}: nobody answered"
        if not f.answerers or f.busiest_share is None
        else f"{label}: {people(f)}, the busiest gave {round(f.busiest_share * 100)}%"
        for label, f in view.rows()
    ]
    text = " ".join(
        [
            f"Summary chart, {view.title}.",
            f"{received}; {cur.answered} answered, {outcome(cur)} at the end.",
            f"Time to answer in office hours{level}: {'; '.join(times)}; {late}.",
            f"Share of the answers: {'; '.join(who)}.",
        ]
    )
    return text if len(text) <= _ALT_TEXT_LIMIT else text[: _ALT_TEXT_LIMIT - 1] + "…"


def _bucket_name(unit: str, bucket: Bucket) -> str:
    month = _MONTHS[bucket.first.month - 1]
    if unit == "day":
        return f"{_WEEKDAYS[bucket.first.weekday()]} {month} {bucket.first.day}"
    if unit == "week":
        return f"the week of {month} {bucket.first.day}"
    return f"{month} {bucket.first.year}"
