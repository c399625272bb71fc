"""A scratch database for one benchmark run, gone afterwards, so every benchmark can run twice
in a row (and beside another) without finding the last run's rows.

    with scratch_database(args.database_url) as url:
        ...  # hand ``url`` to the bot (DATABASE_URL) or to make_engine; it is empty, unmigrated

SQLite (``base_url`` None or ``sqlite:...``): a fresh file in a temporary directory, removed
after. PostgreSQL: a schema with a random name created on the server and dropped (CASCADE)
after; the URL carries ``options=-csearch_path=<schema>`` in its query, which SQLAlchemy hands
to psycopg as a connection argument, so every connection made from it (the bot's, a
subprocess's ``engage db upgrade``, Alembic's) creates and reads its tables in that schema
only. That is the same trick tests/conftest.py uses per test, carried in the URL instead of
``connect_args`` so it survives being passed through an environment variable.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import make_engine, normalise_url


@contextmanager
def scratch_database(base_url: str | None) -> Iterator[str]:
    """Yield the URL of an empty database (file or schema) that is removed on exit."""
    if base_url is None or base_url.startswith("sqlite"):
        workdir = Path(tempfile.mkdtemp(prefix="engage-bench-"))
        try:
            yield f"sqlite:///{workdir / 'bench.db'}"
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return
    url = normalise_url(base_url)
    if make_url(url).query.get("options"):
        raise SystemExit("--database-url must not carry options=: the scratch schema sets them")
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url, pool_size=1, max_overflow=0)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
