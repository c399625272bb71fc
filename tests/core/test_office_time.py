"""Office-time arithmetic: windows, weekends, holidays, closures, DST, and add/between agreeing."""

from __future__ import annotations

import random
import re
import time as stopwatch
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.office_time import OfficeHours

NEW_YORK = "America/New_York"
PARIS = "Europe/Paris"
TOKYO = "Asia/Tokyo"
SANTIAGO = "America/Santiago"
LUNCH = {"mon-fri": "09:00-12:00,13:00-17:00"}
EVERY_DAY = {"mon-sun": "09:00-17:00"}
ALL_DAY = {"mon-sun": "00:00-24:00"}


def office(
    timezone: str = "UTC",
    hours: Mapping[str, str] | None = None,
    holidays: str | None = None,
    closures: Sequence[str] = (),
) -> OfficeHours:
    return OfficeHours.parse(timezone=timezone, hours=hours, holidays=holidays, closures=closures)


def local(zone: str, text: str, *, fold: int = 0) -> datetime:
    """A local wall-clock time ("2026-03-06 16:00") in ``zone``, as UTC; fold=1 picks the repeat.

    UTC because aware datetimes sharing a zone compare and subtract by wall clock, and a
    datetime in a repeated hour never equals one in another zone (PEP 495).
    """
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone), fold=fold).astimezone(UTC)


def h(hours: float) -> timedelta:
    return timedelta(hours=hours)


