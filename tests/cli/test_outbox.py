"""``engage outbox``: failed deliveries listed and put back from the command line, with one-line
errors and the exit codes of the other commands."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from bot.cli import main
from storage import outbox
from storage.db import make_engine, session_scope, upgrade
from storage.models import Outbox

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'engage.db'}"
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", url)
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as s:
        for key, kind in (("a", "post_card"), ("b", "message"), ("c", "ephemeral")):
            row = outbox.enqueue(
                session=s, kind=kind, idem_key=key, channel_id="C0PUBWORKS", now=NOW
            )
            assert row is not None
            outbox.fail(session=s, row_id=row, now=NOW, error="chat.postMessage: not_in_channel")
    engine.dispose()
    return url


def _statuses(url: str) -> list[str]:
    engine = make_engine(url)
    with session_scope(engine) as s:
        statuses = [r.status for r in s.exec(select(Outbox))]
    engine.dispose()
    return statuses


def test_outbox_lists_and_retries_failed_deliveries(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["outbox"]) == 0
    out = capsys.readouterr().out
    assert "not_in_channel" in out and "card" in out and "message" in out
    assert "ephemeral" not in out  # a click's answer means nothing later: not listed
    assert out.strip().endswith("`engage outbox retry --all`")

    assert main(["outbox", "retry", "1"]) == 0
    assert capsys.readouterr().out == "1 put back in the queue: 1\n"
    assert main(["outbox", "retry", "1"]) == 1  # not failed any more
    assert capsys.readouterr().err == "engage: no failed delivery 1 (see `engage outbox`)\n"
    assert main(["outbox", "retry", str(2**40)]) == 1  # no row has such an id
    capsys.readouterr()
    assert main(["outbox", "retry", "--all"]) == 0
    assert capsys.readouterr().out == "1 put back in the queue: 2\n"
    assert _statuses(db) == ["pending", "pending", "failed"]
    assert main(["outbox"]) == 0
    assert capsys.readouterr().out == "no failed deliveries\n"


@pytest.mark.parametrize("argv", [["outbox", "retry"], ["outbox", "retry", "3", "--all"]])
def test_outbox_retry_needs_one_id_or_all(
    db: str, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == "engage: outbox retry: give one ID or --all (see `engage outbox`)\n"


@pytest.mark.parametrize("argv", [["outbox", "--help"], ["outbox", "retry", "--help"]])
def test_outbox_commands_have_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 0 and "usage: engage outbox" in capsys.readouterr().out
