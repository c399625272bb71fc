"""``.env``: read from the folder ``engage`` runs in, and ``.env.example`` copied as it is
stops ``engage run`` with one line naming what to change (never a traceback)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from bot.config.base import ConfigError
from bot.config.env import check_slack, is_example_value
from tests.cli.conftest import OURS

ROOT = Path(__file__).parents[2]


def test_copied_env_example_stops_engage_run_in_one_line(tmp_path: Path) -> None:
    """A real process, in a folder of its own, with the package's interpreter: the values
    it complains about can only have come from ``./.env``."""
    shutil.copyfile(ROOT / ".env.example", tmp_path / ".env")
    env = {k: v for k, v in os.environ.items() if k not in OURS}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr == (
        "engage: SLACK_BOT_TOKEN and SLACK_APP_TOKEN still hold the example values from "
        ".env.example; set them to your bot token (xoxb-…) and your app-level token (xapp-…)\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env"]  # no database, no config


def test_the_packaged_env_example_is_the_repositorys() -> None:
    """`engage init` writes the installed copy; the README tells people to copy the file."""
    packaged = resources.files("bot.cli").joinpath("templates/env.example").read_text("utf-8")
    assert packaged == (ROOT / ".env.example").read_text("utf-8")


@pytest.mark.parametrize(
    "value", ["xoxb-...", "xapp-…", "<your token>", "changeme", "your-secret", " xoxb-... "]
)
def test_example_values_are_recognised(value: str) -> None:
    assert is_example_value(value)


@pytest.mark.parametrize("value", ["", "xoxb-1234-5678-abcd", "s3cr3t", "xapp-1-A0-1-ab"])
def test_real_values_are_not_taken_for_examples(value: str) -> None:
    assert not is_example_value(value)


@pytest.mark.parametrize(
    ("env", "socket_mode", "message"),
    [
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-..."},
            True,
            "SLACK_APP_TOKEN still holds the example value from .env.example; set it to your "
            "app-level token (xapp-…)",
        ),
        (
            {
                "SLACK_BOT_TOKEN": "xoxb-1",
                "SLACK_SIGNING_SECRET": "s",
                "ENGAGE_WEBHOOK_SECRET": "<secret>",
            },
            False,
            "ENGAGE_WEBHOOK_SECRET still holds the example value",
        ),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, False, "SLACK_SIGNING_SECRET: not set"),
        ({"SLACK_SIGNING_SECRET": "s"}, False, "SLACK_BOT_TOKEN: not set"),
        (
            {"SLACK_BOT_TOKEN": "xapp-1", "SLACK_SIGNING_SECRET": "s"},
            False,
            "SLACK_BOT_TOKEN: expected your bot token (xoxb-…), got a value starting with 'xapp-'",
        ),
    ],
)
def test_slack_settings_that_cannot_work_are_named(
    env: dict[str, str], socket_mode: bool, message: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        check_slack(env, socket_mode=socket_mode)
    assert str(refused.value).startswith(message)


def test_socket_mode_needs_no_signing_secret() -> None:
    check_slack({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1-A"}, socket_mode=True)
