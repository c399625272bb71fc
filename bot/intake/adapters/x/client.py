"""The X adapter's connection: tweepy's v2 Client pointed at ``base_url``, and what its errors mean.

Pointing tweepy elsewhere: ``tweepy.Client`` builds every URL from the constant
``https://api.twitter.com`` inside ``BaseClient.request`` and sends no timeout. The client's
documented ``session`` attribute is replaced by :class:`RoutedSession`, a ``requests.Session``
whose ``prepare_request`` swaps that host for ``base_url`` and whose ``send`` adds the timeout.
Nothing else of tweepy changes: its bearer and OAuth 1.0a auth and its error classes work as
usual (OAuth 1.0a signs the rewritten URL, which is what a server at ``base_url`` checks).
``return_type=dict`` keeps the raw JSON (see :mod:`bot.intake.adapters.x.parse`) and
``wait_on_rate_limit=False`` keeps tweepy from sleeping: :meth:`XClient.call` turns a 429 into
an ``AdapterError`` with the wait X asked for, and the runner decides when to try again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
import tweepy

from bot.core.adapter import AdapterError
from bot.intake.adapters.common import retry_after

X_API_HOST = "https://api.twitter.com"  # the host tweepy.Client hard-codes


class RoutedSession(requests.Session):
    """A requests session that sends tweepy's fixed host to ``base_url``, with a timeout."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        url = request.url
        if isinstance(url, str) and url.startswith(X_API_HOST + "/"):
            request.url = self.base_url + url[len(X_API_HOST) :]
        return super().prepare_request(request)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


def _oneline(exc: BaseException) -> str:
    return "; ".join(part for part in str(exc).splitlines() if part.strip()) or repr(exc)


class XClient:
    """One tweepy v2 Client for one adapter; every call goes through :meth:`call`."""

    def __init__(
        self,
        *,
        bearer_token: str | None,
        consumer_key: str | None,
        consumer_secret: str | None,
        access_token: str | None,
        access_token_secret: str | None,
        base_url: str,
        timeout: float,
        clock: Callable[[], float],
    ) -> None:
        self.timeout, self._clock = timeout, clock
        self._credentials = (
            "bearer_token"
            if bearer_token
            else "consumer_key/consumer_secret/access_token/access_token_secret"
        )
        self.tweepy = tweepy.Client(
            bearer_token=bearer_token,
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            access_token=access_token,
            access_token_secret=access_token_secret,
            return_type=dict,
            wait_on_rate_limit=False,
        )
        self.tweepy.session = RoutedSession(base_url, timeout)

    def close(self) -> None:
        self.tweepy.session.close()

    def call(self, call: Callable[[], Any], where: str) -> Any:
        """Run ``call`` (a tweepy method, bound); any failure as an AdapterError from ``where``."""
        try:
            return call()
        except tweepy.TooManyRequests as exc:
            reset = getattr(exc, "reset_time", None)
            if reset is not None:
                wait: float | None = max(0.0, float(reset) - self._clock())
            else:
                wait = retry_after(exc.response.headers.get("retry-after"))
            later = "" if wait is None else f", retry after {wait:.0f}s"
            raise AdapterError(
                f"{where}: rate limited (HTTP 429){later}", retry_after=wait
            ) from exc
        except tweepy.Unauthorized as exc:
            raise AdapterError(
                f"{where}: X rejected the credentials ({_oneline(exc)}); check {self._credentials}"
            ) from exc
        except tweepy.Forbidden as exc:
            raise AdapterError(
                f"{where}: forbidden ({_oneline(exc)}); check the app's access level and that"
                f" the endpoint is in its plan ({self._credentials})"
            ) from exc
        except tweepy.TwitterServerError as exc:
            raise AdapterError(f"{where}: server error, {_oneline(exc)}") from exc
        except tweepy.HTTPException as exc:
            raise AdapterError(f"{where}: HTTP {_oneline(exc)}") from exc
        except requests.Timeout as exc:
            raise AdapterError(f"{where}: timed out after {self.timeout:g}s ({exc!r})") from exc
        except requests.JSONDecodeError as exc:
            raise AdapterError(f"{where}: the answer is not JSON ({exc})") from exc
        except requests.RequestException as exc:
            raise AdapterError(f"{where}: cannot reach X: {exc!r}") from exc
        except tweepy.TweepyException as exc:
            raise AdapterError(f"{where}: {_oneline(exc)}") from exc