# -- parse ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"timezone": "Mars/Olympus"},
            "timezone: unknown time zone 'Mars/Olympus' (use an IANA name like Europe/Paris)",
        ),
        (
            {"timezone": "America"},
            "timezone: unknown time zone 'America' (use an IANA name like Europe/Paris)",
        ),
        (
            {"hours": {"mon-fry": "09:00-17:00"}},
            "hours.mon-fry: 'fry' is not a day (use mon, tue, wed, thu, fri, sat, sun"
            " or ranges like mon-fri)",
        ),
        ({"hours": {"mon": "9-17"}}, "hours.mon: '9' is not a start time (HH:MM, 00:00-24:00)"),
        (
            {"hours": {"mon": "09:00-25:00"}},
            "hours.mon: '25:00' is not an end time (HH:MM, 00:00-24:00)",
        ),
        (
            {"hours": {"mon": "24:00-17:00"}},
            "hours.mon: '24:00' is not a start time (HH:MM, 00:00-24:00)",
        ),
        (
            {"hours": {"mon": "09:60-17:00"}},
            "hours.mon: '09:60' is not a start time (HH:MM, 00:00-24:00)",
        ),
        (
            {"hours": {"sat": "09:00"}},
            "hours.sat: '09:00' is not a window like 09:00-17:00 (or 'closed')",
        ),
        (
            {"hours": {"mon": "17:00-09:00"}},
            "hours.mon: 17:00-09:00 ends before it starts (a window cannot cross midnight:"
            " end it at 24:00 and continue on the next day)",
        ),
        (
            {"hours": {"mon-fri": "09:00-13:00,12:00-17:00"}},
            "hours.mon-fri: 09:00-13:00 and 12:00-17:00 overlap",
        ),
        (
            {"hours": {"mon-fri": "09:00-17:00", "fri": "closed"}},
            "hours.fri: fri is already given by 'mon-fri' (each day may appear once)",
        ),
        (
            {"hours": {"sun": False}},
            "hours.sun: False is not 'closed' or windows like '09:00-17:00' (quote it)",
        ),
        (
            {"hours": {"mon-sun": "closed"}},
            "hours: the office is never open (at least one day needs hours)",
        ),
        ({"hours": {}}, "hours: the office is never open (at least one day needs hours)"),
        (
            {"holidays": "XX"},
            "holidays: unknown country 'XX' (use a code like US, FR or DE-BY)",
        ),
        ({"holidays": "US-ZZ"}, "holidays: unknown subdivision 'ZZ' for US (known: AK, AL,"),
        ({"holidays": " "}, "holidays: ' ' is not a country code (like US, FR or US-MA)"),
        (
            {"closures": ["2026-12-24", "2026-13-01"]},
            "closures[1]: '2026-13-01' is not a date (YYYY-MM-DD)",
        ),
    ],
)
def test_parse_errors_name_the_bad_part(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"timezone": "UTC", "hours": None, "holidays": None, "closures": []}
    args.update(kwargs)
    with pytest.raises(ValueError) as error:
        OfficeHours.parse(**args)  # type: ignore[arg-type]
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("windows", "message"),
    [
        ({}, "hours: the office is never open"),
        ({7: ((time(9), time(17)),)}, "windows: 7 is not a weekday (0=Monday .. 6=Sunday)"),
        ({0: ((time(17), time(9)),)}, "windows.mon: 17:00-09:00 ends before it starts"),
        ({2: ((time(9), time(12)), (time(11), time(0)))}, "windows.wed: 09:00-12:00 and"),
    ],
)
def test_direct_construction_is_validated_too(
    windows: Mapping[int, tuple[tuple[time, time], ...]], message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
        OfficeHours(windows=windows)


def test_parse_accepts_ranges_lists_wraps_full_names_and_midnight() -> None:
    hours = office(
        hours={
            "mon-wed": "09:00-12:00, 13:00-17:00",
            "Thursday,fri": "9:00-17:00",
            "sat": "17:00-24:00",
            "sun": "00:00-00:00",
        }
    )
    lunch = ((time(9), time(12)), (time(13), time(17)))
    assert dict(hours.windows) == {
        0: lunch,
        1: lunch,
        2: lunch,
        3: ((time(9), time(17)),),
        4: ((time(9), time(17)),),
        5: ((time(17), time(0)),),
        6: ((time(0), time(0)),),
    }
    assert set(office(hours={"fri-mon": "10:00-12:00"}).windows) == {4, 5, 6, 0}
    assert office().windows == OfficeHours().windows  # None: Mon-Fri 09:00-17:00
    assert set(OfficeHours().windows) == {0, 1, 2, 3, 4}


def test_parse_canonicalises_holidays_and_accepts_yaml_dates() -> None:
    hours = OfficeHours.parse(
        timezone=NEW_YORK, hours=None, holidays="us-ma", closures=[date(2026, 12, 24), "2026-12-31"]
    )
    assert (hours.holidays_country, hours.holidays_subdivision) == ("US", "MA")
    assert hours.closures == {date(2026, 12, 24), date(2026, 12, 31)}
    assert hours == office(NEW_YORK, holidays="US-MA", closures=["2026-12-24", "2026-12-31"])
    assert hash(hours) == hash(
        office(NEW_YORK, holidays="US-MA", closures=["2026-12-31", "2026-12-24"])
    )
    assert office(holidays="FR").holidays_subdivision is None


@pytest.mark.parametrize(
    ("holidays", "closures", "day", "expected"),
    [
        ("US", [], date(2026, 11, 26), True),  # Thanksgiving
        ("US", [], date(2026, 11, 27), False),
        ("US", [], date(2026, 7, 3), True),  # Independence Day observed (the 4th is a Saturday)
        ("US-MA", [], date(2026, 4, 20), True),  # Patriots' Day, Massachusetts only
        ("US", [], date(2026, 4, 20), False),
        ("FR", [], date(2026, 7, 14), True),
        ("DE-BY", [], date(2027, 1, 6), True),  # Epiphany in Bavaria, a year not yet cached
        (None, ["2026-06-09"], date(2026, 6, 9), True),
        (None, [], date(2026, 12, 25), False),  # no country: only closures count
    ],
)
def test_is_holiday(holidays: str | None, closures: list[str], day: date, expected: bool) -> None:
    assert office(holidays=holidays, closures=closures).is_holiday(day) is expected


# -- is_open and next_open --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("2026-06-01 08:59:59.999999", False),  # Monday
        ("2026-06-01 09:00", True),
        ("2026-06-01 11:59:59", True),
        ("2026-06-01 12:00", False),  # lunch
        ("2026-06-01 12:59:59", False),
        ("2026-06-01 13:00", True),
        ("2026-06-01 16:59:59.999999", True),
        ("2026-06-01 17:00", False),
        ("2026-06-06 10:00", False),  # Saturday
        ("2026-06-09 10:00", False),  # closure day
        ("2026-07-03 10:00", False),  # Independence Day observed
        ("2026-07-06 10:00", True),
    ],
)
def test_is_open_around_window_edges(when: str, expected: bool) -> None:
    hours = office(NEW_YORK, LUNCH, holidays="US", closures=["2026-06-09"])
    at = local(NEW_YORK, when)
    assert hours.is_open(at) is expected
    assert hours.is_open(at.astimezone(ZoneInfo(TOKYO))) is expected  # any zone, same instant
    assert hours.is_open(at.astimezone(UTC)) is expected


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("2026-06-01 10:00", "2026-06-01 10:00"),  # open: itself
        ("2026-06-01 12:30", "2026-06-01 13:00"),  # lunch
        ("2026-06-01 17:00", "2026-06-02 09:00"),
        ("2026-06-05 17:30", "2026-06-08 09:00"),  # Friday evening
        ("2026-06-08 03:00", "2026-06-08 09:00"),  # night
        ("2026-06-08 17:00", "2026-06-10 09:00"),  # closure on the 9th
    ],
)
def test_next_open(when: str, expected: str) -> None:
    hours = office(NEW_YORK, LUNCH, closures=["2026-06-09"])
    opening = hours.next_open(local(NEW_YORK, when))
    assert opening.tzinfo is UTC
    assert opening == local(NEW_YORK, expected)


