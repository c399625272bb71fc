"""``engage purge`` and ``engage privacy export|erase|log``: retention and citizens' requests.

Both change only the database; the Slack cards of what they remove are updated by the running
bot, which delivers the queued card updates.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import add_config_option, config_of, existing_database, print_table
from bot.config.file import ConfigError, Settings

if TYPE_CHECKING:
    from bot.cli.common import Subparsers
    from bot.privacy.service import Privacy


def add_parsers(sub: Subparsers) -> None:
    purge = sub.add_parser(
        "purge",
        help="remove citizens' data past its retention time (config `retention:`)",
        description="Remove the content of mentions past their source's retention time and "
        "the details of old event records, keeping the figures summaries count. The running "
        "bot updates their Slack cards.",
    )
    purge.add_argument("--dry-run", action="store_true", help="only count what would go")
    add_config_option(purge)
    purge.set_defaults(handler=_purge)

    privacy = sub.add_parser(
        "privacy",
        help="a citizen's data: export it, erase it; the log",
        description="Answer a citizen's data request: export or erase everything stored about "
        "one person (one or several handles or e-mail addresses). Every request is logged.",
    )
    actions = privacy.add_subparsers(metavar="ACTION")
    export = actions.add_parser(
        "export",
        help="everything stored about AUTHOR (handles or addresses of one person), JSON",
        description="Print (or write to --out) everything stored about one person as JSON: "
        "their mentions on every source, the events, replies and notes about them.",
    )
    export.add_argument(
        "author", nargs="+", help="a handle or e-mail address (several: one person)"
    )
    export.add_argument("--out", help="write to this file instead of standard output")
    add_config_option(export)
    export.set_defaults(handler=_export)
    erase = actions.add_parser(
        "erase",
        help="remove AUTHOR's content everywhere (cards included); keep that it happened",
        description="Remove one person's content everywhere, Slack cards included, and close "
        "their open mentions; the audit log keeps that it happened. Without --yes: only count.",
    )
    erase.add_argument("author", nargs="+", help="a handle or e-mail address (several: one person)")
    erase.add_argument("--yes", action="store_true", help="erase (without it: only count)")
    add_config_option(erase)
    erase.set_defaults(handler=_erase)
    log = actions.add_parser(
        "log",
        help="the audit log of data requests, newest first",
        description="List the data requests (when, what, outcome, who asked, a keyed hash of "
        "whom), newest first.",
    )
    add_config_option(log)
    log.set_defaults(handler=_log)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name (a container's bare uid)
        return "cli"


def _privacy(args: argparse.Namespace) -> Privacy:
    from bot.app.privacy_wiring import SECRET_ENV
    from bot.config.comms import CommsTeam
    from bot.core.clock import SystemClock
    from bot.privacy.service import Privacy

    settings = Settings.from_env()
    config = config_of(settings, args.config)
    return Privacy(
        engine=existing_database(settings),
        clock=SystemClock(),
        config=config.retention,
        comms=CommsTeam(config.comms_team, None),
        author_lists=config.author_members(),
        secret=settings.env.get(SECRET_ENV) or None,
    )


def _purge(args: argparse.Namespace) -> int:
    privacy = _privacy(args)
    if not privacy.config.active:
        print("No retention is set (config `retention:`): nothing is ever removed.")
        return 0
    report = privacy.purge(dry_run=args.dry_run, actor=_actor())
    for line in report.lines():
        print(line)
    return 0


def _authors(args: argparse.Namespace) -> list[str]:
    from bot.privacy.identity import keys_of

    if not keys_of(args.author):
        raise ConfigError("AUTHOR: name a handle or an e-mail address")
    return list(args.author)


def _export(args: argparse.Namespace) -> int:
    authors = _authors(args)
    data = _privacy(args).export(authors, actor=_actor())
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"{len(data['mentions'])} mention(s) written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _erase(args: argparse.Namespace) -> int:
    from bot.privacy.service import erased_text

    authors = _authors(args)
    privacy = _privacy(args)
    if not args.yes:
        count = privacy.asked("erase", authors, actor=_actor())
        print(f"{count} mention(s) by {', '.join(authors)} would be erased; add --yes to erase.")
        return 1
    done = privacy.erase(authors, actor=_actor())
    print(erased_text(done).replace("card(s)", "card(s) (the running bot sends the updates)"))
    return 0


def _log(args: argparse.Namespace) -> int:
    from storage.db import session_scope
    from storage.privacy import queries

    privacy = _privacy(args)
    with session_scope(privacy.engine) as session:
        rows = [
            (
                r.at.strftime("%Y-%m-%d %H:%M"),
                r.action,
                r.outcome,
                r.actor,
                r.subject_hash[:12],
                json.dumps(r.counts, sort_keys=True),
            )
            for r in queries.requests(session=session)
        ]
    print_table(("AT (UTC)", "ACTION", "OUTCOME", "BY", "SUBJECT", "COUNTS"), rows)
    return 0
