"""Value types and Slack wire-format rules shared by the parts of the fake Slack.

Why a module of its own: the workspace state, the Web API and the Slack -> bot sender all speak
the same small vocabulary (recorded calls, faults, Slack's timestamps, booleans and cursors). Kept
here, each rule exists once and the parts depend on it rather than on each other. Nothing here
holds state or does I/O.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]
Reply = tuple[int, dict[str, str], bytes]
"""An HTTP answer as the server writes it: status, headers, body."""
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


@dataclass(frozen=True)
class ApiCall:
    """One Web API request as the fake received it (token removed), for assertions."""

    method: str
    args: JSON
    at: float


@dataclass(frozen=True)
class ResponseCall:
    """One POST the bot made to a ``response_url`` the fake handed out."""

    response_id: str
    payload: JSON
    at: float


@dataclass(frozen=True)
class HttpResult:
    """What the bot answered to a request the fake sent it.

    ``request_body`` is the exact bytes sent, so a test can redeliver the identical request (as
    Slack does on retries); ``sent`` is the decoded payload, handy for reading generated ids.
    """

    status: int
    body: str
    headers: dict[str, str]
    request_body: bytes
    elapsed: float
    sent: JSON = field(default_factory=dict)

    def json(self) -> Any:
        """The response body decoded as JSON (Bolt answers interactions with JSON or nothing)."""
        return json.loads(self.body)


@dataclass
class Fault:
    """One scheduled failure of a Web API method (see ``FakeSlack.fail_next``)."""

    status: int
    error: str | None
    retry_after: int | None
    apply: bool
    body: str | None


@dataclass(frozen=True)
class Rejection:
    """Block Kit the fake refused as Slack would, and where it came from (a Web API method,
    ``response_url``, a submission's ``response_action`` or a slash command's answer)."""

    source: str
    error: str
    messages: tuple[str, ...]
    at: float


class ApiError(Exception):
    """Raised by a method handler to produce Slack's ``{"ok": false, "error": ...}``;
    ``details`` joins the answer (``errors``, ``response_metadata``)."""

    def __init__(self, error: str, details: JSON | None = None) -> None:
        super().__init__(error)
        self.details: JSON = details or {}


def flag(value: Any) -> bool:
    """Slack booleans arrive as JSON booleans or, form-encoded by slack_sdk, as "1"/"true"."""
    return value in (True, 1, "1", "true", "True")


def ts_key(ts: Any) -> int:
    """Compare timestamps exactly as integers of microseconds (floats lose the last digits)."""
    whole, _, frac = str(ts).partition(".")
    try:
        return int(whole or 0) * 1_000_000 + int((frac + "000000")[:6])
    except ValueError as exc:
        raise ApiError("invalid_ts_latest") from exc


def json_arg(value: Any, error: str = "invalid_arguments") -> Any:
    """Form-encoded requests carry blocks/metadata/views as JSON strings; JSON ones as objects."""
    if isinstance(value, str) and value.strip():
        try:
            return json.loads(value)
        except ValueError as exc:
            raise ApiError(error) from exc
    return value


def top_level(msg: JSON) -> bool:
    """Whether ``msg`` shows in the channel itself: a parent, a plain message or a broadcast."""
    thread_ts = msg.get("thread_ts")
    return thread_ts in (None, msg["ts"]) or msg.get("subtype") == "thread_broadcast"


def paginate(items: list[JSON], args: JSON) -> tuple[list[JSON], str]:
    """Slack-style cursor pagination; the cursor names the next item ("next_ts:<ts>")."""
    limit = max(1, min(int(args.get("limit") or 100), 1000))
    start = 0
    if args.get("cursor"):
        try:
            ts = base64.b64decode(str(args["cursor"])).decode().removeprefix("next_ts:")
            start = next(i for i, m in enumerate(items) if m["ts"] == ts)
        except (ValueError, StopIteration) as exc:
            raise ApiError("invalid_cursor") from exc
    page, rest = items[start : start + limit], items[start + limit :]
    cursor = base64.b64encode(f"next_ts:{rest[0]['ts']}".encode()).decode() if rest else ""
    return page, cursor


def dm_channel(user_id: str) -> str:
    """The (fake) id of the bot's direct-message channel with a person."""
    return "D" + user_id[1:]
