"""Time of a department's 30-day summary and of the city-wide one, over a year of history.

Fills storage with ``--mentions`` mentions (default 1,000,000) and their events (received,
routed, claimed, answered or dismissed) spread over a year in 20 departments, then times
``Summaries.report`` (the reads and the figures of the period and of the one before it, not
the chart). Targets (issue 13), on PostgreSQL: city-wide under 1 s, one department under 0.3 s.

Beside each, the floor: the same figures as one SQL statement, where SQL can compute them
(counts, groups, percentiles of the stored office times; not the service-level breaches, which
need office-time arithmetic, nor the recurring words), and how many times slower the report is.

    python benchmarks/bench_summary.py [--mentions 1000000] [--scattered] [--unmeasured]
        [--keep SCHEMA]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test | sqlite:///x.db]

``--scattered`` stores the mentions in random order of arrival (as this benchmark did before
issue 13) instead of in the order a running bot stores them; ``--unmeasured`` leaves the office
times out, as after upgrading from migration 0006, so that the first report measures them.
On PostgreSQL it works in a schema of its own and drops it afterwards, unless ``--keep`` names
a schema to fill once and reuse.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from slack_sdk import WebClient

from benchmarks._harness import scratch_database
from bot.config.file import parse_config
from bot.core.office_time import OfficeHours
from bot.core.slack_directory import SlackDirectory
from bot.nudges.policy import policies
from bot.sandbox.fake_slack import FakeSlack
from bot.summaries.figures import Figures
from bot.summaries.service import Report, Summaries
from storage.db import make_engine, upgrade
from storage.models import Event, Mention

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
WORDS = [
    "pothole",
    "street",
    "light",
    "bus",
    "park",
    "trash",
    "snow",
    "noise",
    "water",
    "tree",
    "sidewalk",
    "parking",
]


def config(departments: int) -> str:
    lines = ["triage: {channel: C0TRIAGE01}", "departments:"]
    lines += [
        f"  - {{slug: dept-{d}, name: Department {d}, channel: C0DEPT{d:04d}, "
        "timezone: America/New_York}"
        for d in range(departments)
    ]
    return "\n".join(lines)


def fill(
    engine: object,
    count: int,
    departments: int,
    hours_of: Callable[[str | None], OfficeHours],
    *,
    scattered: bool = False,
    measured: bool = True,
) -> None:
    """A year of mentions with their events, as the bot leaves them.

    Mentions are stored in order of arrival, as a running bot stores them, so a month's rows sit
    together on disk; ``scattered`` stores them in random order instead (what this benchmark
    did before issue 13), so that every month's rows are spread over the whole table. Each
    claim and answer carries its office time, as the claims service records it, unless not
    ``measured`` (as stored before migration 0007).
    """
    rng = random.Random(7)
    arrivals = [NOW - timedelta(seconds=rng.uniform(0, 365 * 86400)) for _ in range(count)]
    if not scattered:
        arrivals.sort()
    mention_rows, event_rows = [], []
    started = time.perf_counter()
    for n, received in enumerate(arrivals, start=1):
        fate = rng.random()
        claimed = received + timedelta(minutes=rng.uniform(5, 600)) if fate < 0.85 else None
        answered = (
            claimed + timedelta(minutes=rng.uniform(5, 900)) if claimed and fate < 0.75 else None
        )
        status = (
            "answered"
            if answered
            else "dismissed"
            if fate > 0.95
            else ("claimed" if claimed else "new")
        )
        if received < NOW - timedelta(days=60) and status in ("new", "claimed"):
            status = "dismissed"
        user = f"U{rng.randrange(12):08d}"
        department = f"dept-{n % departments}"
        hours = hours_of(department) if measured else None
        mention_rows.append(
            {
                "id": n,
                "source": rng.choice(["webhook", "rss", "mastodon", "bluesky", "open311"]),
                "external_id": f"m{n}",
                "adapter": "",
                "author": "",
                "extra": {},
                "text": " ".join(rng.choices(WORDS, k=6)),
                "received_at": received,
                "department": department,
                "status": status,
                "version": 0,
                "claimed_by": user if claimed else None,
                "claimed_at": claimed,
                "first_claimed_at": claimed,
                "claim_office_us": _office_us(hours, received, claimed),
                "answered_by": user if answered else None,
                "answered_at": answered,
                "answer_office_us": _office_us(hours, received, answered),
            }
        )
        event_rows.append({"mention_id": n, "kind": "received", "at": received, "data": {}})
        if claimed:
            event_rows.append(
                {"mention_id": n, "kind": "claimed", "at": claimed, "actor": user, "data": {}}
            )
        if answered:
            event_rows.append(
                {"mention_id": n, "kind": "answered", "at": answered, "actor": user, "data": {}}
            )
        if len(mention_rows) >= 20_000:
            _flush(engine, mention_rows, event_rows)
    _flush(engine, mention_rows, event_rows)
    print(f"filled {count:,} mentions and their events in {time.perf_counter() - started:.0f} s")


def _office_us(hours: OfficeHours | None, start: datetime, end: datetime | None) -> int | None:
    if hours is None or end is None:
        return None
    return hours.between(start, end) // timedelta(microseconds=1)


def _flush(
    engine: object, mention_rows: list[dict[str, object]], event_rows: list[dict[str, object]]
) -> None:
    if not mention_rows:
        return  # an empty batch would insert one row of defaults
    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(insert(Mention), mention_rows)
        conn.execute(insert(Event), event_rows)
    mention_rows.clear()
    event_rows.clear()


# One statement, both periods: each period's mentions (the same ones the report reads) once,
# then each figure as an aggregate over them. Office times are the stored ones.
_PERIOD_ROWS = """
SELECT {n} AS n, m.received_at >= :s{n} AS arrived,
    m.received_at >= :s{n} AND m.status = 'dismissed' AS no_action,
    h.mention_id IS NOT NULL AS handed,
    m.answered_at >= :s{n} AND m.answered_at < :e{n} AS answered,
    coalesce(m.first_claimed_at, m.answered_at) >= :s{n}
        AND coalesce(m.first_claimed_at, m.answered_at) < :e{n} AS claimed,
    h.mention_id IS NULL AND m.status <> 'dismissed' AND (m.answered_at >= :e{n}
        OR (m.answered_at IS NULL AND m.status IN ('new', 'claimed'))) AS open_at_end,
    m.received_at, m.source, m.answered_by, m.claim_office_us, m.answer_office_us,
    (m.received_at AT TIME ZONE 'UTC' AT TIME ZONE :zone)::date AS received_day,
    (m.answered_at AT TIME ZONE 'UTC' AT TIME ZONE :zone)::date AS answered_day
