"""``engage adapters status``: each adapter's last success, last error and counts."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.common import add_config_option, config_of, existing_database, print_table
from bot.config.file import Settings

if TYPE_CHECKING:
    from bot.cli.common import Subparsers


def add_parsers(sub: Subparsers) -> None:
    adapters = sub.add_parser(
        "adapters",
        help="adapter health",
        description="How the adapters (Mastodon, Bluesky, Reddit, email, feeds...) are doing.",
    ).add_subparsers(metavar="ACTION")
    status = adapters.add_parser(
        "status",
        help="print each adapter's last success, error, counts",
        description="Print each configured adapter's last success, last error, items seen "
        "and skipped (from the database of DATABASE_URL; an adapter that has not run yet "
        "shows 'never').",
    )
    add_config_option(status)
    status.set_defaults(handler=_adapters_status)


def _adapters_status(args: argparse.Namespace) -> int:
    from storage.db import session_scope
    from storage.intake import adapter_states as states

    settings = Settings.from_env()
    config = config_of(settings, args.config)
    with session_scope(existing_database(settings)) as session:
        stored = {r.name: r for r in states.all_states(session=session)}
    configured = {a.name: a.type for a in config.adapters}
    if not configured and not stored:
        print("no adapter configured (see README, 'Sources'); web forms post to /ingest/webhook")
        return 0
    rows = []
    for name in [*configured, *sorted(set(stored) - set(configured))]:
        r = stored.get(name)
        source = configured.get(name) or (r.source if r else "?")
        if name not in configured:
            source += " (not in the config)"
        if r is None:
            rows.append((name, source, "0", "0", "never (not run yet)", "-"))
            continue
        rows.append(
            (
                name,
                source,
                str(r.items_seen),
                str(r.item_errors),
                r.last_success_at.strftime("%Y-%m-%d %H:%M:%S") if r.last_success_at else "never",
                (
                    f"{r.last_error_at:%Y-%m-%d %H:%M:%S} {r.last_error}"
                    if r.last_error_at and r.last_error
                    else "-"
                )[:80],
            )
        )
    print_table(("ADAPTER", "SOURCE", "ITEMS", "SKIPPED", "LAST SUCCESS", "LAST ERROR"), rows)
    return 0
