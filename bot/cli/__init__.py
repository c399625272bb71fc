"""The ``engage`` command (also ``python -m bot``).

Each command group is a module of this package with ``add_parsers(sub)``, which adds its
sub-commands and sets each one's ``handler(args) -> int``. The groups are named in
``COMMAND_GROUPS``: adding one is adding its name there. They are imported by name so the
command starts fast and a group's heavy imports happen only in its handlers.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from bot.cli.common import Parser, one_line
from bot.config.file import ConfigError

# In the order `engage --help` lists them.
COMMAND_GROUPS: tuple[str, ...] = (
    "config",  # init, config check
    "run",  # run, sandbox
    "rules",
    "adapters",
    "export",
    "outbox",
    "db",
    "privacy",  # purge, privacy export|erase|log
    "report",
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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
    except Exception as exc:  # a database or Slack that refuses: one line; a bug: its traceback
        message = one_line(exc)
        if message is None:
            raise
        print(f"engage: {message}", file=sys.stderr)
        return 2


def build_parser() -> Parser:
    parser = Parser(
        prog="engage", description="Engage: citizens' mentions, answered together in Slack."
    )
    sub = parser.add_subparsers(metavar="COMMAND")
    for name in COMMAND_GROUPS:
        importlib.import_module(f"bot.cli.{name}").add_parsers(sub)
    return parser
