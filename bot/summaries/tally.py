"""A period's figures with the database doing the counting, for a department or the city.

:func:`~bot.summaries.figures.compute` defines the figures over facts in memory; a city-wide
month is tens of thousands of mentions, and reading them all and measuring each one's office
time in Python took seconds. Here the database counts, groups and ranks
(:mod:`storage.summaries.totals`) over office times stored on each mention when it was claimed
or answered, and Python keeps what only it can do:

* **Office-time arithmetic, per department rather than per mention.** Whether a deadline fell
  before the period's end is a comparison with one instant per department and service level
  (:func:`due_before`), found by bisection since office time never runs backwards.
* **The few mentions the stored times cannot judge** (exactly on a deadline, or handed over
  since they were claimed): :func:`~bot.summaries.figures.overdue_during`, as ``compute`` does.
* **Office times nobody measured** (mentions claimed before migration 0007): measured once here,
  in the department's hours, and stored, so the next summary finds them.
* **The recurring words**, which need the texts.

Both paths end in :func:`~bot.summaries.figures.shape`; ``tests/summaries/test_tally.py``
checks they agree on both databases.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from bot.core.office_time import OfficeHours
from bot.summaries.figures import (
    PERCENTILES,
    Counts,
    Figures,
    Levels,
    MentionFacts,
    overdue_during,
    shape,
)
from bot.summaries.periods import Period
from bot.summaries.terms import top_terms
from storage.summaries import office, totals
from storage.summaries.reads import MentionRow

__all__ = ["due_before", "recurring_words", "tally"]

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def tally(
    *,
    session: Session,
    department: str | None,
    everywhere: bool,
    period: Period,
    levels: Levels,
    departments: Mapping[str, Levels],
    nudges: int,
    escalations: int,
    members: Sequence[str],
    terms: bool = True,
) -> Figures:
    """The figures of ``department`` (with ``everywhere``: the city) for ``period``.

    ``levels`` are the report's (the department's, or triage's city-wide): their time zone
    gives the local days, and city-wide they judge mentions of a department not in
    ``departments``. Without ``terms`` the recurring words are left out (an empty list), for
    the caller to read with :func:`recurring_words` (the dearest part: every text) or not.
    """
    start, end = period.start, period.end
    known: dict[tuple[OfficeHours, timedelta], datetime] = {}  # departments often share hours

    def deadlines(of: Levels) -> totals.Deadlines:
        for sla in (of.claim, of.answer):
            if (of.hours, sla) not in known:
                known[of.hours, sla] = due_before(of.hours, sla, end)
        return totals.Deadlines(
            claim_us=of.claim // _US,
            answer_us=of.answer // _US,
            claims_due_before=known[of.hours, of.claim],
            answers_due_before=known[of.hours, of.answer],
        )

    def levels_of(slug: str | None) -> Levels:
        chosen = departments.get(slug) if everywhere and slug is not None else None
        return chosen or levels

    def read(measured: bool) -> totals.Totals | None:
        return totals.totals(
            session=session,
            department=department,
            everywhere=everywhere,
            start=start,
            end=end,
            zone=levels.hours.timezone,
            deadlines=deadlines(levels),
            departments={slug: deadlines(d) for slug, d in departments.items()}
            if everywhere
            else None,
            percentiles=PERCENTILES,
            measured=measured,
        )

    found = read(measured=True)
    if found is None:  # claimed before migration 0007: measure them once, then count
        _measure(session, department, everywhere, period, levels_of)
        found = read(measured=False)  # what a claim left unmeasured meanwhile is judged here
    assert found is not None

    def late(row: MentionRow) -> bool:
        return overdue_during(_facts(row), period, levels_of(row.department))

    counts = Counts(
        received=found.received,
        by_source=found.by_source,
        answered=found.answered,
        no_action=found.no_action,
        handed_over=found.handed_over,
        still_open=found.still_open,
        oldest_open=found.oldest_open,
        claim_times=[_duration(us) for us in found.claim_us],
        answer_times=[_duration(us) for us in found.answer_us],
        late=found.late + sum(1 for row in found.unsure if late(row)),
        per_answerer=found.by_answerer,
        received_by_day=found.received_by_day,
        answer_median_by_day={day: _duration(us) for day, us in found.answer_median_by_day.items()},
    )
    return shape(
        counts,
        period=period,
        timezone=levels.hours.timezone,
        nudges=nudges,
        escalations=escalations,
        members=members,
        terms=recurring_words(
            session=session, department=department, everywhere=everywhere, period=period
        )
        if terms
        else [],
    )


def recurring_words(
    *, session: Session, department: str | None, everywhere: bool, period: Period
) -> list[tuple[str, int]]:
    """The period's recurring words (``Figures.top_terms``), from the texts received in it."""
    texts = totals.received_texts(
        session=session,
        department=department,
        everywhere=everywhere,
        start=period.start,
        end=period.end,
    )
    return top_terms(texts)


def _measure(
    session: Session,
    department: str | None,
    everywhere: bool,
    period: Period,
    levels_of: Callable[[str | None], Levels],
) -> None:
    """Measure and store the office times the period needs but nobody recorded.

    Each in the hours of the department the mention is with now: for a mention claimed before
    a hand-over that is not the one that held it then, but nothing else is known any more.
    """
    missing = office.unmeasured(
        session=session,
        department=department,
        everywhere=everywhere,
        periods=[(period.start, period.end)],
    )
    times: list[tuple[int, int | None, int | None]] = []
    for row in missing:
        hours = levels_of(row.department).hours
        claim, answer = (
            None if until is None else hours.between(row.received_at, until) // _US
            for until in (row.claimed_at, row.answered_at)
        )
        times.append((row.id, claim, answer))
    office.record(session=session, times=times)
    log.info("measured stored office times", extra={"mentions": len(times)})


def due_before(hours: OfficeHours, sla: timedelta, end: datetime) -> datetime:
    """The instant from which ``sla`` of office time no longer runs out before ``end``.

    ``hours.add(start, sla) < end`` exactly when ``start`` is before it: ``add`` never
    decreases as ``start`` grows, so the starts whose deadline falls before ``end`` are all
    those before one instant, found by bisection on microseconds (about forty ``add`` calls).
    """

    def due_in_time(us: int) -> bool:
        return hours.add(_EPOCH + us * _US, sla) < end

    hi = (end - _EPOCH) // _US  # add(end, sla) is never before end
    step = (sla + timedelta(days=1)) // _US
    while not due_in_time(hi - step):  # a long closure (or a long SLA): look further back
        step *= 2
    lo = hi - step
    while hi - lo > 1:  # due_in_time(lo), and not due_in_time(hi)
        mid = (lo + hi) // 2
        if due_in_time(mid):
            lo = mid
        else:
            hi = mid
    return _EPOCH + hi * _US


def _duration(us: int | None) -> timedelta | None:
    return None if us is None else timedelta(microseconds=us)


def _facts(row: MentionRow) -> MentionFacts:
    return MentionFacts(
        id=row.id,
        source=row.source,
        department=row.department,
        received_at=row.received_at,
        status=row.status,
        first_claimed_at=row.first_claimed_at,
        answered_at=row.answered_at,
        answered_by=row.answered_by,
        handed_over=row.handed_over,
        text=row.text,
        claim_office=_duration(row.claim_office_us),
        answer_office=_duration(row.answer_office_us),
    )
