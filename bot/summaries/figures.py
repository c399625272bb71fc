"""The figures of a department lead's summary, computed from facts the caller reads from storage.

A lead asks "how did we do this week?". The answer has to be the same numbers every time it is
asked about the same stretch of time, so everything here is pure arithmetic over the facts and
the period (no storage, no Slack, no clock): the caller reads :class:`MentionFacts` once per
period and passes them in, :func:`compute` turns them into :class:`Figures`, and
:func:`~bot.summaries.text.render_text` shows two periods side by side. Periods themselves
(:class:`Period`, :func:`parse_period`) live in :mod:`bot.summaries.periods`, and the text in
:mod:`bot.summaries.text`; their names are re-exported here, so callers import everything from
this module.

Definitions, and why (period ``P = [start, end)``):

* **Counts follow timestamps where the facts have one.** *Received* counts mentions that arrived
  in P; *answered* counts answers given in P (also to mentions that arrived earlier), because
  that is the work the team did in P and it never changes afterwards. A dismissal has no time in
  the facts, so *no action* counts dismissed mentions that arrived in P. *Handed over* is the
  caller's flag, which is already about P.
* **Still open** means unresolved at the end of P: arrived before the end, not dismissed, not
  handed over to another department, and not answered before the end. A mention answered after
  the end of a past period was open at its end, so figures for last week stay right next week.
  ``status`` is the current one: a mention dismissed after the end of P is (wrongly) not counted
  as open at the end of P, because the facts do not say when it was dismissed.
* **Oldest open age is wall-clock time** (end of P minus arrival): it is how long the citizen
  has been waiting, which is what a lead worries about. Service levels, by contrast, are office
  time (:class:`~bot.core.office_time.OfficeHours`), because that is what the department promised.
* **Time to claim** is office time from arrival to the first claim, over mentions first claimed
  in P; **time to answer** is office time from arrival to the answer, over answers given in P
  (so the daily medians split exactly the answers behind the period's median). An answer
  without a recorded claim counts as claimed when answered: answering implies taking it.
* **Whose office hours**: each mention's own department's, city-wide too, so a city-wide median
  is the median of the very times the departments' summaries show. That is the department
  holding the mention when it was claimed (or answered), measured then and stored on the
  mention (``claim_office``): a mention claimed by triage at night, then handed over to Public
  Works, keeps its wait in triage's hours, as triage kept the citizen waiting. Answers come
  from the department holding the mention. Service levels are judged by the department that
  has it now (its ``Levels``), the one whose summary counts the breach.
* **Percentiles are nearest-rank**: the p-th percentile of n sorted values is the value at rank
  ``ceil(p / 100 * n)`` (1-based). The median is the 50th percentile by the same rule, i.e. the
  lower middle value for an even count. Every figure is then a time that really happened, and
  one very slow mention cannot drag the median to a time nobody saw.
* **Service-level breaches** count mentions that were *overdue at some point during P*: past the
  claim deadline (arrival + claim SLA in office time) without a claim, or past the answer
  deadline (first claim + answer SLA in office time, as the nudge ladder and the config measure
  it) without an answer. That covers a late claim or answer in P and a mention still open past
  a deadline at the end of P; a mention overdue across two periods counts in both, once each.
  A dismissed or handed-over mention with no claim (or no answer) is left out of that part,
  since the facts do not say until when it was ours to handle.
* **Spread of answers**: the Gini coefficient over the answer counts of every channel member
  (members who answered nothing count as 0): ``sum |x_i - x_j| / (2 n^2 mean)``, 0 when everyone
  answered equally, ``1 - 1/n`` when one person answered everything. It is None with fewer than
  2 members (nothing to spread over) or no answers at all (nothing spread; the formula would
  divide by zero). Answers by people who are not members (someone who left the channel) count
  towards *answered*, *answerers* and *busiest share* but not towards the Gini.
* **Recurring terms** count mentions (not occurrences) that contain a word
  (:mod:`bot.summaries.terms` says which words count).

:func:`compute` is the definition, over facts in memory. The bot computes the same figures with
the database doing the counting (:mod:`bot.summaries.tally`); both end in :func:`shape`, and
``tests/summaries/test_tally.py`` holds them equal.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from bot.core.office_time import OfficeHours
from bot.summaries.periods import Period, parse_period, zone_info
from bot.summaries.terms import top_terms
from storage.models import OPEN_STATUSES, MentionStatus

__all__ = [
    "Counts",
    "Figures",
    "Levels",
    "MentionFacts",
    "Period",
    "compute",
    "gini",
    "overdue_during",
    "parse_period",
    "percentile",
    "shape",
    "top_terms",
]

# Storage's status names, the one thing taken from storage: no query runs here.
_OPEN = frozenset(OPEN_STATUSES)
_DISMISSED = MentionStatus.DISMISSED
_ONE_DAY = timedelta(days=1)
PERCENTILES = (50, 90)  # the median and the 90th, of claim and answer times


class Levels(Protocol):
    """A department's office hours and service levels (a nudge ``Policy`` is one)."""

    @property
    def hours(self) -> OfficeHours: ...
    @property
    def claim(self) -> timedelta: ...
    @property
    def answer(self) -> timedelta: ...


