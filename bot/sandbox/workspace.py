"""The state of the fake Slack workspace: what exists, what was called, what will fail.

``Workspace`` owns every piece of mutable state (messages and threads, ephemerals, views and
modal stacks, users, channels, recorded calls, response URLs, triggers, faults, delays) and the
one lock guarding it, plus the read-only accessors tests assert on and the data-model rules that
both directions of traffic share (timestamps, thread summaries, view defaults).

Why a base class rather than a component: the Web API (``web_api.WebApi``) and the Slack -> bot
sender (``slack_requests.SlackRequests``) are mixins over this class, so all three work on the
same attributes under the same lock and ``FakeSlack`` remains one object with the whole public
surface. A component would have needed a forwarding method, restating the signature, for every
accessor the tests use.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections import deque
from collections.abc import Iterable
from typing import Any

from bot.sandbox import slack_payloads as sp
from bot.sandbox.block_kit import Problem, refusal
from bot.sandbox.wire import (
    JSON,
    ApiCall,
    ApiError,
    Fault,
    Rejection,
    ResponseCall,
    dm_channel,
    top_level,
)

log = logging.getLogger(__name__)


class Workspace:
    """A Slack workspace's content and the fake's bookkeeping about it.

    All state sits behind one lock because the server answers requests on many threads while the
    test thread reads accessors. Accessors return deep copies, so tests cannot corrupt state.
    """

    def __init__(
        self,
        *,
        bot_token: str,
        signing_secret: str,
        team_id: str,
        bot_user_id: str,
        bot_id: str,
        api_app_id: str,
        team_domain: str,
    ) -> None:
        self.bot_token, self.signing_secret = bot_token, signing_secret
        self.team_id, self.team_domain = team_id, team_domain
        self.bot_user_id, self.bot_id, self.api_app_id = bot_user_id, bot_id, api_app_id
        self.verification_token = "fake-verification-token"
        self.trigger_ttl = 3.0  # Slack's triggers expire after 3 seconds
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Forget everything (calls, messages, views, users, channels, faults) like a new fake."""
        with self._lock:
            self._calls: list[ApiCall] = []
            self._messages: dict[str, list[JSON]] = {}
            self._ephemerals: list[JSON] = []
            self._channels: dict[str, JSON] = {}
            self._users: dict[str, JSON] = {}
            self._views: dict[str, JSON] = {}
            self._view_users: dict[str, str | None] = {}
            self._stacks: dict[str, list[str]] = {}
            self._homes: dict[str, str] = {}  # user id -> view id (views live in _views)
            self._usergroups: dict[str, list[str]] = {}
            self._responses: list[ResponseCall] = []
            self._response_urls: dict[str, JSON] = {}
            self._triggers: dict[str, tuple[str, float]] = {}
            self._faults: dict[str, deque[Fault]] = {}
            self._delays: dict[str, float] = {}
            self._rejections: list[Rejection] = []
            self._last_ts = 0

    # ----------------------------------------------------------------- setup & faults
    def add_channel(self, channel_id: str, name: str, members: list[str] | None = None) -> None:
        with self._lock:
            self._channels[channel_id] = {"id": channel_id, "name": name, "members": members or []}

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        real_name: str | None = None,
        is_bot: bool = False,
        tz: str = "Europe/Berlin",
    ) -> None:
        real = real_name or name
        profile = {"real_name": real, "display_name": name}
        user: JSON = {"id": user_id, "team_id": self.team_id, "name": name, "real_name": real}
        user |= {"deleted": False, "is_bot": is_bot, "tz": tz, "profile": profile}
        with self._lock:
            self._users[user_id] = user

    def add_usergroup(self, usergroup_id: str, members: list[str]) -> None:
        """A user group (like S012AB3CD) and its members, for ``usergroups.users.list``."""
        with self._lock:
            self._usergroups[usergroup_id] = list(members)

    def direct_messages(self, user_id: str) -> list[JSON]:
        """What the bot sent a person directly, oldest first."""
        return self.messages(dm_channel(user_id))

    def set_presence(self, user_id: str, presence: str) -> None:
        """``active`` or ``away``, as ``users.getPresence`` reports it."""
        with self._lock:
            self._users[user_id]["presence"] = presence

    def fail_next(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        apply: bool = False,
        body: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail (faults are consumed in order).

        ``apply=True`` performs the call before reporting the error: Slack's ambiguous failure,
        where a message was posted although the client saw an error.
        """
        if status == 429 and retry_after is None:
            retry_after = 1  # Slack always tells rate-limited clients when to come back
        fault = Fault(status, error, retry_after, apply, body)
        with self._lock:
            self._faults.setdefault(method, deque()).extend(copy.copy(fault) for _ in range(times))

    def delay(self, method: str, seconds: float) -> None:
        """Answer ``method`` slowly. The work is done *before* the wait, so a client that times
        out leaves the effect behind, as a slow Slack would. ``seconds=0`` removes the delay."""
        with self._lock:
            self._delays[method] = seconds

    # ----------------------------------------------------------------- accessors
    @property
    def calls(self) -> list[ApiCall]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    def messages(self, channel: str) -> list[JSON]:
        """Top-level messages (incl. broadcast replies) of ``channel``, oldest first."""
        with self._lock:
            return copy.deepcopy([m for m in self._messages.get(channel, []) if top_level(m)])

    def replies(self, channel: str, ts: str) -> list[JSON]:
        """Replies in the thread started by ``ts``, oldest first, without the parent."""
        with self._lock:
            msgs = self._messages.get(channel, [])
            return copy.deepcopy([m for m in msgs if m.get("thread_ts") == ts and m["ts"] != ts])

    def message(self, channel: str, ts: str) -> JSON | None:
        with self._lock:
            return copy.deepcopy(self._find(channel, ts))

    @property
    def rejections(self) -> list[Rejection]:
        """Block Kit refused as Slack would refuse it (see ``block_kit``), oldest first."""
        with self._lock:
            return list(self._rejections)

    @property
    def ephemerals(self) -> list[JSON]:
        with self._lock:
            return copy.deepcopy(self._ephemerals)

    @property
    def responses(self) -> list[ResponseCall]:
        with self._lock:
            return list(self._responses)

    @property
    def views(self) -> dict[str, JSON]:
        """Every view ever opened, pushed or published, by id, in its latest state."""
        with self._lock:
            return copy.deepcopy(self._views)

    def view_user(self, view_id: str) -> str | None:
        """The user whose trigger opened the view (None if the trigger was not issued here)."""
        with self._lock:
            return self._view_users.get(view_id)

    def view_stack(self, user_id: str) -> list[JSON]:
        """The modals currently open for ``user_id``, root first."""
        with self._lock:
            return copy.deepcopy([self._views[v] for v in self._stacks.get(user_id, [])])

    def home(self, user_id: str) -> JSON | None:
        with self._lock:
            view_id = self._homes.get(user_id)
            return copy.deepcopy(self._views[view_id]) if view_id else None

    # ----------------------------------------------------------------- data model (lock held)
    def _refuse(self, source: str, error: str, problems: Iterable[Problem]) -> ApiError:
        """Record refused Block Kit and return the ``ApiError`` that answers it as Slack does.

        Logged too, so whoever runs the sandbox sees what Slack would have said.
        """
        details = refusal(error, problems)
        messages = tuple(details["response_metadata"]["messages"])
        self._rejections.append(Rejection(source, error, messages, time.time()))
        log.warning("Slack would refuse this Block Kit (%s): %s", source, "; ".join(messages))
        return ApiError(error, details)

    def _next_ts(self) -> str:
        """Wall-clock based (bots compute ``oldest`` from now) yet strictly increasing."""
        micros = max(int(time.time() * 1_000_000), self._last_ts + 1)
        self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _channel_info(self, channel: str) -> JSON:
        info = self._channels.get(channel)
        return {"id": channel, "name": info["name"] if info else channel.lower()}

    def _find(self, channel: str, ts: Any) -> JSON | None:
        return next((m for m in self._messages.get(channel, []) if m["ts"] == ts), None)

    def _store(self, channel: str, msg: JSON) -> None:
        """Append and, for a reply, update the parent's thread summary like Slack."""
        self._messages.setdefault(channel, []).append(msg)
        parent = self._find(channel, msg.get("thread_ts"))
        if parent is not None and parent is not msg:
            users = parent.setdefault("reply_users", [])
            users.extend([] if msg["user"] in users else [msg["user"]])
            parent |= {"thread_ts": parent["ts"], "latest_reply": msg["ts"]}
            parent |= {"reply_count": parent.get("reply_count", 0) + 1}
            parent["reply_users_count"] = len(users)

    def _new_view(
        self,
        spec: JSON,
        *,
        view_id: str | None = None,
        previous: str | None = None,
        root: str | None = None,
    ) -> JSON:
        """Store ``spec`` as a view with Slack's defaults and a fresh hash (new id unless given).

        Here rather than with the ``views.*`` methods because a submission's ``response_action``
        (update/push) creates views too.
        """
        view_id = view_id or sp.new_id("V")
        view: JSON = {"team_id": self.team_id, "app_id": self.api_app_id, "bot_id": self.bot_id}
        view |= {"callback_id": "", "private_metadata": "", "external_id": "", "close": None}
        view |= {"submit": None, "clear_on_close": False, "notify_on_close": False}
        view |= copy.deepcopy(spec)
        view |= {"id": view_id, "blocks": sp.assign_block_ids(spec.get("blocks", []))}
        view |= {"previous_view_id": previous, "root_view_id": root or view_id}
        view |= {"state": {"values": {}}, "hash": f"{time.time():.6f}.{sp.new_id(length=8)}"}
        self._views[view_id] = view
        return view
