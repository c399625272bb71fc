"""Who is on call for a department at a given moment, and the ``/engage oncall`` text.

Pure: the config, the user group's members (read by the caller), the swap in force (read from
storage) and the time in, the answer out, so the weekly turn, the holidays and the swaps are
tested as tables.

The order of precedence, most specific first: a swap made in Slack (``/engage oncall swap``),
an override in the config for the day (a holiday), then the weekly turn: week ``n`` since
``starts`` (a Monday, in the department's time zone) is person ``n mod len`` of the rotation
(or of the user group's members when no rotation is listed).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config.urgent import OnCallConfig

USER = re.compile(r"^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class OnCallNow:
    person: str | None  # paged first (None: nobody configured)
    why: str  # "rotation", "holiday override", "swap"
    next_person: str | None  # paged when the first does not acknowledge
    week_ends: datetime  # when the weekly turn changes next (UTC)


def on_call(
    config: OnCallConfig,
    *,
    members: Sequence[str],
    timezone: str,
    now: datetime,
    swap: str | None = None,
) -> OnCallNow:
    tz = ZoneInfo(timezone)
    local = now.astimezone(tz)
    today = local.date()
    monday = today - timedelta(days=today.weekday())
    week_ends = datetime.combine(monday + timedelta(days=7), datetime.min.time(), tz)
    pool = list(dict.fromkeys(config.rotation or members))
    ordered: list[str] = []
    if pool:
        turn = ((monday - config.starts).days // 7) % len(pool)
        ordered = pool[turn:] + pool[:turn]
    person, why = (ordered[0], "rotation") if ordered else (None, "nobody")
    override = next((o.user for o in config.overrides if o.covers(today)), None)
    if override:
        person, why = override, "holiday override"
    if swap:
        person, why = swap, "swap"
    following = next((u for u in ordered if u != person), None)
    return OnCallNow(person, why, following, week_ends.astimezone(now.tzinfo))


@dataclass(frozen=True)
class SwapRequest:
    user: str
    department: str | None  # None: the asker's own (the one whose rotation names them)
    until: date | None  # None: until the weekly turn changes


def parse_swap(text: str) -> SwapRequest | str:
    """``<@U123> [department] [until 2026-12-24]`` (what follows ``swap``), or what is wrong.

    Slack sends a picked user as ``<@U123|name>``; a typed ``@name`` that Slack did not turn
    into an id cannot be paged, so it is refused with a hint.
    """
    words = text.split()
    if not words:
        return "Say who takes over, e.g. `/engage oncall swap @ana until 2026-12-24`."
    found = USER.match(words[0])
    if not found:
        return "Pick the person with @ so Slack fills in who it is (e.g. `@ana`)."
    rest = words[1:]
    until: date | None = None
    if "until" in rest:
        at = rest.index("until")
        day = rest[at + 1] if at + 1 < len(rest) else ""
        if not DATE.match(day):
            return "Give the last day as YYYY-MM-DD, e.g. `until 2026-12-24`."
        try:
            until = date.fromisoformat(day)
        except ValueError:
            return f"{day} is not a date."
        rest = rest[:at] + rest[at + 2 :]
    if len(rest) > 1:
        return "Name at most one department, e.g. `/engage oncall swap @ana public-works`."
    return SwapRequest(found.group(1), rest[0] if rest else None, until)
