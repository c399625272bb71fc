"""``engage run`` (the bot) and ``engage sandbox`` (the bot and a stand-in for Slack)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot.cli.common import add_config_option, config_of, schema_problem, stop_event
from bot.config.file import ConfigError, Settings

if TYPE_CHECKING:
    from bot.cli.common import Subparsers


def add_parsers(sub: Subparsers) -> None:
    run = sub.add_parser(
        "run",
        help="run the bot (HTTP mode, or Socket Mode with SLACK_APP_TOKEN)",
        description="Run the bot: Socket Mode when SLACK_APP_TOKEN is set, else HTTP mode "
        "(Slack's requests at /slack/events on $PORT). Settings come from the environment "
        "and from .env in the current folder.",
    )
    add_config_option(run)
    run.set_defaults(handler=_run)

    sandbox = sub.add_parser(
        "sandbox",
        help="try Engage on this machine: the bot and a stand-in for Slack in a browser",
        description="Try Engage on this machine: the bot and a stand-in for Slack, in a "
        "browser page. No Slack workspace or token needed; nothing is kept.",
    )
    add_config_option(sandbox)
    sandbox.add_argument("--host", default="127.0.0.1", help="address of the page (127.0.0.1)")
    sandbox.add_argument("--port", type=int, default=8080, help="port of the page (8080)")
    sandbox.add_argument("--no-samples", action="store_true", help="start with no mentions")
    sandbox.set_defaults(handler=_sandbox)


def _run(args: argparse.Namespace) -> int:
    from bot.app.compose import Engage
    from bot.core import logs
    from storage.db import is_sqlite, make_engine

    settings = Settings.from_env()
    settings.require_slack()
    config = config_of(settings, args.config)
    engine = make_engine(settings.database_url)
    # SQLite: Engage migrates its own file. PostgreSQL is migrated by `engage db upgrade`
    # (the image's entrypoint runs it): say so rather than fail on a missing table.
    problem = None if is_sqlite(engine) else schema_problem(engine)
    if problem:
        raise ConfigError(problem)
    logs.setup(settings.log_level, settings.log_format)
    engage = Engage(settings, config, engine=engine)
    stop = stop_event()
    try:
        engage.start()
    except Exception:
        engage.stop()  # the threads already started, or the process would not end
        raise
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
        config_of(settings, args.config), host=args.host, port=args.port, seed=not args.no_samples
    )
    stop = stop_event()
    try:
        url = sandbox.start()
    except OSError as exc:
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    print(f"Engage sandbox: open {url} in your browser (Ctrl-C stops it)", flush=True)
    stop.wait()
    sandbox.stop()
    return 0
