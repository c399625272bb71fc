"""Who is in a channel, and who is around: the Slack reads the nudge rotation needs.

Cached for a few minutes (members and bots change rarely; presence is a hint, not a law),
so a sweep over many due mentions costs a handful of Web API calls, not one per mention.
A failed read degrades to "unknown" (nobody skipped as away), never stops the sweep.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)
TTL = 300.0


class SlackDirectory:
    def __init__(self, client: WebClient, *, ttl: float = TTL) -> None:
        self.client = client
        self.ttl = ttl
        self._cache: dict[tuple[str, str], tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def _cached(self, key: tuple[str, str], load: Any) -> Any:
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and time.monotonic() - hit[0] < self.ttl:
                return hit[1]
        value = load()
        with self._lock:
            self._cache[key] = (time.monotonic(), value)
        return value

    def members(self, channel: str) -> list[str]:
        def load() -> list[str]:
            found: list[str] = []
            cursor = None
            try:
                for _ in range(20):
                    page = self.client.conversations_members(
                        channel=channel, cursor=cursor, limit=200
                    )
                    members: list[Any] = page.get("members") or []
                    found.extend(str(u) for u in members)
                    cursor = (page.get("response_metadata") or {}).get("next_cursor")
                    if not cursor:
                        break
            except (SlackApiError, OSError) as exc:
                log.warning(
                    "cannot list channel members", extra={"channel": channel, "error": str(exc)}
                )
            return found

        return list(self._cached(("members", channel), load))

    def is_bot(self, user: str) -> bool:
        def load() -> bool:
            try:
                info = self.client.users_info(user=user).get("user") or {}
            except (SlackApiError, OSError):
                return False
            return bool(info.get("is_bot") or info.get("deleted") or user == "USLACKBOT")

        return bool(self._cached(("bot", user), load))

    def is_away(self, user: str) -> bool:
        def load() -> bool:
            try:
                return self.client.users_getPresence(user=user).get("presence") == "away"
            except (SlackApiError, OSError):
                return False

        return bool(self._cached(("presence", user), load))

    def permalink(self, channel: str | None, ts: str | None) -> str | None:
        """A link to a message, in Slack's documented permalink form."""
        if not channel or not ts:
            return None

        def load() -> str:
            try:
                return str(self.client.auth_test().get("url") or "")
            except (SlackApiError, OSError):
                return ""

        base = str(self._cached(("workspace", ""), load))
        if not base.startswith("https://"):
            return None
        return f"{base.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"

    def bot_user(self) -> str | None:
        """The bot's own user id, so the rotation never picks the bot."""

        def load() -> str:
            try:
                return str(self.client.auth_test().get("user_id") or "")
            except (SlackApiError, OSError):
                return ""

        return str(self._cached(("bot_user", ""), load)) or None

    def usergroup_members(self, usergroup: str) -> list[str]:
        """The members of a user group (``usergroups.users.list``; needs ``usergroups:read``)."""

        def load() -> list[str]:
            try:
                users: list[Any] = (
                    self.client.usergroups_users_list(usergroup=usergroup).get("users") or []
                )
            except (SlackApiError, OSError) as exc:
                log.warning(
                    "cannot list user group members",
                    extra={"usergroup": usergroup, "error": str(exc)},
                )
                return []
            return [str(u) for u in users]

        return list(self._cached(("usergroup", usergroup), load))
