"""A fresh folder to run ``engage`` in, in-process: its own cwd, and an environment and
logging and signal handlers that what a command loads or sets up cannot leak out of."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

# What a developer's shell might have set; a test decides these itself.
OURS = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "ENGAGE_CONFIG",
    "ENGAGE_WEBHOOK_SECRET",
    "DATABASE_URL",
    "PORT",
    "HOST",
)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    saved = dict(os.environ)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    on_signal = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for name in OURS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    # load_dotenv writes into os.environ: put it back as it was.
    os.environ.clear()
    os.environ.update(saved)
    # `engage run` sets up its logging on the stderr of the moment: put pytest's back.
    root.handlers[:] = handlers
    root.setLevel(level)
    for sig, handler in on_signal.items():  # `engage run` sets its own
        signal.signal(sig, handler)
