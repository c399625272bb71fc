"""A lead's summary figures, checked against numbers worked out by hand.

The fixture is one department in New York, open Monday to Friday 09:00-17:00 (EST, UTC-5, in
November 2026 after the clocks went back on Sunday 1 November), over the period
2026-11-05 (Thursday) to 2026-11-11 (Wednesday). Each mention's comment shows the office-time
arithmetic its expected numbers come from.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.office_time import OfficeHours
from bot.summaries.figures import (
    Figures,
    MentionFacts,
    Period,
    compute,
    gini,
    parse_period,
    percentile,
    top_terms,
)
from bot.summaries.text import Comparison, format_duration, render_text

NEW_YORK = "America/New_York"
HOURS = OfficeHours.parse(
    timezone=NEW_YORK, hours={"mon-fri": "09:00-17:00"}, holidays=None, closures=[]
)
CLAIM_SLA = timedelta(hours=4)
ANSWER_SLA = timedelta(hours=8)
MEMBERS = ["U0ALICE01", "U0BOB0001", "U0CAROL01", "U0DAVE001"]
ALICE, BOB, CAROL, _DAVE = MEMBERS
# Well after the period, so every mention's current status is known.
NOW = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)


def ny(text: str) -> datetime:
    """A New York wall-clock time ("2026-11-05 10:00", or "2026-11-05" for its midnight) as an
    aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(NEW_YORK)).astimezone(UTC)


def h(hours: float) -> timedelta:
    return timedelta(hours=hours)


def m(hours: float) -> timedelta:
    return timedelta(minutes=hours)


def fact(
    id: int,
    source: str,
    received: str,
    *,
    status: str,
    claimed: str | None = None,
    answered: str | None = None,
    by: str | None = None,
    handed_over: bool = False,
    text: str = "",
) -> MentionFacts:
    return MentionFacts(
        id=id,
        source=source,
        department="roads",
        received_at=ny(received),
        status=status,
        first_claimed_at=ny(claimed) if claimed else None,
        answered_at=ny(answered) if answered else None,
        answered_by=by,
        handed_over=handed_over,
        text=text,
    )


MENTIONS = [
    # Thursday: claim 10:00->10:30 = 30 min; answer 10:00->12:00 = 2 h.
    fact(1, "email", "2026-11-05 10:00", status="answered", claimed="2026-11-05 10:30",
         answered="2026-11-05 12:00", by=ALICE, text="Pothole on Main Street, please fix it"),
    # Across the weekend: Friday 16:00-17:00 (1 h) + Monday 09:00-10:00 (1 h) = 2 h to claim,
    # although 66 wall-clock hours passed; answer Fri 1 h + Mon 09:00-15:00 6 h = 7 h.
    # Claim due Fri 1 h + Mon 3 h = Mon 12:00 (met at 10:00); answer due Mon 10:00 + 8 h =
    # Mon 7 h + Tue 1 h = Tue 10:00 (met Mon 15:00): no breach.
    fact(2, "x", "2026-11-06 16:00", status="answered", claimed="2026-11-09 10:00",
         answered="2026-11-09 15:00", by=ALICE,
         text="Huge pothole near the café @CityHall https://example.com/pothole/1"),
    # Arrived on Saturday: the clock starts Monday 09:00. Claim Mon 09:00->14:00 = 5 h, past the
    # 4 h claim SLA (due Mon 13:00): a breach. Answer Mon 8 h + Tue 09:00-10:00 1 h = 9 h.
    fact(3, "email", "2026-11-07 11:00", status="answered", claimed="2026-11-09 14:00",
         answered="2026-11-10 10:00", by=BOB, text="Streetlight out on Main Street"),
    # Claim 09:30->09:45 = 15 min, never answered: answer due 09:45 + 8 h = Mon 7 h 15 min +
    # Tue 45 min = Tue 09:45, still open at the end (Thu 00:00): a breach. Open for
    # Mon 09:30 -> Thu 00:00 = 2 d 14 h 30 min of wall-clock time, the oldest.
    fact(4, "x", "2026-11-09 09:30", status="claimed", claimed="2026-11-09 09:45",
         text="Le café est fermé, pothole devant"),
    # Never claimed: claim due Tue 14:00, still open at the end: a breach.
    fact(5, "facebook", "2026-11-10 10:00", status="new",
         text="Streetlight broken again! <script>"),
    # Never claimed, but due only on Thu 11:30 (Wed 30 min + Thu 3 h 30 min): no breach yet.
    fact(6, "email", "2026-11-11 16:30", status="new", text="Trash pickup missed"),
    # Dismissed: no action. "spam" three times is still one mention, so not recurring.
    fact(7, "x", "2026-11-05 13:00", status="dismissed", text="spam spam spam"),
    # Handed over to another department: neither open nor a breach here.
    fact(8, "email", "2026-11-09 11:00", status="new", handed_over=True, text="Water leak on Elm"),
    # Arrived the day before the period; answered in it, so it is part of this period's work:
    # answer Wed 10:00-17:00 7 h + Thu 09:00-11:00 2 h = 9 h. Answer due Wed 11:00 + 8 h =
    # Wed 6 h + Thu 2 h = Thu 11:00, met exactly at 11:00: not late.
    fact(9, "email", "2026-11-04 10:00", status="answered", claimed="2026-11-04 11:00",
         answered="2026-11-05 11:00", by=ALICE, text="Sidewalk cracked"),
    # Claimed in the period (5 min), answered after it: still open at the end of the period.
    # Answer due Wed 10:05 + 8 h = Wed 6 h 55 min + Thu 1 h 05 min = Thu 10:05; met 10:00.
    fact(10, "email", "2026-11-11 10:00", status="answered", claimed="2026-11-11 10:05",
         answered="2026-11-12 10:00", by=CAROL, text="Pothole 2026 2026"),
    # Arrived Tuesday 3 Nov, before the period, and claimed only Thursday 10:00: overdue from
    # Tue 14:00 into the period, so a breach here too. Claim Tue 7 h + Wed 8 h + Thu 1 h = 16 h;
    # answer Tue 7 h + Wed 8 h + Thu 2 h = 17 h (due Fri 10:00, met Thu 11:00).
    fact(11, "web", "2026-11-03 10:00", status="answered", claimed="2026-11-05 10:00",
         answered="2026-11-05 11:00", by=BOB, text="Noise at night"),
]  # fmt: skip

