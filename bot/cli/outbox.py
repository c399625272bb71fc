"""``engage outbox [retry]``: the deliveries to Slack that failed for good, put back."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot.cli.common import print_table
from bot.config.file import ConfigError, Settings

if TYPE_CHECKING:
    from bot.cli.common import Subparsers
    from bot.outbox.failures import FailedDeliveries


def add_parsers(sub: Subparsers) -> None:
    deliveries = sub.add_parser(
        "outbox",
        help="list the deliveries to Slack that failed for good; retry them",
        description="Without ACTION: list the deliveries that failed for good, newest first.",
    )
    deliveries.set_defaults(handler=_outbox_list)
    retry = deliveries.add_subparsers(metavar="ACTION").add_parser(
        "retry",
        help="put a failed delivery (ID, or --all) back in the queue with a fresh budget",
        description="Put a failed delivery (ID, or --all) back in the queue with a fresh "
        "budget of attempts; a running bot delivers it within its poll interval.",
    )
    retry.add_argument("id", nargs="?", type=int, help="the ID `engage outbox` lists")
    retry.add_argument("--all", action="store_true", help="every failed delivery")
    retry.set_defaults(handler=_outbox_retry)


def _failed_deliveries() -> FailedDeliveries:
    from bot.core.clock import SystemClock
    from bot.outbox.failures import FailedDeliveries
    from storage.db import is_sqlite, make_engine, upgrade

    engine = make_engine(Settings.from_env().database_url)
    if is_sqlite(engine):
        upgrade(engine)  # as the bot does at start; PostgreSQL: `engage db upgrade`
    # A running bot's worker finds the rows put back within its poll interval: no wake needed.
    return FailedDeliveries(engine=engine, clock=SystemClock(), wake=lambda: None)


def _outbox_list(args: argparse.Namespace) -> int:
    rows = _failed_deliveries().recent()
    if not rows:
        print("no failed deliveries")
        return 0
    header = ("ID", "WHAT", "CHANNEL", "MENTION", "FAILED AT", "FAILURES", "ERROR")
    print_table(
        header,
        [
            (
                str(r.id),
                r.label,
                r.channel_id,
                str(r.mention_id or "-"),
                f"{r.failed_at:%Y-%m-%d %H:%M:%S}" if r.failed_at else "-",
                str(r.failures),
                r.error[:80],
            )
            for r in rows
        ],
    )
    print(f"{len(rows)} failed; `engage outbox retry ID` or `engage outbox retry --all`")
    return 0


def _outbox_retry(args: argparse.Namespace) -> int:
    if (args.id is None) == (not args.all):
        raise ConfigError("outbox retry: give one ID or --all (see `engage outbox`)")
    ids = _failed_deliveries().retry(None if args.all else args.id)
    if not ids and args.all:
        print("no failed deliveries")
        return 0
    if not ids:
        print(f"engage: no failed delivery {args.id} (see `engage outbox`)", file=sys.stderr)
        return 1
    shown = ", ".join(map(str, ids[:20])) + (", ..." if len(ids) > 20 else "")
    print(f"{len(ids)} put back in the queue: {shown}")
    return 0