FROM mention m LEFT JOIN moved h ON h.mention_id = m.id
WHERE {scope} m.received_at < :e{n}
    AND (m.received_at >= :s{n} OR m.answered_at >= :s{n} OR m.status IN ('new', 'claimed'))
"""
_FIGURES = """
WITH moved AS (SELECT DISTINCT mention_id FROM event WHERE kind = 'handed_over'),
r AS MATERIALIZED ({rows})
SELECT 'total', n, NULL, NULL::date,
    ARRAY[count(*) FILTER (WHERE arrived), count(*) FILTER (WHERE no_action),
        count(*) FILTER (WHERE handed), count(*) FILTER (WHERE answered),
        count(*) FILTER (WHERE open_at_end)],
    percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY claim_office_us)
        FILTER (WHERE claimed)
    || percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY answer_office_us)
        FILTER (WHERE answered),
    min(received_at) FILTER (WHERE open_at_end)
FROM r GROUP BY n
UNION ALL SELECT 'source', n, source, NULL, ARRAY[count(*)], NULL, NULL
FROM r WHERE arrived GROUP BY n, source
UNION ALL SELECT 'answerer', n, answered_by, NULL, ARRAY[count(*)], NULL, NULL
FROM r WHERE answered AND answered_by <> '' GROUP BY n, answered_by
UNION ALL SELECT 'received', n, NULL, received_day, ARRAY[count(*)], NULL, NULL
FROM r WHERE arrived GROUP BY n, received_day
UNION ALL SELECT 'answered', n, NULL, answered_day, NULL,
    ARRAY[percentile_disc(0.5) WITHIN GROUP (ORDER BY answer_office_us)], NULL