def test_naive_datetimes_and_negative_durations_are_refused() -> None:
    hours = OfficeHours()
    naive = datetime(2026, 6, 1, 10)
    aware = naive.replace(tzinfo=UTC)
    with pytest.raises(ValueError, match="at must be a timezone-aware datetime"):
        hours.is_open(naive)
    with pytest.raises(ValueError, match="start must be a timezone-aware"):
        hours.add(naive, h(1))
    with pytest.raises(ValueError, match="end must be a timezone-aware"):
        hours.between(aware, naive)
    with pytest.raises(ValueError, match="duration must not be negative"):
        hours.add(aware, h(-1))


# -- add --------------------------------------------------------------------------------------

ADD_CASES: list[tuple[str, OfficeHours, str, timedelta, str]] = [
    # (zone, office, start, duration, expected), start and expected in the office's zone
    ("UTC", office(), "2026-06-05 16:00", h(2), "2026-06-08 10:00"),  # weekend
    (NEW_YORK, office(NEW_YORK), "2026-06-05 16:00", h(2), "2026-06-08 10:00"),
    (NEW_YORK, office(NEW_YORK), "2026-06-05 16:00", h(1), "2026-06-05 17:00"),  # ends at close
    (NEW_YORK, office(NEW_YORK), "2026-06-02 22:00", h(1), "2026-06-03 10:00"),  # night
    (NEW_YORK, office(NEW_YORK), "2026-06-03 03:00", h(1), "2026-06-03 10:00"),  # small hours
    (NEW_YORK, office(NEW_YORK), "2026-06-06 11:00", h(0), "2026-06-08 09:00"),  # Sat, zero
    (NEW_YORK, office(NEW_YORK), "2026-06-01 09:00", h(40), "2026-06-05 17:00"),  # one week
    (NEW_YORK, office(NEW_YORK), "2026-06-01 09:00", h(8 * 5 * 6), "2026-07-10 17:00"),
    # Thanksgiving (Thu 26 Nov 2026) with US public holidays; without them, no skip
    (NEW_YORK, office(NEW_YORK, holidays="US"), "2026-11-25 16:00", h(2), "2026-11-27 10:00"),
    (NEW_YORK, office(NEW_YORK), "2026-11-25 16:00", h(2), "2026-11-26 10:00"),
    # local closure day (Tuesday 9 June)
    (PARIS, office(PARIS, closures=["2026-06-09"]), "2026-06-08 16:00", h(2), "2026-06-10 10:00"),
    # lunch break
    (NEW_YORK, office(NEW_YORK, LUNCH), "2026-06-01 11:30", h(1), "2026-06-01 13:30"),
    (NEW_YORK, office(NEW_YORK, LUNCH), "2026-06-01 11:00", h(1), "2026-06-01 12:00"),
    (NEW_YORK, office(NEW_YORK, LUNCH), "2026-06-01 12:15", h(1), "2026-06-01 14:00"),
    (NEW_YORK, office(NEW_YORK, LUNCH), "2026-06-01 16:00", h(4), "2026-06-02 12:00"),
    # DST weekends: Friday 16:00 + 2h is still Monday 10:00 local, at a different UTC offset
    (NEW_YORK, office(NEW_YORK), "2026-03-06 16:00", h(2), "2026-03-09 10:00"),
    (NEW_YORK, office(NEW_YORK), "2026-10-30 16:00", h(2), "2026-11-02 10:00"),
    (PARIS, office(PARIS), "2026-03-27 16:00", h(2), "2026-03-30 10:00"),
    (PARIS, office(PARIS), "2026-10-23 16:00", h(2), "2026-10-26 10:00"),
    # DST switch days with Sunday hours: a 09:00-17:00 window is still 8 hours
    (NEW_YORK, office(NEW_YORK, EVERY_DAY), "2026-03-08 09:00", h(8), "2026-03-08 17:00"),
    (NEW_YORK, office(NEW_YORK, EVERY_DAY), "2026-11-01 16:00", h(2), "2026-11-02 10:00"),
    (PARIS, office(PARIS, EVERY_DAY), "2026-03-29 10:00", h(7), "2026-03-29 17:00"),
    (PARIS, office(PARIS, EVERY_DAY), "2026-10-24 16:30", h(1), "2026-10-25 09:30"),
]


