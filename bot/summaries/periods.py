"""The stretch of time a department lead's summary covers, and the one it is compared with.

A lead asks for "last week" or "2026-11-01..2026-11-15"; :func:`parse_period` turns those words
into a :class:`Period` in the department's time zone, and :meth:`Period.previous` finds the
stretch to compare it with. This is calendar arithmetic only (local midnights, weeks starting on
Monday, daylight-saving changes), kept apart from the figures so that what a period *is* can be
read and tested without what is counted in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["Period", "parse_period", "zone_info"]

_ONE_DAY = timedelta(days=1)
_MAX_PERIOD_DAYS = 366  # a year and a day: longer asks are almost surely typos


@dataclass(frozen=True)
class Period:
    """A stretch of time ``[start, end)``, with the words a lead used to ask for it.

    It may be empty ("today" asked at midnight sharp): every figure is then zero or None.

    ``timezone`` and ``step_days`` are set by :func:`parse_period`: :meth:`previous` then moves
    back by whole local days, so "last week" is the week before even across a daylight-saving
    change. A period built by hand without them moves back by its exact length.
    """

    start: datetime
    end: datetime
    label: str
    timezone: str = "UTC"
    step_days: int | None = None

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            at: datetime = getattr(self, name)
            if at.tzinfo is None or at.utcoffset() is None:
                raise ValueError(f"period {name} must be timezone-aware, got {at.isoformat()}")
        if self.end < self.start:
            raise ValueError(
                f"period ends ({self.end.isoformat()}) before it starts ({self.start.isoformat()})"
            )
        if self.step_days is not None and self.step_days < 1:
            raise ValueError(f"step_days must be at least 1, got {self.step_days}")

    def previous(self) -> Period:
        """The previous period of the same length: the same stretch one step earlier.

        For a period that runs up to now ("today", "this week", "last 30 days") that is the same
        stretch one day, week or 30 days earlier, which is the fair comparison ("Monday to
        Wednesday noon" against last week's "Monday to Wednesday noon", not a whole week).
        """
        if self.step_days is None:
            length = self.end - self.start
            return Period(self.start - length, self.start, f"the period before {self.label}")
        zone = zone_info(self.timezone)
        start = _shift_days(self.start, zone, -self.step_days)
        end = _shift_days(self.end, zone, -self.step_days)
        label = _previous_label(self.label) or _date_range_label(start, end, zone)
        return Period(start, end, label, self.timezone, self.step_days)


_FORMS = (
    "today, yesterday, this week, last week, last 30 days (any number of days), "
    "or dates like 2026-11-01..2026-11-15 or 2026-11-01 to 2026-11-15"
)
_LAST_DAYS = re.compile(r"last (\d{1,4}) days?")
_DATE = r"(\d{4}-\d{2}-\d{2})"
_RANGE = re.compile(rf"{_DATE}(?:\s*(?:\.\.|\bto\b)\s*{_DATE})?")


def parse_period(text: str, *, now: datetime, timezone: str) -> Period:
    """The period a lead asked for, in the department's time zone, or a ValueError saying why.

    Days and weeks are local (weeks start on Monday). "today", "this week" and "last N days"
    run up to ``now``, so their figures are "so far"; "last N days" is N local days counting
    today. A date range includes both dates and stops at ``now`` if it reaches past it.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now.isoformat()}")
    zone = zone_info(timezone)
    asked = " ".join(text.lower().split())
    now = now.astimezone(UTC)
    today = now.astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())

    def midnight(day: date) -> datetime:
        return _local_midnight(day, zone)

    def make(start: datetime, end: datetime, label: str, step: int) -> Period:
        return Period(start, end, label, timezone, step)

    if asked == "today":
        return make(midnight(today), now, "today", 1)
    if asked == "yesterday":
        return make(midnight(today - _ONE_DAY), midnight(today), "yesterday", 1)
    if asked == "this week":
        return make(midnight(monday), now, "this week", 7)
    if asked == "last week":
        return make(midnight(monday - timedelta(days=7)), midnight(monday), "last week", 7)
    if match := _LAST_DAYS.fullmatch(asked):
        days = int(match[1])
        if not 1 <= days <= _MAX_PERIOD_DAYS:
            raise ValueError(f"{text.strip()!r}: ask for between 1 and {_MAX_PERIOD_DAYS} days")
        label = "last day" if days == 1 else f"last {days} days"
        return make(midnight(today - timedelta(days=days - 1)), now, label, days)
    if match := _RANGE.fullmatch(asked):
        first = _parse_date(match[1])
        last = _parse_date(match[2]) if match[2] else first
        if last < first:
            raise ValueError(f"{text.strip()!r}: the range ends before it starts")
        days = (last - first).days + 1
        if days > _MAX_PERIOD_DAYS:
            raise ValueError(f"{text.strip()!r}: a range can be at most {_MAX_PERIOD_DAYS} days")
        start = midnight(first)
        if start >= now:
            raise ValueError(f"{text.strip()!r} is in the future: nothing to summarise yet")
        label = first.isoformat() if days == 1 else f"{first.isoformat()} to {last.isoformat()}"
        return make(start, min(midnight(last + _ONE_DAY), now), label, days)
    raise ValueError(f"{text.strip()!r} is not a period I know: use {_FORMS}")


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def zone_info(name: str) -> ZoneInfo:
    """The IANA time zone ``name``, or a ValueError a lead can act on (also used by the figures,
    which count local days in the office hours' zone)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name like Europe/Paris)"
        ) from None


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of the local ``day``, in UTC (the jump itself where midnight is skipped:
    fold=0 reads a nonexistent time with the offset before the change)."""
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def _shift_days(at: datetime, zone: ZoneInfo, days: int) -> datetime:
    """``at`` moved by whole local days: same wall-clock time, so midnights stay midnights."""
    wall = at.astimezone(zone).replace(tzinfo=None) + timedelta(days=days)
    return wall.replace(tzinfo=zone).astimezone(UTC)


_PREVIOUS_LABELS = {
    "today": "yesterday",
    "yesterday": "the day before",
    "last day": "the day before",
    "this week": "last week",
    "last week": "the week before",
}


def _previous_label(label: str) -> str | None:
    if match := re.fullmatch(r"last (\d+) days", label):
        return f"the {match[1]} days before"
    return _PREVIOUS_LABELS.get(label)


def _date_range_label(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    return first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"
