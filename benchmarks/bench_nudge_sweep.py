"""Time of one nudge sweep with 100,000 open mentions across 20 departments.

Target (issue 5): under 1 second on PostgreSQL. The sweep reads only what is due through the
index on ``mention.next_nudge_at``; most of the 100,000 are not due, as in a real backlog.

    python benchmarks/bench_nudge_sweep.py [--mentions 100000] [--due 500]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

The benchmark works in a schema of its own and drops it afterwards.
"""

from __future__ import annotations

import argparse
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
from bot.nudges.sweep import Nudger
from bot.sandbox.fake_slack import FakeSlack
from storage.models import Mention

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # a Tuesday, 10:00 in New York


def config(departments: int) -> str:
    lines = ["triage: {channel: C0TRIAGE01}", "departments:"]
    for d in range(departments):
        lines.append(
            f"  - {{slug: dept-{d}, name: Department {d}, channel: C0DEPT{d:04d}, "
            "timezone: America/New_York, sla: {claim: 60m, answer: 2h}}"
        )
    lines.append("nudges: {sweep_every: 3600}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mentions", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=500, help="how many are due at sweep time")
    parser.add_argument("--departments", type=int, default=20)
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    args = parser.parse_args()
    postgres = args.database_url.startswith("postgres")
    engine, cleanup = scratch_database(args.database_url)
    slack = FakeSlack().start()
    try:
        started = time.perf_counter()
        rows = []
        for n in range(args.mentions):
            due = n < args.due
            rows.append(
                {
                    "source": "webhook",
                    "external_id": f"m{n}",
                    "adapter": "",
                    "author": "",
                    "text": "pothole",
                    "received_at": NOW - timedelta(hours=3),
                    "extra": {},
                    "department": f"dept-{n % args.departments}",
                    "status": "new",
                    "version": 0,
                    "next_nudge_at": NOW - timedelta(minutes=1) if due else NOW + timedelta(days=1),
                    "next_nudge_stage": "claim_warn",
                }
            )
        with engine.begin() as conn:
            for i in range(0, len(rows), 5000):
                conn.execute(insert(Mention), rows[i : i + 5000])
            if postgres:
                conn.execute(text("ANALYZE mention"))
        print(
            f"filled {args.mentions:,} open mentions in {time.perf_counter() - started:.1f} s "
            f"({args.due} due now), {'PostgreSQL' if postgres else 'SQLite'}"
        )
        directory = SlackDirectory(WebClient(token=slack.bot_token, base_url=slack.api_url))

        class Clock:
            def now(self) -> datetime:
                return NOW

        nudger = Nudger(
            engine=engine,
            clock=Clock(),
            policies=policies(parse_config(config(args.departments))),
            directory=directory,
            wake=lambda: None,
        )
        timings = []
        for _ in range(3):
            began = time.perf_counter()
            sent = nudger.sweep()
            timings.append(time.perf_counter() - began)
            print(f"sweep: {sent} reminders in {timings[-1] * 1000:.0f} ms")
        idle = min(timings[1:])
        print(
            f"first sweep (work due): {timings[0] * 1000:.0f} ms; "
            f"later sweeps (nothing due): {idle * 1000:.0f} ms"
        )
        print(f"target one sweep < 1 s: {'met' if timings[0] < 1.0 else 'NOT met'}")
    finally:
        slack.stop()
        cleanup()


if __name__ == "__main__":
    main()
