"""The ``.env`` file and the Slack settings' sanity: what stops ``engage run`` in one line.

``.env`` is read from the folder the command runs in, and only there. A value still as
``.env.example`` shows it (``xoxb-...``) is named as such rather than sent to Slack.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from dotenv import load_dotenv

from bot.config.base import ConfigError

# The variables .env.example shows, and what a user puts there instead of its example value.
EXAMPLE_HINTS = {
    "SLACK_BOT_TOKEN": "your bot token (xoxb-…)",
    "SLACK_SIGNING_SECRET": "your app's signing secret",
    "SLACK_APP_TOKEN": "your app-level token (xapp-…)",
    "ENGAGE_WEBHOOK_SECRET": "a long random secret shared with your web forms, or empty",
}
TOKEN_PREFIXES = {"SLACK_BOT_TOKEN": "xoxb-", "SLACK_APP_TOKEN": "xapp-"}
# "xoxb-...", "xapp-…", "<your token>", "changeme", "your-secret": written to be replaced.
_EXAMPLE_VALUE = re.compile(r"(\.\.\.|…)$|^<.*>$|^change[-_ ]?me$|^your[-_ ]", re.IGNORECASE)


def is_example_value(value: str) -> bool:
    return bool(_EXAMPLE_VALUE.search(value.strip()))


def load_env_file(path: Path) -> None:
    """Add ``path``'s variables to the environment; real environment variables win.

    Only that file: ``load_dotenv()`` without a path searches upward from the calling module
    (the installed package), not the folder the command runs in.
    """
    try:
        load_dotenv(path, override=False)
    except OSError as exc:  # a missing file is fine (nothing to read); an unreadable one is not
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None


def check_slack(env: Mapping[str, str], *, socket_mode: bool) -> None:
    """Raise :class:`ConfigError` naming the first thing to change before Slack can work."""

    def get(name: str) -> str:
        return env.get(name, "").strip()

    examples = [name for name in EXAMPLE_HINTS if is_example_value(get(name))]
    if examples:
        hints = " and ".join(EXAMPLE_HINTS[name] for name in examples)
        if len(examples) == 1:
            what = f"{examples[0]} still holds the example value"
        else:
            what = f"{', '.join(examples[:-1])} and {examples[-1]} still hold the example values"
        raise ConfigError(
            f"{what} from .env.example; set {'it' if len(examples) == 1 else 'them'} to {hints}"
        )
    required = ["SLACK_BOT_TOKEN"]
    if not socket_mode:  # Socket Mode's requests come over the socket: nothing to verify
        required.append("SLACK_SIGNING_SECRET")
    missing = [name for name in required if not get(name)]
    if missing:
        raise ConfigError(
            f"{', '.join(missing)}: not set; put it in the environment or in .env "
            "(see README, 'Create the Slack app')"
        )
    for name, prefix in TOKEN_PREFIXES.items():
        value = get(name)
        if value and not value.startswith(prefix):
            raise ConfigError(
                f"{name}: expected {EXAMPLE_HINTS[name]}, got a value starting with {value[:5]!r}"
            )
