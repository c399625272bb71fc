"""The Mastodon.py client as the Mastodon adapter uses it, and what its exceptions mean.

Polling (:mod:`poll`), streaming (:mod:`stream`) and replying
(:mod:`reply`) all talk to one instance through Mastodon.py. This module is the one
place that builds that client and the one place that reads its exceptions, so the three agree
on what a rate limit, a bad token or a refusal is.

**The client** throws on rate limits (``ratelimit_method="throw"``, never sleeps: the runner
decides when to try again) and does no version check up front (no request before the first
real one).

**Errors.** :func:`api_call` runs one call. A rate limit, timeout, network or server error, a bad
token or an unreadable body becomes :class:`AdapterError` (for a rate limit with the wait from
``X-RateLimit-Reset``); a request the server understood and refused (a 4xx other than 401 and
429, or a feature the server version lacks) becomes :class:`Refused`, which the caller may
confine to one stream or one reply. (Mastodon.py keeps the server's ``error`` text only for
endpoints that return one object; for lists only the status remains.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
    MastodonVersionError,
)

from bot.core.adapter import AdapterError
from bot.intake.adapters.mastodon.parse import text_of

USER_AGENT = "Engage/0.1 (+civic mention router)"


def make_client(
    *, api_base_url: str, access_token: str, request_timeout: float, user_agent: str = USER_AGENT
) -> Mastodon:
    """A Mastodon.py client that never sleeps on a rate limit and never probes the version."""
    return Mastodon(
        access_token=access_token,
        api_base_url=api_base_url,
        request_timeout=request_timeout,
        ratelimit_method="throw",
        version_check_mode="none",
        user_agent=user_agent,
    )


def _http_status(exc: BaseException) -> int | None:
    # Mastodon.py raises ('Mastodon API returned error', status, reason, error message).
    codes = [a for a in exc.args if isinstance(a, int) and 100 <= a <= 599]
    return codes[0] if codes else None


def _describe(exc: BaseException) -> str:
    status = _http_status(exc)
    if status is None:
        return str(exc) or repr(exc)
    reason, message = [*exc.args[2:4], None, None][:2]
    return f"HTTP {status} {text_of(reason)}".strip() + (f": {message}" if message else "")


def _wait(client: Mastodon) -> float | None:
    """Seconds until the rate limit resets, as Mastodon.py read ``X-RateLimit-Reset``."""
    reset = getattr(client, "ratelimit_reset", None)
    return max(0.0, float(reset) - time.time()) if isinstance(reset, int | float) else None


class Refused(Exception):
    """The server understood and said no (a 4xx other than 401 and 429): this stream only."""


def api_call(client: Mastodon, where: str, call: Callable[[], Any]) -> Any:
    """Run one Mastodon.py call; everything but a refusal becomes :class:`AdapterError`."""
    try:
        return call()
    except MastodonRatelimitError as exc:
        wait = _wait(client)
        later = "" if wait is None else f", retry after {wait:.0f}s"
        raise AdapterError(f"{where}: rate limited{later}", retry_after=wait) from exc
    except MastodonNetworkError as exc:
        raise AdapterError(f"{where}: cannot reach the server: {exc}") from exc
    except MastodonUnauthorizedError as exc:
        raise AdapterError(f"{where}: {_describe(exc)} (check the access token)") from exc
    except MastodonServerError as exc:
        raise AdapterError(f"{where}: server error, {_describe(exc)}") from exc
    except MastodonAPIError as exc:
        status = _http_status(exc)
        if status is not None and 400 <= status < 500:
            raise Refused(_describe(exc)) from exc
        raise AdapterError(f"{where}: {_describe(exc)}") from exc  # e.g. a body that is no JSON
    except MastodonVersionError as exc:
        raise Refused(str(exc)) from exc
    except MastodonError as exc:
        raise AdapterError(f"{where}: {exc!r}") from exc


def is_auth_error(exc: AdapterError) -> bool:
    """Whether ``exc`` came from a refused token (401), which no retry will fix."""
    return isinstance(exc.__cause__, MastodonUnauthorizedError)
