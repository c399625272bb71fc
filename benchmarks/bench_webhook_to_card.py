"""Time from a webhook POST to the card arriving at the (fake) Slack: p50 and p95.

Target (issue 2): p95 under 300 ms. Pacing is off (channel_interval: 0) so Slack's
one-post-per-second-per-channel limit, which is Slack's and not our latency, stays out of it.

    python benchmarks/bench_webhook_to_card.py [--count 200] [--database-url URL]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import Bot, percentile, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    args = parser.parse_args()
    bot = Bot(args.database_url)
    latencies: list[float] = []
    try:
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
    p95 = percentile(latencies, 95) * 1000
    print(f"target p95 < 300 ms: {'met' if p95 < 300 else 'NOT met'}")


if __name__ == "__main__":
    main()
