"""How much memory the bot holds after start: with no adapters, each adapter alone, all eight.

    python benchmarks/bench_memory.py [--settle 12] [--only rss mastodon ...] [--database-url URL]

Each line is a fresh bot process (``Engage(settings, config).start()``, as ``engage run``) on a
scratch database (:mod:`benchmarks._scratch`), its adapters pointed at the loopback fakes of
``benchmarks/_adapter_feeds.py`` (the fakes and the fake Slack live in this process, not the
bot's). Each fake serves ten items; the bot polls them, stores and routes the mentions and
posts their cards, and one webhook mention is posted too, so the ingest path (the language
detector included) has run once. RSS is the bot process's ``VmRSS`` after ``--settle``
seconds (the largest of a few samples), and ``VmHWM`` its peak. Targets (issue 15): under
200 MB with all eight, under 120 MB with RSS alone.

Also printed: which client libraries each bot imported (only its configured sources' should be).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks._adapter_feeds import SOURCES, BenchSlack, Source
from benchmarks._harness import WEBHOOK_SECRET
from benchmarks._scratch import scratch_database
from bot.intake.webhook import SIGNATURE_HEADER, sign
from storage.db import make_engine, upgrade

CONFIG = """
triage: {channel: C0TRIAGE01}
departments:
  - {slug: public-works, name: Public Works, channel: C0PUBWORKS}
  - {slug: parks, name: Parks, channel: C0PARKS001}
rules:
  - {name: streets, department: public-works, keywords: [pothole, street light]}
  - {name: parks, department: parks, keywords: [park, playground]}
delivery: {channel_interval: 0}
"""
CLIENTS = ("praw", "tweepy", "atproto", "mastodon", "feedparser", "imap_tools", "numpy")
RUNNER = """
import json, signal, sys, threading
from bot.app.compose import Engage
from bot.config.file import Settings, load_config
from bot.core import logs
settings = Settings.from_env()
logs.setup(settings.log_level, settings.log_format)
engage = Engage(settings, load_config(settings.config_path))
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
signal.signal(signal.SIGUSR1, lambda *_: print(json.dumps(sorted(
    {m.split(".")[0] for m in sys.modules})), flush=True))
engage.start()
stop.wait()
engage.stop()
"""


def status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def measure(sources: list[Source], slack: BenchSlack, base_url: str | None, settle: float) -> str:
    with scratch_database(base_url) as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        workdir = Path(tempfile.mkdtemp())
        lines = "".join(f"  - {s.entry()}\n" for s in sources)
        (workdir / "engage.yml").write_text(CONFIG + ("adapters:\n" + lines if lines else ""))
        port = free_port()
        env = {
            **os.environ,
            **{k: v for s in sources for k, v in s.env.items()},
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": slack.signing_secret,
            "SLACK_API_URL": slack.api_url,
            "ENGAGE_CONFIG": str(workdir / "engage.yml"),
            "DATABASE_URL": url,
            "ENGAGE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "LOG_LEVEL": "ERROR",
        }
        bot = subprocess.Popen(
            [sys.executable, "-c", RUNNER], env=env, cwd=workdir, stdout=subprocess.PIPE, text=True
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"{base}/livez", timeout=2)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or bot.poll() is not None:
                        raise SystemExit("the bot did not start") from None
                    time.sleep(0.2)
            body = json.dumps({"id": "mem-1", "text": "Pothole on Elm St, deep and growing"})
            httpx.post(
                f"{base}/ingest/webhook",
                content=body.encode(),
                headers={SIGNATURE_HEADER: sign(WEBHOOK_SECRET, body.encode())},
                timeout=10,
            )
            time.sleep(settle)
            samples = []
            for _ in range(5):
                samples.append(status_mb(bot.pid, "VmRSS"))
                time.sleep(0.3)
            rss = max(samples)
            peak = status_mb(bot.pid, "VmHWM")
            assert bot.stdout is not None
            bot.send_signal(10)  # SIGUSR1: the bot prints its loaded modules
            modules = set(json.loads(bot.stdout.readline()))
        finally:
            bot.terminate()
            bot.wait(60)
            shutil.rmtree(workdir, ignore_errors=True)
        loaded = ",".join(c for c in CLIENTS if c in modules) or "-"
        return f"{rss:>7.0f} MB  {peak:>7.0f} MB  {loaded}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--settle", type=float, default=12.0, help="seconds after start")
    parser.add_argument("--only", nargs="*", help="adapter kinds to measure alone (default all)")
    parser.add_argument("--database-url", help="PostgreSQL server (default: a SQLite file)")
    args = parser.parse_args()
    slack = BenchSlack()
    slack.start()
    sources: list[Source] = []
    try:
        for make in SOURCES:
            source = make()
            if args.only is None or source.kind in args.only:
                source.publish(10)
                sources.append(source)
            else:
                source.close()
        print(f"{'adapters':<22} {'RSS':>10}  {'peak':>10}  client libraries imported")
        url, settle = args.database_url, args.settle
        print(f"{'none':<22} {measure([], slack, url, settle)}", flush=True)
        for source in sources:
            print(f"{source.kind:<22} {measure([source], slack, url, settle)}", flush=True)
        if len(sources) > 1:
            label = f"all {len(sources)}"
            print(f"{label:<22} {measure(sources, slack, args.database_url, args.settle)}")
    finally:
        for source in sources:
            source.close()
        slack.stop()


if __name__ == "__main__":
    main()
