"""Shared set-up for the benchmarks: the real bot (``engage run``) in its own process, on
loopback, against the fake Slack in this one.

Separate processes keep the load generator and the fake Slack from competing with the bot
for one interpreter lock, as they would not in production.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.intake.webhook import SIGNATURE_HEADER, sign
from bot.sandbox.fake_slack import FakeSlack
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
WEBHOOK_SECRET = "bench-secret"


class Bot:
    """``engage run`` in a subprocess on ``database_url`` (a scratch database: see
    ``_scratch.py``), talking to ``slack`` (a fresh fake Slack if none is given)."""

    def __init__(
        self,
        database_url: str | None = None,
        *,
        config: str = CONFIG,
        slack: FakeSlack | None = None,
    ) -> None:
        self.slack = slack or FakeSlack()
        if slack is None:
            self.slack.start()
        self.workdir = workdir = Path(tempfile.mkdtemp(prefix="engage-bench-bot-"))
        (workdir / "engage.yml").write_text(config)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": self.slack.bot_token,
            "SLACK_SIGNING_SECRET": self.slack.signing_secret,
            "SLACK_API_URL": self.slack.api_url,
            "ENGAGE_CONFIG": str(workdir / "engage.yml"),
            "DATABASE_URL": database_url or f"sqlite:///{workdir / 'bench.db'}",
            "ENGAGE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "LOG_LEVEL": "WARNING",
        }
        if database_url:
            subprocess.run(
                [sys.executable, "-m", "bot", "db", "upgrade"],
                env=env,
                check=True,
                capture_output=True,
            )
        self.log = workdir / "bot.log"  # the bot's output, shown if it does not start
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                env=env,
                cwd=workdir,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.url = f"http://127.0.0.1:{port}"
        self.http = httpx.Client(timeout=10)
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.http.get(f"{self.url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise SystemExit("the bot did not start:\n" + self.log.read_text()[-3000:])
            time.sleep(0.1)

    def post(self, payload: dict[str, str]) -> httpx.Response:
        body = json.dumps(payload).encode()
        return self.http.post(
            f"{self.url}/ingest/webhook",
            content=body,
            headers={SIGNATURE_HEADER: sign(WEBHOOK_SECRET, body)},
        )

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)
        self.http.close()
        self.slack.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(label: str, seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return (
        f"{label}: n={len(ms)} p50={percentile(ms, 50):.1f} ms p95={percentile(ms, 95):.1f} ms "
        f"p99={percentile(ms, 99):.1f} ms mean={statistics.mean(ms):.1f} ms"
    )


def scratch_database(url: str) -> tuple[Engine, Callable[[], None]]:
    """A migrated database to fill: on PostgreSQL a schema of its own, dropped by the cleanup."""
    admin = make_engine(url)
    if not url.startswith("postgres"):
        upgrade(admin)
        return admin, admin.dispose
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    upgrade(engine)

    def cleanup() -> None:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    return engine, cleanup
