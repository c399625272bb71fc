"""Replicas started together: every one comes up, and the config is stored exactly once.

Each "replica" here is an :class:`Engage` with its own engine (its own connections, as a
separate process would have), started from a barrier so that their first transactions, syncing
the departments and seeding the rules, overlap. The migrations run in real processes
(``engage db upgrade``), as containers' entrypoints run them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.app.compose import Engage
from bot.config.file import parse_config
from bot.sandbox.fake_slack import FakeSlack
from storage.db import make_engine, session_scope
from storage.models import Department, Rule, RuleChange
from tests.conftest import CONFIG, PG_URL, settings_for

REPLICAS = 3
# `engage db upgrade`, held back until the test says go, so the replicas' migrations overlap.
ENTRYPOINT = (
    "import sys; from bot.cli import main; print('ready', flush=True); sys.stdin.readline();"
    " sys.exit(main(['db', 'upgrade']))"
)


def _together(engines: list[Engine], start: Callable[[Engine], Any]) -> list[BaseException]:
    """Run ``start`` for each engine in its own thread, all released at once; their errors."""
    barrier = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def run(engine: Engine) -> None:
        barrier.wait()
        try:
            start(engine)
        except BaseException as exc:  # collected: the test reports every replica's failure
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


@contextmanager
def _replica_engines(engine: Engine) -> Iterator[list[Engine]]:
    """Engines of their own on the database (and schema) of ``engine``."""
    if engine.dialect.name == "sqlite":
        engines = [make_engine(str(engine.url)) for _ in range(REPLICAS)]
    else:
        with engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        options = {"options": f"-csearch_path={schema}"}
        engines = [make_engine(PG_URL, connect_args=options) for _ in range(REPLICAS)]
    try:
        yield engines
    finally:
        for each in engines:
            each.dispose()


@pytest.fixture
def empty_pg(pg_ok: bool) -> Iterator[str]:
    """The name of a new, empty PostgreSQL schema (not migrated)."""
    if not pg_ok:
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    yield schema
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def _assert_config_stored_once(engine: Engine) -> None:
    config = parse_config(CONFIG)
    with session_scope(engine) as s:
        departments = sorted(d.slug for d in s.exec(select(Department)))
        rules = sorted(r.name for r in s.exec(select(Rule)))
        seeded = s.exec(select(RuleChange.rule).where(RuleChange.action == "seeded")).all()
    assert departments == sorted(d.slug for d in config.departments)
    assert rules == sorted(r.name for r in config.rules)
    assert sorted(seeded) == rules  # one audit record per rule, not one per replica


def _start(slack: FakeSlack) -> Callable[[Engine], Engage]:
    config = parse_config(CONFIG)
    return lambda engine: Engage(settings_for(slack), config, engine=engine, migrate=False)


def test_replicas_starting_together_store_the_config_once(engine: Engine, slack: FakeSlack) -> None:
    """The migrated but empty database of a first deployment, on SQLite and PostgreSQL."""
    with _replica_engines(engine) as engines:
        assert _together(engines, _start(slack)) == []
    _assert_config_stored_once(engine)


def test_replicas_migrate_and_start_together_on_an_empty_postgresql(
    empty_pg: str, slack: FakeSlack, tmp_path: Path
) -> None:
    """Three containers at once: each entrypoint runs ``engage db upgrade``, then the bot."""
    url = f"{PG_URL}?options=-csearch_path%3D{empty_pg}"
    upgrades = [
        subprocess.Popen(
            [sys.executable, "-c", ENTRYPOINT],
            env={**os.environ, "DATABASE_URL": url},
            cwd=tmp_path,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(REPLICAS)
    ]
    for process in upgrades:  # all loaded and waiting: then released at once
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
    for process in upgrades:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.close()
    outputs = [process.stdout.read() if process.stdout else "" for process in upgrades]
    for process in upgrades:
        process.wait(timeout=60)
    assert [process.returncode for process in upgrades] == [0] * REPLICAS, outputs
    engines = [make_engine(url) for _ in range(REPLICAS)]
    try:
        assert _together(engines, _start(slack)) == []
        _assert_config_stored_once(engines[0])
    finally:
        for each in engines:
            each.dispose()
