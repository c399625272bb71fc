"""The fake's Web API: the bot -> Slack direction, as ``slack_sdk.WebClient`` experiences it.

``WebApi`` turns one HTTP request into a Slack answer: it parses form or JSON bodies, checks the
token, records the call, injects scheduled faults and delays, and dispatches to one handler per
Slack method (``_methods``). It also serves the response URLs the fake hands out, since those
are the other way a bot writes to Slack and follow the same message semantics.

It is a mixin over ``Workspace`` (see that module for why) and knows nothing about sockets: the
HTTP server in ``http_server`` calls ``_api_request`` and ``_response_url_request``. Handlers run
with the workspace lock held and signal Slack errors by raising ``ApiError``.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from email.message import Message
from functools import cached_property
from typing import Any
from urllib.parse import parse_qs

from bot.sandbox import slack_payloads as sp
from bot.sandbox.wire import (
    JSON,
    ApiCall,
    ApiError,
    Fault,
    Reply,
    ResponseCall,
    dm_channel,
    flag,
    json_arg,
    paginate,
    top_level,
    ts_key,
)
from bot.sandbox.workspace import Workspace


class WebApi(Workspace):
    """Slack's Web API methods and response URLs over the workspace state."""

    @cached_property
    def _methods(self) -> dict[str, Callable[[JSON], JSON]]:
        """Slack method name -> its handler; anything else is ``unknown_method``."""
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.delete": self._delete,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.getPermalink": self._permalink,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "conversations.info": self._conversation_info,
            "conversations.members": self._members,
            "users.info": self._user_info,
            "users.getPresence": self._user_presence,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "usergroups.users.list": self._usergroup_users,
        }

    # ----------------------------------------------------------------- transport
    def _api_request(self, method: str, headers: Message, body: bytes, query: str) -> Reply:
        args: JSON = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        token = None
        try:
            if ctype == "application/json":
                parsed = json.loads(body or b"{}")  # Slack ignores a token inside JSON bodies
                args |= parsed if isinstance(parsed, dict) else {}
            else:
                args |= {
                    k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()
                }
                token = args.pop("token", None)
        except ValueError:
            return self._json(200, {"ok": False, "error": "invalid_json"})
        auth = headers.get("Authorization") or ""
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else token
        with self._lock:
            self._calls.append(ApiCall(method, copy.deepcopy(args), time.time()))
            queue = self._faults.get(method)
            fault = queue.popleft() if queue else None
            pause = self._delays.get(method, 0.0)
        handler = self._methods.get(method)
        if handler is None:
            reply = self._json(404, {"ok": False, "error": "unknown_method"})
        elif fault is not None and not fault.apply:
            reply = self._fault_reply(fault)
        else:
            try:
                if not token:
                    raise ApiError("not_authed")
                if token != self.bot_token:
                    raise ApiError("invalid_auth")
                with self._lock:
                    result = handler(args)
            except ApiError as exc:
                result = {"ok": False, "error": str(exc)}
            except (KeyError, TypeError, ValueError, AttributeError):
                result = {"ok": False, "error": "invalid_arguments"}  # malformed input
            reply = self._fault_reply(fault) if fault is not None else self._json(200, result)
        if pause > 0:
            time.sleep(pause)
        return reply

    @staticmethod
    def _json(status: int, data: JSON) -> Reply:
        ctype = "application/json; charset=utf-8"
        return status, {"Content-Type": ctype}, json.dumps(data).encode()

    def _fault_reply(self, fault: Fault) -> Reply:
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        if fault.body is not None:
            headers["Content-Type"] = "text/html; charset=utf-8"
            return fault.status, headers, fault.body.encode()
        error = fault.error or ("ratelimited" if fault.status == 429 else "internal_error")
        status, base, data = self._json(fault.status, {"ok": False, "error": error})
        return status, base | headers, data

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

    @staticmethod
    def _set_content(msg: JSON, args: JSON) -> None:
        """Apply text/blocks/metadata from an API call, validating like Slack does."""
        if "text" in args:
            msg["text"] = str(args["text"] or "")
        if "blocks" in args:
            blocks = json_arg(args["blocks"], "invalid_blocks") or []
            if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
                raise ApiError("invalid_blocks")
            msg.pop("blocks", None)
            msg |= {"blocks": sp.assign_block_ids(blocks)} if blocks else {}
        meta = json_arg(args.get("metadata"), "invalid_metadata_format")
        if meta:
            if not isinstance(meta, dict) or not meta.get("event_type"):
                raise ApiError("invalid_metadata_format")
            msg["metadata"] = {k: meta.get(k, {}) for k in ("event_type", "event_payload")}

    def _bot_message(self, args: JSON) -> JSON:
        msg: JSON = {"type": "message", "user": self.bot_user_id, "bot_id": self.bot_id}
        msg |= {"app_id": self.api_app_id, "team": self.team_id, "text": "", "ts": self._next_ts()}
        self._set_content(msg, args)
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

    # ----------------------------------------------------------------- auth, chat, users
    def _auth_test(self, args: JSON) -> JSON:
        return {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_domain.title(),
            "team_id": self.team_id,
            "user": "engage",
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _post_message(self, args: JSON) -> JSON:
        channel = self._channel(args)
        if not args.get("text") and not json_arg(args.get("blocks"), "invalid_blocks"):
            raise ApiError("no_text")
        msg = self._bot_message(args)
        self._store(channel, msg)
        return {"ok": True, "channel": channel, "ts": msg["ts"], "message": copy.deepcopy(msg)}

    def _update(self, args: JSON) -> JSON:
        channel = self._channel(args)
        msg = self._require(channel, args.get("ts"))
        if msg.get("bot_id") != self.bot_id:
            raise ApiError("cant_update_message")
        self._set_content(msg, args)
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
        self._set_content(msg, args)
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

    def _user_info(self, args: JSON) -> JSON:
        user = self._users.get(str(args.get("user") or ""))
        if user is None:
            raise ApiError("user_not_found")
        return {"ok": True, "user": copy.deepcopy(user)}

    def _user_presence(self, args: JSON) -> JSON:
        user = self._users.get(str(args.get("user") or ""))
        if user is None:
            raise ApiError("user_not_found")
        return {"ok": True, "presence": user.get("presence", "active")}

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

    # ----------------------------------------------------------------- views
    def _trigger_user(self, args: JSON) -> str | None:
        """Who the trigger belongs to; expired triggers fail like Slack's (3 s lifetime)."""
        trigger = args.get("trigger_id") or args.get("interactivity_pointer")
        if not trigger:
            raise ApiError("invalid_arguments")
        issued = self._triggers.get(str(trigger))
        if issued is None:
            return None  # not issued by this fake (e.g. a unit test): accept it
        if time.time() - issued[1] > self.trigger_ttl:
            raise ApiError("expired_trigger_id")
        return issued[0]

    @staticmethod
    def _view_spec(args: JSON) -> JSON:
        view = json_arg(args.get("view"))
        if not isinstance(view, dict) or not view.get("type"):
            raise ApiError("invalid_arguments")
        return view

    def _views_open(self, args: JSON) -> JSON:
        user = self._trigger_user(args)
        view = self._new_view(self._view_spec(args))
        self._view_users[view["id"]] = user
        if user is not None:
            self._stacks[user] = [view["id"]]
        return {"ok": True, "view": copy.deepcopy(view)}

    def _views_push(self, args: JSON) -> JSON:
        user = self._trigger_user(args)
        stack = self._stacks.setdefault(user, []) if user is not None else []
        if len(stack) >= 3:
            raise ApiError("push_limit_reached")
        previous, root = (stack[-1], stack[0]) if stack else (None, None)
        view = self._new_view(self._view_spec(args), previous=previous, root=root)
        self._view_users[view["id"]] = user
        stack.append(view["id"])
        return {"ok": True, "view": copy.deepcopy(view)}

    def _views_update(self, args: JSON) -> JSON:
        view_id, external = args.get("view_id"), args.get("external_id")
        if not view_id and not external:
            raise ApiError("invalid_arguments")
        match = [
            v
            for v in self._views.values()
            if v["id"] == view_id or (external and v.get("external_id") == external)
        ]
        if not match:
            raise ApiError("not_found")
        current = match[0]
        if args.get("hash") and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        view = self._new_view(
            self._view_spec(args),
            view_id=current["id"],
            previous=current["previous_view_id"],
            root=current["root_view_id"],
        )
        return {"ok": True, "view": copy.deepcopy(view)}

    def _usergroup_users(self, args: JSON) -> JSON:
        group = str(args.get("usergroup") or "")
        if not group:
            raise ApiError("invalid_arguments")
        if group not in self._usergroups:
            raise ApiError("no_such_subteam")
        return {"ok": True, "users": list(self._usergroups[group])}

    def _views_publish(self, args: JSON) -> JSON:
        user = str(args.get("user_id") or "")
        spec = self._view_spec(args)
        if not user or spec.get("type") != "home":
            raise ApiError("invalid_arguments")
        current = self._views.get(self._homes.get(user, ""))
        if current and args.get("hash") and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        view = self._new_view(spec, view_id=current["id"] if current else None)
        self._homes[user] = view["id"]
        return {"ok": True, "view": copy.deepcopy(view)}

    # ----------------------------------------------------------------- response_url
    def _response_url_request(self, rid: str, body: bytes) -> Reply:
        """Record a POST to a response_url and apply it as Slack would."""
        try:
            payload = json.loads(body or b"{}")
            if not isinstance(payload, dict):
                raise ValueError
        except ValueError:
            return 400, {"Content-Type": "text/plain"}, b"invalid_payload"
        with self._lock:
            self._responses.append(ResponseCall(rid, payload, time.time()))
            ctx = self._response_urls.get(rid)
            if ctx is None:
                return 404, {"Content-Type": "text/plain"}, b"no_service"
            try:
                self._apply_response(ctx, payload)
            except ApiError as exc:
                return 400, {"Content-Type": "text/plain"}, str(exc).encode()
        return self._json(200, {"ok": True})

    def _apply_response(self, ctx: JSON, payload: JSON) -> None:
        """replace/delete the original, post in channel, or (the default) reply ephemerally."""
        channel = ctx["channel"]
        original = self._find(channel, ctx["ts"]) if ctx["ts"] else None
        if flag(payload.get("delete_original")) and original is not None:
            self._messages[channel].remove(original)
        elif flag(payload.get("replace_original")) and original is not None:
            content = {"text": payload.get("text", ""), "blocks": payload.get("blocks") or []}
            self._set_content(original, content)  # the whole message is replaced
            original["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        elif payload.get("response_type") == "in_channel":
            self._store(channel, self._bot_message(payload))
        else:
            ephemeral: JSON = {"channel": channel, "user": ctx["user"], "ts": self._next_ts()}
            self._set_content(ephemeral, {"text": payload.get("text", "")} | payload)
            self._ephemerals.append(ephemeral)