@pytest.mark.parametrize(("zone", "hours", "start", "duration", "expected"), ADD_CASES)
def test_add(zone: str, hours: OfficeHours, start: str, duration: timedelta, expected: str) -> None:
    begin = local(zone, start)
    due = hours.add(begin, duration)
    assert due.tzinfo is UTC
    assert due == local(zone, expected), due.astimezone(ZoneInfo(zone))
    assert hours.between(begin, due) == duration


@pytest.mark.parametrize(
    ("zone", "day", "window", "start", "duration", "expected", "real_length"),
    [
        # New York springs forward at 02:00 -> 03:00 and falls back at 02:00 -> 01:00
        (NEW_YORK, "2026-03-08", "00:00-12:00", ("01:30", 0), h(1), ("03-08 03:30", 0), h(11)),
        (NEW_YORK, "2026-03-08", "01:00-04:00", ("01:00", 0), h(1.5), ("03-08 03:30", 0), h(2)),
        (NEW_YORK, "2026-11-01", "00:00-12:00", ("01:30", 0), h(1), ("11-01 01:30", 1), h(13)),
        (NEW_YORK, "2026-11-01", "01:00-04:00", ("01:00", 0), h(3), ("11-01 03:00", 0), h(4)),
        (NEW_YORK, "2026-11-01", "00:00-24:00", ("00:00", 0), h(25), ("11-02 00:00", 0), h(25)),
        # Paris springs forward at 02:00 -> 03:00 and falls back at 03:00 -> 02:00
        (PARIS, "2026-03-29", "01:00-04:00", ("01:30", 0), h(1), ("03-29 03:30", 0), h(2)),
        (PARIS, "2026-03-29", "00:00-24:00", ("00:00", 0), h(23), ("03-30 00:00", 0), h(23)),
        (PARIS, "2026-10-25", "01:00-04:00", ("02:30", 0), h(1), ("10-25 02:30", 1), h(4)),
        (PARIS, "2026-10-25", "01:00-04:00", ("02:30", 1), h(1), ("10-25 03:30", 0), h(4)),
        # a window opening inside the skipped hour opens when the clocks jump
        (NEW_YORK, "2026-03-08", "02:30-05:00", ("00:00", 0), h(0), ("03-08 03:00", 0), h(2)),
        (PARIS, "2026-03-29", "02:15-09:00", ("01:00", 0), h(1), ("03-29 04:00", 0), h(6)),
        # Santiago skips midnight itself (24:00 -> 01:00 on Sunday 6 September 2026)
        (SANTIAGO, "2026-09-06", "00:00-02:00", ("00:00", 0), h(0.5), ("09-06 01:30", 0), h(1)),
    ],
)
def test_dst_switch_days_count_real_time(
    zone: str,
    day: str,
    window: str,
    start: tuple[str, int],
    duration: timedelta,
    expected: tuple[str, int],
    real_length: timedelta,
) -> None:
    weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[date.fromisoformat(day).weekday()]
    hours = office(zone, {weekday: window})  # only the switch day is open
    begin = local(zone, f"{day} {start[0]}", fold=start[1])
    due = hours.add(begin, duration)
    assert due == local(zone, f"2026-{expected[0]}", fold=expected[1]), due.astimezone(
        ZoneInfo(zone)
    )
    assert hours.between(begin, due) == duration
    around = local(zone, f"{day} 00:00") - h(3), local(zone, f"{day} 23:59") + h(3)
    assert hours.between(*around) == real_length
    opening = hours.next_open(around[0])
    assert hours.is_open(opening) and not hours.is_open(opening - timedelta(microseconds=1))
    closing = hours.add(opening, real_length)
    assert hours.is_open(closing - timedelta(microseconds=1)) and not hours.is_open(closing)


