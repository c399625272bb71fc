"""Time of the misroute rates and the hand-over suggestions on a big history.

Fills storage with ``--mentions`` mentions (default 200,000) over 180 days in 12 departments,
a tenth of them in triage and 3% folded, and ``--handovers`` of them (default 5,000) handed
over, one in five twice. Among the hand-overs from parks to public works, "streetlight" recurs
(from many people) and "sinkhole" (from one account): the first should be suggested, the
second not. Then times ``misroute_rates`` and ``handover_suggestions`` over the last 30 days
and over the whole history. Target: under 1 s each.

    python benchmarks/bench_learning.py [--mentions 200000] [--handovers 5000]
        [--database-url sqlite:///x.db | postgresql+psycopg://postgres@127.0.0.1:5432/test]

Without ``--database-url`` it runs on a fresh SQLite file, then on the local PostgreSQL if it
is reachable (in a schema of its own, dropped afterwards).
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import scratch_database
from bot.rules.learning import handover_suggestions, misroute_rates
from storage.models import Event, Mention

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DAYS = 180
DEPARTMENTS = {
    "parks": "park playground trail bench picnic grass dog pavilion",
    "public-works": "pothole street light sidewalk road crack asphalt curb",
    "water": "water main leak hydrant pressure pipe flooding meter",
    "transit": "bus stop route late driver shelter schedule fare",
    "sanitation": "trash recycling bin pickup garbage compost missed collection",
    "police": "noise speeding parking theft party loud car alarm",
    "library": "library book branch hours card borrow wifi study",
    "housing": "rent landlord heating mold repair eviction tenant inspection",
    "permits": "permit construction zoning fence renovation inspection licence application",
    "health": "restaurant inspection rats pests clinic vaccine food hygiene",
    "animals": "stray cat dog barking coyote raccoon shelter adoption",
    "snow": "snow plow ice salt sidewalk removal parking storm",
}
FILLER = [
    "please",
    "again",
    "today",
    "still",
    "the",
    "a",
    "is",
    "on",
    "at",
    "near",
    "by",
    "my",
    "our",
    "we",
    "corner",
    "downtown",
    "east",
    "west",
    "north",
    "south",
    "avenue",
    "neighbourhood",
    "week",
    "since",
    "morning",
    "evening",
    "city",
    "someone",
    "anyone",
]
KEYWORDS = {slug: words.split()[:3] for slug, words in DEPARTMENTS.items()}


def sentence(rng: random.Random, slug: str, extra: str = "") -> str:
    words = rng.choices(DEPARTMENTS[slug].split(), k=3) + rng.choices(FILLER, k=9)
    rng.shuffle(words)
    return " ".join([*words, extra]).strip().capitalize()


def fill(engine: Engine, count: int, handovers: int) -> None:
    rng = random.Random(11)
    slugs = list(DEPARTMENTS)
    moved = set(rng.sample(range(1, count + 1), handovers))
    mentions: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    started = time.perf_counter()
    for n in range(1, count + 1):
        received = NOW - timedelta(seconds=rng.uniform(0, DAYS * 86400))
        slug: str | None = rng.choice(slugs) if rng.random() > 0.1 else None
        author = f"@user{rng.randrange(20_000)}"
        body = sentence(rng, slug or rng.choice(slugs))
        route: list[str | None] = []  # where it was routed, then where staff sent it
        if n in moved:
            target = "public-works" if slug == "parks" else rng.choice(slugs)
            if slug == "parks" and rng.random() < 0.3:
                body = sentence(rng, "parks", "#StreetLight out again")
            elif slug == "parks" and rng.random() < 0.05:
                author, body = "@troll", sentence(rng, "parks", "sinkhole cover-up")
            route = [slug, target] if slug != target else [slug, "water"]
            if rng.random() < 0.2:
                route.append(rng.choice([s for s in slugs if s != route[-1]]))
        folded = n > 1 and not route and rng.random() < 0.03
        mentions.append(
            {
                "id": n,
                "source": "mastodon",
                "external_id": f"m{n}",
                "adapter": "",
                "author": author,
                "text": body,
                "extra": {},
                "received_at": received,
                "department": route[-1] if route else slug,
                "rule": f"rule-{slug}" if slug else None,
                "status": "folded" if folded else "new",
                "folded_into": n - 1 if folded else None,
                "version": 0,
            }
        )
        events.append({"mention_id": n, "kind": "received", "at": received, "data": {}})
        for step, (here, there) in enumerate(itertools.pairwise(route), start=1):
            events.append(
                {
                    "mention_id": n,
                    "kind": "handed_over",
                    "at": received + timedelta(hours=step),
                    "actor": "U0STAFF01",
                    "data": {"from": here, "to": there, "note": ""},
                }
            )
        if len(mentions) >= 20_000:
            _flush(engine, mentions, events)
    _flush(engine, mentions, events)
    took = time.perf_counter() - started
    print(f"  filled {count:,} mentions, {handovers:,} handed over, in {took:.0f} s")


def _flush(engine: Engine, mentions: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    if not mentions:
        return  # an empty batch would insert one row of defaults
    # Folded rows point at the row before them: parents go in first, in one transaction.
    with engine.begin() as conn:
        conn.execute(insert(Mention), mentions)
        conn.execute(insert(Event), events)
    mentions.clear()
    events.clear()


def best_of(runs: int, work: Callable[[], Any]) -> tuple[float, Any]:
    timings, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = work()
        timings.append(time.perf_counter() - began)
    return min(timings), result


def measure(engine: Engine) -> None:
    for label, days in (("last 30 days", 30), (f"all {DAYS} days", DAYS + 1)):
        with Session(engine) as session:
            measure_period(session, label, NOW - timedelta(days=days))


def measure_period(session: Session, label: str, since: datetime) -> None:
    took, rates = best_of(3, lambda: misroute_rates(session, since=since))
    routed = sum(r.routed for r in rates.values())
    handed = sum(r.handed_over for r in rates.values())
    print(
        f"  misroute_rates, {label}: {took * 1000:.0f} ms (best of 3; {len(rates)} rules, "
        f"{routed:,} routed, {handed:,} handed over)"
    )
    took, found = best_of(
        3, lambda: handover_suggestions(session, since=since, existing_keywords=KEYWORDS)
    )
    top = ", ".join(
        f"{s.term!r} {s.from_department}->{s.to_department} ({s.count}, {s.authors} people)"
        for s in found[:3]
    )
    print(f"  handover_suggestions, {label}: {took * 1000:.0f} ms (best of 3; top: {top})")
    print(f"    'sinkhole' suggested: {any('sinkhole' in s.term for s in found)}")


def run(url: str, mentions: int, handovers: int) -> None:
    engine, cleanup = scratch_database(url)
    try:
        fill(engine, mentions, handovers)
        if url.startswith("postgres"):
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        measure(engine)
    finally:
        cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mentions", type=int, default=200_000)
    parser.add_argument("--handovers", type=int, default=5_000)
    parser.add_argument("--database-url", help="default: SQLite, then the local PostgreSQL")
    args = parser.parse_args()
    urls = [args.database_url] if args.database_url else [f"sqlite:///{tempfile.mkdtemp()}/b.db"]
    if not args.database_url:
        try:
            _, cleanup = scratch_database(PG_URL)
            cleanup()
            urls.append(PG_URL)
        except Exception as exc:  # the benchmark still reports SQLite without it
            print(f"PostgreSQL not reachable at {PG_URL}: {exc.__class__.__name__}")
    for url in urls:
        print(url.split("://")[0] + ":")
        run(url, args.mentions, args.handovers)


if __name__ == "__main__":
    main()
