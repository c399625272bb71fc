"""``engage export``: mentions and their events, for a period, as CSV or JSON."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot.cli.common import add_config_option, config_of, existing_database
from bot.config.file import ConfigError, Settings

if TYPE_CHECKING:
    from bot.cli.common import Subparsers


def add_parsers(sub: Subparsers) -> None:
    export = sub.add_parser(
        "export",
        help="mentions and their events, for a period, as CSV or JSON",
        description="Print the mentions received in a period, with their events (claimed, "
        "answered, handed over...), as CSV or JSON on standard output.",
    )
    export.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
    export.add_argument("--to", dest="end", required=True, help="last day (included), YYYY-MM-DD")
    export.add_argument("--department", help="a department's slug, or 'triage' (default: all)")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    add_config_option(export)
    export.set_defaults(handler=_export)


def _export(args: argparse.Namespace) -> int:
    from bot.summaries.export import export
    from storage.db import session_scope
    from storage.rules import rows as stored

    settings = Settings.from_env()
    engine = existing_database(settings)
    if args.department is not None:
        # The config's departments, and any the database still has mentions filed under.
        with session_scope(engine) as session:
            known = {d.slug for d in stored.departments(session=session)}
        known |= {d.slug for d in config_of(settings, args.config).departments}
        if args.department not in known | {"triage"}:
            raise ConfigError(
                f"--department: unknown department {args.department!r} "
                f"(known: {', '.join(sorted(known))}, triage)"
            )
    engine.dispose()
    export(
        database_url=settings.database_url,
        start=args.start,
        end=args.end,
        department=args.department,
        fmt=args.format,
        out=sys.stdout,
    )
    return 0
