"""What the sandbox page shows one person, read from the fake Slack on every poll.

:class:`Screen` builds the ``GET /api/state`` answer: the channels and their messages, the
person's direct messages, ephemerals (Slack's and the slash-command answers the page keeps,
since Slack shows those only to the one who typed), the open modal, the App Home and an open
thread, plus a ``version`` that changes only when any of it does, so the page redraws only then.
Each message carries the sandbox time it was posted at (``shown_at``), because the sandbox clock
moves and Slack's ``ts`` does not: a reminder sent while the clock walked through a morning
shows at the time it was due. A reply broadcast to the channel carries the start of its
thread's parent, as Slack shows "replied to a thread: ...", and a shared file its image's
address (``GET /api/file/<id>``) and alt text.

It also holds who a visitor may act as and which channels exist, so a request naming anyone or
anywhere else fails here, as :class:`ApiFailure`, before it reaches the fake Slack.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.core.sources import SOURCE_LABELS
from bot.sandbox.fake_slack import JSON, FakeSlack
from bot.sandbox.wire import dm_channel

if TYPE_CHECKING:
    from bot.sandbox.people import Person

# Where a citizen can write from, with a plausible author for each (the page prefills it).
CITIZEN_SOURCES = {
    "mastodon": "@maria@mastodon.social",
    "bluesky": "@maria.bsky.social",
    "reddit": "u/maria_downtown",
    "email": "Maria Lopez <maria@example.org>",
    "webhook": "Maria (web form)",
    "open311": "Maria Lopez (311)",
    "x": "@maria_downtown",
    "facebook": "Maria Lopez",
}


class ApiFailure(Exception):
    """Answered to the page as ``{"ok": false, "error": ...}`` with an HTTP status."""

    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.status = status


class Screen:
    """The page's view of the fake Slack; holds no Slack state of its own but command answers."""

    def __init__(
        self,
        *,
        slack: FakeSlack,
        people: Sequence[Person],
        channels: Sequence[tuple[str, str]],
        now: Callable[[], datetime],
        sandbox_time: Callable[[float], float] | None = None,
    ) -> None:
        self.slack, self.now = slack, now
        self.sandbox_time = sandbox_time
        self.people, self.channels = list(people), list(channels)
        self._lock = threading.Lock()
        self._shown_at: dict[str, float] = {}  # "channel:ts" -> sandbox time first seen
        self._answers: list[JSON] = []  # slash command acks: Slack shows them as ephemerals

    def state(self, user: str, thread: str | None = None) -> JSON:
        """Everything the page shows to ``user`` (default: the first person); ``version``
        changes whenever any of it does, so the page redraws only then."""
        user = self.person(user or self.people[0].id)
        offset = (self.now() - datetime.now(UTC)).total_seconds()
        channels = [
            {"id": cid, "name": name, "messages": self._messages(cid, offset)}
            for cid, name in self.channels
        ]
        with self._lock:
            answers = [dict(a) for a in self._answers if a["user"] == user]
        ephemerals = [
            self._shown(e["channel"], e, offset) | {"ephemeral": True}
            for e in [*self.slack.ephemerals, *answers]
            if e.get("user") == user
        ]
        stack = self.slack.view_stack(user)
        home = self.slack.home(user)
        content: JSON = {
            "me": user,
            "channels": channels,
            "direct": self._messages(dm_channel(user), offset),
            "ephemerals": sorted(ephemerals, key=lambda e: float(e["ts"])),
            "modal": _view(stack[-1]) | {"depth": len(stack)} if stack else None,
            "home": _view(home) if home else None,
            "thread": self.thread(thread, offset) if thread else None,
        }
        version = hashlib.sha1(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]
        people = [{"id": p.id, "name": p.name, "role": p.role} for p in self.people] + [
            {"id": self.slack.bot_user_id, "name": "Engage", "role": "app"}
        ]
        sources = [
            {"id": s, "label": SOURCE_LABELS.get(s, s), "author": a}
            for s, a in CITIZEN_SOURCES.items()
        ]
        return content | {
            "ok": True,
            "now": self.now().isoformat(),
            "offset_seconds": round(offset),
            "version": version,
            "people": people,
            "sources": sources,
        }

    def thread(self, where: str, offset: float | None = None) -> JSON | None:
        """``"channel:ts"`` -> the parent and its replies (None if the message is gone)."""
        channel, _, ts = where.partition(":")
        parent = self.slack.message(channel, ts)
        if parent is None:
            return None
        if offset is None:
            offset = (self.now() - datetime.now(UTC)).total_seconds()
        replies = [self._shown(channel, m, offset) for m in self.slack.replies(channel, ts)]
        shown = self._shown(channel, parent, offset)
        return {"channel": channel, "ts": ts, "parent": shown, "replies": replies}

    def ephemeral(self, user: str, channel: str, ts: str) -> JSON | None:
        """The ephemeral message ``user`` sees at ``channel``/``ts`` (None: not theirs)."""
        with self._lock:
            answers = [dict(a) for a in self._answers]
        for shown in [*self.slack.ephemerals, *answers]:
            if (shown.get("user"), shown.get("channel"), shown.get("ts")) == (user, channel, ts):
                return shown
        return None

    def add_answer(self, shown: JSON) -> None:
        """Keep a slash command's answer: Slack shows it to that person only, as an ephemeral."""
        with self._lock:
            self._answers.append(shown)

    # ----------------------------------------------------------------- checks
    def person(self, user: Any) -> str:
        if not any(p.id == user for p in self.people):
            raise ApiFailure(400, f"unknown person {user!r}")
        return str(user)

    def channel(self, channel: Any) -> str:
        if not any(cid == channel for cid, _ in self.channels):
            raise ApiFailure(404, f"unknown channel {channel!r}")
        return str(channel)

    # ----------------------------------------------------------------- messages
    def _messages(self, channel: str, offset: float) -> list[JSON]:
        return [self._shown(channel, m, offset) for m in self.slack.messages(channel)]

    def _shown(self, channel: str, msg: JSON, offset: float) -> JSON:
        """What the page needs of a message, with the sandbox time it first appeared at."""
        key = f"{channel}:{msg['ts']}"
        real = float(msg["ts"])  # Slack's ts, slash command answers' too, are real time
        with self._lock:
            at = self.sandbox_time(real) if self.sandbox_time else real + offset
            shown_at = self._shown_at.setdefault(key, at)
        fields = ("ts", "user", "text", "blocks", "thread_ts", "reply_count", "reply_users")
        out: JSON = {k: msg[k] for k in fields if k in msg}
        out |= {"channel": channel, "shown_at": shown_at, "edited": "edited" in msg}
        out |= {"bot": bool(msg.get("bot_id")), "subtype": msg.get("subtype")}
        if msg.get("files"):
            out["files"] = [_file(f) for f in msg["files"] if isinstance(f, dict)]
        if msg.get("subtype") == "thread_broadcast":
            parent = self.slack.message(channel, msg["thread_ts"])
            out["root"] = {"ts": msg["thread_ts"], "text": _first_line(parent)}
        return out


def _file(shared: JSON) -> JSON:
    """A shared file as the page shows it: images inline, from the sandbox's own address."""
    out = {k: shared.get(k) for k in ("id", "name", "title", "mimetype", "alt_txt")}
    return out | {"url": f"/api/file/{shared.get('id')}"}


def _first_line(parent: JSON | None) -> str:
    """The start of a thread's parent, as "replied to a thread: ..." quotes it."""
    if parent is None:
        return "a message that is gone"
    return str(parent.get("text") or "").strip().split("\n")[0][:120]


def _view(view: JSON) -> JSON:
    keys = ("id", "type", "hash", "title", "submit", "close", "blocks", "callback_id")
    return {k: view.get(k) for k in keys}
