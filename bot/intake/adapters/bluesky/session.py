"""The Bluesky adapter's connection: one logged-in atproto client, and what its errors mean.

The city's account logs in with its handle and an *app password* (never the main password: app
passwords skip two-factor prompts and can be revoked alone). The session is created once and kept
in memory; the SDK refreshes the access token before it expires, and when the server still says a
token is expired or invalid :meth:`BlueskySession.call` logs in again once and retries, so only a
refused login (wrong handle or app password, suspended account) reaches the runner as an
``AdapterError``. Tokens stay here, never in the cursor, which is stored as plain JSON.

Every failure becomes a :class:`Failure`: an ``AdapterError`` (with the wait a rate limit asked
for) that also says whether a reply may succeed if tried again. Polling
(:mod:`bot.intake.adapters.bluesky.adapter`) and replying both go through this one session, so
they agree on what a timeout, a rate limit or a refused token is.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import httpx
from atproto import Client, Request
from atproto import exceptions as atexc

from bot.core.adapter import AdapterError
from bot.intake.adapters.common import check_status, retry_after

T = TypeVar("T")


class Failure(AdapterError):
    """An AdapterError that also says whether a reply may succeed if tried again, and whether
    the request may have taken effect although it failed (``ambiguous``: it reached the server,
    whose answer was lost or was an error; for a post, look before posting again)."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        retryable: bool,
        ambiguous: bool = False,
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retryable = retryable
        self.ambiguous = ambiguous


def _sent(exc: BaseException) -> bool:
    """Whether a failed request may have reached the server: anything but no connection."""
    cause = exc.__cause__ or exc
    return not isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout)


def _session_problem(exc: BaseException) -> bool:
    """A token the server rejects, or one the SDK cannot read: worth one fresh login."""
    if isinstance(exc, atexc.LoginRequiredError | atexc.InvalidTokenError):
        return True
    response = getattr(exc, "response", None) if isinstance(exc, atexc.RequestErrorBase) else None
    if response is None:
        return False
    error = getattr(response.content, "error", None)
    return bool(response.status_code == 401 or error in ("ExpiredToken", "InvalidToken"))


def _detail(response: Any) -> str:
    """``Error: message`` from an XRPC error body, or an empty string."""
    error = getattr(response.content, "error", None)
    message = getattr(response.content, "message", None)
    return f"{error}: {message}" if error and message else str(error or "")


class BlueskySession:
    """One account's atproto client, logged in on first use and again when a token is refused."""

    def __init__(
        self, *, name: str, handle: str, app_password: str, base_url: str, timeout: float
    ) -> None:
        self.name, self.handle, self.base_url, self.timeout = name, handle, base_url, timeout
        self._password = app_password
        self.client = Client(base_url=base_url, request=Request(timeout=timeout))
        self.client.on_session_change(self._on_session)
        self.did: str | None = None
        self.account_handle = handle
        self._lock = threading.RLock()

    def close(self) -> None:
        self.client.request.close()

    def _on_session(self, event: Any, session: Any) -> None:
        self.did, self.account_handle = session.did, session.handle

    def login(self) -> None:
        """A fresh session; a refused login is a ``Failure`` that retrying will not fix."""
        self.did = None
        try:
            self.client.login(self.handle, self._password)
        except Exception as exc:
            if self.did:  # the session exists; only the profile lookup after it failed
                return
            response = getattr(exc, "response", None)
            status = getattr(response, "status_code", None)
            if isinstance(exc, atexc.RequestErrorBase) and status in (400, 401, 403):
                raise Failure(
                    f"bluesky {self.name}: login as {self.handle} refused (HTTP {status}"
                    f" {_detail(response)}): check the handle and that the password is a valid,"
                    " unrevoked app password",
                    retryable=False,
                ) from exc
            raise self.failure(exc, f"login as {self.handle}") from exc
        if not self.did:
            raise Failure(f"bluesky {self.name}: login gave no session", retryable=False)

    def call(self, what: str, action: Callable[[], T]) -> T:
        """Run one request with a session, logging in again once if the token is refused."""
        with self._lock:
            if self.did is None:
                self.login()
        try:
            return action()
        except Exception as exc:
            if not _session_problem(exc):
                raise self.failure(exc, what) from exc
        with self._lock:
            self.login()
        try:
            return action()
        except Exception as exc:
            raise self.failure(exc, what) from exc

    def failure(self, exc: BaseException, what: str) -> Failure:
        """Any exception of the SDK or httpx as a ``Failure`` saying where and whether to retry."""
        where = f"bluesky {self.name}: {what}"
        if isinstance(exc, Failure):
            return exc
        if isinstance(exc, atexc.InvokeTimeoutError | httpx.TimeoutException):
            message = f"{where}: timed out after {self.timeout:g}s"
            return Failure(message, retryable=True, ambiguous=_sent(exc))
        if isinstance(exc, atexc.RequestErrorBase) and exc.response is not None:
            return self._status_failure(exc.response, where)
        if isinstance(exc, atexc.NetworkError | httpx.HTTPError):
            cause = exc.__cause__ or exc
            message = f"{where}: cannot reach {self.base_url}: {cause!r}"
            return Failure(message, retryable=True, ambiguous=_sent(exc))
        if _session_problem(exc):
            return Failure(f"{where}: session token refused: {exc!r}", retryable=False)
        return Failure(f"{where}: unexpected answer: {exc!r}"[:500], retryable=False)

    def _status_failure(self, response: Any, where: str) -> Failure:
        status, headers = int(response.status_code), response.headers or {}
        detail = _detail(response)
        if status == 429:
            wait = retry_after(headers.get("retry-after"))
            reset = headers.get("ratelimit-reset")
            if wait is None and reset and reset.strip().isdigit():  # epoch seconds on Bluesky
                value = float(reset)
                wait = max(0.0, value - time.time()) if value > 1e9 else value
            later = "" if wait is None else f", retry after {wait:.0f}s"
            message = f"{where}: rate limited (HTTP 429 {detail}){later}".replace(" )", ")")
            return Failure(message, retry_after=wait, retryable=True)
        try:
            check_status(status, detail, headers.get("retry-after"), where)
        except AdapterError as exc:
            failed = status >= 500  # the server may have done it before failing
            return Failure(
                str(exc), retry_after=exc.retry_after, retryable=failed, ambiguous=failed
            )
        return Failure(f"{where}: unexpected HTTP {status} {detail}".strip(), retryable=False)

    def query(self, what: str, nsid: str, params: Any) -> Mapping[str, Any]:
        """The raw JSON of one XRPC query (not the SDK's models: see the adapter's docstring)."""
        response = self.call(what, lambda: self.client.invoke_query(nsid, params=params))
        if not isinstance(response.content, Mapping):
            raise Failure(f"bluesky {self.name}: {what}: answer is not JSON", retryable=True)
        return response.content
