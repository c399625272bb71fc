"""Time of a department's 30-day summary and of the city-wide one, over a year of history.

Fills storage with ``--mentions`` mentions (default 1,000,000) and their events (received,
routed, claimed, answered or dismissed) spread over a year in 20 departments, then times
``Summaries.report`` (the reads and the figures, not the chart). Target (issue 6): under 1 s
each on PostgreSQL.

    python benchmarks/bench_summary.py [--mentions 1000000]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test | sqlite:///x.db]

On PostgreSQL it works in a schema of its own and drops it afterwards.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
from bot.summaries.service import Summaries
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
) -> None:
    """A year of mentions with their events, as the bot leaves them.

    Mentions are stored in order of arrival, as a running bot stores them, so a month's rows sit
    together on disk; ``scattered`` stores them in random order instead (what this benchmark
    did before issue 13), so that every month's rows are spread over the whole table. Each
    claim and answer carries its office time, as the claims service records it.
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
        hours = hours_of(department)
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


def _office_us(hours: OfficeHours, start: datetime, end: datetime | None) -> int | None:
    return None if end is None else hours.between(start, end) // timedelta(microseconds=1)


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
            )
            if postgres:
                with engine.begin() as conn:
                    conn.execute(text("ANALYZE"))

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
                f"{label}, last 30 days: {best * 1000:.0f} ms (best of 3; "
                f"{report.comparison.current.received:,} received in the period)"
            )
            print(f"  target < 1 s: {'met' if best < 1.0 else 'NOT met'}")
    finally:
        slack.stop()
        cleanup()


if __name__ == "__main__":
    main()