PERIOD = parse_period("2026-11-05..2026-11-11", now=NOW, timezone=NEW_YORK)


def figures(mentions: list[MentionFacts] = MENTIONS, period: Period = PERIOD) -> Figures:
    return compute(
        mentions,
        period=period,
        hours=HOURS,
        claim_sla=CLAIM_SLA,
        answer_sla=ANSWER_SLA,
        nudges=7,
        escalations=2,
        members=MEMBERS,
    )


# -- compute ----------------------------------------------------------------------------------


def test_period_of_the_fixture() -> None:
    assert PERIOD.start == ny("2026-11-05 00:00") == datetime(2026, 11, 5, 5, tzinfo=UTC)
    assert PERIOD.end == ny("2026-11-12 00:00")
    assert PERIOD.label == "2026-11-05 to 2026-11-11"


def test_counts() -> None:
    f = figures()
    # Arrived in the period: 1-8 and 10 (9 and 11 came before it) = 9.
    assert f.received == 9
    # email 1, 3, 6, 8, 10 = 5; x 2, 4, 7 = 3; facebook 5 = 1; most first.
    assert f.received_by_source == {"email": 5, "x": 3, "facebook": 1}
    assert list(f.received_by_source) == ["email", "x", "facebook"]
    # Answers given in the period: 1, 2, 3, 9, 11 (10 was answered after it) = 5.
    assert f.answered == 5
    assert f.no_action == 1  # 7
    assert f.handed_over == 1  # 8
    assert f.still_open == 4  # 4, 5, 6 and 10 (answered after the end)
    assert f.oldest_open_age == timedelta(days=2, hours=14, minutes=30)  # 4
    assert (f.nudges, f.escalations) == (7, 2)


def test_office_times_and_percentiles() -> None:
    f = figures()
    # First claims in the period: 10 (5 min), 4 (15 min), 1 (30 min), 2 (2 h), 3 (5 h),
    # 11 (16 h). Nearest rank, n = 6: median rank ceil(3) = 3 -> 30 min; p90 ceil(5.4) = 6.
    assert f.claim_median == m(30)
    assert f.claim_p90 == h(16)
    # Answers in the period: 1 (2 h), 2 (7 h), 3 (9 h), 9 (9 h), 11 (17 h).
    # n = 5: median rank ceil(2.5) = 3 -> 9 h; p90 rank ceil(4.5) = 5 -> 17 h.
    assert f.answer_median == h(9)
    assert f.answer_p90 == h(17)


