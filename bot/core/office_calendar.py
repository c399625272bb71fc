"""A department's office calendar: the weekly hours it keeps, its public holidays and its
closure days, read from the config and checked once.

Everything here answers *when is the office meant to be open*, in local wall-clock terms:
``mon-fri: 09:00-17:00``, ``US-MA`` holidays, ``2025-12-26`` closed. Turning that into instants
and counting office time between them is :mod:`bot.core.office_time`'s job, which builds on
what this module has validated. Every check raises ``ValueError`` naming the bad key and
value, so a mistyped schedule fails at startup with a message that points at the config line
rather than in the middle of a nudge sweep.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib

__all__ = [
    "MIDNIGHT",
    "Window",
    "check_closures",
    "check_holidays",
    "default_windows",
    "holiday_dates",
    "normalise_windows",
    "parse_closures",
    "parse_holidays",
    "parse_hours",
    "zone",
]

Window = tuple[time, time]
"""One open window of a day, ``(start, end)`` in local time; an end of ``MIDNIGHT`` is 24:00."""

MIDNIGHT = time(0, 0)

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_ALIASES: Mapping[str, int] = {
    **{name: i for i, name in enumerate(_DAY_NAMES)},
    **{
        name: i
        for i, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
}
_TIME = re.compile(r"(\d{1,2}):(\d{2})")


def default_windows() -> Mapping[int, tuple[Window, ...]]:
    """Monday to Friday, 09:00-17:00: what a department that gives no hours keeps."""
    return {day: ((time(9, 0), time(17, 0)),) for day in range(5)}


def _fmt(t: time, *, end: bool = False) -> str:
    if end and t == MIDNIGHT:
        return "24:00"
    return t.strftime("%H:%M") if not (t.second or t.microsecond) else t.isoformat()


# -- config values --------------------------------------------------------------------------


def parse_holidays(holidays: str | None) -> tuple[str | None, str | None]:
    """``US-MA`` -> (``US``, ``MA``); ``None`` -> no holidays. Checked by :func:`check_holidays`
    when the office hours are built."""
    country: str | None = None
    subdivision: str | None = None
    if holidays is not None:
        if not isinstance(holidays, str) or not holidays.strip():
            raise ValueError(f"holidays: {holidays!r} is not a country code (like US, FR or US-MA)")
        country, _, sub = holidays.strip().partition("-")
        subdivision = sub.strip() or None
        country = country.strip()
    return country, subdivision


def parse_closures(closures: Sequence[str | date]) -> frozenset[date]:
    """ISO dates (YAML may already have turned them into dates) as a set of days."""
    days: set[date] = set()
    for i, raw in enumerate(closures):
        if isinstance(raw, datetime) or not isinstance(raw, date | str):
            raise ValueError(f"closures[{i}]: {raw!r} is not a date (YYYY-MM-DD)")
        if isinstance(raw, str):
            try:
                raw = date.fromisoformat(raw.strip())
            except ValueError:
                raise ValueError(f"closures[{i}]: {raw!r} is not a date (YYYY-MM-DD)") from None
        days.add(raw)
    return frozenset(days)


# -- checks that every OfficeHours passes, however it was built -------------------------------


def check_closures(closures: frozenset[date]) -> frozenset[date]:
    """The closure days as a frozenset, each a plain date (a datetime would never match)."""
    closures = frozenset(closures)
    for day in closures:
        if not isinstance(day, date) or isinstance(day, datetime):
            raise ValueError(f"closures: {day!r} is not a date")
    return closures


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``."""
    if not isinstance(name, str) or not name:
        raise ValueError(
            f"timezone: {name!r} is not a time zone (use an IANA name like Europe/Paris)"
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "America" is a directory
        raise ValueError(
            f"timezone: unknown time zone {name!r} (use an IANA name like Europe/Paris)"
        ) from None


def normalise_windows(windows: Mapping[int, Sequence[Window]]) -> tuple[tuple[Window, ...], ...]:
    """Validate direct-construction windows and index them by weekday, sorted."""
    week: list[tuple[Window, ...]] = [() for _ in range(7)]
    for day, day_windows in windows.items():
        if not isinstance(day, int) or isinstance(day, bool) or not 0 <= day <= 6:
            raise ValueError(f"windows: {day!r} is not a weekday (0=Monday .. 6=Sunday)")
        name = _DAY_NAMES[day]
        checked: list[Window] = []
        for window in day_windows:
            if len(window) != 2 or not all(isinstance(t, time) for t in window):
                raise ValueError(f"windows.{name}: {window!r} is not a (start, end) pair of times")
            start, end = window
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError(
                    f"windows.{name}: times must be naive local times (the zone is `timezone`)"
                )
            checked.append((start, end))
        checked = _check_day(f"windows.{name}", checked)
        week[day] = tuple(checked)
    if not any(week):
        # Without a single open window, add() and next_open() could never return.
        raise ValueError("hours: the office is never open (at least one day needs hours)")
    return tuple(week)


def _check_day(label: str, windows: list[Window]) -> list[Window]:
    """Sort one day's windows, rejecting backwards and overlapping ones: either would make the
    spans unordered, and the walk in ``add``/``between`` relies on order."""
    for start, end in windows:
        if end != MIDNIGHT and end <= start:
            raise ValueError(
                f"{label}: {_fmt(start)}-{_fmt(end, end=True)} ends before it starts (a window"
                " cannot cross midnight: end it at 24:00 and continue on the next day)"
            )
    windows = sorted(windows)
    for (s1, e1), (s2, e2) in itertools.pairwise(windows):
        if e1 == MIDNIGHT or s2 < e1:
            raise ValueError(
                f"{label}: {_fmt(s1)}-{_fmt(e1, end=True)} and {_fmt(s2)}-{_fmt(e2, end=True)}"
                " overlap"
            )
    return windows


def check_holidays(country: str | None, subdivision: str | None) -> tuple[str | None, str | None]:
    """Validate the country and subdivision against the holidays library, and return their
    canonical spelling (so ``us-ma`` works and a typo fails at startup, not in the sweep)."""
    if country is None:
        if subdivision is not None:
            raise ValueError(f"holidays: subdivision {subdivision!r} given without a country")
        return None, None
    code = country.strip().upper()
    try:
        calendar: Any = holidays_lib.country_holidays(code)
    except NotImplementedError:
        raise ValueError(
            f"holidays: unknown country {country!r} (use a code like US, FR or DE-BY)"
        ) from None
    if subdivision is None:
        return code, None
    wanted = subdivision.strip().casefold()
    aliases: Mapping[str, str] = getattr(calendar, "subdivisions_aliases", {})
    for known in (*calendar.subdivisions, *aliases):
        if known.casefold() == wanted:
            return code, known
    known_list = ", ".join(calendar.subdivisions) or "none"
    raise ValueError(
        f"holidays: unknown subdivision {subdivision!r} for {code} (known: {known_list})"
    )


def holiday_dates(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """The public holidays of ``country`` (and ``subdivision``) in ``year``."""
    found = holidays_lib.country_holidays(country, subdiv=subdivision, years=year)
    return frozenset(found.keys())


# -- the hours mapping of the config --------------------------------------------------------


def _parse_days(key: str) -> list[int]:
    days: list[int] = []
    for part in key.split(","):
        first, sep, last = (p.strip().lower() for p in part.partition("-"))
        for name in (first, last) if sep else (first,):
            if name not in _DAY_ALIASES:
                raise ValueError(
                    f"hours.{key}: {name!r} is not a day (use mon, tue, wed, thu, fri, sat, sun"
                    " or ranges like mon-fri)"
                )
        a = _DAY_ALIASES[first]
        if not sep:
            days.append(a)
            continue
        b = _DAY_ALIASES[last]
        days.extend((a + i) % 7 for i in range((b - a) % 7 + 1))  # fri-mon wraps the weekend
    return days


def _parse_time(key: str, text: str, *, end: bool) -> time:
    match = _TIME.fullmatch(text.strip())
    if match:
        hour, minute = int(match[1]), int(match[2])
        if hour == 24 and minute == 0 and end:
            return MIDNIGHT
        if hour < 24 and minute < 60:
            return time(hour, minute)
    what = "an end time" if end else "a start time"
    raise ValueError(f"hours.{key}: {text.strip()!r} is not {what} (HH:MM, 00:00-24:00)")


def _parse_windows(key: str, value: object) -> tuple[Window, ...]:
    if not isinstance(value, str):
        # YAML 1.1 reads an unquoted `off` or `no` as false, so say what is expected.
        raise ValueError(
            f"hours.{key}: {value!r} is not 'closed' or windows like '09:00-17:00' (quote it)"
        )
    text = value.strip()
    if text.lower() == "closed":
        return ()
    windows: list[Window] = []
    for part in text.split(","):
        start_text, sep, end_text = part.partition("-")
        if not sep or not start_text.strip() or not end_text.strip():
            raise ValueError(
                f"hours.{key}: {part.strip()!r} is not a window like 09:00-17:00 (or 'closed')"
            )
        windows.append(
            (_parse_time(key, start_text, end=False), _parse_time(key, end_text, end=True))
        )
    return tuple(_check_day(f"hours.{key}", windows))


def parse_hours(hours: Mapping[str, str]) -> dict[int, tuple[Window, ...]]:
    """The config's ``hours`` mapping as windows by weekday (see ``OfficeHours.parse``)."""
    if not isinstance(hours, Mapping):
        raise ValueError("hours: expected a mapping like {mon-fri: 09:00-17:00}")
    week: dict[int, tuple[Window, ...]] = {}
    given_by: dict[int, str] = {}
    for raw_key, value in hours.items():
        key = str(raw_key).strip()
        days = _parse_days(key)
        windows = _parse_windows(key, value)
        for day in days:
            if day in given_by:
                raise ValueError(
                    f"hours.{key}: {_DAY_NAMES[day]} is already given by {given_by[day]!r}"
                    " (each day may appear once)"
                )
            given_by[day] = key
            week[day] = windows
    if not any(week.values()):
        raise ValueError("hours: the office is never open (at least one day needs hours)")
    return week
