"""``engage export``: the period's mentions as CSV, and with their event logs as JSON."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.claims.service import Claims
from bot.config.file import parse_config
from bot.core.adapter import IncomingMention
from bot.intake.ingest import Ingestor
from bot.outbox.replies import Replies
from bot.rules.rulebook import Rulebook
from storage.db import make_engine, session_scope, upgrade
from tests.conftest import CONFIG, store_config


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def test_export_csv_and_json(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    engine = make_engine(url)
    upgrade(engine)
    clock = Clock(datetime(2026, 11, 2, 15, 0, tzinfo=UTC))
    store_config(engine, parse_config(CONFIG))
    ingestor = Ingestor(rulebook=Rulebook(triage_channel="C0TRIAGE01"), clock=clock)
    with session_scope(engine) as s:
        first, second, _ = ingestor.ingest(
            session=s,
            items=[
                IncomingMention(source="webhook", external_id="a", text='pothole on Elm, 2" deep'),
                IncomingMention(source="rss", external_id="b", text="playground swings"),
                IncomingMention(source="rss", external_id="c", text="a council meeting"),
            ],
        )
    claims = Claims(engine=engine, clock=clock, wake=lambda: None, replies=Replies({}))
    assert first.mention_id is not None
    claims.answer(mention_id=first.mention_id, user_id="U0ALICE01", text="Fixed", request_key="k")
    clock.at = datetime(2026, 11, 9, 15, 0, tzinfo=UTC)  # a week later: outside the period
    with session_scope(engine) as s:
        ingestor.ingest(
            session=s, items=[IncomingMention(source="rss", external_id="d", text="later pothole")]
        )

    def run(*args: str) -> str:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "bot",
                "export",
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-07",
                *args,
            ],
            capture_output=True,
            text=True,
            env={"DATABASE_URL": url, "PATH": "/usr/bin"},
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    rows = list(csv.DictReader(io.StringIO(run())))
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["answered_by"] == "U0ALICE01" and rows[0]["text"] == 'pothole on Elm, 2" deep'
    assert rows[2]["department"] == ""  # triage
    only = list(csv.DictReader(io.StringIO(run("--department", "parks"))))
    assert [r["id"] for r in only] == [str(second.mention_id)]
    data = json.loads(run("--format", "json", "--department", "public-works"))
    [mention] = data["mentions"]
    assert [e["kind"] for e in mention["events"]] == ["received", "routed", "claimed", "answered"]
    assert mention["events"][-1]["data"]["text"] == "Fixed"

    bad = subprocess.run(
        [sys.executable, "-m", "bot", "export", "--from", "yesterday", "--to", "2026-11-07"],
        capture_output=True,
        text=True,
        env={"DATABASE_URL": url, "PATH": "/usr/bin"},
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2 and "--from: 'yesterday' is not a date" in bad.stderr