def test_weekend_does_not_count_as_office_time() -> None:
    # Mention 2 alone: 66 wall-clock hours from Friday 16:00 to Monday 10:00, 2 office hours.
    alone = figures([MENTIONS[1]])
    assert alone.claim_median == h(2)
    assert alone.answer_median == h(7)
    assert alone.sla_breaches == 0


def test_sla_breaches() -> None:
    # 3 (claimed late), 4 (answer overdue at the end), 5 (claim overdue at the end) and
    # 11 (overdue from before the period until its claim in it) = 4.
    assert figures().sla_breaches == 4


def test_breach_counts_in_every_period_it_spans() -> None:
    # Mention 11 was overdue from Tue 3 Nov 14:00: it counts in the week before as well.
    # Mention 9 (claimed 1 h after arrival, answered on time) does not.
    before = figures([MENTIONS[8], MENTIONS[10]], period=PERIOD.previous())
    assert before.sla_breaches == 1
    assert before.received == 2
    # Both were still open at the end of the week before (answered on Thursday 5 Nov).
    assert before.still_open == 2
    assert before.answered == 0
    assert before.claim_median == h(1)  # 9: Wed 10:00 -> 11:00
    assert before.answer_median is None


def test_people() -> None:
    f = figures()
    # Alice answered 1, 2, 9; Bob 3, 11; Carol's answer came after the period.
    assert f.answerers == 2
    assert f.busiest_share == pytest.approx(3 / 5)
    # Counts over members [3, 2, 0, 0]: sum of |xi - xj| over ordered pairs = 2 * (1 + 3 + 3 +
    # 2 + 2 + 0) = 22; divided by 2 * n^2 * mean = 2 * 16 * 1.25 = 40 -> 0.55.
    assert f.gini == pytest.approx(0.55)
    assert f.not_yet_answered == [CAROL, "U0DAVE001"]


def test_top_terms() -> None:
    # pothole: 1, 2, 4, 10 = 4 mentions; café (2, 4), main (1, 3), street (1, 3) and
    # streetlight (3, 5) twice each, ties in alphabetical order. Not "spam" (one mention),
    # "cityhall" (a handle), "example" (a link), "2026" (a number), nor "the", "est", "on".
    assert figures().top_terms == [
        ("pothole", 4),
        ("café", 2),
        ("main", 2),
        ("street", 2),
        ("streetlight", 2),
    ]


def test_top_terms_fold_case_and_accents_and_keep_ten() -> None:
    texts = ["Déneigement rue", "deneigement RUE", "DÉNEIGEMENT"]
    assert top_terms(texts) == [("déneigement", 3), ("rue", 2)]
    many = [" ".join(f"word{i:02d}" for i in range(12))] * 2
    assert [word for word, _ in top_terms(many)] == [f"word{i:02d}" for i in range(10)]
    assert top_terms([]) == []


def test_daily() -> None:
    f = figures()
    # Received per local day: Thu 1, 7; Fri 2; Sat 3; Sun none; Mon 4, 8; Tue 5; Wed 6, 10.
    # Median answer time of the answers given that day: Thu 1 (2 h), 9 (9 h), 11 (17 h) ->
    # rank ceil(1.5) = 2 -> 9 h; Mon 2 (7 h); Tue 3 (9 h).
    assert f.daily == [
        (date(2026, 11, 5), 2, h(9)),
        (date(2026, 11, 6), 1, None),
        (date(2026, 11, 7), 1, None),
        (date(2026, 11, 8), 0, None),
        (date(2026, 11, 9), 2, h(7)),
        (date(2026, 11, 10), 1, h(9)),
        (date(2026, 11, 11), 2, None),
    ]
    assert sum(count for _, count, _ in f.daily) == f.received


