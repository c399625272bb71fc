"""Shared fixtures: databases (SQLite and the local PostgreSQL), the fake Slack, a running bot.

PostgreSQL tests use their own schema per test on ``TEST_DATABASE_URL`` (default: the local
server's ``test`` database). If that server is not reachable they are skipped locally and
fail under CI, where it must be there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.app.compose import Engage
from bot.config.file import EngageConfig, Settings, parse_config
from bot.rules.docs import doc_of_config, row_values
from bot.rules.rulebook import config_departments
from bot.sandbox.fake_slack import FakeSlack
from storage.db import make_engine, session_scope, upgrade
from storage.rules import rows as rules

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
FIXTURES = Path(__file__).parent / "fixtures"
WEBHOOK_SECRET = "webhook-test-secret"

CONFIG = """
triage:
  channel: C0TRIAGE01
comms_team:
  users: [U0COMMS01]
departments:
  - slug: public-works
    name: Public Works
    channel: C0PUBWORKS
    leads: [U0LEADPW1]
    timezone: America/New_York
  - slug: parks
    name: Parks and Recreation
    channel: C0PARKS001
rules:
  - name: streets
    department: public-works
    priority: 10
    keywords: [pothole, "street light", bin*]
    hashtags: [potholes]
    exclude: [binance]
  - name: parks
    department: parks
    priority: 20
    keywords: [park, playground]
delivery:
  channel_interval: 0
"""


def _pg_available() -> bool:
    try:
        with make_engine(PG_URL).connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_ok() -> bool:
    ok = _pg_available()
    if not ok and os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is not reachable at {PG_URL}; CI needs it")
    return ok


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to head, made once: each test gets a copy of it, which is the
    same database the migrations would give, without running them again for every test."""
    path = tmp_path_factory.mktemp("template") / "engage.db"
    template = make_engine(f"sqlite:///{path}")
    upgrade(template)
    template.dispose()
    return path


def fresh_sqlite(template: Path, tmp_path: Path) -> Engine:
    path = tmp_path / "engage.db"
    shutil.copyfile(template, path)
    return make_engine(f"sqlite:///{path}")


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, pg_ok: bool, migrated_sqlite: Path
) -> Iterator[Engine]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        eng = fresh_sqlite(migrated_sqlite, tmp_path)
        yield eng
        eng.dispose()
        return
    if not pg_ok:
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    eng = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    upgrade(eng)
    yield eng
    eng.dispose()
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack(bot_token="xoxb-test", signing_secret="test-secret")
    fake.start()
    yield fake
    fake.stop()
    # Whatever a test did, the bot sent nothing Slack would refuse (the bot may swallow the
    # error, as a modal refresh does, so the fake's record is what tells).
    refused = [f"{r.source}: {'; '.join(r.messages)}" for r in fake.rejections]
    assert refused == [], "Slack would refuse Block Kit the bot sent"


def store_config(engine: Engine, config: EngageConfig) -> None:
    """The config's departments and rules in the database, as the bot's first start leaves them."""
    with session_scope(engine) as session:
        rules.sync_departments(session=session, departments=config_departments(config))
        docs = [row_values(doc_of_config(r)) for r in config.rules]
        rules.replace_all(session=session, rules=docs, now=datetime.now(UTC))
        rules.bump_version(session=session)


def settings_for(slack: FakeSlack, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": "xoxb-test",
        "slack_signing_secret": "test-secret",
        "slack_app_token": None,
        "slack_api_url": slack.api_url,
        "database_url": "sqlite://",
        "config_path": None,
        "port": 0,
        "host": "127.0.0.1",
        "webhook_secret": WEBHOOK_SECRET,
        "log_level": "INFO",
        "log_format": "text",
        "env": {},
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(autouse=True)
def clicks_decided_before_the_next_step(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bot acks Claim and Release once the click is kept and decides it right after
    (``bot.claims.click_queue``). A person sees the card change before clicking on; so, in a
    test with the fake Slack, every bot started waits for its click worker after each click the
    fake sends (``FakeSlack.after_interaction``), whoever started it."""
    if "slack" not in request.fixturenames:
        return
    fake: FakeSlack = request.getfixturevalue("slack")
    start, stop = Engage.start, Engage.stop

    def started(self: Engage, *args: Any, **kw: Any) -> None:
        start(self, *args, **kw)
        fake.after_interaction.append(self.click_queue.settle)

    def stopped(self: Engage) -> None:
        with contextlib.suppress(ValueError):
            fake.after_interaction.remove(self.click_queue.settle)
        stop(self)

    monkeypatch.setattr(Engage, "start", started)
    monkeypatch.setattr(Engage, "stop", stopped)


@pytest.fixture
def make_bot(slack: FakeSlack, engine: Engine) -> Iterator[Callable[..., Engage]]:
    """Start the whole bot over HTTP on loopback, talking to the fake Slack."""
    started: list[Engage] = []

    def make(config: str | EngageConfig = CONFIG, **kw: Any) -> Engage:
        loaded = parse_config(config) if isinstance(config, str) else config
        bot = Engage(settings_for(slack), loaded, engine=engine, migrate=False, **kw)
        bot.start(host="127.0.0.1", port=0)
        started.append(bot)
        return bot

    yield make
    for bot in started:
        bot.stop()


@pytest.fixture
def sqlite(tmp_path: Path, migrated_sqlite: Path) -> Iterator[Engine]:
    """One migrated SQLite database for a test (listener and property tests need no PostgreSQL)."""
    engine = fresh_sqlite(migrated_sqlite, tmp_path)
    yield engine
    engine.dispose()