@dataclass(frozen=True)
class MentionFacts:
    """What the summary needs to know about one mention, read from the mention and its events.

    ``status`` is the mention's current status; ``first_claimed_at`` is the first claim ever
    (a release and a new claim do not restart the citizen's wait); ``handed_over`` is whether it
    was handed over to another department *during the period being computed*, so the caller
    reads the facts once per period.
    """

    id: int
    source: str
    department: str | None
    received_at: datetime  # aware UTC
    status: str  # new, claimed, answered, dismissed
    first_claimed_at: datetime | None
    answered_at: datetime | None
    answered_by: str | None
    handed_over: bool
    text: str
    # Office time from arrival to the first claim and to the answer, as measured when they
    # happened (see "Whose office hours"); None: measure it now, in the department's hours.
    claim_office: timedelta | None = None
    answer_office: timedelta | None = None


@dataclass(frozen=True)
class Figures:
    """The numbers of one period (see the module docstring for what each one counts)."""

    received: int
    received_by_source: dict[str, int]
    answered: int
    no_action: int
    handed_over: int
    still_open: int
    oldest_open_age: timedelta | None  # wall-clock age at the end of the period
    claim_median: timedelta | None  # office time, arrival to first claim
    claim_p90: timedelta | None
    answer_median: timedelta | None  # office time, arrival to answer
    answer_p90: timedelta | None
    sla_breaches: int
    nudges: int
    escalations: int
    top_terms: list[tuple[str, int]]  # (word, number of mentions containing it), top 10
    answerers: int
    busiest_share: float | None  # 0..1
    gini: float | None
    not_yet_answered: list[str]  # member ids, for the lead only
    daily: list[tuple[date, int, timedelta | None]]  # local day, received, median answer time


