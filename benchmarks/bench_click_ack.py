"""Time for the bot to acknowledge a button click with N clicks in flight: p50 and p99.

Each click is a signed ``block_actions`` request to ``/slack/events``. The bot commits the
claim (or the refusal) before it answers, so this is the time Slack waits for our ack.
Target (issue 2): p99 under 50 ms with 50 in flight (Slack allows 3 s).

    python benchmarks/bench_click_ack.py [--cards 50] [--rounds 10] [--database-url URL]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import Bot, percentile, summary
from bot.core.slack_ids import ActionId

CHANNEL = "C0PUBWORKS"


def one_round(bot: Bot, round_no: int, cards: int, latencies: list[float]) -> None:
    stamp = time.time()
    for i in range(cards):
        # distinct short texts: identical ones would be folded into one card as a campaign
        text = f"pothole {round_no}-{i}"
        assert bot.post({"id": f"r{round_no}-{i}-{stamp}", "text": text}).is_success
    deadline = time.monotonic() + 60
    while len(bot.slack.messages(CHANNEL)) < (round_no + 1) * cards:
        if time.monotonic() > deadline:
            raise SystemExit("the cards did not arrive")
        time.sleep(0.01)
    messages = bot.slack.messages(CHANNEL)[-cards:]
    barrier = threading.Barrier(cards)
    lock = threading.Lock()

    def click(ts: str, user: str) -> None:
        barrier.wait()
        result = bot.slack.click(
            f"{bot.url}/slack/events",
            user_id=user,
            channel=CHANNEL,
            ts=ts,
            action_id=ActionId.CLAIM,
        )
        assert result.status == 200, result.body
        with lock:
            latencies.append(result.elapsed)

    threads = [
        threading.Thread(target=click, args=(m["ts"], f"U{n:08d}")) for n, m in enumerate(messages)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cards", type=int, default=50, help="clicks in flight at once")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    args = parser.parse_args()
    bot = Bot(args.database_url)
    latencies: list[float] = []
    try:
        for round_no in range(args.rounds):
            one_round(bot, round_no, args.cards, latencies)
    finally:
        bot.stop()
    print(summary(f"click -> ack, {args.cards} in flight", latencies))
    p99 = percentile(latencies, 99) * 1000
    print(f"target p99 < 50 ms: {'met' if p99 < 50 else 'NOT met'}")


if __name__ == "__main__":
    main()