def test_empty_period() -> None:
    f = figures([])
    assert (f.received, f.answered, f.still_open, f.sla_breaches) == (0, 0, 0, 0)
    assert f.oldest_open_age is None
    assert (f.claim_median, f.claim_p90, f.answer_median, f.answer_p90) == (None,) * 4
    assert (f.busiest_share, f.gini) == (None, None)
    assert f.not_yet_answered == MEMBERS
    assert f.top_terms == []
    assert [count for _, count, _ in f.daily] == [0] * 7


# -- the arithmetic ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ([4, 0, 0, 0], 0.75),  # 2 * 4 * 4 / (4 * 4) - 5 / 4 = 2 - 1.25
        ([1, 1, 1, 1], 0.0),
        ([3, 2, 0, 0], 0.55),
        ([0, 5], 0.5),  # one of two did everything: 1 - 1/2
        ([5], None),  # fewer than two members
        ([], None),
        ([0, 0, 0], None),  # nobody answered: nothing to spread
    ],
)
def test_gini(counts: list[int], expected: float | None) -> None:
    result = gini(counts)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)


def test_percentile_is_nearest_rank() -> None:
    values = [m(i) for i in range(1, 11)]  # 1..10 min
    assert percentile(values, 50) == m(5)  # rank ceil(5.0) = 5
    assert percentile(values, 90) == m(9)  # rank ceil(9.0) = 9
    assert percentile(values, 91) == m(10)  # rank ceil(9.1) = 10
    assert percentile(values[:4], 50) == m(2)  # even count: the lower middle
    assert percentile([m(7)], 90) == m(7)
    assert percentile([], 50) is None
    with pytest.raises(ValueError, match="percentile"):
        percentile(values, 0)


# -- periods ----------------------------------------------------------------------------------

# Wednesday 18 November 2026, 12:00 in New York (EST, UTC-5).
WEDNESDAY_NOON = datetime(2026, 11, 18, 17, 0, tzinfo=UTC)


def ask(text: str) -> Period:
    return parse_period(text, now=WEDNESDAY_NOON, timezone=NEW_YORK)


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        ("today", "2026-11-18", None, "today"),
        ("yesterday", "2026-11-17", "2026-11-18", "yesterday"),
        ("this week", "2026-11-16", None, "this week"),  # Monday
        ("  This   WEEK ", "2026-11-16", None, "this week"),
        ("last week", "2026-11-09", "2026-11-16", "last week"),
        # 30 local days counting today: 18 Nov back to 20 Oct (still EDT, UTC-4).
        ("last 30 days", "2026-10-20", None, "last 30 days"),
        ("last 7 days", "2026-11-12", None, "last 7 days"),
        # Both dates included; 1 Nov is the day the clocks went back.
        ("2026-11-01..2026-11-15", "2026-11-01", "2026-11-16", "2026-11-01 to 2026-11-15"),
        ("2026-11-01 to 2026-11-15", "2026-11-01", "2026-11-16", "2026-11-01 to 2026-11-15"),
        ("2026-11-02", "2026-11-02", "2026-11-03", "2026-11-02"),
        # A range reaching past now stops at now.
        ("2026-11-16..2026-11-30", "2026-11-16", None, "2026-11-16 to 2026-11-30"),
    ],
)  # fmt: skip
def test_parse_period(text: str, start: str, end: str | None, label: str) -> None:
    period = ask(text)
    assert period.start == ny(start)
    assert period.end == (ny(end) if end else WEDNESDAY_NOON)
    assert period.label == label
    assert period.start.tzinfo is UTC


def test_local_midnights_follow_the_clock_change() -> None:
    # 20 Oct is EDT (UTC-4), 1 Nov after 02:00 and 16 Nov are EST (UTC-5).
    assert ask("last 30 days").start == datetime(2026, 10, 20, 4, tzinfo=UTC)
    assert ask("2026-11-01..2026-11-15").start == datetime(2026, 11, 1, 4, tzinfo=UTC)
    assert ask("this week").start == datetime(2026, 11, 16, 5, tzinfo=UTC)


