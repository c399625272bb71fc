"""The Facebook adapter's connection: Graph API calls over httpx, and what Graph's errors mean.

Authenticated with a Page access token, sent as an ``Authorization: Bearer`` header so it never
appears in a logged URL, plus ``appsecret_proof`` (HMAC-SHA256 of the token keyed by the app
secret) when the app secret is given. Tokens are stripped from the ``paging.next`` links Graph
hands back (:func:`next_params`), so only this module ever puts them on the wire.

Graph errors come as JSON ``{"error": {"message", "type", "code", "error_subcode",
"fbtrace_id"}}`` with varying HTTP statuses, so the code decides: 190/102 is the token, 4, 17,
32, 613 and 80001-80014 are rate limits (the wait is ``estimated_time_to_regain_access``,
minutes, from the usage headers when there), 10 and 200-299 are permissions, 1 and 2 transient.
Every failure is a :class:`GraphError` that says whether the same call may work later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from bot.core.adapter import JSON, AdapterError
from bot.intake.adapters.common import check_status, retry_after

DEFAULT_BASE_URL = "https://graph.facebook.com/v19.0"
TOKEN_CODES = {102, 190}
RATE_LIMIT_CODES = {4, 17, 32, 613, *range(80001, 80015)}
TRANSIENT_CODES = {1, 2}
USAGE_HEADERS = ("x-business-use-case-usage", "x-page-usage", "x-app-usage")
AUTH_PARAMS = {"access_token", "appsecret_proof"}


class GraphError(AdapterError):
    """A failed Graph call; ``retryable`` if the same call may work later; ``ambiguous`` if it
    may have taken effect anyway (it reached Graph, whose answer was lost or an error)."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        retryable: bool = False,
        ambiguous: bool = False,
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retryable = retryable
        self.ambiguous = ambiguous


def _regain_access(headers: httpx.Headers) -> float | None:
    """Seconds until Graph lifts throttling, from the usage headers' estimate in minutes."""
    minutes: list[float] = []

    def walk(node: object) -> None:
        if isinstance(node, Mapping):
            value = node.get("estimated_time_to_regain_access")
            if isinstance(value, int | float) and not isinstance(value, bool):
                minutes.append(float(value))
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    for name in USAGE_HEADERS:
        try:
            walk(json.loads(headers.get(name) or "null"))
        except ValueError:
            continue
    wait = max(minutes, default=0.0) * 60
    return wait if wait > 0 else None


def _graph_error(where: str, error: Mapping[str, Any], response: httpx.Response) -> GraphError:
    code = error.get("code")
    subcode = error.get("error_subcode")
    label = f"code {code}" + (f"/{subcode}" if subcode else "")
    detail = " ".join(str(error.get("message") or "no message").split()) + f" ({label}"
    detail += f", fbtrace_id {error['fbtrace_id']})" if error.get("fbtrace_id") else ")"
    if code in TOKEN_CODES:
        return GraphError(f"{where}: the Page access token was rejected, get a new one: {detail}")
    if code in RATE_LIMIT_CODES:
        wait = _regain_access(response.headers) or retry_after(response.headers.get("Retry-After"))
        later = "" if wait is None else f", retry after {wait:.0f}s"
        return GraphError(
            f"{where}: rate limited{later}: {detail}", retry_after=wait, retryable=True
        )
    if code == 10 or (isinstance(code, int) and 200 <= code <= 299):
        return GraphError(f"{where}: permission missing for the Page access token: {detail}")
    transient = code in TRANSIENT_CODES or bool(error.get("is_transient"))
    transient = transient or response.status_code >= 500
    kind = "temporary Graph error" if transient else "Graph error"
    return GraphError(f"{where}: {kind}: {detail}", retryable=transient, ambiguous=transient)


def _http_error(where: str, response: httpx.Response) -> GraphError:
    """A failed answer without Graph's error object (a proxy, an outage page)."""
    status = response.status_code
    try:
        check_status(status, response.reason_phrase, response.headers.get("Retry-After"), where)
    except AdapterError as exc:
        return GraphError(
            str(exc),
            retry_after=exc.retry_after,
            retryable=status == 429 or status >= 500,
            ambiguous=status >= 500,
        )
    failed = status >= 500
    return GraphError(f"{where}: unexpected HTTP {status}", retryable=failed, ambiguous=failed)


class GraphClient:
    """Graph API requests as one Page, with its token and (optionally) ``appsecret_proof``."""

    def __init__(
        self,
        *,
        name: str,
        access_token: str,
        app_secret: str | None,
        base_url: str,
        timeout: float,
        http: httpx.Client | None,
        user_agent: str,
    ) -> None:
        self.name, self.base_url = name, base_url
        self.timeout, self.user_agent = timeout, user_agent
        self._token = access_token
        self._proof = (
            hmac.new(app_secret.encode(), access_token.encode(), hashlib.sha256).hexdigest()
            if app_secret
            else None
        )
        self._own_http = http is None
        self._http = http or httpx.Client(timeout=timeout)

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    def call(self, method: str, path: str, params: Mapping[str, str], data: Any = None) -> JSON:
        """One Graph request; its JSON object, or a ``GraphError`` saying what went wrong."""
        where = f"{self.name}: Facebook {method} {path}"
        query = {k: v for k, v in params.items() if k not in AUTH_PARAMS}
        if self._proof:
            query["appsecret_proof"] = self._proof
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/json",
            "User-Agent": self.user_agent,
        }
        try:
            response = self._http.request(
                method,
                self.base_url + path,
                params=query,
                data=data,
                headers=headers,
                timeout=self.timeout,
            )
        except httpx.TimeoutException as exc:
            message = f"{where}: timed out after {self.timeout:g}s ({exc!r})"
            sent = not isinstance(exc, httpx.ConnectTimeout)
            raise GraphError(message, retryable=True, ambiguous=sent) from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            sent = not isinstance(exc, httpx.ConnectError | httpx.InvalidURL)
            message = f"{where}: cannot reach Graph: {exc!r}"
            raise GraphError(message, retryable=True, ambiguous=sent) from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), Mapping):
            raise _graph_error(where, body["error"], response)
        if not response.is_success:
            raise _http_error(where, response)
        if not isinstance(body, dict):
            message = f"{where}: not a JSON object: {response.text[:200]!r}"
            raise GraphError(message, retryable=True, ambiguous=True)
        return body


def next_params(body: Mapping[str, Any], base: Mapping[str, str]) -> dict[str, str] | None:
    """The next page's query, from ``paging.next`` (absent on the last page), on our base URL."""
    paging = body.get("paging")
    link = paging.get("next") if isinstance(paging, Mapping) else None
    if not isinstance(link, str) or not link:
        return None
    query = {k: v for k, v in parse_qsl(urlsplit(link).query) if k not in AUTH_PARAMS}
    return {**base, **query}
