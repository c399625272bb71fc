"""The gate in front of Bolt on ``POST /slack/events``: only signed, well-formed requests reach
the listeners, and a listener that fails anyway answers 200 (503 when the database is down)
with one log line.

Bolt parses a body when it builds its ``BoltRequest``, before its middleware checks the
signature, and its parsing trusts the shapes it reads: unsigned garbage (not JSON, not UTF-8, a
JSON list, 5,000 levels deep, an ``event`` that is a string) raised inside Bolt and answered
500 with a traceback. So :meth:`SlackGate.handle` checks the raw bytes first, in this order,
and refuses with one log line and no traceback:

1. Slack's signature (``v0``, a timestamp within five minutes), on the bytes as received:
   otherwise **401**. Nothing about an unsigned body is parsed (except Slack's ``ssl_check``,
   which Bolt answers unsigned too and which changes nothing).
2. UTF-8, then JSON or a form as Slack sends them (and as Bolt will read them), read with
   :mod:`bot.intake.strict_json`: bounded nesting and numbers, no ``NaN``, and no NUL or lone
   surrogate in any string (PostgreSQL cannot store the one, nothing can encode the other):
   otherwise **400**.
3. The shape of the envelope where Bolt's matchers and context builders index into it
   (:mod:`bot.app.slack_shape`): otherwise **400**. Bolt then reads the body again, and what
   it reads must equal what was checked.

A body over 1 MiB is a **413** before any of this (Slack's largest payloads are far smaller).

What a listener then reads of a payload is :mod:`handlers.payload`'s to check; a listener
refuses bad input itself (ack, change nothing). :func:`on_listener_error`, installed with
``app.error``, is the last resort for what still fails, in HTTP and in Socket Mode alike
(Socket Mode payloads come over Slack's own authenticated socket, so the signature and size
checks do not apply, but :mod:`bot.app.socket_mode` runs the same payload-shape checks).
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import logging
import re
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import App, BoltRequest, BoltResponse
from sqlalchemy.exc import OperationalError

from bot.app import slack_shape
from bot.intake import strict_json

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # Slack's largest payloads (a full modal's state) are far smaller
MAX_AGE = 5 * 60  # seconds: Slack's advice against replayed requests
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


class SlackGate:
    def __init__(
        self, app: App, *, signing_secret: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.app = app
        self.secret = signing_secret.encode()
        self.clock = clock

    def handle(self, body: bytes, headers: Mapping[str, str]) -> BoltResponse:
        """Bolt's answer to a request that passes the gate, or the gate's own answer."""
        admitted = self.admit(body, headers)
        return admitted if isinstance(admitted, BoltResponse) else self.app.dispatch(admitted)

    def admit(self, body: bytes, headers: Mapping[str, str]) -> BoltRequest | BoltResponse:
        """The request Bolt may dispatch, or the answer that refuses it (logged in one line).

        ``headers`` have lower-case names, as Bolt keeps them.
        """
        if len(body) > MAX_BODY:
            return refuse(413, f"body over {MAX_BODY} bytes")
        unsigned = self._unsigned(body, headers)
        if unsigned is not None:
            if _is_ssl_check(body):  # Bolt answers it before verifying; it changes nothing
                return BoltResponse(status=200, body="")
            return refuse(401, unsigned)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            return refuse(400, f"body is not UTF-8 (bad byte at {exc.start})")
        try:
            json_text, payload = _payload(text, headers.get("content-type", ""))
        except strict_json.JSONError as exc:
            return refuse(400, f"payload is not valid JSON: {exc}")
        if not isinstance(payload, dict):
            return refuse(400, "payload must be a JSON object")
        unkeepable = strict_json.first_problem(payload) if _may_hold(json_text) else None
        problem = unkeepable or slack_shape.first_problem(payload)
        if problem is not None:
            where, what = problem
            return refuse(400, f"payload field '{where or '(top)'}' {what}")
        request = _request(payload, headers)
        return refuse(400, "payload not understood") if request is None else request

    def _unsigned(self, body: bytes, headers: Mapping[str, str]) -> str | None:
        """Why the request is not Slack's, or None when it is signed with our secret."""
        if not self.secret:  # an empty key is one anybody can sign with
            return "SLACK_SIGNING_SECRET is not set: no request can be verified"
        timestamp = headers.get("x-slack-request-timestamp", "").strip()
        signature = headers.get("x-slack-signature", "").strip()
        # Shapes first: compare_digest raises on non-ASCII text, int() on non-digits.
        if not _TIMESTAMP.fullmatch(timestamp):
            return "missing or malformed X-Slack-Request-Timestamp"
        if not _SIGNATURE.fullmatch(signature):
            return "missing or malformed X-Slack-Signature"
        if abs(self.clock() - int(timestamp)) > MAX_AGE:
            return "X-Slack-Request-Timestamp is more than five minutes off"
        base = b"v0:" + timestamp.encode("ascii") + b":" + body
        expected = "v0=" + hmac.new(self.secret, base, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii")):
            return "signature does not match (check SLACK_SIGNING_SECRET)"
        return None


def refuse(status: int, reason: str) -> BoltResponse:
    """The gate's answer to a request it will not hand to Bolt: JSON, and one log line."""
    log.info("slack request refused", extra={"status": status, "reason": reason})
    return BoltResponse(
        status=status,
        body=json.dumps({"ok": False, "error": reason}),
        headers={"content-type": "application/json"},
    )


def on_listener_error(
    error: Exception, body: Any, response: BoltResponse | None
) -> BoltResponse | None:
    """``app.error``: one log line (the error and where it was raised), then 200.

    A listener refuses bad input without raising; what still raises is a bug or Slack refusing
    a call (an expired trigger), and a 500 helps nobody: Slack shows the user an error and
    retries events that would fail again. A database that cannot be reached is the exception:
    503, so Slack redelivers the event later and the user sees the click did not work.
    """
    frames = traceback.extract_tb(error.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
    kind = body.get("type") if isinstance(body, dict) else None
    log.error(
        "slack listener failed: %s: %s",
        type(error).__name__,
        str(error)[:300],
        extra={"where": where, "type": kind if isinstance(kind, str) else None},
    )
    if response is None:  # acked already (not in this app's mode): nothing left to answer
        return None
    return BoltResponse(status=503 if isinstance(error, OperationalError) else 200, body="")


def _payload(text: str, content_type: str) -> tuple[str | None, Any]:
    """The body as Bolt would read it (``slack_bolt.request.internals.parse_body``), strictly,
    and the JSON text it was read from (None: a plain form, whose values are not JSON)."""
    if not text:
        return None, {}
    if content_type.split(";")[0] == "application/json" or text.startswith("{"):
        return text, strict_json.loads(text)
    if "payload" in text:
        payload = form_payload(text)
        return (None, {}) if payload is None else (payload, strict_json.loads(payload))
    return None, dict(parse_qsl(text, keep_blank_values=True))


# A click arrives as ``payload=`` and its JSON percent-encoded: a few thousand ``%XX`` escapes,
# which urllib decodes one by one in Python (measured: a third of a click's ack path, and as
# much in Bolt's own floor). Quoted-printable is the same escape with ``=`` for ``%``, and
# binascii decodes it in C; it is used only on a body made of nothing but ``payload=`` and the
# characters urlencode writes, so it reads exactly what parse_qsl would (a property test checks
# both on any text), and anything else goes to parse_qsl.
_FORM_VALUE = re.compile(r"(?:[A-Za-z0-9_.~*+-]|%[0-9A-Fa-f]{2})*")


def form_payload(text: str) -> str | None:
    """The ``payload`` field of a form body, as ``dict(parse_qsl(text)).get("payload")``."""
    value = text[8:] if text.startswith("payload=") else None
    if value is not None and _FORM_VALUE.fullmatch(value):
        raw = binascii.a2b_qp(value.replace("+", " ").replace("%", "=").encode("ascii"))
        return raw.decode("utf-8", "replace")  # what unquote does with a broken sequence
    return dict(parse_qsl(text, keep_blank_values=True)).get("payload")


# What in a JSON text can make strict_json.first_problem find something: an escape that
# decodes to a NUL or a surrogate, a NaN or an Infinity, a number longer than it keeps. (A raw
# NUL is refused by the JSON decoder itself, and the text is valid UTF-8, so it holds no raw
# surrogate.) Walking a click's payload (about 200 values: the whole message comes with it)
# was a fifth of the gate's time; a text with none of these cannot hold a problem, so the walk
# is skipped. A match inside a string (a "Nancy") only means the walk runs, as before.
_LONG_NUMBER = f"[-+0-9.eE]{{{strict_json.MAX_NUMBER_LENGTH + 1},}}"
_MAY_HOLD = re.compile(r"\\u(?:0000|[dD][89a-fA-F])|NaN|Infinity|" + _LONG_NUMBER)


def _may_hold(json_text: str | None) -> bool:
    """Whether the values read from ``json_text`` need :func:`strict_json.first_problem`."""
    return json_text is None or _MAY_HOLD.search(json_text) is not None


def _is_ssl_check(body: bytes) -> bool:
    return dict(parse_qsl(body.decode("ascii", "replace"))).get("ssl_check") == "1"


def _request(payload: dict[str, Any], headers: Mapping[str, str]) -> BoltRequest | None:
    """The request Bolt dispatches: the payload as checked, not parsed again.

    Bolt would parse the raw body a second time (and check the signature a second time) in
    its "http" mode; handed the parsed body, which only its "socket_mode" takes, it skips
    both, and dispatches exactly what the gate checked. The mode changes nothing else in Bolt
    (only its request verification reads it); the signature was checked above.
    """
    try:
        return BoltRequest(body=payload, headers=dict(headers), mode="socket_mode")
    except Exception:  # the checks above should leave nothing; still, never a 500 from here
        return None
