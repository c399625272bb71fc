"""A bot killed with SIGKILL in the middle of a poll: the next bot polls within one lease.

``engage run`` is a real process whose feed never answers its first request, so it is killed
while it holds the adapter's lease and renews it. The bot that comes after it (a new process
has a new owner id) polls as soon as the lease has run out: ``lease: 2`` here, 20 s by default.
Its scheduler's 5-second tick is stood in for by a quick loop, to keep the test short.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bot.app.compose import Engage
from bot.config.file import parse_config
from bot.sandbox.fake_slack import FakeSlack, wait_until
from storage.db import make_engine, session_scope
from storage.models import AdapterState
from tests.conftest import CONFIG, WEBHOOK_SECRET, settings_for

FEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
LEASE = 2


class StuckFeed:
    """A feed whose first request hangs until the test ends; later ones get a real feed."""

    def __init__(self) -> None:
        self.requests = 0
        self.release = threading.Event()
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                feed.requests += 1
                if feed.requests == 1:
                    feed.release.wait(30)
                    return
                body = (FEEDS / "city_news.xml").read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/news.xml"


@pytest.fixture
def feed() -> Iterator[StuckFeed]:
    served = StuckFeed()
    yield served
    served.release.set()
    served.server.shutdown()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_bot_killed_mid_poll_is_taken_over_within_the_lease(
    slack: FakeSlack, feed: StuckFeed, tmp_path: Path
) -> None:
    config_text = CONFIG + (
        f"adapters:\n  - type: rss\n    name: news\n    url: {feed.url}\n"
        f"    every: 60\n    lease: {LEASE}\n"
    )
    (tmp_path / "engage.yml").write_text(config_text)
    database = f"sqlite:///{tmp_path / 'engage.db'}"
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
        "ENGAGE_CONFIG": str(tmp_path / "engage.yml"),
        "DATABASE_URL": database,
        "ENGAGE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "HOST": "127.0.0.1",
        "PORT": str(_free_port()),
    }
    with (tmp_path / "first.log").open("w") as log:
        first = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], env=env, cwd=tmp_path, stdout=log, stderr=log
        )
    engine = make_engine(database)
    try:
        wait_until(lambda: feed.requests == 1, timeout=30)  # polling, lease taken

        def lease_owner() -> str | None:
            with session_scope(engine) as s:
                state = s.get(AdapterState, "news")
            return state.lease_owner if state else None

        dead_owner = lease_owner()
        assert dead_owner is not None
        time.sleep(LEASE)  # past the first lease: still held, because the heartbeat renews it
        assert lease_owner() == dead_owner
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed = time.monotonic()

        restarted = Engage(settings_for(slack), parse_config(config_text), engine=engine)
        item = restarted.adapters[0]
        new = wait_until(lambda: restarted.poller.run(item), timeout=LEASE + 6, interval=0.1)
        took = time.monotonic() - killed
        assert new and feed.requests == 2
        assert took < LEASE + 2, took
        assert restarted.poller.owner != dead_owner and lease_owner() is None
    finally:
        if first.poll() is None:
            first.kill()
        engine.dispose()
