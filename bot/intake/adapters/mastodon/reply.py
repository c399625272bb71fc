"""Answering a Mastodon mention in its thread, as the city's account.

:class:`MastodonReplier` is the Mastodon ``Replier``: the adapter answers through one (sharing its
client), and it can also stand alone with its own client. Posting a reply shares nothing with
reading (no cursor, no streams), so it lives apart; the rules for visibility and the ``@acct``
prefix are pure functions in :mod:`parse`, the client and its errors in
:mod:`client`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from mastodon import Mastodon

from bot.core.adapter import AdapterError, ReplyError, ReplyResult, ReplyTarget
from bot.intake.adapters.mastodon.client import (
    USER_AGENT,
    Refused,
    api_call,
    is_auth_error,
    make_client,
)
from bot.intake.adapters.mastodon.parse import (
    SOURCE,
    VISIBILITIES,
    reply_visibility,
    text_of,
    with_handle,
)


class MastodonReplier:
    """Answers a Mastodon mention in its thread, as the city's account.

    * ``in_reply_to_id`` is ``extra["status_id"]`` when the mention came through this instance;
      otherwise (another instance, or no id stored) the status URI is resolved here first.
    * The text starts with ``@acct`` of the author (added unless already there): Mastodon only
      notifies, threads and, for a direct reply, shows it at all to mentioned accounts. Only the
      author is mentioned, never others the citizen tagged.
    * Visibility (:func:`mastodon_parse.reply_visibility`): the original's, never more public
      than ``max_visibility`` (default ``unlisted``: in the thread, on the city's profile and
      notified, but not pushed into public timelines); a followers-only or direct post gets a
      direct reply; an unknown visibility gets a direct one.
    * The original's content warning is kept as the reply's, as Mastodon's own clients do.
    * An ``Idempotency-Key`` (hash of status and text) makes a retry after a lost response safe.
    """

    source = SOURCE

    def __init__(
        self,
        *,
        client: Mastodon | None = None,
        api_base_url: str | None = None,
        access_token: str | None = None,
        request_timeout: float = 20.0,
        max_visibility: str = "unlisted",
        user_agent: str = USER_AGENT,
    ) -> None:
        if max_visibility not in VISIBILITIES:
            raise ValueError(f"max_visibility must be one of {', '.join(VISIBILITIES)}")
        if client is None:
            if not api_base_url or not access_token:
                raise ValueError("MastodonReplier needs a client or api_base_url and access_token")
            client = make_client(
                api_base_url=api_base_url,
                access_token=access_token,
                request_timeout=request_timeout,
                user_agent=user_agent,
            )
        self.client = client
        self.instance = text_of(client.api_base_url)
        self.max_visibility = max_visibility

    def reply(self, target: ReplyTarget, text: str) -> ReplyResult:
        extra = target.extra
        acct = text_of(extra.get("acct")) or target.author.lstrip("@")
        if not acct:
            raise ReplyError(f"{target.external_id}: no author to answer")
        if not text.strip():
            raise ReplyError(f"{target.external_id}: empty reply")
        status_id = text_of(extra.get("status_id"))
        if not status_id or text_of(extra.get("instance")) not in ("", self.instance):
            status_id = self._resolve(target.external_id)
        body = with_handle(acct, text)
        visibility = reply_visibility(text_of(extra.get("visibility")) or None, self.max_visibility)
        key = hashlib.sha256(f"{self.instance}\n{status_id}\n{body}".encode()).hexdigest()
        posted = self._guard(
            target,
            lambda: self.client.status_post(
                body,
                in_reply_to_id=status_id,
                visibility=visibility,
                spoiler_text=target.title or None,
                idempotency_key=key,
            ),
        )
        uri = text_of(posted.get("uri")) or text_of(posted.get("id"))
        if not uri:
            raise ReplyError(f"{target.external_id}: the server answered without a status")
        return ReplyResult(external_id=uri, url=text_of(posted.get("url")) or None)

    def _resolve(self, uri: str) -> str:
        """This instance's id for the status at ``uri`` (fetched over ActivityPub if needed)."""
        result = self._guard_uri(uri)
        for status in (result or {}).get("statuses") or []:
            if text_of(status.get("uri")) == uri or text_of(status.get("url")) == uri:
                return text_of(status.get("id"))
        raise ReplyError(f"{uri}: not found from {self.instance} (deleted, or not reachable)")

    def _guard_uri(self, uri: str) -> Any:
        return self._guard(
            None,
            lambda: self.client.search_v2(
                uri, resolve=True, result_type="statuses", exclude_unreviewed=False
            ),
        )

    def _guard(self, target: ReplyTarget | None, call: Callable[[], Any]) -> Any:
        where = target.external_id if target else self.instance
        try:
            return api_call(self.client, where, call)
        except AdapterError as exc:
            raise ReplyError(str(exc), retryable=not is_auth_error(exc)) from exc
        except Refused as exc:
            raise ReplyError(f"{where}: refused: {exc}", retryable=False) from exc