def test_a_24_7_desk_in_santiago_has_no_gap_at_the_skipped_midnight() -> None:
    hours = office(SANTIAGO, ALL_DAY)
    start = local(SANTIAGO, "2026-09-05 12:00")
    end = local(SANTIAGO, "2026-09-06 12:00")
    assert end - start == h(23)
    assert hours.between(start, end) == h(23)
    assert hours.add(start, h(23)) == end
    assert hours.is_open(datetime(2026, 9, 6, 4, 0, tzinfo=UTC))  # the jump itself
    assert hours.between(
        local(SANTIAGO, "2026-04-04 12:00"), local(SANTIAGO, "2026-04-05 12:00")
    ) == h(25)


def test_a_window_wholly_inside_the_skipped_hour_never_opens() -> None:
    hours = office(NEW_YORK, {"sun": "02:10-02:50"})
    assert hours.next_open(local(NEW_YORK, "2026-03-08 00:00")) == local(
        NEW_YORK, "2026-03-15 02:10"
    )


# -- between ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2026-06-01 10:00", "2026-06-01 10:00", h(0)),
        ("2026-06-01 11:00", "2026-06-01 10:00", h(0)),  # backwards
        ("2026-06-01 11:00", "2026-06-01 14:00", h(2)),  # lunch does not count
        ("2026-06-01 12:10", "2026-06-01 12:50", h(0)),
        ("2026-06-05 16:00", "2026-06-08 10:00", h(2)),  # weekend
        ("2026-06-05 20:00", "2026-06-07 20:00", h(0)),
        ("2026-06-01 00:00", "2026-06-08 00:00", h(35)),
        ("2026-06-08 16:00", "2026-06-10 10:00", h(2)),  # closure on the 9th
    ],
)
def test_between(start: str, end: str, expected: timedelta) -> None:
    hours = office(NEW_YORK, LUNCH, closures=["2026-06-09"])
    assert hours.between(local(NEW_YORK, start), local(NEW_YORK, end)) == expected


# -- time zones -------------------------------------------------------------------------------


def test_a_department_in_tokyo_keeps_tokyo_hours_whatever_the_clock_of_the_caller() -> None:
    tokyo, utc = office(TOKYO), office("UTC")
    friday_4pm_tokyo = datetime(2026, 6, 5, 7, 0, tzinfo=UTC)
    assert tokyo.add(friday_4pm_tokyo, h(2)) == datetime(2026, 6, 8, 1, 0, tzinfo=UTC)
    assert utc.add(friday_4pm_tokyo, h(2)) == datetime(2026, 6, 5, 11, 0, tzinfo=UTC)
    monday_9_30_tokyo = datetime(2026, 6, 8, 0, 30, tzinfo=UTC)  # 00:30 in UTC: not yet open
    assert tokyo.is_open(monday_9_30_tokyo) and not utc.is_open(monday_9_30_tokyo)
    assert tokyo.next_open(datetime(2026, 6, 7, 23, 30, tzinfo=UTC)) == datetime(
        2026, 6, 8, 0, 0, tzinfo=UTC
    )
    week = datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 8, tzinfo=UTC)
    assert tokyo.between(*week) == utc.between(*week) == h(40)


# -- add and between agree --------------------------------------------------------------------

