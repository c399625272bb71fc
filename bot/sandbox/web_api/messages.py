"""Messages and the channels they live in: ``chat.*`` and ``conversations.*`` of the fake's
Web API, and what a POST to a ``response_url`` does to them.

``MessagesApi`` holds Slack's rules for these methods: which channel ids exist (any ``C``/``G``/
``D`` id, and a user id meaning the bot's direct messages with that person), how ``text``,
``blocks`` (refused as Slack refuses them: ``bot.sandbox.block_kit``) and ``metadata`` are
validated and stored, that only the bot's own messages may be changed, and how ``history``
and ``replies`` page, window and hide metadata unless ``include_all_metadata`` asks for it
(which is what the outbox's look-before-posting relies on).
``response_url`` effects are here because they are message semantics: replace or delete the
original, post in the channel, or answer ephemerally.

A mixin over ``Workspace`` like the rest of the Web API (see ``bot.sandbox.web_api``): handlers
run with the workspace lock held and signal Slack errors by raising ``ApiError``.
"""

from __future__ import annotations

import copy
from typing import Any

from bot.sandbox import slack_payloads as sp
from bot.sandbox.block_kit import message_problems
from bot.sandbox.wire import (
    JSON,
    ApiError,
    dm_channel,
    flag,
    json_arg,
    paginate,
    top_level,
    ts_key,
)
from bot.sandbox.workspace import Workspace


