"""Time of the retention purge (and its dry run) over a history of mentions and their events.

Fills storage with ``--mentions`` mentions (default 20,000) spread over a year, each with three
events, then times ``Privacy.purge(dry_run=True)`` and ``Privacy.purge()`` with 180 days of
citizen data kept: about half the mentions lose their content, in batches of 500. Prints the
mentions removed per second. A first purge of years of data is the worst case; the daily one
after it removes one day's mentions.

    python benchmarks/bench_purge.py [--mentions 20000]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test | sqlite:///x.db]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.engine import Engine

from bot.config.comms import CommsTeam
from bot.config.file import CommsTeamConfig
from bot.config.retention import RetentionConfig
from bot.privacy.service import Privacy
from storage.db import make_engine, session_scope, upgrade
from storage.models import Event, Mention

NOW = datetime(2026, 12, 1, tzinfo=UTC)


class _Clock:
    def now(self) -> datetime:
        return NOW


def fill(engine: Engine, count: int) -> None:
    with session_scope(engine) as session:
        rows = [
            {
                "source": ("mastodon", "email", "webhook")[n % 3],
                "external_id": f"b{n}",
                "adapter": "",
                "author": f"@person{n % 5000}@town.social",
                "text": f"Pothole number {n} on Elm Street, please come and look",
                "url": f"https://town.social/@p/{n}",
                "received_at": NOW - timedelta(minutes=n * 525600 // count),
                "extra": {"lat": 42.3, "lon": -71.0},
                "status": "answered",
                "answered_by": "U0STAFF001",
                "answer_text": "On our list for this week",
                "version": 0,
            }
            for n in range(count)
        ]
        session.execute(insert(Mention), rows)
        ids = [i for (i,) in session.execute(text("SELECT id FROM mention"))]
        events = [
            {"mention_id": i, "kind": kind, "actor": "U0STAFF001", "at": NOW, "data": data}
            for i in ids
            for kind, data in (
                ("received", {}),
                ("claimed", {}),
                ("answered", {"text": "On our list for this week", "via": "slack"}),
            )
        ]
        session.execute(insert(Event), events)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=20_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    schema = None
    if args.database_url and args.database_url.startswith("postgresql"):
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with make_engine(args.database_url).begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        engine = make_engine(args.database_url, connect_args={"options": f"-csearch_path={schema}"})
    else:
        folder = Path(tempfile.mkdtemp())
        engine = make_engine(args.database_url or f"sqlite:///{folder / 'bench.db'}")
    try:
        upgrade(engine)
        started = time.perf_counter()
        fill(engine, args.mentions)
        print(f"filled {args.mentions:,} mentions in {time.perf_counter() - started:.1f} s")
        privacy = Privacy(
            engine=engine,
            clock=_Clock(),
            config=RetentionConfig(citizen_data=180, events=730),
            comms=CommsTeam(CommsTeamConfig(), None),
            author_lists={},
            secret="bench",
        )
        started = time.perf_counter()
        dry = privacy.purge(dry_run=True)
        dry_s = time.perf_counter() - started
        started = time.perf_counter()
        done = privacy.purge(actor="bench")
        spent = time.perf_counter() - started
        print(f"{engine.dialect.name}: dry run {dry_s * 1000:.0f} ms ({dry.counts.total:,} to go)")
        print(
            f"{engine.dialect.name}: purge {done.counts.total:,} mentions in {spent:.2f} s "
            f"({done.counts.total / spent:,.0f} mentions/s)"
        )
    finally:
        engine.dispose()
        if schema:
            with make_engine(args.database_url).begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))


if __name__ == "__main__":
    main()
