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
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from slack_sdk import WebClient

from benchmarks._harness import scratch_database
from bot.config.file import parse_config
from bot.core.slack_directory import SlackDirectory
from bot.nudges.policy import policies
from bot.sandbox.fake_slack import FakeSlack
from bot.summaries.service import Summaries
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


def fill(engine: object, count: int, departments: int) -> None:
    rng = random.Random(7)
    mention_rows, event_rows = [], []
    started = time.perf_counter()
    for n in range(1, count + 1):
        received = NOW - timedelta(seconds=rng.uniform(0, 365 * 86400))
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
                "department": f"dept-{n % departments}",
                "status": status,
                "version": 0,
                "claimed_by": user if claimed else None,
                "claimed_at": claimed,
                "answered_by": user if answered else None,
                "answered_at": answered,
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--departments", type=int, default=20)
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    args = parser.parse_args()
    postgres = args.database_url.startswith("postgres")
    engine, cleanup = scratch_database(args.database_url)
    slack = FakeSlack().start()
    try:
        fill(engine, args.mentions, args.departments)
        if postgres:
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))

        class Clock:
            def now(self) -> datetime:
                return NOW

        cfg = parse_config(config(args.departments))
        summaries = Summaries(
            engine=engine,
            clock=Clock(),
            config=cfg,
            policies=policies(cfg),
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
