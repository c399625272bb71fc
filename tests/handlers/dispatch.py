"""The middle tier: a real Bolt app with the handlers registered, fed signed requests directly.

No HTTP server and no bot process: :meth:`Dispatcher.send` signs a body the way Slack does
(``SignatureVerifier.generate_signature``) and hands it to the gate the web server puts in
front of Bolt (:class:`~bot.app.slack_gate.SlackGate`: signature, strict parse, envelope
shape), which dispatches it into Bolt's whole pipeline (request verification, the services
middleware, listener matching, the ack) and returns the :class:`BoltResponse` Slack would get.
The app's ``WebClient`` points at the fake Slack on loopback, so what a listener sends
(``views.open``, ``views.publish``...) lands there, where a test can read it.

Payloads come from :mod:`bot.sandbox.slack_payloads`, the shapes the fake Slack sends too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

import handlers
from bot.app.slack_gate import SlackGate, on_listener_error
from bot.sandbox import slack_payloads as sp

JSON = dict[str, Any]
TEAM = {"id": "T0ENGAGE", "domain": "engage"}
APP_ID = "A0ENGAGE"


def build_app(services: handlers.Services, *, api_url: str, token: str, signing_secret: str) -> App:
    """A Bolt app configured as the composition root configures it, with verification on."""
    app = App(
        client=WebClient(token=token, base_url=api_url, timeout=10, retry_handlers=[]),
        signing_secret=signing_secret,
        request_verification_enabled=True,
        token_verification_enabled=False,
        raise_error_for_unhandled_request=False,
        process_before_response=True,
    )
    handlers.register(app, services)
    app.error(on_listener_error)
    return app


def common(user: str) -> JSON:
    """The fields every interaction payload carries: who acted, in which team, for which app."""
    name = user.lower()
    return {
        "user": {"id": user, "username": name, "name": name, "team_id": TEAM["id"]},
        "api_app_id": APP_ID,
        "token": "verification-token-unused",
        "team": dict(TEAM),
    }


def click(user: str, *, channel: str, message: JSON, action_id: str) -> JSON:
    """The ``block_actions`` payload of ``user`` clicking ``action_id`` on a stored message."""
    block_id, element = sp.find_element(message.get("blocks", []), action_id)
    return sp.block_actions(
        common=common(user),
        channel={"id": channel, "name": channel.lower()},
        message=message,
        trigger_id=f"trig-{user}-{time.monotonic_ns()}",
        response_url="https://hooks.slack.invalid/unused",
        action=sp.action_for(element, block_id, None),
    )


def submission(user: str, view: JSON, values: dict[str, dict[str, sp.ActionValue]]) -> JSON:
    """The ``view_submission`` payload of ``user`` submitting ``view`` filled with ``values``
    (``{block_id: {action_id: value}}``)."""
    shown = {"id": sp.new_id("V"), **view, "blocks": sp.assign_block_ids(view["blocks"])}
    shown["state"] = {"values": sp.state_values(shown, values)}
    return sp.view_payload(
        "view_submission", common=common(user), view=shown, trigger_id=f"trig-{user}"
    )


def slash_command(user: str, *, channel: str, text: str) -> dict[str, str]:
    return sp.slash_command(
        common=common(user),
        channel={"id": channel, "name": channel.lower()},
        command="/engage",
        text=text,
        response_url="https://hooks.slack.invalid/unused",
        trigger_id=f"trig-{user}-{time.monotonic_ns()}",
    )


@dataclass(frozen=True)
class Dispatcher:
    app: App
    signing_secret: str

    def send(
        self, body: str, content_type: str, *, timestamp: int | None = None, secret: str = ""
    ) -> BoltResponse:
        """Sign ``body`` (with ``secret``, default the app's) and dispatch it."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        verifier = SignatureVerifier(secret or self.signing_secret)
        signature = verifier.generate_signature(timestamp=ts, body=body) or ""
        headers = {
            "content-type": content_type,
            "x-slack-request-timestamp": ts,
            "x-slack-signature": signature,
        }
        return self.send_raw(body.encode(), headers)

    def send_raw(self, body: bytes, headers: dict[str, str]) -> BoltResponse:
        """``body`` with exactly these (lower-case) headers, through the gate."""
        return SlackGate(self.app, signing_secret=self.signing_secret).handle(body, headers)

    def signed(self, body: bytes, content_type: str = "application/json") -> dict[str, str]:
        """The headers Slack would send with ``body``, signed now."""
        ts = str(int(time.time()))
        base = f"v0:{ts}:".encode() + body
        digest = hmac.new(self.signing_secret.encode(), base, hashlib.sha256).hexdigest()
        return {
            "content-type": content_type,
            "x-slack-request-timestamp": ts,
            "x-slack-signature": f"v0={digest}",
        }

    def interaction(self, payload: JSON, **kw: Any) -> BoltResponse:
        """Interactions travel form-encoded as ``payload=<json>``."""
        body = urlencode({"payload": json.dumps(payload)})
        return self.send(body, "application/x-www-form-urlencoded", **kw)

    def command(self, form: dict[str, str], **kw: Any) -> BoltResponse:
        return self.send(urlencode(form), "application/x-www-form-urlencoded", **kw)

    def event(self, payload: JSON, **kw: Any) -> BoltResponse:
        return self.send(json.dumps(payload), "application/json", **kw)


def answer(response: BoltResponse) -> JSON:
    """What an ack said: its JSON body, ``{"text": ...}`` for a text-only one, ``{}`` if empty."""
    body = response.body if isinstance(response.body, str) else ""
    kinds = response.headers.get("content-type") or [""]
    if not body:
        return {}
    if not kinds[0].startswith("application/json"):
        return {"text": body}
    loaded = json.loads(body)
    assert isinstance(loaded, dict)
    return loaded