def test_week_starts_on_monday_in_the_department_time_zone() -> None:
    # Monday 16 Nov 02:00 UTC is still Sunday evening in New York: this week began on the 9th.
    sunday_evening = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)
    period = parse_period("this week", now=sunday_evening, timezone=NEW_YORK)
    assert period.start == ny("2026-11-09")
    utc_week = parse_period("this week", now=sunday_evening, timezone="UTC")
    assert utc_week.start == datetime(2026, 11, 16, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("next week", "'next week' is not a period I know: use today, yesterday, this week"),
        ("", "'' is not a period I know"),
        ("last 0 days", "ask for between 1 and 366 days"),
        ("last 400 days", "ask for between 1 and 366 days"),
        ("2026-11-15..2026-11-01", "the range ends before it starts"),
        ("2026-02-30", "'2026-02-30' is not a date"),
        ("2025-01-01..2026-11-01", "a range can be at most 366 days"),
        ("2026-11-19", "is in the future"),
        ("2026-11-01...2026-11-15", "is not a period I know"),
    ],
)
def test_parse_period_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ask(text)


def test_parse_period_rejects_bad_zone_and_naive_now() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        parse_period("today", now=WEDNESDAY_NOON, timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        parse_period("today", now=datetime(2026, 11, 18, 12), timezone=NEW_YORK)


def test_today_at_midnight_sharp_is_empty() -> None:
    midnight = ny("2026-11-18")
    period = parse_period("today", now=midnight, timezone=NEW_YORK)
    assert period.start == period.end == midnight
    assert figures([], period=period).daily == []


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        # The same stretch one step earlier: yesterday until noon, last week until Wednesday noon.
        ("today", "2026-11-17", "2026-11-17 12:00", "yesterday"),
        ("yesterday", "2026-11-16", "2026-11-17", "the day before"),
        ("this week", "2026-11-09", "2026-11-11 12:00", "last week"),
        ("last week", "2026-11-02", "2026-11-09", "the week before"),
        ("last 30 days", "2026-09-20", "2026-10-19 12:00", "the 30 days before"),
        # 15 days before 1 Nov: 17-31 Oct, right up to the current range.
        ("2026-11-01..2026-11-15", "2026-10-17", "2026-11-01", "2026-10-17 to 2026-10-31"),
    ],
)  # fmt: skip
def test_previous_period(text: str, start: str, end: str, label: str) -> None:
    previous = ask(text).previous()
    assert (previous.start, previous.end, previous.label) == (ny(start), ny(end), label)


def test_previous_keeps_local_midnights_across_the_clock_change() -> None:
    # The week of 26 Oct has 169 hours (the clocks went back on 1 Nov): its previous() still
    # starts and ends at local midnight, not an hour off.
    week = ask("last week").previous().previous()
    assert (week.start, week.end) == (ny("2026-10-26 00:00"), ny("2026-11-02 00:00"))
    assert week.end - week.start == timedelta(days=7, hours=1)


def test_previous_of_a_hand_made_period_has_the_same_length() -> None:
    start = datetime(2026, 11, 10, 8, tzinfo=UTC)
    period = Period(start, start + h(5), "five hours")
    previous = period.previous()
    assert (previous.start, previous.end) == (start - h(5), start)
    assert previous.label == "the period before five hours"


def test_period_rejects_backwards_and_naive() -> None:
    start = datetime(2026, 11, 10, tzinfo=UTC)
    with pytest.raises(ValueError, match="before it starts"):
        Period(start, start - h(1), "backwards")
    with pytest.raises(ValueError, match="must be timezone-aware"):
        Period(datetime(2026, 11, 10), start, "naive")


# -- comparison -------------------------------------------------------------------------------

EMPTY = figures([])


def compare(before: dict[str, object], after: dict[str, object]) -> Comparison:
    return Comparison(
        current=dataclasses.replace(EMPTY, **after),  # type: ignore[arg-type]
        previous=dataclasses.replace(EMPTY, **before),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("name", "before", "after", "expected"),
    [
        ("received", 12, 15, "+3 (12 → 15)"),
        ("still_open", 5, 3, "-2 (5 → 3)"),
        ("answered", 4, 4, "no change (4)"),
        ("answer_median", m(10), m(8), "-20% (10 min → 8 min)"),  # (8 - 10) / 10
        ("claim_p90", h(2), h(3), "+50% (2 h → 3 h)"),
        ("claim_median", m(90), m(90), "no change (1 h 30 min)"),
        ("answer_p90", None, h(2), "— → 2 h"),
        ("answer_p90", h(2), None, "2 h → —"),
        ("answer_median", None, None, "no change (—)"),
        ("claim_median", timedelta(0), m(5), "0 min → 5 min"),  # no percentage of zero
        # (48 - 26) / 26 = 84.6% -> +85%; wall-clock ages are shown in days.
        ("oldest_open_age", h(26), h(48), "+85% (1 d 2 h → 2 d)"),
        ("busiest_share", 0.4, 0.5, "+10 pts (40% → 50%)"),
        ("busiest_share", None, 0.5, "— → 50%"),
        ("gini", 0.4, 0.55, "+0.15 (0.40 → 0.55)"),
        ("gini", 0.25, 0.25, "no change (0.25)"),
    ],
)
def test_delta(name: str, before: object, after: object, expected: str) -> None:
    assert compare({name: before}, {name: after}).delta(name) == expected


