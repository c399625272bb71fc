"""The Reddit adapter's connection: a praw client that never waits, and what its errors mean.

praw's waiting is switched off: a prawcore requestor subclass (:class:`_Requestor`) turns 429,
5xx, timeouts and connection errors into a failure prawcore neither retries nor sleeps over
(:class:`HttpFailure`; only a 401 is tried once more, with a new token, after prawcore's 0-2 s
pause), applies the adapter's timeout to every request (prawcore's API calls use its own 16 s
otherwise), and reads then strips ``x-ratelimit-*`` into the adapter's :class:`RateBudget` so
prawcore's limiter never sleeps. ``ratelimit_seconds=0`` stops praw sleeping over a "doing that
too much" answer to a reply. :func:`adapter_error` says what praw's and prawcore's exceptions
mean, as one-line ``AdapterError``s.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import praw
import prawcore
import requests
from praw.exceptions import PRAWException

from bot.core.adapter import AdapterError
from bot.intake.adapters.common import retry_after
from bot.intake.adapters.reddit.parse import RateBudget

CREDENTIALS_HINT = (
    "check the client id and secret, the account's username and password, and that the app "
    "is a 'script' app listing that account as a developer"
)


class HttpFailure(Exception):
    """Raised by the requestor: passes through prawcore, which retries only its own errors."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, status: int = 0, sent: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after, self.status = retry_after, status
        self.sent = sent  # the request may have reached Reddit (a POST may have taken effect)


class _Requestor(prawcore.Requestor):
    """prawcore's requestor with one timeout, no retried failures and no rate-limit sleeps."""

    def __init__(self, *, budget: RateBudget, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.budget = budget
        self.refused = 0  # API answers 401 in a row (prawcore retries each with a new token)

    def request(self, *args: Any, timeout: float | None = None, **kwargs: Any) -> requests.Response:
        method, url = args  # prawcore passes exactly these two positionally
        where = f"{str(method).upper()} {urlsplit(url).path}"
        try:
            response = self._http.request(method, url, timeout=self.timeout, **kwargs)
        except requests.ConnectTimeout as exc:
            raise HttpFailure(f"no connection within {self.timeout:g}s ({where})") from exc
        except requests.Timeout as exc:
            raise HttpFailure(f"timed out after {self.timeout:g}s ({where})", sent=True) from exc
        except requests.RequestException as exc:
            raise HttpFailure(f"cannot reach {urlsplit(url).netloc}: {exc!r}") from exc
        headers = response.headers
        self.budget.update(headers)
        reset = headers.get("x-ratelimit-reset")
        for key in [key for key in headers if key.lower().startswith("x-ratelimit-")]:
            del headers[key]  # read above; prawcore's limiter would sleep on them
        status = response.status_code
        if not urlsplit(url).path.endswith("/access_token"):
            self.refused = self.refused + 1 if status == 401 else 0
            if self.refused > 1:  # prawcore retried once with a new token (after 0-2 s): stop
                message = f"HTTP 401 even with a new token; {CREDENTIALS_HINT}"
                raise HttpFailure(message, status=401, sent=True)
        if status in (408, 429) or status >= 500:
            wait = retry_after(headers.get("retry-after"))
            wait = retry_after(reset) if wait is None and status == 429 else wait
            label = f"HTTP {status} {response.reason or ''}".strip()
            message = "rate limited" if status == 429 else "server error"
            later = "" if wait is None else f", retry after {wait:g}s"
            raise HttpFailure(
                f"{message}, {label}{later} ({where})", retry_after=wait, status=status, sent=True
            )
        return response


def connect(
    *,
    client_id: str,
    client_secret: str,
    username: str | None,
    password: str | None,
    user_agent: str,
    oauth_url: str,
    reddit_url: str,
    timeout: float,
    budget: RateBudget,
    session: requests.Session,
) -> praw.Reddit:
    """A praw client configured here only (no praw.ini, no update check), that never sleeps."""
    return praw.Reddit(
        "DEFAULT",  # not $praw_site: settings come from here, not from praw.ini files
        client_id=client_id,
        client_secret=client_secret,
        username=username or None,
        password=password or None,
        refresh_token=None,
        redirect_uri=None,
        user_agent=user_agent,
        oauth_url=oauth_url.rstrip("/"),
        reddit_url=reddit_url.rstrip("/"),
        ratelimit_seconds=0,
        check_for_updates=False,  # update_checker would call PyPI from the constructor
        requestor_class=_Requestor,
        requestor_kwargs={"budget": budget, "timeout": timeout, "session": session},
    )


def adapter_error(name: str, exc: Exception) -> Exception:
    """praw's and prawcore's exceptions as one-line AdapterErrors; anything else unchanged."""
    where = f"{name}: reddit"
    if isinstance(exc, HttpFailure):
        return AdapterError(f"{where}: {exc}", retry_after=exc.retry_after)
    if isinstance(exc, prawcore.OAuthException):
        detail = f"{exc.error}: {exc.description}" if exc.description else exc.error
        return AdapterError(f"{where}: sign-in refused ({detail}); {CREDENTIALS_HINT}")
    if isinstance(exc, prawcore.InvalidToken | prawcore.InsufficientScope):
        return AdapterError(f"{where}: token refused ({exc}); {CREDENTIALS_HINT}")
    if isinstance(exc, prawcore.BadJSON):
        return AdapterError(f"{where}: the answer was not JSON")
    if isinstance(exc, prawcore.ResponseException):
        status = exc.response.status_code
        if status in (401, 403):
            return AdapterError(f"{where}: HTTP {status} signing in; {CREDENTIALS_HINT}")
        return AdapterError(f"{where}: unexpected HTTP {status} ({exc.response.url})")
    if isinstance(exc, prawcore.PrawcoreException | PRAWException):
        return AdapterError(f"{where}: {type(exc).__name__}: {exc}")
    if isinstance(exc, ValueError | KeyError):  # a token answer that is not a token
        return AdapterError(f"{where}: odd answer from Reddit: {exc!r}")
    return exc
