"""Mastodon statuses as mentions, and the small rules around them: ids, visibility, @-handles.

Pure functions over the JSON shapes of the Mastodon API. They take plain dicts (a test's JSON)
and Mastodon.py's dict subclasses (whose ids are ``str`` subclasses and whose dates are
already ``datetime``) alike, so polling, streaming and tests share one path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from bot.core.adapter import IncomingMention
from bot.intake.adapters.common import html_to_text

SOURCE = "mastodon"

# From least to most public. "limited" (Mastodon's internal name for a direct message that
# reached more people than it mentions) and anything unknown count as direct.
VISIBILITIES = ("direct", "private", "unlisted", "public")

# A Mastodon snowflake id is (milliseconds since the epoch << 16) | 16 bits of sequence.
# Ids below this are serials (notifications, statuses of very old servers), not times.
_SNOWFLAKE_MIN = 1_000_000_000_000 << 16
_HANDLE_CHAR = re.compile(r"[\w.@-]")


def text_of(value: Any) -> str:
    return "" if value is None else str(value)


def id_key(value: str) -> tuple[int, int, str]:
    """Sort key for ids. Mastodon's are decimal (snowflakes, serial notification ids); other
    servers' (Pleroma flake ids, GoToSocial ULIDs) are fixed-length strings that sort as text."""
    return (0, int(value), "") if value.isdigit() else (1, 0, value)


def newest_id(ids: Iterable[str | None]) -> str | None:
    present = [i for i in ids if i]
    return max(present, key=id_key) if present else None


def snowflake_floor(status_id: str, seconds: float) -> str | None:
    """The smallest snowflake id of ``seconds`` before ``status_id``; ``None`` when the id is
    not a Mastodon snowflake (then no look-back is possible and plain ``min_id`` is used)."""
    if not status_id.isdigit() or int(status_id) < _SNOWFLAKE_MIN:
        return None
    millis = (int(status_id) >> 16) - int(seconds * 1000)
    return str(max(0, millis) << 16)


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _web(url: str) -> str | None:
    return url if urlsplit(url).scheme in ("http", "https") else None


def _attachments_text(status: Mapping[str, Any]) -> str:
    parts = []
    for media in status.get("media_attachments") or []:
        kind = text_of(media.get("type")) or "media"
        description = " ".join(text_of(media.get("description")).split())
        parts.append(f"[{kind}: {description}]" if description else f"[{kind}]")
    return " ".join(parts)


def status_mention(
    status: Mapping[str, Any],
    *,
    via: str,
    instance: str,
    notification_id: str | None = None,
) -> IncomingMention:
    """One status as a mention. Raises ``ValueError`` for a status that cannot be one.

    ``external_id`` is the status URI (its ActivityPub id): the same on every instance, so one
    post seen through two instances or two adapters is stored once. The instance-local id is
    ``extra["status_id"]`` and only means something on ``extra["instance"]``.
    """
    status_id = text_of(status.get("id"))
    uri = text_of(status.get("uri")) or status_id
    if not uri:
        raise ValueError("status has neither uri nor id")
    account = status.get("account") or {}
    acct = text_of(account.get("acct"))
    if not acct:
        raise ValueError(f"status {uri} has no author account")
    # Media-only posts still deserve a card: their alt texts stand in for the text.
    text = html_to_text(text_of(status.get("content"))) or _attachments_text(status)
    spoiler = " ".join(text_of(status.get("spoiler_text")).split())
    if not text and not spoiler:
        raise ValueError(f"status {uri} has no text")
    extra: dict[str, Any] = {
        "status_id": status_id,
        "account_id": text_of(account.get("id")),
        "acct": acct,
        "display_name": text_of(account.get("display_name")),
        "visibility": text_of(status.get("visibility")) or None,
        "in_reply_to_id": text_of(status.get("in_reply_to_id")) or None,
        "tags": [text_of(t.get("name")).lower() for t in status.get("tags") or []],
        "instance": instance,
        "via": [via],
    }
    if notification_id:
        extra["notification_id"] = notification_id
    return IncomingMention(
        source=SOURCE,
        external_id=uri,
        text=text or spoiler,
        author=f"@{acct}",
        url=_web(text_of(status.get("url"))) or _web(uri),
        title=spoiler or None,
        created_at=_when(status.get("created_at")),
        language=text_of(status.get("language")) or None,
        extra=extra,
    )


def reply_visibility(original: str | None, ceiling: str = "unlisted") -> str:
    """How visible a reply to a post of visibility ``original`` may be.

    Never more public than the post it answers, nor than ``ceiling``. A followers-only post is
    answered directly: "private" on the city's side would mean the city's followers, who are
    not the audience the author chose. Anything unknown (a fork's "local", a missing value) is
    answered directly, the one choice that can never leak.
    """
    if original == "private" or original not in VISIBILITIES:
        return "direct"
    top = VISIBILITIES.index(ceiling) if ceiling in VISIBILITIES else 0
    return VISIBILITIES[min(VISIBILITIES.index(original), top)]


def with_handle(acct: str, text: str) -> str:
    """``text`` starting with ``@acct``: Mastodon delivers and threads a reply (and shows a
    direct one at all) only to the accounts its text mentions."""
    handle = "@" + acct.lstrip("@")
    body = text.strip()
    head = body[: len(handle)]
    rest = body[len(handle) : len(handle) + 1]
    if head.lower() == handle.lower() and not (rest and _HANDLE_CHAR.match(rest)):
        return body
    return f"{handle} {body}"