def compute(
    mentions: Sequence[MentionFacts],
    *,
    period: Period,
    hours: OfficeHours,
    claim_sla: timedelta,
    answer_sla: timedelta,
    nudges: int,
    escalations: int,
    members: Sequence[str],
    departments: Mapping[str, Levels] | None = None,
) -> Figures:
    """The figures of one department (or the city) for ``period``.

    ``mentions`` should hold every mention of the department that arrived before the end of the
    period and was not closed before its start, plus those handed over to another department
    during it; a superset is fine, since every figure filters by time. ``nudges`` and
    ``escalations`` are counted by the caller (events in the period). ``members`` are the
    channel's members: the Gini and the not-yet-answered list are about them.

    ``hours`` give the local days and, with the service levels, judge each mention, unless
    ``departments`` has the mention's own department (city-wide: each department's levels).
    """
    start, end = period.start, period.end
    report = _Levels(hours, claim_sla, answer_sla)
    chosen = departments or {}

    def levels(m: MentionFacts) -> Levels:
        return (chosen.get(m.department) if m.department else None) or report

    def within(at: datetime | None) -> bool:
        return at is not None and start <= at < end

    def took(m: MentionFacts, measured: timedelta | None, until: datetime) -> timedelta:
        return levels(m).hours.between(m.received_at, until) if measured is None else measured

    arrived = [m for m in mentions if within(m.received_at)]
    answered = [m for m in mentions if within(m.answered_at)]
    open_at_end = [m for m in mentions if _open_at(m, end)]
    claimed = [m for m in mentions if within(_claimed_at(m))]
    claim_times = sorted(took(m, m.claim_office, _claimed(m)) for m in claimed)
    timed = [(m, took(m, m.answer_office, _answered(m))) for m in answered]
    answer_times = sorted(t for _, t in timed)
    zone = zone_info(hours.timezone)
    by_day: dict[date, list[timedelta]] = {}
    for m, t in timed:
        by_day.setdefault(_answered(m).astimezone(zone).date(), []).append(t)
    counts = Counts(
        received=len(arrived),
        by_source=Counter(m.source for m in arrived),
        answered=len(answered),
        no_action=sum(1 for m in arrived if m.status == _DISMISSED),
        handed_over=sum(1 for m in mentions if m.handed_over),
        still_open=len(open_at_end),
        oldest_open=min((m.received_at for m in open_at_end), default=None),
        claim_times=[percentile(claim_times, p) for p in PERCENTILES],
        answer_times=[percentile(answer_times, p) for p in PERCENTILES],
        late=sum(1 for m in mentions if overdue_during(m, period, levels(m))),
        per_answerer=Counter(m.answered_by for m in answered if m.answered_by),
        received_by_day=Counter(m.received_at.astimezone(zone).date() for m in arrived),
        answer_median_by_day={day: percentile(sorted(t), 50) for day, t in by_day.items()},
    )
    return shape(
        counts,
        period=period,
        timezone=hours.timezone,
        nudges=nudges,
        escalations=escalations,
        members=members,
        terms=top_terms(m.text for m in arrived),
    )


@dataclass(frozen=True)
class Counts:
    """A period's numbers before :func:`shape` turns them into :class:`Figures`: what
    :func:`compute` finds in memory and :mod:`bot.summaries.tally` gets from the database."""

    received: int
    by_source: Mapping[str, int]
    answered: int
    no_action: int
    handed_over: int
    still_open: int
    oldest_open: datetime | None  # arrival of the oldest mention still open at the end
    claim_times: Sequence[timedelta | None]  # at each of PERCENTILES
    answer_times: Sequence[timedelta | None]
    late: int
    per_answerer: Mapping[str, int]
    received_by_day: Mapping[date, int]  # local days
    answer_median_by_day: Mapping[date, timedelta | None]


def shape(
    counts: Counts,
    *,
    period: Period,
    timezone: str,
    nudges: int,
    escalations: int,
    members: Sequence[str],
    terms: list[tuple[str, int]],
) -> Figures:
    """The figures, from the counts: people's shares, the day-by-day rows, the order shown."""
    per_answerer = {who: n for who, n in counts.per_answerer.items() if n}
    roster = list(dict.fromkeys(members))  # de-duplicated, in the caller's order
    zone = zone_info(timezone)
    first = period.start.astimezone(zone).date()
    last = (period.end - timedelta(microseconds=1)).astimezone(zone).date()
    daily: list[tuple[date, int, timedelta | None]] = []
    day = first
    while day <= last:  # every local day, empty ones included, so a chart has no holes
        daily.append(
            (day, counts.received_by_day.get(day, 0), counts.answer_median_by_day.get(day))
        )
        day += _ONE_DAY
    claim_median, claim_p90 = counts.claim_times
    answer_median, answer_p90 = counts.answer_times
    oldest = counts.oldest_open
    return Figures(
        received=counts.received,
        received_by_source=dict(sorted(counts.by_source.items(), key=lambda kv: (-kv[1], kv[0]))),
        answered=counts.answered,
        no_action=counts.no_action,
        handed_over=counts.handed_over,
        still_open=counts.still_open,
        oldest_open_age=None if oldest is None else period.end - oldest,
        claim_median=claim_median,
        claim_p90=claim_p90,
        answer_median=answer_median,
        answer_p90=answer_p90,
        sla_breaches=counts.late,
        nudges=nudges,
        escalations=escalations,
        top_terms=terms,
        answerers=len(per_answerer),
        busiest_share=(max(per_answerer.values()) / counts.answered) if per_answerer else None,
        gini=gini([per_answerer.get(member, 0) for member in roster]),
        not_yet_answered=[member for member in roster if not per_answerer.get(member)],
        daily=daily,
    )


