"""The ``retention:`` and ``report:`` config keys, and ``engage purge|privacy|report`` from the
command line: mistakes are one line and change nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import select

from bot.cli import main
from bot.config.file import ConfigError, parse_config
from bot.config.retention import days
from storage import mentions
from storage.db import make_engine, session_scope, upgrade
from storage.models import Mention
from storage.privacy.tables import PrivacyRequest
from tests.conftest import CONFIG
from tests.properties import bounded

RETENTION = "retention:\n  citizen_data: 180d\n  sources: {email: 4w}\n  events: 2y\n"


def test_retention_and_report_keys() -> None:
    config = parse_config(CONFIG + RETENTION + "report: {out: site, schedule: monthly}\n")
    assert config.retention.citizen_window("email") == timedelta(days=28)
    assert config.retention.citizen_window("x") == timedelta(days=180)
    assert config.retention.events == 730 and config.retention.active
    assert not parse_config(CONFIG).retention.active  # no retention key: nothing is removed
    assert config.report.out == "site" and config.report.min_count == 5


@pytest.mark.parametrize(
    ("extra", "where"),
    [
        ("retention: {citizen_data: soon}\n", "retention.citizen_data"),
        ("retention: {sources: {myspace: 30d}}\n", "retention.sources"),
        ("retention: {events: 0}\n", "retention.events"),
        ("report: {schedule: monthly}\n", "report"),
        ("report: {url: 'javascript:alert(1)'}\n", "report.url"),
        ("report: {min_count: 0}\n", "report.min_count"),
    ],
)
def test_config_mistakes_are_one_line(extra: str, where: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(CONFIG + extra)
    message = str(caught.value)
    assert where in message and "\n" not in message


@bounded(200)
@given(st.one_of(st.text(max_size=12), st.integers(-10, 10**6)))
def test_days_takes_a_number_of_days_or_says_why_not(value: str | int) -> None:
    try:
        found = days(value)
    except ValueError as exc:
        assert str(exc)
    else:
        assert 1 <= found <= 36500


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'engage.db'}"
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", url)
    (tmp_path / "engage.yml").write_text(CONFIG + RETENTION)
    monkeypatch.setenv("ENGAGE_CONFIG", str(tmp_path / "engage.yml"))
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        for n, (author, age) in enumerate((("@ana@town.social", 400), ("@ben@town.social", 3))):
            mentions.insert(
                session=s,
                values={
                    "source": "mastodon",
                    "external_id": str(n),
                    "author": author,
                    "text": f"text of {author}",
                    "received_at": now - timedelta(days=age),
                    "extra": {},
                },
            )
    engine.dispose()
    return url


def _texts(url: str) -> list[str]:
    engine = make_engine(url)
    with session_scope(engine) as s:
        found = [m.text for m in s.exec(select(Mention).order_by(Mention.id))]  # type: ignore[arg-type]
    engine.dispose()
    return found


def test_purge_privacy_and_report_from_the_command_line(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["purge", "--dry-run"]) == 0
    assert "mastodon: would remove the content of 1 mention(s)" in capsys.readouterr().out
    assert _texts(db) == ["text of @ana@town.social", "text of @ben@town.social"]

    assert main(["privacy", "export", "@Ben@town.social", "--out", "ben.json"]) == 0
    exported = json.loads((tmp_path / "ben.json").read_text())
    assert [m["text"] for m in exported["mentions"]] == ["text of @ben@town.social"]
    assert main(["privacy", "erase", "@ben@town.social"]) == 1  # without --yes: only counted
    assert "1 mention(s) by @ben@town.social would be erased" in capsys.readouterr().out
    assert main(["privacy", "erase", "@ben@town.social", "--yes"]) == 0
    assert main(["purge"]) == 0
    assert _texts(db) == ["", ""]

    assert main(["privacy", "erase", "@"]) == 2  # nobody named: one line, nothing done
    assert main(["report", "--period", "2026-13", "--out", "site"]) == 2
    assert main(["report", "--period", "2999-01", "--out", "site"]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 3 and all(e.startswith("engage: ") for e in errors)
    assert not (tmp_path / "site").exists()

    assert main(["report", "--out", "site"]) == 0  # last month
    assert (tmp_path / "site" / "index.html").exists()
    assert main(["privacy", "log"]) == 0
    log = capsys.readouterr().out
    assert "ben" not in log and "export" in log and "erase" in log
    engine = make_engine(db)
    with session_scope(engine) as s:
        outcomes = [(r.action, r.outcome) for r in s.exec(select(PrivacyRequest))]
    engine.dispose()
    assert outcomes == [("export", "done"), ("erase", "asked"), ("erase", "done")]
