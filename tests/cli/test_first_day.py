"""A city's first commands in a fresh folder: one line for each mistake, exit code 2, and
nothing left behind (no empty ``engage.db``)."""

from __future__ import annotations

import argparse
import shutil
import socket
from pathlib import Path

import pytest

from bot.cli import build_parser, main
from bot.config.file import load_config
from bot.sandbox.fake_slack import FakeSlack
from storage.db import make_engine, upgrade

RSS_CONFIG = """
triage: {channel: C0TRIAGE01}
departments:
  - {slug: roads-and-bridges, name: Roads, channel: C0ROADS001}
adapters:
  - {type: rss, name: city-news, url: "https://www.example.gov/news/rss.xml"}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own exits
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    assert err.endswith("\n") and err.count("\n") == 1, err
    return err


def test_reading_commands_on_a_fresh_folder_say_so_and_create_nothing(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (["export", "--from", "2026-11-01", "--to", "2026-11-30"], ["adapters", "status"]):
        code, out, err = run(argv, capsys)
        assert code == 2 and out == ""
        assert one_line(err).startswith("engage: engage.db: no database here yet"), err
        assert "`engage db upgrade`" in err
    assert list(folder.iterdir()) == []

    (folder / "engage.db").touch()  # a file that is not a migrated database
    code, _, err = run(["adapters", "status"], capsys)
    assert code == 2
    assert one_line(err) == "engage: the database is not migrated yet: run `engage db upgrade`\n"

    code, _, err = run(["export", "--from", "2026-11-01", "--to", "2026-11-30"], capsys)
    assert code == 2 and "not migrated yet" in one_line(err)


def test_unknown_department_and_source_are_refused_naming_the_valid_ones(
    folder: Path, capsys: pytest.CaptureFixture[str], migrated_sqlite: Path
) -> None:
    shutil.copyfile(migrated_sqlite, folder / "engage.db")
    argv = ["export", "--from", "2026-11-01", "--to", "2026-11-30", "--department", "roads"]
    code, out, err = run(argv, capsys)
    assert code == 2 and out == ""
    assert one_line(err) == (
        "engage: --department: unknown department 'roads' "
        "(known: parks, public-works, transportation, triage)\n"
    )
    code, out, _ = run([*argv[:-1], "parks"], capsys)
    assert code == 0 and out.startswith("id,source,department")

    code, out, err = run(["rules", "test", "a pothole", "--source", "bogus"], capsys)
    assert code == 2 and out == ""
    assert one_line(err) == (
        "engage: --source: unknown source 'bogus' (known: bluesky, email, facebook, mastodon, "
        "open311, reddit, rss, webhook, x)\n"
    )
    code, out, _ = run(["rules", "test", "a pothole", "--source", "Mastodon"], capsys)
    assert code == 0 and out.startswith("public-works (Public Works)")


def test_argument_mistakes_are_one_line(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["export", "--from", "2026-11-01"], capsys)
    assert code == 2
    assert one_line(err) == (
        "engage export: the following arguments are required: --to (see `engage export --help`)\n"
    )
    code, _, err = run(["frobnicate"], capsys)
    assert code == 2 and "invalid choice: 'frobnicate'" in one_line(err)


def test_adapters_status_lists_the_configured_adapters_before_any_has_run(
    folder: Path, capsys: pytest.CaptureFixture[str], migrated_sqlite: Path
) -> None:
    shutil.copyfile(migrated_sqlite, folder / "engage.db")
    (folder / "engage.yml").write_text(RSS_CONFIG)
    code, out, err = run(["adapters", "status", "--config", "engage.yml"], capsys)
    assert (code, err) == (0, "")
    header, row = out.splitlines()
    assert header.split()[:3] == ["ADAPTER", "SOURCE", "ITEMS"]
    assert row.split()[:2] == ["city-news", "rss"] and "never (not run yet)" in row

    code, out, _ = run(["adapters", "status"], capsys)  # the sample config: no adapters
    assert code == 0 and out.startswith("no adapter configured")


def test_every_command_has_a_description() -> None:
    def walk(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
        found = [parser]
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child in action.choices.values():
                    found += walk(child)
        return found

    parsers = walk(build_parser())
    names = {p.prog for p in parsers}
    assert {"engage init", "engage rules test", "engage adapters status", "engage db upgrade"} <= (
        names
    )
    assert [p.prog for p in parsers if not (p.description or "").strip()] == []


def test_init_writes_a_starter_config_and_env_and_never_overwrites(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["init", "city"], capsys)
    assert (code, err) == (0, "")
    assert "city/engage.yml: written" in out and "cd city; engage config check engage.yml" in out
    config = load_config(folder / "city" / "engage.yml")
    assert [d.slug for d in config.departments] == ["public-works", "parks"]
    env = (folder / "city" / ".env").read_text()
    assert "\nENGAGE_CONFIG=engage.yml\n" in env and "SLACK_APP_TOKEN=xapp-...\n" in env

    (folder / "city" / "engage.yml").write_text("# mine\n")
    code, _, err = run(["init", "city"], capsys)
    assert code == 2
    assert one_line(err) == "engage: city: engage.yml and .env exist already; nothing written\n"
    assert (folder / "city" / "engage.yml").read_text() == "# mine\n"

    (folder / "city" / ".env").unlink()
    code, out, _ = run(["init", "city"], capsys)
    assert code == 0 and "city/engage.yml: kept (exists already)" in out
    assert (folder / "city" / "engage.yml").read_text() == "# mine\n"
    assert (folder / "city" / ".env").read_text() == env


def test_engage_run_in_the_folder_init_wrote_names_the_values_to_fill_in(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["init"], capsys)[0] == 0
    code, _, err = run(["run"], capsys)  # reads ./.env: the example tokens
    assert code == 2
    assert one_line(err) == (
        "engage: SLACK_BOT_TOKEN and SLACK_APP_TOKEN still hold the example values from "
        ".env.example; set them to your bot token (xoxb-…) and your app-level token (xapp-…)\n"
    )
    assert not (folder / "engage.db").exists()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"ENGAGE_CONFIG": "missing.yml"},
            "ENGAGE_CONFIG=missing.yml: no such file; `engage init` writes a starter config, "
            "or unset ENGAGE_CONFIG to use the sample",
        ),
        ({"DATABASE_URL": "mysql+nothing://x"}, "DATABASE_URL: Can't load plugin"),
        (
            {"DATABASE_URL": "sqlite:////nonexistent/folder/engage.db"},
            "cannot use the database (DATABASE_URL): unable to open database file",
        ),
        (
            {"DATABASE_URL": "postgresql+psycopg://engage@127.0.0.1:1/engage"},
            "cannot use the database (DATABASE_URL): connection failed",
        ),
        ({"SLACK_APP_TOKEN": "xoxb-wrong-one"}, "SLACK_APP_TOKEN: expected your app-level"),
    ],
)
def test_engage_run_fails_at_start_in_one_line(
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    message: str,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, out, err = run(["run"], capsys)
    assert code == 2 and out == ""
    assert one_line(err).startswith(f"engage: {message}"), err


def test_a_database_behind_the_code_is_named_with_the_command_that_fixes_it(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{folder / 'old.db'}"
    old = make_engine(url)
    upgrade(old, "0001")
    old.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    code, _, err = run(["adapters", "status"], capsys)
    assert code == 2
    assert one_line(err).startswith("engage: the database schema is at 0001, this Engage needs")
    assert err.endswith(": run `engage db upgrade`\n")


def test_a_token_slack_refuses_stops_engage_run_in_one_line(
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    slack: FakeSlack,
) -> None:
    """Socket Mode with an app-level token that is not the app's: the bot started its
    threads, stops them, and says which token Slack refused."""
    for name, value in {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_APP_TOKEN": "xapp-1-not-this-apps",
        "SLACK_API_URL": slack.api_url,
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        "LOG_LEVEL": "CRITICAL",
    }.items():
        monkeypatch.setenv(name, value)
    code, out, err = run(["run"], capsys)
    assert code == 2 and out == ""
    assert one_line(err) == (
        "engage: Slack refused SLACK_APP_TOKEN: invalid_auth (see README, 'Create the Slack app')\n"
    )
