"""``engage init`` (a starter config and ``.env``) and ``engage config check``."""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config.file import ConfigError, Settings, load_config

if TYPE_CHECKING:
    from bot.cli.common import Subparsers


def add_parsers(sub: Subparsers) -> None:
    init = sub.add_parser(
        "init",
        help="write a commented starter config (engage.yml) and a .env in FOLDER",
        description="Write a commented starter config (engage.yml) and a .env naming it in "
        "FOLDER (default: the current folder), then say what to fill in. Existing files are "
        "kept, never overwritten.",
    )
    init.add_argument("folder", nargs="?", default=".", help="where to write them (default .)")
    init.set_defaults(handler=_init)

    config = sub.add_parser(
        "config",
        help="check a config file",
        description="Check a YAML config file (departments, rules, adapters).",
    ).add_subparsers(metavar="ACTION")
    check = config.add_parser(
        "check",
        help="validate FILE and print a summary; exit 2 if wrong",
        description="Validate FILE and print a summary, and which adapters still need a "
        "secret set. A mistake is one line naming the key and its line; exit code 2.",
    )
    check.add_argument("file")
    check.set_defaults(handler=_config_check)


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


def _template(name: str) -> str:
    return resources.files("bot.cli").joinpath(f"templates/{name}").read_text("utf-8")


def starter_env() -> str:
    """``.env.example``, naming the starter config, under a header saying where it came from."""
    _, body = _template("env.example").split("\n\n", 1)
    header = (
        "# Written by `engage init`: fill in the Slack values, then run `engage run` in this\n"
        "# folder (.env is read from the current folder). Real environment variables win.\n"
    )
    return header + "\n" + body.replace("# ENGAGE_CONFIG=engage.yml", "ENGAGE_CONFIG=engage.yml")


def _init(args: argparse.Namespace) -> int:
    folder = Path(args.folder)
    files = {"engage.yml": _template("engage.yml"), ".env": starter_env()}
    kept = [name for name in files if (folder / name).exists()]
    if len(kept) == len(files):
        raise ConfigError(f"{folder}: engage.yml and .env exist already; nothing written")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            if name not in kept:
                with open(folder / name, "x", encoding="utf-8") as out:  # never overwrite
                    out.write(text)
    except OSError as exc:
        raise ConfigError(f"{folder}: cannot write: {exc.strerror}") from None
    where = "" if folder.resolve() == Path.cwd().resolve() else f"cd {folder}; "
    for name in files:
        state = "kept (exists already)" if name in kept else "written"
        print(f"{folder / name}: {state}")
    print(
        "Next:\n"
        "  1. In engage.yml, put your channel and user ids in place of the examples; check it:\n"
        f"     {where}engage config check engage.yml\n"
        "  2. In .env, set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode), or\n"
        "     SLACK_SIGNING_SECRET and an empty SLACK_APP_TOKEN (HTTP mode);\n"
        "     see README, 'Create the Slack app'.\n"
        f"  3. {where}engage run"
    )
    return 0