@dataclass(frozen=True)
class _Levels:
    hours: OfficeHours
    claim: timedelta
    answer: timedelta


# -- the arithmetic ---------------------------------------------------------------------------


def percentile(sorted_values: Sequence[timedelta], p: float) -> timedelta | None:
    """Nearest-rank percentile of already sorted values: the value at rank ``ceil(p/100 * n)``.

    None for no values. Nearest-rank always returns an observed value, which keeps "90% were
    claimed within 2 h 10 min" literally true.
    """
    if not 0 < p <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {p}")
    if not sorted_values:
        return None
    rank = math.ceil(p / 100 * len(sorted_values))
    return sorted_values[max(rank, 1) - 1]


def gini(counts: Sequence[int]) -> float | None:
    """Gini coefficient of ``counts``: 0 when all are equal, ``1 - 1/n`` when one has it all.

    None with fewer than 2 counts (there is no spread to measure) or when all are zero (the
    formula would divide by zero, and "nobody answered" is not "evenly shared").
    Computed from the sorted counts, ``2 * sum(i * x_i) / (n * total) - (n + 1) / n`` with
    1-based ranks ascending, which equals the mean absolute difference over twice the mean.
    """
    n = len(counts)
    total = sum(counts)
    if n < 2 or total == 0:
        return None
    ranked = sum(i * x for i, x in enumerate(sorted(counts), start=1))
    value = 2 * ranked / (n * total) - (n + 1) / n
    return max(0.0, value)  # clamp float noise below zero when all counts are equal


def _claimed_at(m: MentionFacts) -> datetime | None:
    """When the mention was first taken: its first claim, or its answer if never claimed."""
    return m.first_claimed_at if m.first_claimed_at is not None else m.answered_at


def _claimed(m: MentionFacts) -> datetime:
    at = _claimed_at(m)
    assert at is not None
    return at


def _answered(m: MentionFacts) -> datetime:
    assert m.answered_at is not None
    return m.answered_at


def _settled_elsewhere(m: MentionFacts) -> bool:
    """Closed at a time the facts do not give (dismissed), or now another department's."""
    return m.status == _DISMISSED or m.handed_over


def _open_at(m: MentionFacts, at: datetime) -> bool:
    """Whether the mention was ours and unresolved at the instant ``at``."""
    if m.received_at >= at or _settled_elsewhere(m):
        return False
    if m.answered_at is not None:
        return m.answered_at >= at
    return m.status in _OPEN


def overdue_during(m: MentionFacts, period: Period, levels: Levels) -> bool:
    """Whether the mention was past its claim or answer deadline at some instant of the period.

    Each deadline gives an overdue interval ``[deadline, met)``, where ``met`` is when the claim
    (or answer) came, or never for a mention still waiting; the mention counts if an interval
    meets the period.
    """
    intervals: list[tuple[datetime, datetime | None]] = []
    hours, claim_sla, answer_sla = levels.hours, levels.claim, levels.answer
    claimed = _claimed_at(m)
    claim_due = hours.add(m.received_at, claim_sla)
    if claimed is not None:
        if claimed > claim_due:
            intervals.append((claim_due, claimed))
        answer_due = hours.add(claimed, answer_sla)
        if m.answered_at is not None:
            if m.answered_at > answer_due:
                intervals.append((answer_due, m.answered_at))
        elif not _settled_elsewhere(m):
            intervals.append((answer_due, None))
    elif not _settled_elsewhere(m) and m.status in _OPEN:
        intervals.append((claim_due, None))
    return any(due < period.end and (met is None or met > period.start) for due, met in intervals)
