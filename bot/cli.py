"""The ``engage`` command (also ``python -m bot``)."""

from __future__ import annotations

import argparse
import getpass
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config.file import ConfigError, EngageConfig, Settings, load_config

if TYPE_CHECKING:
    from bot.outbox.failures import FailedDeliveries
    from bot.rules.admin import RuleAdmin


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args))
    except ConfigError as exc:
        print(f"engage: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="engage", description="Engage: citizens' mentions, answered together in Slack."
    )
    sub = parser.add_subparsers(metavar="COMMAND")

    run = sub.add_parser("run", help="run the bot (HTTP mode, or Socket Mode with SLACK_APP_TOKEN)")
    run.add_argument("--config", help="YAML config (default: $ENGAGE_CONFIG, else the sample)")
    run.set_defaults(handler=_run)

    sandbox = sub.add_parser(
        "sandbox", help="try Engage on this machine: the bot and a stand-in for Slack in a browser"
    )
    sandbox.add_argument("--config", help="YAML config (default: $ENGAGE_CONFIG, else the sample)")
    sandbox.add_argument("--host", default="127.0.0.1", help="address of the page (127.0.0.1)")
    sandbox.add_argument("--port", type=int, default=8080, help="port of the page (8080)")
    sandbox.add_argument("--no-samples", action="store_true", help="start with no mentions")
    sandbox.set_defaults(handler=_sandbox)

    config = sub.add_parser("config", help="check a config file").add_subparsers(metavar="ACTION")
    check = config.add_parser("check", help="validate FILE and print a summary; exit 2 if wrong")
    check.add_argument("file")
    check.set_defaults(handler=_config_check)

    rules = sub.add_parser("rules", help="try, export and import the routing rules")
    rules_sub = rules.add_subparsers(metavar="ACTION")
    test = rules_sub.add_parser(
        "test", help="print which department TEXT goes to by the config file's rules, and why"
    )
    test.add_argument("text")
    test.add_argument("--source", default="webhook", help="the source to pretend (default webhook)")
    test.add_argument("--config", help="YAML config (default: $ENGAGE_CONFIG, else the sample)")
    test.set_defaults(handler=_rules_test)
    out = rules_sub.add_parser(
        "export", help="print the stored rules (as managed in Slack) as YAML, in routing order"
    )
    out.add_argument("--config", help="YAML config (default: $ENGAGE_CONFIG, else the sample)")
    out.add_argument("--out", help="write to this file instead of standard output")
    out.set_defaults(handler=_rules_export)
    into = rules_sub.add_parser(
        "import", help="make the stored rules exactly those of FILE (an export or a config)"
    )
    into.add_argument("file")
    into.add_argument("--config", help="YAML config (default: $ENGAGE_CONFIG, else the sample)")
    into.set_defaults(handler=_rules_import)

    adapters = sub.add_parser("adapters", help="adapter health").add_subparsers(metavar="ACTION")
    status = adapters.add_parser("status", help="print each adapter's last success, error, counts")
    status.set_defaults(handler=_adapters_status)

    export = sub.add_parser(
        "export", help="mentions and their events, for a period, as CSV or JSON"
    )
    export.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
    export.add_argument("--to", dest="end", required=True, help="last day (included), YYYY-MM-DD")
    export.add_argument("--department", help="a department's slug, or 'triage' (default: all)")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.set_defaults(handler=_export)

    deliveries = sub.add_parser(
        "outbox",
        help="list the deliveries to Slack that failed for good; retry them",
        description="Without ACTION: list the deliveries that failed for good, newest first.",
    )
    deliveries.set_defaults(handler=_outbox_list)
    retry = deliveries.add_subparsers(metavar="ACTION").add_parser(
        "retry", help="put a failed delivery (ID, or --all) back in the queue with a fresh budget"
    )
    retry.add_argument("id", nargs="?", type=int, help="the ID `engage outbox` lists")
    retry.add_argument("--all", action="store_true", help="every failed delivery")
    retry.set_defaults(handler=_outbox_retry)

    db = sub.add_parser("db", help="database schema").add_subparsers(metavar="ACTION")
    up = db.add_parser("upgrade", help="apply the migrations to $DATABASE_URL")
    up.set_defaults(handler=_db_upgrade)
    return parser


def _config(settings: Settings, path: str | None) -> EngageConfig:
    return load_config(path or settings.config_path)


def _run(args: argparse.Namespace) -> int:
    from bot.app.compose import Engage
    from bot.core import logs

    settings = Settings.from_env()
    logs.setup(settings.log_level, settings.log_format)
    settings.require_slack()
    engage = Engage(settings, _config(settings, args.config))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    engage.start()
    print(f"engage: listening on {engage.url}", file=sys.stderr)
    stop.wait()
    engage.stop()
    return 0


def _sandbox(args: argparse.Namespace) -> int:
    from bot.core import logs
    from bot.sandbox.run import Sandbox

    settings = Settings.from_env()
    logs.setup("WARNING", "text")
    sandbox = Sandbox(
        _config(settings, args.config), host=args.host, port=args.port, seed=not args.no_samples
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        url = sandbox.start()
    except OSError as exc:
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    print(f"Engage sandbox: open {url} in your browser (Ctrl-C stops it)", flush=True)
    stop.wait()
    sandbox.stop()
    return 0


def _config_check(args: argparse.Namespace) -> int:
    from bot.config.adapters import secret_variables

    config = load_config(args.file)
    print(
        f"{args.file}: ok: {len(config.departments)} departments, {len(config.rules)} rules, "
        f"{len(config.adapters)} adapters, triage in {config.triage.channel}"
    )
    if config.delivery.max_attempts is not None:
        print("note: delivery.max_attempts is no longer used (see delivery.give_up_after)")
    env = Settings.from_env().env
    for entry in config.adapters:
        missing = [v for v in secret_variables(entry) if not env.get(v, "").strip()]
        if missing:
            print(f"note: adapter {entry.name!r} needs {', '.join(missing)} set to run")
    return 0


def _rules_test(args: argparse.Namespace) -> int:
    from bot.routing import Router

    config = _config(Settings.from_env(), args.config)
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
    config = _config(settings, args.config)
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


def _adapters_status(args: argparse.Namespace) -> int:
    from storage.db import make_engine, session_scope
    from storage.intake import adapter_states as states

    settings = Settings.from_env()
    with session_scope(make_engine(settings.database_url)) as session:
        rows = states.all_states(session=session)
    if not rows:
        print("no adapter has run yet")
        return 0
    header = ("ADAPTER", "SOURCE", "ITEMS", "SKIPPED", "LAST SUCCESS", "LAST ERROR")
    table = [header] + [
        (
            r.name,
            r.source,
            str(r.items_seen),
            str(r.item_errors),
            r.last_success_at.strftime("%Y-%m-%d %H:%M:%S") if r.last_success_at else "never",
            (
                f"{r.last_error_at:%Y-%m-%d %H:%M:%S} {r.last_error}"
                if r.last_error_at and r.last_error
                else "-"
            )[:80],
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


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
    table = [header] + [
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
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
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


def _export(args: argparse.Namespace) -> int:
    from bot.summaries.export import export

    settings = Settings.from_env()
    export(
        database_url=settings.database_url,
        start=args.start,
        end=args.end,
        department=args.department,
        fmt=args.format,
        out=sys.stdout,
    )
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from storage.db import make_engine, upgrade

    settings = Settings.from_env()
    upgrade(make_engine(settings.database_url))
    print("database schema is up to date")
    return 0
