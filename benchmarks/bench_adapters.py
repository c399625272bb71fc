"""Every adapter at once against loopback servers serving recorded payloads: throughput, memory
and the latency of a streamed mention.

Target (the adapters issue): steady memory under 200 MB with all adapters running, and a
mention streamed from Mastodon reaching its card in under 5 seconds at the 95th percentile.

The whole bot (``Engage``) runs in this process with eight adapters configured: RSS, Open311,
Bluesky, Mastodon (``stream: true``), Reddit, X, Facebook and email. Each talks to the loopback
fake its own tests use (``tests/intake/adapters/test_*.py``; email to a pymap IMAP server in a
subprocess), fed new items shaped after the recorded payloads of those tests
(``_adapter_feeds.py``):

* a feeder thread publishes ``--rate`` new items per second to every polled source; each fake
  holds only its latest items (``CAP``), and the fakes' request logs are cleared as it goes,
  so the fakes themselves keep a bounded size;
* the config cannot poll more often than every 30 s, so the scheduler's adapter jobs are
  removed and one thread per adapter calls ``bot.poller.run(item, force=True)`` every
  ``--poll-every`` seconds instead: each poll finds new mentions;
* every ``--probe-every`` seconds a mention notification is pushed on the Mastodon streaming
  API (the streaming fake only, not the REST one, so only the stream can bring it) and the
  time from the push to its card reaching the fake Slack is measured (matched by its text).
  Probes are routed to a channel of their own, and pacing is off (``delivery:
  {channel_interval: 0}``), so Slack's one-post-a-second-per-channel limit, which is Slack's
  and not Engage's latency, stays out of it. The probe's card still queues behind the cards
  of the polled mentions in the one outbox, which is part of what is measured.

Every 10 s a line shows the mentions stored, the rate over the interval, the cards posted,
the outbox backlog and the resident memory (VmRSS) of this process. That memory holds the fakes
too: their imports (pytest, the test modules) add about 14 MB to the bot's own, and their data
stays small (the fake Slack keeps only its latest messages and calls). The language model is
loaded before the bot starts, and its share is printed, as is the memory after the imports.

The default load, 5 new items a second on each of the seven polled sources plus two probes a
second (about 37 mentions a second), is one the bot keeps up with on two cores; raise
``--rate`` to find where delivery falls behind, and the streamed probes with it (they wait in
the outbox behind every card queued before them). ``--count-objects`` lists the object types
whose number grew over the second half, to tell a leak from a warm-up.

The floor beside the streamed figure is the same probe measured in the same run with the
bot idle (before the feeders start): what a streamed mention costs with nothing else to do.
Every stored mention is accounted for at the end: cards posted, folded (a near-duplicate or a
person's flood, with their reasons), muted, and any left without a card.

The bot runs in a scratch database (``_scratch.py``: a SQLite file, or a schema on
``--database-url``'s PostgreSQL, dropped afterwards), so the benchmark can run again at once.

    python benchmarks/bench_adapters.py [--seconds 180] [--database-url URL] [--rate 5]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import logging
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlmodel import select

from benchmarks._adapter_feeds import SOURCES, BenchSlack, MastodonSource, Source, now_utc
from benchmarks._harness import percentile
from benchmarks._scratch import scratch_database
from bot.app.compose import Engage
from bot.config.file import Settings, parse_config
from bot.core import logs
from bot.intake import language
from bot.intake.polling import Scheduled
from storage import outbox
from storage.db import session_scope
from storage.models import Event, Outbox

FEED_TICK = 0.25  # seconds between the feeder's rounds
PROBE_CHANNEL = "C0STREAM01"
CONFIG = f"""
triage: {{channel: C0TRIAGE01}}
departments:
  - {{slug: public-works, name: Public Works, channel: C0PUBWORKS}}
  - {{slug: parks, name: Parks, channel: C0PARKS001}}
  - {{slug: stream-probes, name: Stream probes, channel: {PROBE_CHANNEL}}}
