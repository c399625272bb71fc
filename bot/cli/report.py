"""``engage report``: the public report of a month, as a static HTML page, CSV and JSON."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.common import add_config_option, config_of, existing_database
from bot.config.file import ConfigError, Settings

if TYPE_CHECKING:
    from bot.cli.common import Subparsers


def add_parsers(sub: Subparsers) -> None:
    report = sub.add_parser(
        "report",
        help="write the public report of a month (HTML, CSV, JSON) to a folder",
        description="Per department and city-wide: mentions received by source, share "
        "answered, time to answer in office hours, how many staff answered, and the trend. "
        "No texts, handles or names; counts under `report.min_count` are suppressed.",
    )
    report.add_argument("--period", help="the month, YYYY-MM (default: last month)")
    report.add_argument("--out", help="the folder to write to (default: config `report.out`)")
    add_config_option(report)
    report.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    from bot.core.clock import SystemClock
    from bot.nudges.policy import policies
    from bot.report.figures import last_full_month
    from bot.report.service import PublicReport

    settings = Settings.from_env()
    config = config_of(settings, args.config)
    out = args.out or config.report.out
    if not out:
        raise ConfigError("--out: name the folder to write to (or set report.out in the config)")
    clock = SystemClock()
    report = PublicReport(
        engine=existing_database(settings), clock=clock, config=config, policies=policies(config)
    )
    month = args.period or last_full_month(clock.now())
    try:
        built = report.build(month, out)
    except ValueError as exc:
        raise ConfigError(f"--period: {exc}") from None
    for path in built.paths:
        print(path)
    return 0
