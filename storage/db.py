"""Engine, sessions and schema upgrades for SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading
import weakref
from collections import deque
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

MIGRATIONS = Path(__file__).parent / "migrations"
DEFAULT_URL = "sqlite:///engage.db"
MIGRATIONS_LOCK = 0x456E_6761_6765_0001  # a PostgreSQL advisory lock key: "Enga" "ge", 1


def normalise_url(url: str) -> str:
    """Accept the URLs hosting providers hand out (``postgres://``) and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str = DEFAULT_URL, **kw: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        args: dict[str, Any] = {"check_same_thread": False, "timeout": 30}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kw.setdefault("poolclass", StaticPool)
        engine = create_engine(url, connect_args=args, **kw)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kw.setdefault("pool_pre_ping", True)
    kw.setdefault("pool_size", 10)
    kw.setdefault("max_overflow", 20)
    return create_engine(url, **kw)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the HTTP threads read while the outbox worker writes; busy_timeout makes
    # concurrent writers wait for each other instead of failing with "database is locked".
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    # In WAL mode NORMAL still survives a crash of the process (the case we design for);
    # only a power cut can lose the last commits, and it saves an fsync per commit.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class FairLock:
    """A lock that serves its waiters in the order they came (a ticket queue).

    ``threading.Lock`` is not fair: a thread that releases it and asks again at once (a poller
    storing mention after mention) usually wins it back, and the delivery thread waited behind
    whole polls. Here a release hands the lock to the longest waiter, so every unit of work
    waits for at most the units queued before it.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._held = False
        self._waiters: deque[threading.Lock] = deque()

    def acquire(self, *, first: bool = False) -> None:
        """Wait for the lock; ``first``: ahead of those waiting (see :func:`session_scope`)."""
        with self._guard:
            if not self._held:
                self._held = True
                return
            turn = threading.Lock()
            turn.acquire()
            if first:
                self._waiters.appendleft(turn)
            else:
                self._waiters.append(turn)
        turn.acquire()  # released by the holder's release(): the lock is ours now

    def release(self) -> None:
        with self._guard:
            if self._waiters:
                self._waiters.popleft().release()  # still held: handed over
            else:
                self._held = False

    @property
    def waiting(self) -> int:
        """How many are queued for the lock."""
        with self._guard:
            return len(self._waiters)

    def __enter__(self) -> FairLock:
        self.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


_sqlite_locks: weakref.WeakKeyDictionary[Engine, FairLock] = weakref.WeakKeyDictionary()
_locks_guard = threading.Lock()


def _unit_lock(engine: Engine, *, first: bool = False) -> AbstractContextManager[object]:
    """SQLite has one writer at a time and makes the others sleep-and-retry (in steps of up to
    100 ms); taking turns in-process instead keeps click acks fast under load, and a fair lock
    (:class:`FairLock`) keeps a busy poller from starving delivery. PostgreSQL needs no such
    thing: its row locks let units of work run side by side."""
    if not is_sqlite(engine):
        return nullcontext()
    with _locks_guard:
        lock = _sqlite_locks.get(engine)
        if lock is None:
            lock = _sqlite_locks[engine] = FairLock()
    return _First(lock) if first else lock


class _First:
    def __init__(self, lock: FairLock) -> None:
        self.lock = lock

    def __enter__(self) -> FairLock:
        self.lock.acquire(first=True)
        return self.lock

    def __exit__(self, *_exc: object) -> None:
        self.lock.release()


@contextmanager
def session_scope(engine: Engine, *, first: bool = False) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception.

    ``first``: on SQLite, take the next writer's turn ahead of the units already waiting. Only
    for what Slack is waiting on and is one short statement (the clicks kept before their ack,
    :mod:`storage.claims.click_requests`): everything else takes its turn in order.
    """
    with _unit_lock(engine, first=first), Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_scope(engine: Engine) -> Iterator[Session]:
    """Reads only, outside the turn-taking of :func:`session_scope`.

    In WAL mode SQLite readers never wait for the writer, so a read (rendering a card) need not
    queue behind ingest's writes. Whatever is written here is rolled back. (An in-memory
    database is one connection shared by every thread: there, reads take their turn too.)
    """
    shared = is_sqlite(engine) and isinstance(engine.pool, StaticPool)
    with (
        _unit_lock(engine) if shared else nullcontext(),
        Session(engine, expire_on_commit=False) as session,
    ):
        try:
            yield session
        finally:
            session.rollback()


def alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with the same migrations on every database.

    Replicas whose entrypoints all run ``engage db upgrade`` at once take turns: on PostgreSQL
    the first holds an advisory lock while it migrates, and the others, once they get it,
    find the schema at ``revision`` and do nothing. Without it they would all create the same
    tables and all but one crash. (SQLite is one process's file: nothing to wait for.)
    """
    if is_sqlite(engine):
        command.upgrade(alembic_config(engine), revision)
        return
    with engine.connect() as lock:
        lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATIONS_LOCK})
        try:
            command.upgrade(alembic_config(engine), revision)
        finally:
            lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATIONS_LOCK})


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
