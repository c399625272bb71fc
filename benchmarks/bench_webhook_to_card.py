"""Time from a webhook POST to the card arriving at the (fake) Slack: p50 and p95, beside the
floor measured in the same run.

Target (issue 2): p95 under 300 ms. Pacing is off (channel_interval: 0) so Slack's
one-post-per-second-per-channel limit, which is Slack's and not our latency, stays out of it.

The floor is what no bot can beat on this machine: the same client posting a card-sized
``chat.postMessage`` straight to the fake Slack (no webhook, no database), measured in this run
between the same two processes' loads. The bot runs in a scratch database (``_scratch.py``: a
SQLite file, or a schema on ``--database-url``'s PostgreSQL, dropped afterwards), so the
benchmark can run again at once.

    python benchmarks/bench_webhook_to_card.py [--count 200] [--database-url URL]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from slack_sdk import WebClient

from benchmarks._harness import Bot, percentile, summary
from benchmarks._scratch import scratch_database
from bot.sandbox.fake_slack import FakeSlack


def floor(slack: FakeSlack, count: int) -> list[float]:
    """A direct chat.postMessage to the fake Slack, ``count`` times: the network floor."""
    client = WebClient(token=slack.bot_token, base_url=slack.api_url, retry_handlers=[])
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "pothole " * 20}}]
    seconds = []
    for _ in range(count):
        started = time.perf_counter()
        client.chat_postMessage(channel="C0FLOOR001", text="floor", blocks=blocks)
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--database-url", help="PostgreSQL for a scratch schema; default SQLite")
    args = parser.parse_args()
    latencies: list[float] = []
    with scratch_database(args.database_url) as url:
        bot = Bot(url)
        try:
            base = floor(bot.slack, args.count)
            for i in range(args.count):
                before = len(bot.slack.calls_to("chat.postMessage"))
                started = time.perf_counter()
                response = bot.post({"id": f"bench-{i}-{time.time()}", "text": f"pothole {i}"})
                assert response.status_code == 202, response.text
                while len(bot.slack.calls_to("chat.postMessage")) == before:
                    if time.perf_counter() - started > 10:
                        raise SystemExit("a card did not arrive within 10 s")
                    time.sleep(0.0005)
                latencies.append(time.perf_counter() - started)
        finally:
            bot.stop()
    print(summary("webhook POST -> card at Slack", latencies))
    print(summary("floor: chat.postMessage straight to the fake Slack", base))
    p95 = percentile(latencies, 95) * 1000
    print(f"target p95 < 300 ms: {'met' if p95 < 300 else 'NOT met'}")


if __name__ == "__main__":
    main()
