"""The Slack -> bot direction: the signed HTTP requests Slack sends to an app.

``SlackRequests`` plays the users: it clicks buttons on stored messages, submits and closes
modals, writes messages, runs slash commands and delivers raw events, each time issuing the
trigger_id and response_url Slack would, signing the body with the app's signing secret and
POSTing it to the bot. Payload shapes come from ``slack_payloads``; this module adds what needs
the workspace (the message clicked, the view submitted, who the user is) and applies the bot's
answer where Slack would (a submission's ``response_action``). What the bot answers is checked
as Slack checks it (``block_kit``): a refused ``response_action`` leaves the modal as it was,
and it and a slash command answer with refused blocks are kept in ``rejections``.

It is a mixin over ``Workspace`` (see that module for why): a click reads the same messages and
issues triggers into the same state that ``views.open`` later checks. ``FakeSlack`` provides the
shared ``httpx.Client`` (``_http``), the ``delivery_timeout`` and the server's ``base_url``.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.sandbox import slack_payloads as sp
from bot.sandbox.block_kit import (
    Problem,
    errors_problems,
    message_problems,
    options_problems,
    view_problems,
)
from bot.sandbox.wire import JSON, USER_AGENT, HttpResult
from bot.sandbox.workspace import Workspace


class SlackRequests(Workspace):
    """Builds, signs and sends Slack's requests to the bot, and applies the bot's answers."""

    delivery_timeout: float
    """Seconds to wait for the bot's answer to one request (set by ``FakeSlack``)."""
    _http: httpx.Client
    """One client for every request to the bot (owned and recycled by ``FakeSlack``)."""
    after_interaction: list[Callable[[], object]]
    """Called after the bot answered a click or a submission: a bot that acks a click before
    deciding it (``ClickQueue.settle``) is waited for, as a person would wait for the card."""

    @property
    def base_url(self) -> str:
        """Where the handed-out response_urls point; ``FakeSlack`` knows its server's address."""
        raise NotImplementedError

    # ----------------------------------------------------------------- signing & sending
    def signed_headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        """Just the two signature headers; pass an old ``timestamp`` to forge a stale request."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        verifier = SignatureVerifier(self.signing_secret)
        signature = verifier.generate_signature(timestamp=ts, body=body) or ""
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}

    def send_raw(self, url: str, body: bytes, headers: dict[str, str]) -> HttpResult:
        """POST exactly these bytes and headers (nothing added), for forged requests."""
        return self._post(url, body, headers, {})

    def _post(self, url: str, body: bytes, headers: dict[str, str], sent: JSON) -> HttpResult:
        start = time.monotonic()
        response = self._http.post(
            url, content=body, headers=headers, timeout=self.delivery_timeout
        )
        elapsed = time.monotonic() - start
        return HttpResult(
            response.status_code, response.text, dict(response.headers), body, elapsed, sent
        )

    def _send_signed(
        self, url: str, body: bytes, ctype: str, sent: JSON, extra: dict[str, str] | None = None
    ) -> HttpResult:
        headers = {"Content-Type": ctype, "User-Agent": USER_AGENT, **self.signed_headers(body)}
        return self._post(url, body, headers | (extra or {}), sent)

    def _send_interaction(self, url: str, payload: JSON) -> HttpResult:
        """Interactions travel form-encoded as ``payload=<json>``, not as a JSON body."""
        body = urlencode({"payload": json.dumps(payload)}).encode()
        result = self._send_signed(url, body, "application/x-www-form-urlencoded", payload)
        for settle in self.after_interaction:
            settle()
        return result

    def _common(self, user_id: str) -> JSON:
        """Fields shared by every payload: who acted, in which team, for which app."""
        with self._lock:
            user = self._users.get(user_id)
        name = user["name"] if user else user_id.lower()
        return {
            "user": {"id": user_id, "username": name, "name": name, "team_id": self.team_id},
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "team": {"id": self.team_id, "domain": self.team_domain},
        }

    def _issue(
        self, user_id: str, channel: str | None = None, ts: str | None = None
    ) -> tuple[str, str]:
        """A fresh trigger_id (owned by ``user_id``) and response_url bound to the context."""
        trigger, rid = f"trig-{uuid.uuid4().hex[:16]}", uuid.uuid4().hex
        with self._lock:
            self._triggers[trigger] = (user_id, time.time())
            if channel is not None:
                self._response_urls[rid] = {"channel": channel, "ts": ts, "user": user_id}
        return trigger, f"{self.base_url}/response_url/{rid}"

    # ----------------------------------------------------------------- interactions
    def click(
        self,
        url: str,
        *,
        user_id: str,
        channel: str,
        ts: str,
        action_id: str,
        value: sp.ActionValue = None,
        block_id: str | None = None,
    ) -> HttpResult:
        """Click a button (or choose ``value`` in a select/overflow) on a stored message."""
        with self._lock:
            msg = copy.deepcopy(self._find(channel, ts))
            chan = self._channel_info(channel)
        if msg is None:
            raise LookupError(f"no message with ts {ts!r} in channel {channel!r}")
        payload = self._block_actions(user_id, chan, msg, ts, action_id, value, block_id)
        return self._send_interaction(url, payload)

    def click_ephemeral(
        self,
        url: str,
        *,
        user_id: str,
        message: JSON,
        action_id: str,
        value: sp.ActionValue = None,
        block_id: str | None = None,
    ) -> HttpResult:
        """Click in an ephemeral message (``message``: what the person sees, with ``channel``
        and ``ts``). Slack keeps no copy to send back: the container says ``is_ephemeral``
        and the payload has no ``message``; the ``response_url`` can replace it."""
        channel, ts = str(message["channel"]), str(message["ts"])
        with self._lock:
            chan = self._channel_info(channel)
        payload = self._block_actions(user_id, chan, message, ts, action_id, value, block_id)
        payload["container"]["is_ephemeral"] = True
        del payload["message"]
        return self._send_interaction(url, payload)

    def _block_actions(
        self,
        user_id: str,
        chan: JSON,
        message: JSON,
        ts: str,
        action_id: str,
        value: sp.ActionValue,
        block_id: str | None,
    ) -> JSON:
        """The ``block_actions`` payload of a click on ``action_id`` in ``message``."""
        found_block, element = sp.find_element(message.get("blocks", []), action_id, block_id)
        action = sp.action_for(element, found_block, value)
        trigger, response_url = self._issue(user_id, str(chan["id"]), ts)
        return sp.block_actions(
            common=self._common(user_id),
            channel=chan,
            message=message,
            trigger_id=trigger,
            response_url=response_url,
            action=action,
        )

    def click_view(
        self,
        url: str,
        *,
        user_id: str,
        view_id: str,
        action_id: str,
        value: sp.ActionValue = None,
        block_id: str | None = None,
    ) -> HttpResult:
        """Click a button (or choose ``value`` in a select/overflow) in a stored modal or home."""
        with self._lock:
            if view_id not in self._views:
                raise LookupError(f"no view {view_id!r}")
            view = copy.deepcopy(self._views[view_id])
        found_block, element = sp.find_element(view.get("blocks", []), action_id, block_id)
        action = sp.action_for(element, found_block, value)
        trigger, _ = self._issue(user_id)
        payload = sp.view_block_actions(
            common=self._common(user_id), view=view, trigger_id=trigger, action=action
        )
        return self._send_interaction(url, payload)

    def submit_view(
        self,
        url: str,
        *,
        user_id: str,
        view_id: str,
        values: dict[str, dict[str, sp.ActionValue]] | None = None,
    ) -> HttpResult:
        """Submit a stored modal with ``{block_id: {action_id: value}}`` and apply the bot's
        ``response_action`` (errors keeps it open; update/push/clear; an empty ack closes it)."""
        with self._lock:
            if view_id not in self._views:
                raise LookupError(f"no view {view_id!r}")
            view = copy.deepcopy(self._views[view_id])
            view["state"] = {"values": sp.state_values(view, values or {})}
            self._views[view_id]["state"] = copy.deepcopy(view["state"])
        trigger, _ = self._issue(user_id)
        payload = sp.view_payload(
            "view_submission", common=self._common(user_id), view=view, trigger_id=trigger
        )
        result = self._send_interaction(url, payload)
        try:
            answer = result.json() if result.status == 200 and result.body.strip() else {}
        except ValueError:
            answer = {}  # a non-JSON ack: Slack treats it like an empty one
        answer = answer if isinstance(answer, dict) else {}
        action = answer.get("response_action")
        problems = _submission_problems(action, answer, view) if result.status == 200 else []
        with self._lock:
            if problems:  # Slack shows the person an error and leaves the modal as it was
                self._refuse("view_submission", "invalid_arguments", problems)
            elif result.status == 200 and action != "errors":
                self._after_submission(user_id, view_id, action, answer)
        return result

    def _after_submission(self, user: str, view_id: str, action: Any, answer: JSON) -> None:
        stack = self._stacks.setdefault(user, [])
        current = self._views[view_id]
        if action == "update":
            self._new_view(
                answer["view"],
                view_id=view_id,
                previous=current["previous_view_id"],
                root=current["root_view_id"],
            )
        elif action == "push":
            pushed = self._new_view(answer["view"], previous=view_id, root=current["root_view_id"])
            self._view_users[pushed["id"]] = user
            stack.append(pushed["id"])
        elif action == "clear":
            stack.clear()
        elif view_id in stack:
            stack.remove(view_id)

    def close_view(self, url: str, *, user_id: str, view_id: str) -> HttpResult | None:
        """The user cancels a modal. Like Slack, the bot hears of it (``view_closed``) only if
        the view set ``notify_on_close``; otherwise nothing is sent and None is returned."""
        with self._lock:
            if view_id not in self._views:
                raise LookupError(f"no view {view_id!r}")
            view = copy.deepcopy(self._views[view_id])
            stack = self._stacks.get(user_id, [])
            if view_id in stack:
                stack.remove(view_id)
        if not view.get("notify_on_close"):
            return None
        payload = sp.view_payload("view_closed", common=self._common(user_id), view=view)
        return self._send_interaction(url, payload)

    def suggest(
        self, url: str, *, user_id: str, view_id: str, action_id: str, value: str = ""
    ) -> list[JSON]:
        """Type ``value`` into an external select of a stored modal: Slack asks the app for
        options (a signed ``block_suggestion``) once ``min_query_length`` (default 3) is met,
        and shows what the app answers if Slack would take it (else it is in ``rejections``)."""
        with self._lock:
            if view_id not in self._views:
                raise LookupError(f"no view {view_id!r}")
            view = copy.deepcopy(self._views[view_id])
        block_id, element = sp.find_element(view.get("blocks", []), action_id)
        if not str(element.get("type", "")).endswith("external_select"):
            raise LookupError(f"{action_id!r} is not an external select")
        if len(value) < element.get("min_query_length", 3):
            return []
        payload = sp.block_suggestion(
            common=self._common(user_id), view=view, action_id=action_id, block_id=block_id
        )
        result = self._send_interaction(url, payload | {"value": value})
        try:
            answer = result.json() if result.status == 200 else None
        except ValueError:
            answer = None
        problems = options_problems(answer)
        if problems:  # the person sees "no options" and the menu stays empty
            with self._lock:
                self._refuse("block_suggestion", "invalid_options", problems)
            return []
        return list(answer.get("options", [])) if isinstance(answer, dict) else []

    # ----------------------------------------------------------------- events & commands
    def send_event(
        self,
        url: str,
        event: JSON,
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        body_override: bytes | None = None,
    ) -> HttpResult:
        """Deliver an Events API ``event_callback``. To redeliver the *identical* request, as
        Slack's retries do, pass ``body_override=first.request_body`` and a ``retry_num``."""
        if body_override is None:
            event = {"event_ts": event.get("ts") or f"{time.time():.6f}", **event}
            payload = sp.event_callback(
                common=self._common(self.bot_user_id),
                event=event,
                event_id=event_id or sp.new_id("Ev"),
                bot_user_id=self.bot_user_id,
                event_time=int(time.time()),
            )
            body = json.dumps(payload).encode()
        else:
            body, payload = body_override, json.loads(body_override)
        extra = {}
        if retry_num is not None:
            extra = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        return self._send_signed(url, body, "application/json", payload, extra)

    def post_user_message(
        self, url: str, *, user_id: str, channel: str, text: str, thread_ts: str | None = None
    ) -> HttpResult:
        """A human writes in a channel or thread: stored here, then announced as a ``message``
        event. The new message's ts is ``result.sent["event"]["ts"]``."""
        with self._lock:
            msg: JSON = {"type": "message", "user": user_id, "text": text, "ts": self._next_ts()}
            msg |= {"team": self.team_id, "client_msg_id": str(uuid.uuid4())}
            parent = self._find(channel, thread_ts) if thread_ts else None
            if thread_ts:
                msg["thread_ts"] = thread_ts
                msg |= {"parent_user_id": parent["user"]} if parent else {}
            self._store(channel, msg)
            event = copy.deepcopy(msg)
        event |= {"channel": channel, "event_ts": msg["ts"], "channel_type": "channel"}
        return self.send_event(url, event)

    def slash_command(
        self, url: str, *, user_id: str, channel: str, command: str = "/engage", text: str = ""
    ) -> HttpResult:
        """Invoke a slash command; its response_url posts into ``channel``."""
        trigger, response_url = self._issue(user_id, channel)
        with self._lock:
            chan = self._channel_info(channel)
        form = sp.slash_command(
            common=self._common(user_id),
            channel=chan,
            command=command,
            text=text,
            response_url=response_url,
            trigger_id=trigger,
        )
        body = urlencode(form).encode()
        result = self._send_signed(url, body, "application/x-www-form-urlencoded", dict(form))
        try:
            answer = result.json() if result.status == 200 and result.body.strip() else {}
        except ValueError:
            answer = {}  # plain text: shown as it is
        if isinstance(answer, dict) and "blocks" in answer:
            problems = message_problems(answer["blocks"])
            if problems:  # Slack shows the person "failed with the error invalid_blocks"
                with self._lock:
                    self._refuse("slash_command", "invalid_blocks", problems)
        return result


def _submission_problems(action: Any, answer: JSON, submitted: JSON) -> list[Problem]:
    """What Slack would refuse in the bot's answer to a submission (nothing for a plain ack)."""
    if action in ("update", "push"):
        return view_problems(answer.get("view"), "modal")
    if action == "errors":
        return errors_problems(answer.get("errors"), submitted)
    return []