rules:
  - {{name: streets, department: public-works, keywords: [pothole, street light]}}
  - {{name: parks, department: parks, keywords: [park, playground]}}
  - {{name: probes, department: stream-probes, keywords: [streamprobe]}}
delivery: {{channel_interval: 0}}
# The fed items are templated texts: fold only identical ones, never by author.
brigading: {{distance: 0, flood_limit: 1000000}}
adapters:
"""


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class FailureLog(logging.Handler):
    """Counts the poller's warnings per adapter: failed fetches and skipped items."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.failures: dict[str, int] = defaultdict(int)
        self.skipped: dict[str, int] = defaultdict(int)
        self.last: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        adapter = getattr(record, "adapter", None)
        if not adapter:
            return
        if record.getMessage() == "adapter fetch failed":
            self.failures[adapter] += 1
            self.last[adapter] = str(getattr(record, "error", ""))[:200]
        elif record.getMessage() == "adapter skipped an item":
            self.skipped[adapter] += 1
            self.last[adapter] = str(getattr(record, "reason", ""))[:200]

    def note(self, adapter: str) -> str:
        failed, skipped = self.failures.get(adapter, 0), self.skipped.get(adapter, 0)
        if not failed and not skipped:
            return ""
        return f"  {failed} failed fetches, {skipped} skipped items; last: {self.last[adapter]}"


class PollStats:
    def __init__(self) -> None:
        self.count, self.total, self.longest = 0, 0.0, 0.0

    def add(self, seconds: float) -> None:
        self.count += 1
        self.total += seconds
        self.longest = max(self.longest, seconds)


def every(
    stop: threading.Event, interval: float, action: Callable[[], None], errors: list[str]
) -> None:
    """Run ``action`` every ``interval`` seconds (on a fixed beat) until ``stop``."""
    beat = time.monotonic()
    while not stop.is_set():
        try:
            action()
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        beat += interval
        stop.wait(max(0.0, beat - time.monotonic()))


def object_counts() -> Counter[str]:
    """Live objects tracked by the garbage collector, by type."""
    gc.collect()
    return Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.get_objects())


def stored_by_source(bot: Engage) -> dict[str, int]:
    with bot.engine.connect() as conn:
        rows = conn.execute(text("SELECT source, COUNT(*) FROM mention GROUP BY source"))
        return {str(source): int(count) for source, count in rows}


def backlog(bot: Engage) -> int:
    with session_scope(bot.engine) as session:
        depth, _ = outbox.stats(session=session, now=now_utc())
    return depth


def outcomes(bot: Engage) -> Counter[str]:
    """What became of every stored mention: a card posted, folded (and why), muted, or none."""
    query = text(
        "SELECT CASE WHEN m.folded_into IS NOT NULL THEN 'folded' "
        "WHEN m.status = 'dismissed' THEN 'muted' "
        "WHEN EXISTS (SELECT 1 FROM card c WHERE c.mention_id = m.id AND c.ts IS NOT NULL) "
        "THEN 'card posted' ELSE 'no card' END, COUNT(*) FROM mention m GROUP BY 1"
    )
    with bot.engine.connect() as conn:
        found = Counter({str(kind): int(count) for kind, count in conn.execute(query)})
    with session_scope(bot.engine) as session:
        for data in session.exec(select(Event.data).where(Event.kind == "folded")):
            found[f"  of which {data.get('reason')}"] += 1
        failed = select(Outbox.kind, Outbox.last_error).where(Outbox.status == "failed")
        for kind, error in session.exec(failed):
            found[f"failed delivery: {kind} ({(error or '')[:60]})"] += 1
    return found


def milliseconds(seconds: float) -> str:
    return "lost" if seconds == float("inf") else f"{seconds * 1000:.0f} ms"