class MessagesApi(Workspace):
    """``chat.*``, ``conversations.*`` and ``response_url`` effects over the workspace state."""

    # ----------------------------------------------------------------- argument rules
    def _channel(self, args: JSON, key: str = "channel") -> str:
        """Any C…/G…/D… id is known by default so tests need no setup; others must be added.

        A user id stands for the bot's direct-message channel with that person, as on Slack
        (``chat.postMessage`` to ``U123`` lands in the DM, answered with its ``D…`` id).
        """
        channel = str(args.get(key) or "")
        if channel[:1] in ("U", "W"):
            return dm_channel(channel)
        if channel not in self._channels and channel[:1] not in ("C", "G", "D"):
            raise ApiError("channel_not_found")
        return channel

    def _require(self, channel: str, ts: Any, error: str = "message_not_found") -> JSON:
        msg = self._find(channel, ts)
        if msg is None:
            raise ApiError(error)
        return msg

    @staticmethod
    def _render(msg: JSON, with_metadata: bool) -> JSON:
        shown = copy.deepcopy(msg)
        if not with_metadata:
            shown.pop("metadata", None)
        return shown

    def _set_content(self, msg: JSON, args: JSON, source: str) -> None:
        """Apply text/blocks/metadata from an API call (``source``), validating like Slack
        does: everything is checked before anything changes, so a refused update leaves the
        message as it was."""
        blocks = json_arg(args["blocks"], "invalid_blocks") if "blocks" in args else None
        if "blocks" in args:
            blocks = blocks or []
            problems = message_problems(blocks)
            if problems:
                raise self._refuse(source, "invalid_blocks", problems)
        meta = json_arg(args.get("metadata"), "invalid_metadata_format")
        if meta and (not isinstance(meta, dict) or not meta.get("event_type")):
            raise ApiError("invalid_metadata_format")
        if "text" in args:
            msg["text"] = str(args["text"] or "")
        if isinstance(blocks, list):
            msg.pop("blocks", None)
            msg |= {"blocks": sp.assign_block_ids(blocks)} if blocks else {}
        if meta:
            msg["metadata"] = {k: meta.get(k, {}) for k in ("event_type", "event_payload")}

    def _bot_message(self, args: JSON, source: str) -> JSON:
        msg: JSON = {"type": "message", "user": self.bot_user_id, "bot_id": self.bot_id}
        msg |= {"app_id": self.api_app_id, "team": self.team_id, "text": "", "ts": self._next_ts()}
        self._set_content(msg, args, source)
        if args.get("thread_ts"):
            msg["thread_ts"] = str(args["thread_ts"])
            if flag(args.get("reply_broadcast")):
                msg["subtype"] = "thread_broadcast"
        return msg

    @staticmethod
    def _window(msgs: list[JSON], args: JSON) -> list[JSON]:
        """Apply ``oldest``/``latest`` (exclusive unless ``inclusive``), as Slack does."""
        low = ts_key(args.get("oldest") or 0)
        high = ts_key(args["latest"]) if args.get("latest") else None
        inclusive = flag(args.get("inclusive"))

        def keep(msg: JSON) -> bool:
            key = ts_key(msg["ts"])
            above = key >= low if inclusive else key > low
            return above and (high is None or (key <= high if inclusive else key < high))

        return [m for m in msgs if keep(m)]

    # ----------------------------------------------------------------- chat
    def _post_message(self, args: JSON) -> JSON:
        channel = self._channel(args)
        if not args.get("text") and not json_arg(args.get("blocks"), "invalid_blocks"):
            raise ApiError("no_text")
        msg = self._bot_message(args, "chat.postMessage")
        self._store(channel, msg)
        return {"ok": True, "channel": channel, "ts": msg["ts"], "message": copy.deepcopy(msg)}

    def _update(self, args: JSON) -> JSON:
        channel = self._channel(args)
        msg = self._require(channel, args.get("ts"))
        if msg.get("bot_id") != self.bot_id:
            raise ApiError("cant_update_message")
        self._set_content(msg, args, "chat.update")
        msg["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        shown = copy.deepcopy(msg)
        return {
            "ok": True,
            "channel": channel,
            "ts": msg["ts"],
            "text": msg["text"],
            "message": shown,
        }

    def _delete(self, args: JSON) -> JSON:
        channel = self._channel(args)
        msg = self._require(channel, args.get("ts"))
        if msg.get("bot_id") != self.bot_id:
            raise ApiError("cant_delete_message")
        self._messages[channel].remove(msg)
        return {"ok": True, "channel": channel, "ts": msg["ts"]}

    def _post_ephemeral(self, args: JSON) -> JSON:
        channel = self._channel(args)
        user = str(args.get("user") or "")
        members = self._channels.get(channel, {}).get("members")
        if not user or (members and user not in members):
            raise ApiError("user_not_in_channel")
        msg: JSON = {"channel": channel, "user": user, "ts": self._next_ts(), "text": ""}
        self._set_content(msg, args, "chat.postEphemeral")
        msg |= {"thread_ts": args["thread_ts"]} if args.get("thread_ts") else {}
        self._ephemerals.append(msg)
        return {"ok": True, "message_ts": msg["ts"]}

    def _permalink(self, args: JSON) -> JSON:
        channel = self._channel(args)
        msg = self._require(channel, args.get("message_ts"))
        ts_digits = msg["ts"].replace(".", "")
        link = f"https://{self.team_domain}.slack.com/archives/{channel}/p{ts_digits}"
        if not top_level(msg):
            link += f"?thread_ts={msg['thread_ts']}&cid={channel}"
        return {"ok": True, "channel": channel, "permalink": link}

    # ----------------------------------------------------------------- conversations
    def _history(self, args: JSON) -> JSON:
        """Newest first, top level only; metadata only with ``include_all_metadata``."""
        channel = self._channel(args)
        msgs = [m for m in self._messages.get(channel, []) if top_level(m)]
        page, cursor = paginate(self._window(msgs, args)[::-1], args)
        meta = flag(args.get("include_all_metadata"))
        return {
            "ok": True,
            "messages": [self._render(m, meta) for m in page],
            "has_more": bool(cursor),
            "pin_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }

    def _replies(self, args: JSON) -> JSON:
        """Parent first, then replies oldest first (same metadata rule as history)."""
        channel = self._channel(args)
        root = self._require(channel, args.get("ts"), "thread_not_found")
        root = self._require(channel, root.get("thread_ts") or root["ts"], "thread_not_found")
        thread = [root, *(m for m in self.replies(channel, root["ts"]))]
        thread = [thread[0], *self._window(thread[1:], args)]
        page, cursor = paginate(thread, args)
        meta = flag(args.get("include_all_metadata"))
        return {
            "ok": True,
            "messages": [self._render(m, meta) for m in page],
            "has_more": bool(cursor),
            "response_metadata": {"next_cursor": cursor},
        }

    def _conversation_info(self, args: JSON) -> JSON:
        channel = self._channel(args)
        members = self._channels.get(channel, {}).get("members", [])
        info = self._channel_info(channel) | {"is_channel": True, "is_group": False}
        info |= {"is_private": channel.startswith("G"), "is_archived": False, "is_member": True}
        return {"ok": True, "channel": info | {"num_members": len(members), "created": 0}}

    def _members(self, args: JSON) -> JSON:
        channel = self._channel(args)
        members = list(self._channels.get(channel, {}).get("members", []))
        return {"ok": True, "members": members, "response_metadata": {"next_cursor": ""}}

    # ----------------------------------------------------------------- response_url effects
    def _apply_response(self, ctx: JSON, payload: JSON) -> None:
        """replace/delete the original, post in channel, or (the default) reply ephemerally."""
        channel = ctx["channel"]
        original = self._find(channel, ctx["ts"]) if ctx["ts"] else None
        if flag(payload.get("delete_original")) and original is not None:
            self._messages[channel].remove(original)
        elif flag(payload.get("replace_original")) and original is not None:
            content = {"text": payload.get("text", ""), "blocks": payload.get("blocks") or []}
            self._set_content(original, content, "response_url")  # the whole message
            original["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        elif payload.get("response_type") == "in_channel":
            self._store(channel, self._bot_message(payload, "response_url"))
        else:
            ephemeral: JSON = {"channel": channel, "user": ctx["user"], "ts": self._next_ts()}
            self._set_content(
                ephemeral, {"text": payload.get("text", "")} | payload, "response_url"
            )
            self._ephemerals.append(ephemeral)
