"""How fast a backlog of cards over many channels reaches Slack, against the physical limit.

Slack takes about one post per second per channel (``chat.postMessage``'s special tier), so N
cards queued over C channels cannot leave faster than N/C seconds: that is the floor printed
beside each figure. Target (issue 18): within 10% of N/C for 10, 50 and 200 channels, and no
429 after the first.

For each channel count C, a scratch database (``_scratch.py``: a SQLite file, or a schema on
``--database-url``'s PostgreSQL, dropped afterwards) is filled with ``--per-channel`` cards per
channel (the mentions stored and their cards queued, as a backlog after an outage would be),
then the real bot (``engage run``, pacing on: ``channel_interval: 1``) starts in a subprocess
against a fake Slack in this process that answers each post after ``--latency`` seconds (as a
real Slack takes a little while) and answers 429 (``Retry-After: 1``) to a post that comes less
than 0.8 s after the one before it in its channel, stricter than Slack, which allows short
bursts. The drain time is from the first post's arrival to the last one's, plus one interval (a
channel's last post holds its turn for a second), so a perfect drain is exactly N/C.

    python benchmarks/bench_drain.py [--channels 10 50 200] [--per-channel 5]
                                     [--latency 0.1] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from email.message import Message
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import WEBHOOK_SECRET, Bot
from benchmarks._scratch import scratch_database
from bot.app.compose import Engage
from bot.config.file import Settings, parse_config
from bot.core.adapter import IncomingMention
from bot.sandbox.fake_slack import FakeSlack
from bot.sandbox.wire import Reply

INTERVAL = 1.0
MIN_GAP = 0.8  # seconds: a post closer than this to its channel's last one is refused


class PacedSlack(FakeSlack):
    """The fake Slack with a per-channel rate limit on ``chat.postMessage``."""

    def __init__(self) -> None:
        super().__init__()
        self.refused = 0
        self.accepted: list[float] = []  # when each post that was let through arrived
        self._last: dict[str, float] = {}
        self._pace = threading.Lock()

    def _api_request(self, method: str, headers: Message, body: bytes, query: str) -> Reply:
        if method == "chat.postMessage":
            try:
                channel = str(json.loads(body or b"{}").get("channel", ""))
            except ValueError:
                channel = ""
            now = time.monotonic()
            with self._pace:
                last = self._last.get(channel)
                if last is not None and now - last < MIN_GAP:
                    self.refused += 1
                    self.fail_next(method, status=429, retry_after=1)
                else:
                    self._last[channel] = now
                    self.accepted.append(time.time())
        return super()._api_request(method, headers, body, query)


def config(channels: int, concurrency: int | None) -> str:
    departments = "".join(
        f"  - {{slug: d{n}, name: Department {n}, channel: C{n:08d}}}\n" for n in range(channels)
    )
    rules = "".join(
        f"  - {{name: r{n}, department: d{n}, keywords: [topic{n}]}}\n" for n in range(channels)
    )
    delivery = f"channel_interval: {INTERVAL:g}"
    if concurrency:
        delivery += f", concurrency: {concurrency}"
    return (
        "triage: {channel: C0TRIAGE01}\n"
        f"departments:\n{departments}rules:\n{rules}delivery: {{{delivery}}}\n"
    )


def fill(url: str, text: str, slack: FakeSlack, channels: int, per_channel: int) -> None:
    """Store the mentions and queue their cards, without delivering them."""
    settings = Settings(
        slack_bot_token=slack.bot_token,
        slack_signing_secret=slack.signing_secret,
        slack_app_token=None,
        slack_api_url=slack.api_url,
        database_url=url,
        config_path=None,
        port=0,
        host="127.0.0.1",
        webhook_secret=WEBHOOK_SECRET,
        log_level="WARNING",
        log_format="text",
        env={},
    )
    bot = Engage(settings, parse_config(text), migrate=True)
    try:
        for k in range(per_channel):  # round by round, as a backlog builds up
            for n in range(channels):
                item = IncomingMention(
                    source="webhook", external_id=f"{n}-{k}", text=f"topic{n} report {k}"
                )
                bot.ingest_one(item)
    finally:
        bot.engine.dispose()


def drain(args: argparse.Namespace, channels: int) -> tuple[float, int, int]:
    """(drain seconds, posts, 429s) for one channel count."""
    total = channels * args.per_channel
    text = config(channels, args.concurrency)
    slack = PacedSlack()
    slack.delay("chat.postMessage", args.latency)
    slack.start()
    with scratch_database(args.database_url) as url:
        fill(url, text, slack, channels, args.per_channel)
        bot = Bot(url, config=text, slack=slack)
        try:
            deadline = time.monotonic() + total / channels * 5 + 60
            while len(slack.accepted) < total:
                if time.monotonic() > deadline:
                    raise SystemExit(f"only {len(slack.accepted)} of {total} cards arrived")
                time.sleep(0.05)
        finally:
            bot.stop()
    arrivals = sorted(slack.accepted)
    return arrivals[-1] - arrivals[0] + INTERVAL, len(arrivals), slack.refused


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--channels", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--per-channel", type=int, default=5, help="cards queued per channel")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds Slack takes a post")
    parser.add_argument("--concurrency", type=int, help="delivery.concurrency (default: bot's)")
    parser.add_argument("--database-url", help="PostgreSQL for a scratch schema; default SQLite")
    args = parser.parse_args()
    print(
        f"{'channels':>8} {'cards':>6} {'floor N/C':>9} {'drain':>7} {'ratio':>6} {'429s':>5}",
        flush=True,
    )
    worst = 0.0
    for channels in args.channels:
        seconds, posts, refused = drain(args, channels)
        floor = posts / channels
        worst = max(worst, seconds / floor)
        print(
            f"{channels:8d} {posts:6d} {floor:8.1f}s {seconds:6.1f}s {seconds / floor:6.2f} "
            f"{refused:5d}",
            flush=True,
        )
    print(f"target drain within 10% of N/C: {'met' if worst <= 1.1 else 'NOT met'}")


if __name__ == "__main__":
    main()
