"""The image's entrypoint (``docker/entrypoint.sh``), run outside a container: migrate, then
``exec engage run``; other arguments straight to ``engage``; a database outside any writable
folder refused in one line. The base image cannot be pulled here, so this is its test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
# Records each call (its pid, its arguments and the database it was given), then exits with
# $FAKE_EXIT_<n> for its n-th call (0 by default).
FAKE_ENGAGE = """#!/bin/sh
n=$(($(wc -l < "$CALLS" 2>/dev/null || echo 0) + 1))
echo "$$ $DATABASE_URL $*" >> "$CALLS"
eval "exit \\${FAKE_EXIT_$n:-0}"
"""


def entrypoint(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], list[str], int]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "engage"
    fake.write_text(FAKE_ENGAGE)
    fake.chmod(0o755)
    calls = tmp_path / "calls"
    calls.unlink(missing_ok=True)
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    full_env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "CALLS": str(calls),
        "DATABASE_URL": f"sqlite:///{data}/engage.db",
        **(env or {}),
    }
    process = subprocess.Popen(
        ["sh", str(ENTRYPOINT), *args],
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = process.communicate(timeout=30)
    done = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    lines = calls.read_text().splitlines() if calls.exists() else []
    return done, lines, process.pid


def test_it_migrates_then_becomes_engage_run(tmp_path: Path) -> None:
    done, calls, pid = entrypoint(tmp_path)
    assert done.returncode == 0, done.stderr
    url = f"sqlite:///{tmp_path}/data/engage.db"
    assert [c.split(" ", 1)[1] for c in calls] == [f"{url} db upgrade", f"{url} run"]
    # exec: `engage run` is the container's main process, so SIGTERM reaches the bot.
    assert calls[1].split()[0] == str(pid) and calls[0].split()[0] != str(pid)


def test_a_failed_migration_stops_it_with_its_exit_code(tmp_path: Path) -> None:
    done, calls, _ = entrypoint(tmp_path, env={"FAKE_EXIT_1": "2"})
    assert done.returncode == 2
    assert [c.split()[2:] for c in calls] == [["db", "upgrade"]]  # and no `run`


def test_other_arguments_are_an_engage_command_without_migrating(tmp_path: Path) -> None:
    done, calls, _ = entrypoint(tmp_path, "adapters", "status", env={"FAKE_EXIT_1": "3"})
    assert done.returncode == 3
    assert [c.split()[2:] for c in calls] == [["adapters", "status"]]


@pytest.mark.parametrize(
    "url", ["sqlite:///engage.db-in-a-folder-that-is-not-there/x.db", "sqlite:////nowhere/x.db"]
)
def test_a_sqlite_file_outside_a_writable_folder_is_refused_in_one_line(
    tmp_path: Path, url: str
) -> None:
    done, calls, _ = entrypoint(tmp_path, env={"DATABASE_URL": url})
    assert done.returncode == 2 and calls == []
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("engage: cannot write the database in ")
    assert done.stderr.endswith("keep it in the volume: DATABASE_URL=sqlite:////data/engage.db\n")


def test_postgresql_is_migrated_too(tmp_path: Path) -> None:
    url = "postgresql+psycopg://engage:engage@db:5432/engage"
    done, calls, _ = entrypoint(tmp_path, env={"DATABASE_URL": url})
    assert done.returncode == 0
    assert [c.split()[2:] for c in calls] == [["db", "upgrade"], ["run"]]


def test_with_the_real_engage_the_database_lands_in_the_data_folder(tmp_path: Path) -> None:
    """The real command, as the image has it: the example .env's tokens stop `engage run`
    after the migration, in one line, and the migrated database is in the data folder."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copyfile(ROOT / ".env.example", tmp_path / ".env")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "ENGAGE_")) and k not in ("DATABASE_URL", "PORT")
    }
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}"
    env["DATABASE_URL"] = f"sqlite:///{data}/engage.db"
    done = subprocess.run(
        ["sh", str(ENTRYPOINT)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == "database schema is up to date\n"
    assert done.stderr.startswith("engage: SLACK_BOT_TOKEN and SLACK_APP_TOKEN still hold")
    assert done.stderr.count("\n") == 1
    assert (data / "engage.db").stat().st_size > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env", "data"]