FROM r WHERE answered GROUP BY n, answered_day
"""


def sql_only(engine: Engine, department: str | None, report: Report) -> tuple[float, bool]:
    """The best of three timings of the report's figures as one SQL statement, and whether
    that statement finds the very figures the report shows (those SQL can compute)."""
    periods = (report.period, report.period.previous())
    scope = "m.department = :department AND" if department else ""
    rows = "UNION ALL".join(_PERIOD_ROWS.format(n=n, scope=scope) for n in range(2))
    params: dict[str, object] = {"department": department, "zone": report.period.timezone}
    for n, period in enumerate(periods):
        params[f"s{n}"] = period.start.replace(tzinfo=None)  # stored as naive UTC
        params[f"e{n}"] = period.end.replace(tzinfo=None)
    statement = text(_FIGURES.format(rows=rows))
    timings = []
    for _ in range(3):
        began = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL jit = off"))  # as the report does: see totals.py
            found = [tuple(row) for row in conn.execute(statement, params)]
        timings.append(time.perf_counter() - began)
    figures = (report.comparison.current, report.comparison.previous)
    return min(timings), all(
        _agrees(found, n, f, p.end) for n, (f, p) in enumerate(zip(figures, periods, strict=True))
    )


def _agrees(found: Sequence[Sequence[Any]], n: int, figures: Figures, end: datetime) -> bool:
    us = timedelta(microseconds=1)
    mine = [r for r in found if r[1] == n]
    total = next(r for r in mine if r[0] == "total")
    times = [None if t is None else t * us for t in total[5] or [None] * 4]
    per_day = {r[3]: r[4][0] for r in mine if r[0] == "received"}
    medians = {r[3]: r[5][0] * us for r in mine if r[0] == "answered"}
    by_sql = {
        "counts": list(total[4]),
        "oldest": None if total[6] is None else end - total[6].replace(tzinfo=UTC),
        "times": times,
        "by_source": {r[2]: r[4][0] for r in mine if r[0] == "source"},
        "answerers": len([r for r in mine if r[0] == "answerer"]),
        "daily": [(day, per_day.get(day, 0), medians.get(day)) for day, _, _ in figures.daily],
    }
    f = figures
    in_report = {
        "counts": [f.received, f.no_action, f.handed_over, f.answered, f.still_open],
        "oldest": f.oldest_open_age,
        "times": [f.claim_median, f.claim_p90, f.answer_median, f.answer_p90],
        "by_source": f.received_by_source,
        "answerers": f.answerers,
        "daily": f.daily,
    }
    return by_sql == in_report


def kept_database(url: str, schema: str) -> tuple[Engine, bool]:
    """A PostgreSQL schema that outlives the run, and whether an earlier run filled it."""
    with make_engine(url).begin() as conn:
        conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    upgrade(engine)
    with engine.connect() as conn:
        filled = conn.execute(select(func.count()).select_from(Mention)).scalar_one() > 0
    if filled:
        print(f"reusing the mentions kept in schema {schema}")
    return engine, filled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--departments", type=int, default=20)
    parser.add_argument(
        "--scattered", action="store_true", help="store mentions in random order of arrival"
    )
    parser.add_argument(
        "--unmeasured", action="store_true", help="leave office times out, as before 0007"
    )
    parser.add_argument("--keep", help="fill this PostgreSQL schema and keep it (or reuse it)")
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    args = parser.parse_args()
    postgres = args.database_url.startswith("postgres")
    if args.keep:
        engine, filled = kept_database(args.database_url, args.keep)
        cleanup: Callable[[], None] = engine.dispose
    else:
        (engine, cleanup), filled = scratch_database(args.database_url), False
    slack = FakeSlack().start()
    try:
        cfg = parse_config(config(args.departments))
        rules = policies(cfg)
        if not filled:
            fill(
                engine,
                args.mentions,
                args.departments,
                lambda slug: (rules.get(slug) or rules[None]).hours,
                scattered=args.scattered,
                measured=not args.unmeasured,
            )
            if postgres:
                # What autovacuum does soon after a bulk load anyway; left to it, it would run
                # during the timings below.
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(text("VACUUM ANALYZE"))

        class Clock:
            def now(self) -> datetime:
                return NOW

        summaries = Summaries(
            engine=engine,
            clock=Clock(),
            config=cfg,
            policies=rules,
            directory=SlackDirectory(WebClient(token=slack.bot_token, base_url=slack.api_url)),
            wake=lambda: None,
        )
        targets = {"one department": 0.3, "city-wide": 1.0}
        for label, department in (("one department", "dept-3"), ("city-wide", None)):
            timings = []
            for _ in range(3):
                began = time.perf_counter()
                report = summaries.report(
                    department=department, period="last 30 days", lead_view=True
                )
                timings.append(time.perf_counter() - began)
            best = min(timings)
            print(
                f"{label}, last 30 days: {best * 1000:.0f} ms (best of 3, the first "
                f"{timings[0] * 1000:.0f} ms; {report.comparison.current.received:,} received "
                "in the period)"
            )
            target = targets[label]
            print(f"  target < {target:g} s: {'met' if best < target else 'NOT met'}")
            if postgres:
                floor, same = sql_only(engine, department, report)
                print(
                    f"  the same figures as one SQL statement: {floor * 1000:.0f} ms (best of 3;"
                    f" {'the same' if same else 'NOT the same'} figures); the report takes "
                    f"{best / floor:.1f}x as long"
                )
    finally:
        slack.stop()
        cleanup()


if __name__ == "__main__":
    main()
