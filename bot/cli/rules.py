"""``engage rules test|export|import``: try a text against the rules; move the stored rules."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import add_config_option, config_of
from bot.config.file import ConfigError, Settings

if TYPE_CHECKING:
    from bot.cli.common import Subparsers
    from bot.rules.admin import RuleAdmin


def add_parsers(sub: Subparsers) -> None:
    rules = sub.add_parser(
        "rules",
        help="try, export and import the routing rules",
        description="Try a text against the routing rules; export and import the rules "
        "stored in the database (as managed in Slack).",
    )
    rules_sub = rules.add_subparsers(metavar="ACTION")
    test = rules_sub.add_parser(
        "test",
        help="print which department TEXT goes to by the config file's rules, and why",
        description="Print which department TEXT goes to by the config file's rules, which "
        "rule matched and why, what else matched at a lower priority, and any veto.",
    )
    test.add_argument("text")
    test.add_argument("--source", default="webhook", help="the source to pretend (default webhook)")
    add_config_option(test)
    test.set_defaults(handler=_rules_test)
    out = rules_sub.add_parser(
        "export",
        help="print the stored rules (as managed in Slack) as YAML, in routing order",
        description="Print the stored rules (as managed in Slack) as YAML, in routing order: "
        "a file `engage rules import` takes back.",
    )
    add_config_option(out)
    out.add_argument("--out", help="write to this file instead of standard output")
    out.set_defaults(handler=_rules_export)
    into = rules_sub.add_parser(
        "import",
        help="make the stored rules exactly those of FILE (an export or a config)",
        description="Make the stored rules exactly those of FILE (an export, or a config's "
        "rules): rules are added, edited, moved or retired; their history is kept.",
    )
    into.add_argument("file")
    add_config_option(into)
    into.set_defaults(handler=_rules_import)


def _rules_test(args: argparse.Namespace) -> int:
    from bot.core.sources import SOURCE_LABELS
    from bot.routing import Router

    if args.source.lower() not in SOURCE_LABELS:
        raise ConfigError(
            f"--source: unknown source {args.source!r} (known: {', '.join(sorted(SOURCE_LABELS))})"
        )
    config = config_of(Settings.from_env(), args.config)
    router = Router(config.rule_defs())
    explained = router.explain(args.text, args.source)
    matches = list(explained)
    if not matches:
        print(f"triage ({config.triage.channel}): no rule matched")
    else:
        best = matches[0]
        department = config.department(best.department)
        name = department.name if department else best.department
        print(f"{best.department} ({name}): rule {best.rule!r}: {best.reason}")
        for other in matches[1:]:
            print(f"  also matched, lower priority: rule {other.rule!r}: {other.reason}")
    for rule, why in explained.vetoed:
        print(f"  vetoed: rule {rule!r}: {why}")
    return 0


def _rule_admin(args: argparse.Namespace) -> RuleAdmin:
    """The stored rules, with the departments, author lists and areas of the config."""
    from bot.config.comms import CommsTeam
    from bot.core.clock import SystemClock
    from bot.rules.admin import RuleAdmin
    from bot.rules.rulebook import config_departments
    from storage.db import is_sqlite, make_engine, session_scope, upgrade
    from storage.rules import rows as stored

    settings = Settings.from_env()
    config = config_of(settings, args.config)
    engine = make_engine(settings.database_url)
    if is_sqlite(engine):
        upgrade(engine)  # as the bot does at start; PostgreSQL: `engage db upgrade`
    with session_scope(engine) as session:
        stored.sync_departments(session=session, departments=config_departments(config))
    return RuleAdmin(
        engine=engine,
        clock=SystemClock(),
        comms=CommsTeam(config.comms_team, None),
        author_lists=config.author_members(),
        areas=config.load_areas(),
    )


def _rules_export(args: argparse.Namespace) -> int:
    from bot.rules.docs import dump

    text = dump(_rule_admin(args).export())
    if args.out:
        Path(args.out).write_text(text, "utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _rules_import(args: argparse.Namespace) -> int:
    from bot.rules.docs import load

    try:
        text = Path(args.file).read_text("utf-8")
    except OSError as exc:
        raise ConfigError(f"{args.file}: cannot read: {exc.strerror}") from None
    docs = load(text, where=args.file)
    try:
        report = _rule_admin(args).import_docs(docs, actor=f"cli:{getpass.getuser()}")
    except ValueError as exc:
        raise ConfigError(f"{args.file}: {exc}; nothing imported") from None
    if not report.changed:
        print(f"{args.file}: the stored rules are these already; nothing changed")
        return 0
    parts = [
        f"{len(names)} {what}" + (f" ({', '.join(names)})" if names else "")
        for what, names in (
            ("added", report.added),
            ("edited", report.edited),
            ("moved", report.moved),
            ("retired", report.retired),
        )
    ]
    print(f"{args.file}: imported {len(docs)} rules: {', '.join(parts)}")
    return 0