def test_delta_of_a_list_or_unknown_name_is_an_error() -> None:
    comparison = compare({}, {})
    for name in ("top_terms", "daily", "received_by_source", "nope"):
        with pytest.raises(ValueError, match=f"no delta for '{name}'"):
            comparison.delta(name)


@pytest.mark.parametrize(
    ("value", "days", "expected"),
    [
        (timedelta(seconds=20), False, "0 min"),
        (m(59), False, "59 min"),
        (m(65), False, "1 h 05 min"),
        (h(30), False, "30 h"),  # office time stays in hours
        (h(30), True, "1 d 6 h"),
        (h(23.5), True, "23 h 30 min"),
        (h(48), True, "2 d"),
        (h(49.99), True, "2 d 1 h"),  # rounded down
        (m(59.9), False, "59 min"),
    ],
)
def test_format_duration(value: timedelta, days: bool, expected: str) -> None:
    assert format_duration(value, days=days) == expected


# -- text -------------------------------------------------------------------------------------


def summary(*, lead_view: bool, department: str = "Roads & Parks") -> str:
    previous = figures(
        [dataclasses.replace(x, handed_over=False) for x in MENTIONS], period=PERIOD.previous()
    )
    comparison = Comparison(current=figures(), previous=previous, period=PERIOD)
    return render_text(comparison, department=department, lead_view=lead_view)


def test_render_text_shows_the_key_numbers() -> None:
    text = summary(lead_view=False)
    assert text.startswith(
        ":bar_chart: *Roads &amp; Parks: summary for 2026-11-05 to 2026-11-11* "
        "(compared with 2026-10-29 to 2026-11-04)"
    )
    # The week before, from the same facts: 11 and 9 arrived, nothing was answered.
    assert "*Received:* 9 (Email 5, X 3, Facebook 1)  _+7 (2 → 9)_" in text
    assert "*Answered:* 5  _+5 (0 → 5)_" in text
    assert "*No action needed:* 1" in text
    assert "*Handed over:* 1" in text
    assert "*Still open at the end:* 4 (oldest waiting 2 d 14 h)  _+2 (2 → 4)_" in text
    assert "median 30 min  _-50% (1 h → 30 min)_" in text
    assert "90% within 16 h" in text
    assert "median 9 h  _— → 9 h_" in text
    assert "90% within 17 h" in text
    assert "*Past a service level:* 4  _+3 (1 → 4)_" in text
    assert "*Reminders sent:* 7" in text
    assert "*Escalations:* 2" in text
    assert "2 people; the busiest gave 60% of the answers; spread 0.55" in text
    assert "*Recurring words:* pothole (4), café (2), main (2), street (2), streetlight (2)" in text


def test_render_text_invites_members_only_for_the_lead() -> None:
    lead = summary(lead_view=True)
    assert "*No answer yet in this period:* <@U0CAROL01>, <@U0DAVE001>." in lead
    channel = summary(lead_view=False)
    assert "No answer yet" not in channel
    assert "<@" not in channel


def test_render_text_escapes_citizen_terms() -> None:
    current = dataclasses.replace(
        EMPTY, top_terms=[("<!channel>", 3), ("a&b", 2)], not_yet_answered=["<!here>"]
    )
    text = render_text(
        Comparison(current=current, previous=EMPTY), department="<Roads>", lead_view=True
    )
    assert "&lt;!channel&gt; (3), a&amp;b (2)" in text
    assert "&lt;Roads&gt;" in text
    assert "&lt;!here&gt;" in text  # not a Slack user id: shown, never a ping
    assert "<!" not in text
    assert "compared with the period before" in text
    assert "*Who answered:* nobody yet" in text
