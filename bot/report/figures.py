"""The public report's figures: the summaries' figures of a month, made safe to publish.

Each department's month is the summaries' own (:func:`bot.summaries.tally.tally`, in the
department's hours and time zone, over the same :class:`Period` a lead gets for
``/engage summary <department> 2026-11-01..2026-11-30``), and the city's is the city summary's,
so the report and the summaries agree. What is published is counts and times only: no text,
no handle, no staff name. A count under ``min_count`` is shown as "fewer than N" (and the
share and the times that would be worked out from it are left out), so nobody can be picked
out of a small number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session

from bot.nudges.policy import Policy
from bot.summaries.figures import Figures, Period, parse_period
from bot.summaries.tally import tally
from storage.report.counts import answered_of_received


@dataclass(frozen=True)
class Count:
    """A published count: its value, or None when suppressed (under the threshold)."""

    value: int | None
    threshold: int

    @classmethod
    def of(cls, n: int, threshold: int) -> Count:
        return cls(n if n == 0 or n >= threshold else None, threshold)

    @property
    def shown(self) -> str:
        return f"fewer than {self.threshold}" if self.value is None else f"{self.value:,}"

    @property
    def data(self) -> int | str:
        return f"<{self.threshold}" if self.value is None else self.value


@dataclass(frozen=True)
class ScopeMonth:
    """One department's (or the city's) month, as published."""

    month: str  # YYYY-MM
    received: Count
    by_source: dict[str, Count]
    answered: Count  # answers given in the month (the summaries' "answered")
    share_answered: float | None  # of the month's mentions, answered so far (0..1)
    answer_median: timedelta | None  # office time, arrival to answer
    answer_p90: timedelta | None
    staff: Count  # people who answered at least once


@dataclass(frozen=True)
class Scope:
    slug: str | None  # None: the city
    name: str
    months: list[ScopeMonth]  # oldest first; the last is the report's period

    @property
    def current(self) -> ScopeMonth:
        return self.months[-1]


def month_period(month: str, *, now: datetime, timezone: str) -> Period:
    """The calendar month ``YYYY-MM`` in ``timezone``, as a lead would ask for it."""
    first = _first_day(month)
    last = _next_month(first) - timedelta(days=1)
    return parse_period(f"{first.isoformat()}..{last.isoformat()}", now=now, timezone=timezone)


def _first_day(month: str) -> date:
    try:
        year, number = (int(part) for part in month.split("-"))
        return date(year, number, 1)
    except ValueError:
        raise ValueError(f"{month!r} is not a month (YYYY-MM, like 2026-11)") from None


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def months_up_to(month: str, count: int) -> list[str]:
    """``count`` months ending with ``month``, oldest first."""
    first = _first_day(month)
    out: list[str] = []
    year, number = first.year, first.month
    for _ in range(count):
        out.append(f"{year:04d}-{number:02d}")
        year, number = (year - 1, 12) if number == 1 else (year, number - 1)
    return out[::-1]


def last_full_month(now: datetime, timezone: str = "UTC") -> str:
    """The month before the one ``now`` is in (what a monthly job publishes)."""
    today = now.astimezone(UTC).date()
    year, number = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
    return f"{year:04d}-{number:02d}"


def figures_of(
    session: Session,
    *,
    slug: str | None,
    period: Period,
    policies: Mapping[str | None, Policy],
) -> Figures:
    """The summaries' figures of one department (None: the city) for ``period``, as
    :meth:`bot.summaries.service.Summaries.report` computes them."""
    policy = policies.get(slug) or policies[None]
    return tally(
        session=session,
        department=slug,
        everywhere=slug is None,
        period=period,
        levels=policy,
        departments={s: p for s, p in policies.items() if s is not None},
        nudges=0,
        escalations=0,
        members=[],
        terms=False,
    )


def scope_month(
    session: Session,
    *,
    slug: str | None,
    month: str,
    now: datetime,
    policies: Mapping[str | None, Policy],
    threshold: int,
) -> ScopeMonth:
    policy = policies.get(slug) or policies[None]
    period = month_period(month, now=now, timezone=policy.hours.timezone)
    figures = figures_of(session, slug=slug, period=period, policies=policies)
    received, answered_so_far = answered_of_received(
        session=session,
        department=slug,
        everywhere=slug is None,
        start=period.start,
        end=period.end,
    )
    enough_received = received >= threshold
    enough_answers = figures.answered >= threshold
    return ScopeMonth(
        month=month,
        received=Count.of(figures.received, threshold),
        by_source={s: Count.of(n, threshold) for s, n in figures.received_by_source.items()},
        answered=Count.of(figures.answered, threshold),
        share_answered=answered_so_far / received if enough_received else None,
        answer_median=figures.answer_median if enough_answers else None,
        answer_p90=figures.answer_p90 if enough_answers else None,
        staff=Count.of(figures.answerers, threshold),
    )


def scopes(
    session: Session,
    *,
    month: str,
    now: datetime,
    policies: Mapping[str | None, Policy],
    departments: Sequence[tuple[str, str]],
    months: int,
    threshold: int,
) -> list[Scope]:
    """The city first, then each department: the trend's months, the report's last."""
    if _first_day(month) > now.date():
        raise ValueError(f"{month!r} has not begun yet: nothing to report")
    wanted = months_up_to(month, months)
    out: list[Scope] = []
    for slug, name in [(None, "The whole city"), *departments]:
        rows = [
            scope_month(
                session, slug=slug, month=m, now=now, policies=policies, threshold=threshold
            )
            for m in wanted
            if _first_day(m) <= now.date()
        ]
        out.append(Scope(slug=slug, name=name, months=rows))
    return out
