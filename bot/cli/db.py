"""``engage db upgrade``: apply the schema migrations."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.config.file import Settings

if TYPE_CHECKING:
    from bot.cli.common import Subparsers


def add_parsers(sub: Subparsers) -> None:
    db = sub.add_parser(
        "db", help="database schema", description="The database's schema (its migrations)."
    ).add_subparsers(metavar="ACTION")
    up = db.add_parser(
        "upgrade",
        help="apply the migrations to $DATABASE_URL",
        description="Apply the schema migrations to $DATABASE_URL (creating a SQLite file if "
        "needed). Run it before `engage run` on PostgreSQL, and after each upgrade of Engage.",
    )
    up.set_defaults(handler=_db_upgrade)


def _db_upgrade(args: argparse.Namespace) -> int:
    from storage.db import make_engine, upgrade

    settings = Settings.from_env()
    upgrade(make_engine(settings.database_url))
    print("database schema is up to date")
    return 0