PROPERTY_OFFICES = [
    office(NEW_YORK, LUNCH, holidays="US", closures=["2026-06-09", "2026-12-24"]),
    office(PARIS, {"mon-fri": "08:30-12:00,14:00-18:30", "sat": "09:00-12:00"}, holidays="FR"),
    office(TOKYO, holidays="JP"),
    office(SANTIAGO, ALL_DAY, closures=["2026-09-18"]),
    office(NEW_YORK, {"sat-sun": "00:00-03:00,22:00-24:00", "wed": "01:30-02:30"}),
]


@pytest.mark.parametrize("hours", PROPERTY_OFFICES, ids=lambda o: o.timezone)
def test_between_undoes_add_on_random_starts(hours: OfficeHours) -> None:
    rng = random.Random(f"office-time-{hours.timezone}-{sorted(hours.windows)}")
    year = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(300):
        start = year + timedelta(microseconds=rng.randrange(366 * 86_400 * 10**6))
        duration = timedelta(microseconds=rng.randrange(3 * 7 * 86_400 * 10**6 // 3))
        if rng.random() < 0.1:
            duration = timedelta(0)
        due = hours.add(start, duration)
        assert due >= start
        assert hours.between(start, due) == duration, (start, duration)
        assert hours.between(start, due + h(1)) >= duration
        if duration:
            assert hours.is_open(due - timedelta(microseconds=1))
            assert hours.add(start, duration - timedelta(microseconds=1)) < due
        else:
            assert due == hours.next_open(start)
        assert hours.is_open(start) == (hours.next_open(start) == start)


def _minutes_open_by_wall_clock(
    zone: str, week: Mapping[int, list[tuple[time, time]]], start: datetime, end: datetime
) -> int:
    """Reference: step minute by minute and ask the local wall clock, the slow obvious way."""
    tz, count, at = ZoneInfo(zone), 0, start
    while at < end:
        wall = at.astimezone(tz)
        count += any(s <= wall.time() < e for s, e in week.get(wall.weekday(), []))
        at += timedelta(minutes=1)
    return count


@pytest.mark.parametrize(
    ("zone", "first_day"),
    [
        (NEW_YORK, "2026-03-02"),
        (NEW_YORK, "2026-10-26"),
        (PARIS, "2026-03-23"),
        (PARIS, "2026-10-19"),
        (TOKYO, "2026-06-01"),
    ],
)
def test_between_matches_a_minute_by_minute_reference_across_dst(zone: str, first_day: str) -> None:
    hours = office(zone, {"mon-fri": "08:00-12:00,13:30-18:15", "sun": "10:00-14:00"})
    week = {d: [(time(8), time(12)), (time(13, 30), time(18, 15))] for d in range(5)}
    week[6] = [(time(10), time(14))]
    start = local(zone, f"{first_day} 07:13")
    end = start + timedelta(days=13, hours=5, minutes=7)
    assert hours.between(start, end) == timedelta(
        minutes=_minutes_open_by_wall_clock(zone, week, start, end)
    )


# -- guards and speed -------------------------------------------------------------------------


def test_a_schedule_closed_for_years_raises_instead_of_looping() -> None:
    days = [(date(2026, 1, 1) + timedelta(days=i)).isoformat() for i in range(4 * 366)]
    hours = office(closures=days)
    with pytest.raises(ValueError, match="no office hours in the 1098 days"):
        hours.add(datetime(2026, 1, 1, tzinfo=UTC), h(1))
    assert hours.add(datetime(2025, 12, 31, 9, tzinfo=UTC), h(1)) == datetime(
        2025, 12, 31, 10, tzinfo=UTC
    )


def test_add_and_between_over_weeks_walk_windows_not_minutes() -> None:
    hours = office(NEW_YORK, LUNCH, holidays="US")
    start = local(NEW_YORK, "2026-11-20 16:00")
    due = hours.add(start, h(100))  # warm the caches: three and a half weeks of office time
    assert due == local(NEW_YORK, "2026-12-14 10:00")
    began = stopwatch.perf_counter()
    for _ in range(1000):
        hours.add(start, h(100))
        hours.between(start, due)
    per_call = (stopwatch.perf_counter() - began) / 2000
    assert per_call < 500e-6  # tens of microseconds in practice; generous for slow CI
