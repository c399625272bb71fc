"""What the command groups share: the config and database to use, one-line errors, tables."""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeAlias

from bot.config.file import ConfigError, EngageConfig, Settings, load_config

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    # `sub` of add_parsers(sub): what argparse's add_subparsers() returns.
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

CONFIG_HELP = "YAML config (default: $ENGAGE_CONFIG, else the sample)"


class Parser(argparse.ArgumentParser):
    """An argument mistake is one line naming the command, not a usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help=CONFIG_HELP)


def config_of(settings: Settings, path: str | None) -> EngageConfig:
    if path is None and settings.config_path and not Path(settings.config_path).exists():
        raise ConfigError(
            f"ENGAGE_CONFIG={settings.config_path}: no such file; `engage init` writes a "
            "starter config, or unset ENGAGE_CONFIG to use the sample"
        )
    return load_config(path or settings.config_path)


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (None for another database or an in-memory one)."""
    from sqlalchemy.engine import make_url

    from storage.db import normalise_url

    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database or "")


def schema_problem(engine: Engine) -> str | None:
    """Why the database cannot be used as it is (not migrated, or at another revision)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from storage.db import alembic_config

    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
    if current == heads:
        return None
    if not current:
        return "the database is not migrated yet: run `engage db upgrade`"
    return (
        f"the database schema is at {', '.join(sorted(current))}, this Engage needs "
        f"{', '.join(sorted(heads))}: run `engage db upgrade`"
    )


def existing_database(settings: Settings) -> Engine:
    """The database of DATABASE_URL, for commands that read it: it must exist and be
    migrated (a SQLite file is not created by looking at it)."""
    from storage.db import make_engine

    path = sqlite_file(settings.database_url)
    if path is not None and not path.exists():
        raise ConfigError(
            f"{path}: no database here yet (DATABASE_URL={settings.database_url}); "
            "`engage run` creates it, or `engage db upgrade`"
        )
    engine = make_engine(settings.database_url)
    problem = schema_problem(engine)
    if problem:
        raise ConfigError(problem)
    return engine


def one_line(exc: Exception) -> str | None:
    """What a failure at start means, in one line; None for a bug (left to its traceback)."""
    from urllib.error import URLError

    from slack_sdk.errors import SlackApiError, SlackClientError
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

    if isinstance(exc, ArgumentError | NoSuchModuleError):
        return f"DATABASE_URL: {_first_line(exc)}"
    if isinstance(exc, DBAPIError):
        detail = _first_line(exc.orig if exc.orig is not None else exc)
        if "no such table" in detail or ("relation" in detail and "does not exist" in detail):
            return f"the database is not migrated ({detail}): run `engage db upgrade`"
        return f"cannot use the database (DATABASE_URL): {detail}"
    if isinstance(exc, SlackApiError):
        error = exc.response.get("error") or _first_line(exc)
        # Socket Mode's apps.connections.open is the one call made with the app-level token.
        app_token = "apps.connections" in str(getattr(exc.response, "api_url", ""))
        token = "SLACK_APP_TOKEN" if app_token else "SLACK_BOT_TOKEN"
        return f"Slack refused {token}: {error} (see README, 'Create the Slack app')"
    if isinstance(exc, URLError):  # slack_sdk's transport: Slack (or SLACK_API_URL) unreachable
        return f"cannot reach Slack: {exc.reason} (SLACK_API_URL, or the network)"
    if isinstance(exc, SlackClientError | OSError):
        return f"cannot start: {type(exc).__name__}: {_first_line(exc)}"
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    table = [tuple(header), *(tuple(r) for r in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def stop_event() -> threading.Event:
    """Set on SIGTERM or SIGINT: a service waits on it, then stops cleanly."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop
