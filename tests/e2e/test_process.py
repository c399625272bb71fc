"""``engage run`` as an operator starts it: a real process, stopped with SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bot.sandbox.fake_slack import FakeSlack, wait_until
from tests.conftest import CONFIG, WEBHOOK_SECRET
from tests.factories import post_webhook


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_engage_run_serves_then_stops_cleanly_on_sigterm(slack: FakeSlack, tmp_path: Path) -> None:
    (tmp_path / "engage.yml").write_text(CONFIG)
    port = _free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
        "ENGAGE_CONFIG": str(tmp_path / "engage.yml"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'engage.db'}",
        "ENGAGE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:

        def healthy() -> bool:
            try:
                return httpx.get(f"{url}/healthz").status_code == 200
            except httpx.TransportError:
                return False

        wait_until(healthy, timeout=30)
        assert post_webhook(url, {"text": "pothole"}).status_code == 202
        wait_until(lambda: slack.messages("C0PUBWORKS"))
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        assert process.wait(timeout=20) == 0
        assert time.monotonic() - started < 15
    finally:
        if process.poll() is None:
            process.kill()
    _, stderr = process.communicate()
    logs = [line for line in stderr.splitlines() if line.startswith("{")]
    assert any('"message": "engage stopped"' in line for line in logs), stderr[-2000:]
    assert (tmp_path / "engage.db").exists()  # it migrated its own SQLite file