class Bench:
    """The bot and its sources under load; ``run`` prints the lines, ``report`` the summary."""

    def __init__(
        self, args: argparse.Namespace, slack: BenchSlack, sources: list[Source], url: str
    ) -> None:
        self.args, self.slack, self.sources = args, slack, sources
        self.mastodon = next(s for s in sources if isinstance(s, MastodonSource))
        self.failures = FailureLog()
        polling_log = logging.getLogger("bot.intake.polling")
        polling_log.addHandler(self.failures)  # counted even when the level hides them
        if logging.getLogger().level > logging.WARNING:
            polling_log.setLevel(logging.WARNING)
            polling_log.propagate = False
        settings = Settings(
            slack_bot_token=slack.bot_token,
            slack_signing_secret=slack.signing_secret,
            slack_app_token=None,
            slack_api_url=slack.api_url,
            database_url=url,
            config_path=None,
            port=0,
            host="127.0.0.1",
            webhook_secret=None,
            log_level=args.log_level,
            log_format="text",
            env={k: v for s in sources for k, v in s.env.items()},
        )
        config = parse_config(CONFIG + "".join(f"  - {s.entry()}\n" for s in sources))
        self.bot = Engage(settings, config, migrate=True)
        self.baseline = stored_by_source(self.bot)
        self.stop = threading.Event()
        self.errors: dict[str, list[str]] = defaultdict(list)
        self.polls = {s.name: PollStats() for s in sources}
        self.published = {s.name: 0 for s in sources}
        self.owed = {s.name: 0.0 for s in sources}
        self.ticks = itertools.count()
        self.probes = itertools.count(1)
        self.pushed: dict[int, float] = {}  # probe number -> perf_counter when pushed
        self.idle: dict[int, float] = {}  # the same, for the probes pushed before the load
        self.outcome: Counter[str] = Counter()  # stored mentions by what became of them
        self.push_failures = 0
        self.samples: list[tuple[float, float]] = []  # (elapsed, RSS MB)
        self.seconds = 0.0
        self.final: dict[str, int] = {}
        self.pending = 0
        self.pool = ""
        self.grown = Counter[str]()

    def publish(self, source: Source, count: int) -> None:
        source.publish(count)
        self.published[source.name] += count

    def feed(self) -> None:
        for source in self.sources:
            self.owed[source.name] += self.args.rate * FEED_TICK
            if due := int(self.owed[source.name]):
                self.owed[source.name] -= due
                self.publish(source, due)
        if next(self.ticks) % 20 == 0:
            for source in self.sources:
                source.trim()
            self.slack.trim()

    def driver(self, item: Scheduled) -> Callable[[], None]:
        stats = self.polls[item.adapter.name]

        def poll() -> None:
            started = time.perf_counter()
            try:
                self.bot.poller.run(item, force=True)
            finally:
                stats.add(time.perf_counter() - started)

        return poll

    def probe(self) -> None:
        number = next(self.probes)
        self.pushed[number] = time.perf_counter()
        try:
            self.mastodon.probe(number)
        except AssertionError:  # the stream was not connected at that moment
            del self.pushed[number]
            self.push_failures += 1

    def idle_probes(self, count: int = 10) -> None:
        """The floor: probes streamed to the idle bot, one at a time."""
        for _ in range(count):
            number = next(self.probes)
            self.idle[number] = time.perf_counter()
            self.mastodon.probe(number)
            deadline = time.monotonic() + 10
            while number not in self.slack.arrived and time.monotonic() < deadline:
                time.sleep(0.005)

    def threads(self) -> list[threading.Thread]:
        def beat(name: str, interval: float, action: Callable[[], None]) -> threading.Thread:
            return threading.Thread(
                target=every, args=(self.stop, interval, action, self.errors[name]), name=name
            )

        return [
            beat("feeder", FEED_TICK, self.feed),
            beat("prober", self.args.probe_every, self.probe),
            *(
                beat(item.adapter.name, self.args.poll_every, self.driver(item))
                for item in self.bot.adapters
            ),
        ]

    def run(self) -> None:
        for source in self.sources:
            self.publish(source, 3)  # something for the first polls
        self.bot.start(host="127.0.0.1", port=0)
        for item in self.bot.adapters:  # the drivers poll instead, far more often
            self.bot.scheduler.remove_job(f"adapter:{item.adapter.name}")
        self.mastodon.streaming.wait_streams("/api/v1/streaming/user/notification", 1, 30)
        self.idle_probes()
        threads = self.threads()
        print(f"RSS with the bot and the fakes started: {rss_mb():.0f} MB")
        print(
            f"{'elapsed':>8} {'stored':>7} {'per s':>6} {'cards':>6} {'backlog':>7} {'RSS MB':>7}"
        )
        started = time.monotonic()
        self.samples.append((0.0, rss_mb()))
        halfway: Counter[str] | None = None
        for thread in threads:
            thread.start()
        last_count, last_at, next_line = 0, 0.0, 10.0
        try:
            while (elapsed := time.monotonic() - started) < self.args.seconds:
                time.sleep(min(1.0, self.args.seconds - elapsed))
                elapsed = time.monotonic() - started
                self.samples.append((elapsed, rss_mb()))
                if self.args.count_objects and halfway is None and elapsed >= self.args.seconds / 2:
                    halfway = object_counts()
                if elapsed >= next_line or elapsed >= self.args.seconds:
                    count = self.stored_total()
                    rate = (count - last_count) / max(elapsed - last_at, 1e-9)
                    print(
                        f"{elapsed:7.0f}s {count:7d} {rate:6.1f} {self.cards():6d} "
                        f"{backlog(self.bot):7d} {self.samples[-1][1]:7.1f}",
                        flush=True,
                    )
                    last_count, last_at, next_line = count, elapsed, next_line + 10
        finally:
            self.stop.set()
            for thread in threads:
                thread.join(120)
            self.seconds = time.monotonic() - started
            if halfway is not None:
                self.grown = object_counts() - halfway
            self.final = stored_by_source(self.bot)
            deadline = time.monotonic() + 30  # the cards and probes still on their way
            while time.monotonic() < deadline and (
                backlog(self.bot) or any(n not in self.slack.arrived for n in self.pushed)
            ):
                time.sleep(0.2)
            self.pending = backlog(self.bot)
            self.outcome = outcomes(self.bot)
            self.pool = self.bot.engine.pool.status()
            self.bot.stop()
            self.bot.engine.dispose()

    def stored_total(self) -> int:
        return sum(stored_by_source(self.bot).values()) - sum(self.baseline.values())

    def cards(self) -> int:
        return sum(self.slack.posted.values())

    def report(self) -> None:
        arrivals = self.slack.arrived
        stored = {k: v - self.baseline.get(k, 0) for k, v in self.final.items()}
        total = sum(stored.values())
        print()
        print(
            f"mentions stored: {total} in {self.seconds:.0f} s = {total / self.seconds:.1f}/s "
            f"(with {len(self.pushed)} streamed probes); cards posted: {self.cards()}; "
            f"outbox backlog after a drain of up to 30 s: {self.pending}"
        )
        print(
            f"{'adapter':<13} {'source':<9} {'published':>9} {'stored':>6} {'polls':>6} "
            f"{'poll ms':>8} {'max ms':>7}"
        )
        for source in self.sources:
            stats = self.polls[source.name]
            mean = stats.total / stats.count * 1000 if stats.count else 0.0
            print(
                f"{source.name:<13} {source.kind:<9} {self.published[source.name]:9d} "
                f"{stored.get(source.kind, 0):6d} {stats.count:6d} {mean:8.1f} "
                f"{stats.longest * 1000:7.1f}{self.failures.note(source.name)}"
            )
        for where, found in self.errors.items():
            if found:
                print(f"errors in {where}: {len(found)}, first: {found[0][:300]}")
        print(f"(mastodon's stored count includes the streamed probes; database pool: {self.pool})")

        rss_start, rss_end = self.samples[0][1], self.samples[-1][1]
        rss_peak = max(mb for _, mb in self.samples)
        second_half = [(t, mb) for t, mb in self.samples if t >= self.seconds / 2]
        growth = second_half[-1][1] - second_half[0][1]
        slope = 0.0
        if len(second_half) > 2:
            times, mbs = [t for t, _ in second_half], [mb for _, mb in second_half]
            slope = statistics.linear_regression(times, mbs).slope * 60
        print(
            f"RSS: start {rss_start:.1f} MB, peak {rss_peak:.1f} MB, end {rss_end:.1f} MB; "
            f"second half: {growth:+.1f} MB ({slope:+.2f} MB/min fitted)"
        )
        if self.grown:
            print("object types that grew most over the second half:")
            for kind, more in self.grown.most_common(12):
                print(f"  {more:+8d} {kind}")

        print(
            "every stored mention: "
            + ", ".join(f"{kind} {count}" for kind, count in sorted(self.outcome.items()))
            + f" (cards posted = stored less folds and mutes: "
            f"{'yes' if not self.outcome.get('no card') else 'NO'})"
        )
        idle = [arrivals[n] - t for n, t in self.idle.items() if n in arrivals]
        if idle:
            print(
                f"floor: streamed mention -> card with the bot idle: n={len(idle)} "
                f"p50={milliseconds(percentile(idle, 50))} p95={milliseconds(percentile(idle, 95))}"
            )
        arrived = [arrivals[n] - t for n, t in self.pushed.items() if n in arrivals]
        p95 = float("inf")
        if arrived:
            # a probe that never arrived counts as slower than any that did
            ranked = arrived + [float("inf")] * (len(self.pushed) - len(arrived))
            p50, p95 = percentile(ranked, 50), percentile(ranked, 95)
            print(
                f"streamed mention -> card: n={len(ranked)} p50={milliseconds(p50)} "
                f"p95={milliseconds(p95)} max={milliseconds(max(arrived))}; "
                f"{len(ranked) - len(arrived)} never arrived, "
                f"{self.push_failures} pushes found no stream"
            )
        else:
            print(f"streamed mention -> card: none of {len(self.pushed)} probes arrived")

        steady = growth < 0.05 * second_half[0][1]
        memory_ok = rss_peak < 200 and steady
        print(
            f"target steady memory < 200 MB: {'met' if memory_ok else 'NOT met'} "
            f"(peak {rss_peak:.0f} MB, {'steady' if steady else 'growing'} in the second half)"
        )
        print(f"target streamed p95 < 5 s: {'met' if p95 < 5 else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--rate", type=float, default=5.0, help="new items/s per polled source")
    parser.add_argument("--poll-every", type=float, default=1.0, help="seconds between polls")
    parser.add_argument("--probe-every", type=float, default=0.5, help="seconds between probes")
    parser.add_argument("--log-level", default="ERROR")
    parser.add_argument(
        "--count-objects",
        action="store_true",
        help="also list the object types whose number grew most over the second half",
    )
    args = parser.parse_args()
    logs.setup(args.log_level, "text")
    rss_imported = rss_mb()
    language.detect("The language model loads on first use, like this")
    print(
        f"RSS after the imports: {rss_imported:.0f} MB; the language model: "
        f"+{rss_mb() - rss_imported:.0f} MB"
    )
    print(
        f"8 adapters, {args.rate:g} new items/s each, a poll every {args.poll_every:g} s, "
        f"a streamed probe every {args.probe_every:g} s, for {args.seconds:g} s; "
        "starting the fakes (pymap takes a few seconds)...",
        flush=True,
    )
    slack = BenchSlack()
    slack.start()
    sources: list[Source] = []
    try:
        for make in SOURCES:
            sources.append(make())
        with scratch_database(args.database_url) as url:
            bench = Bench(args, slack, sources, url)
            bench.run()
    finally:
        for source in sources:
            source.close()
        slack.stop()
    bench.report()


if __name__ == "__main__":
    main()
