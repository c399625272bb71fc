"""A period's summary figures computed in the database: counts, groups, percentiles, lateness.

A city-wide month is tens of thousands of mentions; reading them into Python to count them was
what made ``/engage summary city`` take seconds. Here the database counts (one pass over the
period's mentions with a filter per figure), groups (by source, by answerer, by local day) and
ranks: PostgreSQL with ``percentile_disc``, which is the nearest-rank percentile
(``bot/summaries/figures.py`` defines every figure), and SQLite, which has no percentiles, by
reading the already measured office times in order and picking the rank, which is cheap.

What SQL cannot do is office-time arithmetic, so the caller brings it, per department: each
service level in microseconds and two instants (:class:`Deadlines`) that turn "was the
deadline before the period's end?" into a comparison. The office time a claim or answer took
is stored on the mention, so "was it late?" is a comparison too, except for the few mentions
where the stored times cannot tell (exactly on the deadline, or handed over since): those come
back as rows (``Totals.unsure``) for the caller to judge with the full arithmetic.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Date,
    and_,
    case,
    cast,
    func,
    literal,
    not_,
    or_,
    text,
    tuple_,
    type_coerce,
)
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from storage.models import OPEN_STATUSES, Mention, MentionStatus
from storage.summaries.reads import (
    MentionRow,
    aware,
    handed_over_ids,
    in_scope,
    joined,
    matters_to,
    rows_where,
)
from storage.types import UTCDateTime

# GROUPING(source, day, answered_by, answer day) in _groups: a bit for each column left out.
_BY_SOURCE_AND_DAY, _BY_ANSWERER, _BY_ANSWER_DAY = 0b0011, 0b1101, 0b1110


@dataclass(frozen=True)
class Deadlines:
    """One department's service levels, as SQL can compare them for one period's end.

    Office time is monotonic: a mention that arrived later is due later. So the arrivals due to
    be claimed before the end are exactly those before one instant, ``claims_due_before``, and
    the first claims due to be answered before the end those before ``answers_due_before``.
    """

    claim_us: int  # the claim service level, office microseconds from arrival
    answer_us: int  # the answer service level, office microseconds from the first claim
    claims_due_before: datetime
    answers_due_before: datetime


@dataclass(frozen=True)
class Totals:
    received: int
    no_action: int
    handed_over: int
    answered: int
    still_open: int
    oldest_open: datetime | None  # arrival of the oldest mention still open at the end
    late: int  # certainly past a service level during the period
    unsure: list[MentionRow]  # maybe past one: for the caller's office-time arithmetic
    claim_us: list[int | None]  # office time to the first claim, at each percentile asked
    answer_us: list[int | None]  # office time to the answer, at each percentile asked
    by_source: dict[str, int]  # received
    by_answerer: dict[str, int]
    received_by_day: dict[date, int]  # local days of ``zone``
    answer_median_by_day: dict[date, int]  # office microseconds, by the answer's local day


def totals(
    *,
    session: Session,
    department: str | None,
    everywhere: bool,
    start: datetime,
    end: datetime,
    zone: str,
    deadlines: Deadlines,
    departments: Mapping[str, Deadlines] | None = None,
    percentiles: Sequence[float] = (50, 90),
    measured: bool = True,
) -> Totals | None:
    """The period's figures for one department, or with ``everywhere`` the city's.

    ``deadlines`` apply to the department, and city-wide to any mention whose department is
    not in ``departments`` (triage's, or a department no longer configured). None if some
    mention the figures need has no stored office time and ``measured`` asks for them all:
    store them (:mod:`storage.summaries.office`) and ask again, rather than have every such
    mention come back in ``unsure``.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        # For this transaction only. Dozens of filtered aggregates make the planner's estimate
        # large enough to switch on JIT compilation, which then takes longer (~0.8 s) than
        # running the query; and a city-wide month's percentiles and groups sort some 100,000
        # values each, which spill to disk with the default 4 MB of work memory.
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL work_mem = '64MB'"))
    scope = in_scope(department, everywhere)
    moved = handed_over_ids()
    m = _Columns(start, end, deadlines, departments or {}, moved.c.mention_id.is_not(None))
    aggregates: list[Any] = [
        func.count().filter(m.arrived),
        func.count().filter(m.arrived & (col(Mention.status) == MentionStatus.DISMISSED.value)),
        func.count().filter(m.handed),
        func.count().filter(m.answered),
        func.count().filter(m.open_at_end),
        func.min(col(Mention.received_at)).filter(m.open_at_end),
        func.count().filter(m.late),
        func.count().filter(m.unsure),
        func.count().filter(m.unmeasured),
    ]
    fractions = [p / 100 for p in percentiles]
    if postgres:
        aggregates += [
            _percentiles(fractions, col(Mention.claim_office_us), m.claimed),
            _percentiles(fractions, col(Mention.answer_office_us), m.answered),
            # Which ones, so that reading them is a look-up by id, not another pass.
            func.array_agg(col(Mention.id)).filter(m.unsure),
        ]
    query = sa_select(*aggregates).select_from(joined(moved)).where(matters_to(scope, start, end))
    row = session.execute(query).one()
    received, no_action, handed, answered, still_open, oldest, late, unsure, unmeasured = row[:9]
    if measured and unmeasured:
        return None
    unsure_rows: tuple[ColumnElement[bool], ...] = (matters_to(scope, start, end), m.unsure)
    if postgres:
        claim_us = list(row[9] or [None] * len(fractions))
        answer_us = list(row[10] or [None] * len(fractions))
        unsure_rows = (col(Mention.id).in_(row[11] or []),)
    else:
        claim_us = _nearest_ranks(
            session,
            col(Mention.claim_office_us),
            matters_to(scope, start, end),
            m.claimed,
            p=fractions,
        )
        answer_us = _nearest_ranks(
            session, col(Mention.answer_office_us), scope, m.answered, p=fractions
        )
    groups = _groups(session, scope, start, end, zone, postgres)
    return Totals(
        received=int(received),
        no_action=int(no_action),
        handed_over=int(handed),
        answered=int(answered),
        still_open=int(still_open),
        oldest_open=aware(oldest),
        late=int(late),
        unsure=rows_where(session, *unsure_rows, moved=moved, texts=False) if unsure else [],
        claim_us=claim_us,
        answer_us=answer_us,
        by_source=groups.by_source,
        by_answerer=groups.by_answerer,
        received_by_day=groups.received_by_day,
        answer_median_by_day=groups.answer_median_by_day,
    )


def received_texts(
    *, session: Session, department: str | None, everywhere: bool, start: datetime, end: datetime
) -> list[str]:
    """The texts of the mentions received in [start, end) (for the recurring words)."""
    query = sa_select(col(Mention.text)).where(
        in_scope(department, everywhere),
        col(Mention.received_at) >= start,
        col(Mention.received_at) < end,
    )
    return list(session.scalars(query))


class _Columns:
    """The per-mention conditions of ``bot/summaries/figures.py``, as SQL over ``Mention``."""

    def __init__(
        self,
        start: datetime,
        end: datetime,
        deadlines: Deadlines,
        departments: Mapping[str, Deadlines],
        handed: ColumnElement[bool],
    ) -> None:
        received = col(Mention.received_at)
        answered_at = col(Mention.answered_at)
        claimed_at = type_coerce(
            func.coalesce(col(Mention.first_claimed_at), answered_at), UTCDateTime()
        )
        took_to_claim = col(Mention.claim_office_us)
        took_to_answer = col(Mention.answer_office_us)
        status = col(Mention.status)

        def per_department(name: str, type_: Any) -> Any:
            # One branch per distinct value, not per department: departments mostly share
            # their hours and service levels, and this is evaluated for every row, many times.
            default = getattr(deadlines, name)
            slugs: dict[Any, list[str]] = {}
            for slug, of in departments.items():
                if getattr(of, name) != default:
                    slugs.setdefault(getattr(of, name), []).append(slug)
            if not slugs:
                return literal(default, type_)
            whens = [(col(Mention.department).in_(s), literal(v, type_)) for v, s in slugs.items()]
            return case(*whens, else_=literal(default, type_))

        claim_sla = per_department("claim_us", BigInteger())
        answer_sla = per_department("answer_us", BigInteger())
        claim_due_in = received < per_department("claims_due_before", UTCDateTime())
        answer_due_in = claimed_at < per_department("answers_due_before", UTCDateTime())

        self.arrived = received >= start
        self.answered = and_(answered_at >= start, answered_at < end)
        self.claimed = and_(claimed_at >= start, claimed_at < end)
        self.handed = handed
        is_open = status.in_(OPEN_STATUSES)
        settled = or_(status == MentionStatus.DISMISSED.value, self.handed)
        self.open_at_end = and_(
            not_(settled),
            or_(
                and_(answered_at.is_not(None), answered_at >= end),
                and_(answered_at.is_(None), is_open),
            ),
        )
        # Stored office times are comparable with the current service levels unless the mention
        # changed department since (a hand-over): then the caller judges it.
        claim_known = and_(not_(self.handed), took_to_claim.is_not(None))
        answer_known = and_(claim_known, took_to_answer.is_not(None))
        between = took_to_answer - took_to_claim  # office time from the first claim to the answer
        claim_side = and_(claimed_at.is_not(None), claimed_at > start, claim_due_in)
        answer_side = and_(
            claimed_at.is_not(None), answered_at.is_not(None), answered_at > start, answer_due_in
        )
        self.late = or_(
            and_(claim_side, claim_known, took_to_claim > claim_sla),
            and_(claimed_at.is_(None), not_(settled), is_open, claim_due_in),
            and_(answer_side, answer_known, between > answer_sla),
            and_(claimed_at.is_not(None), answered_at.is_(None), not_(settled), answer_due_in),
        )
        self.unsure = and_(
            not_(self.late),
            or_(
                and_(claim_side, or_(not_(claim_known), took_to_claim == claim_sla)),
                and_(answer_side, or_(not_(answer_known), between == answer_sla)),
            ),
        )
        self.unmeasured = or_(
            and_(claimed_at.is_not(None), took_to_claim.is_(None)),
            and_(answered_at.is_not(None), took_to_answer.is_(None)),
        )


def _percentiles(fractions: list[float], value: Any, where: ColumnElement[bool]) -> Any:
    ranked = func.percentile_disc(array(fractions)).within_group(value).filter(where)
    return type_coerce(ranked, ARRAY(BigInteger()))


def _nearest_ranks(
    session: Session, value: Any, *where: ColumnElement[bool] | Any, p: list[float]
) -> list[int | None]:
    # What percentile_disc does: the value at rank ceil(p * n), 1-based, of the sorted values.
    values = list(
        session.scalars(sa_select(value).where(value.is_not(None), *where).order_by(value))
    )
    if not values:
        return [None] * len(p)
    return [int(values[max(math.ceil(f * len(values)), 1) - 1]) for f in p]


def _local_day(at: Any, zone: str) -> Any:
    # Stored naive UTC: read it as UTC, then as the zone's wall clock, then take the date.
    return cast(func.timezone(zone, func.timezone("UTC", at)), Date)


@dataclass(frozen=True)
class _Groups:
    by_source: dict[str, int]
    by_answerer: dict[str, int]
    received_by_day: dict[date, int]
    answer_median_by_day: dict[date, int]


def _groups(
    session: Session, scope: Any, start: datetime, end: datetime, zone: str, postgres: bool
) -> _Groups:
    """What arrived by source and by local day; the answers by answerer, and the median office
    time to them by local day: one pass over the period's arrivals and answers."""
    received, answered_at = col(Mention.received_at), col(Mention.answered_at)
    source, by, took = col(Mention.source), col(Mention.answered_by), col(Mention.answer_office_us)
    arrived = and_(received >= start, received < end)
    answered = and_(answered_at >= start, answered_at < end)
    where = (scope, or_(arrived, answered))
    found = _Groups({}, {}, {}, {})
    if postgres:
        day, answer_day = _local_day(received, zone), _local_day(answered_at, zone)
        query = (
            sa_select(
                func.grouping(source, day, by, answer_day),
                source,
                day,
                by,
                answer_day,
                func.count().filter(arrived),
                func.count().filter(answered),
                func.percentile_disc(0.5).within_group(took).filter(answered),
            )
            .where(*where)
            .group_by(func.grouping_sets(tuple_(source, day), tuple_(by), tuple_(answer_day)))
        )
        for grouping, name, on, who, answer_on, came, went, us in session.execute(query):
            if grouping == _BY_SOURCE_AND_DAY and came:
                found.by_source[name] = found.by_source.get(name, 0) + int(came)
                found.received_by_day[on] = found.received_by_day.get(on, 0) + int(came)
            elif grouping == _BY_ANSWERER and who and went:
                found.by_answerer[who] = int(went)
            elif grouping == _BY_ANSWER_DAY and us is not None:
                found.answer_median_by_day[answer_on] = int(us)
        return found
    local = ZoneInfo(zone)
    times: dict[date, list[int]] = {}
    query = sa_select(source, received, by, answered_at, took).where(*where)
    for name, came_at, who, went_at, us in session.execute(query):
        if start <= came_at < end:
            found.by_source[name] = found.by_source.get(name, 0) + 1
            on = came_at.astimezone(local).date()
            found.received_by_day[on] = found.received_by_day.get(on, 0) + 1
        if went_at is not None and start <= went_at < end:
            if who:
                found.by_answerer[who] = found.by_answerer.get(who, 0) + 1
            if us is not None:
                times.setdefault(went_at.astimezone(local).date(), []).append(int(us))
    for on, values in times.items():  # nearest-rank median, as percentile_disc(0.5)
        found.answer_median_by_day[on] = sorted(values)[max(math.ceil(0.5 * len(values)), 1) - 1]
    return found
