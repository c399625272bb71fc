"""The fake's Web API as ``slack_sdk.WebClient`` experiences it: one HTTP request in, one
Slack answer out.

``WebApi`` parses form or JSON bodies, checks the token, records the call, injects the faults
and delays a test scheduled, and dispatches to one handler per Slack method (``_methods``); the
handlers are the mixins it is made of (``messages``, ``views``, ``directory``). It also
receives POSTs to the response URLs the fake hands out and applies them as ``messages`` says.

It knows nothing about sockets: the HTTP server in ``bot.sandbox.http_server`` calls
``_api_request`` and ``_response_url_request``.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from email.message import Message
from functools import cached_property
from urllib.parse import parse_qs

from bot.sandbox.web_api.directory import DirectoryApi
from bot.sandbox.web_api.messages import MessagesApi
from bot.sandbox.web_api.views import ViewsApi
from bot.sandbox.wire import JSON, ApiCall, ApiError, Fault, Reply, ResponseCall


class WebApi(MessagesApi, ViewsApi, DirectoryApi):
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
                result = {"ok": False, "error": str(exc)} | exc.details
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
