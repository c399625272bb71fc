"""The summary's headline: one sentence on what changed and what needs attention, escaped."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core.office_time import OfficeHours
from bot.summaries.figures import Figures, compute, parse_period
from bot.summaries.periods import Period
from bot.summaries.text import Comparison, headline, render_text, wall_clock_age

NOW = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
ZONE = "America/New_York"
LAST_WEEK = parse_period("last week", now=NOW, timezone=ZONE)
HOURS = OfficeHours.parse(
    timezone=ZONE, hours={"mon-fri": "09:00-17:00"}, holidays=None, closures=[]
)
EMPTY = compute(
    [],
    period=LAST_WEEK,
    hours=HOURS,
    claim_sla=timedelta(hours=4),
    answer_sla=timedelta(hours=8),
    nudges=0,
    escalations=0,
    members=[],
)


def figures(**changes: Any) -> Figures:
    return dataclasses.replace(EMPTY, **changes)


def days(n: float) -> timedelta:
    return timedelta(days=n)


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        pytest.param(
            {},
            {},
            "No mentions came in, none the week before either; nothing is waiting.",
            id="no mentions",
        ),
        pytest.param(
            {},
            {"received": 4, "answered": 4},
            "No mentions came in, against 4 the week before; nothing is waiting.",
            id="quiet after a busy week",
        ),
        pytest.param(
            {"received": 12, "answered": 12},
            {"received": 9, "answered": 9},
            "Answered 12 of 12, 3 more than the week before; nothing needs attention:"
            " every mention was answered within the service level.",
            id="all answered in time",
        ),
        pytest.param(
            {"received": 12, "answered": 10, "no_action": 1, "handed_over": 1},
            {"answered": 10},
            "Answered 10 of 12, as many as the week before; nothing needs attention:"
            " every mention was handled within the service level.",
            id="all handled in time, some closed or handed over",
        ),
        pytest.param(
            {
                "received": 23,
                "answered": 15,
                "sla_breaches": 7,
                "still_open": 8,
                "oldest_open_age": days(6) + timedelta(hours=1),
            },
            {"received": 17, "answered": 17},
            "Answered 15 of 23, 2 fewer than the week before; 7 past a service level (none the"
            " week before) and 8 still open, the oldest waiting 6 days: that needs attention.",
            id="breaches and backlog",
        ),
        pytest.param(
            {"received": 18, "answered": 20, "sla_breaches": 3},
            {"received": 20, "answered": 15, "sla_breaches": 9},
            "Answered 20 (18 new), 5 more than the week before; 3 went past a service level"
            " (down from 9), and nothing is still open.",
            id="better than before",
        ),
        pytest.param(
            {
                "received": 30,
                "answered": 12,
                "sla_breaches": 6,
                "still_open": 1,
                "oldest_open_age": days(1.5),
            },
            {"received": 20, "answered": 14, "sla_breaches": 2},
            "Answered 12 of 30, 2 fewer than the week before; 6 past a service level (up from 2)"
            " and 1 still open, the oldest waiting 1 day: that needs attention.",
            id="worse than before",
        ),
        pytest.param(
            {
                "received": 13,
                "answered": 10,
                "still_open": 3,
                "oldest_open_age": timedelta(hours=5, minutes=20),
            },
            {"answered": 10},
            "Answered 10 of 13, as many as the week before; 3 still open, the oldest waiting"
            " 5 h 20 min, none past a service level yet.",
            id="open but within the service level",
        ),
        pytest.param(
            {"sla_breaches": 2, "still_open": 2, "oldest_open_age": days(9)},
            {"received": 5, "sla_breaches": 2},
            "No mentions came in, against 5 the week before; 2 past a service level and 2 still"
            " open, the oldest waiting 9 days: that needs attention.",
            id="an old backlog in a quiet week",
        ),
    ],
)
def test_headline(current: dict[str, Any], previous: dict[str, Any], expected: str) -> None:
    comparison = Comparison(figures(**current), figures(**previous), period=LAST_WEEK)
    assert headline(comparison) == expected


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        (None, "Answered 1 of 1, 1 more than in the period before;"),
        (parse_period("today", now=NOW, timezone=ZONE), "Answered 1 of 1, 1 more than yesterday;"),
        (
            parse_period("2026-11-10", now=NOW, timezone=ZONE),
            "Answered 1 of 1, 1 more than on 2026-11-09;",
        ),
        (
            parse_period("2026-11-10..2026-11-12", now=NOW, timezone=ZONE),
            "Answered 1 of 1, 1 more than in 2026-11-07 to 2026-11-09;",
        ),
    ],
)
def test_headline_names_the_period_before(period: Period | None, expected: str) -> None:
    comparison = Comparison(figures(received=1, answered=1), EMPTY, period=period)
    assert headline(comparison).startswith(expected)


def test_headline_is_the_first_line_after_the_title_and_everything_is_escaped() -> None:
    comparison = Comparison(figures(received=2, answered=1, still_open=1), EMPTY, LAST_WEEK)
    lines = render_text(comparison, department="Roads <&> Parks", lead_view=False).splitlines()
    assert lines[0] == (
        ":bar_chart: *Roads &lt;&amp;&gt; Parks: summary for last week* (compared with the week"
        " before)"
    )
    assert lines[1] == headline(comparison)
    assert lines[2] == ""
    assert "<" not in "\n".join(lines).replace("<@", "")


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (timedelta(minutes=59), "59 min"),
        (timedelta(hours=23, minutes=59), "23 h 59 min"),
        (days(1.9), "1 day"),
        (days(6) + timedelta(hours=23), "6 days"),
    ],
)
def test_wall_clock_age_reads_in_days(age: timedelta, expected: str) -> None:
    assert wall_clock_age(age) == expected
