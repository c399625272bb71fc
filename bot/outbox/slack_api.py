"""The outbox's calls to Slack's Web API, and what Slack's answers mean for a retry.

:class:`SlackWriter` makes each call the way Slack expects it and reads every failure as
:class:`~bot.outbox.jobs.Retry` (with ``Retry-After`` on a 429, ``ambiguous`` when Slack may
have acted anyway) or :class:`~bot.outbox.jobs.GiveUp` (an answer no retry can change). It
also tags every post with its outbox id in the message ``metadata`` and can look that id up in
the channel or thread (:meth:`SlackWriter.find`): ``chat.postMessage`` has no idempotency key,
so after an uncertain attempt that look-up is what keeps a retry from posting twice.

When to look, when to pace and what to record is the worker's business
(:mod:`bot.outbox.delivery`); nothing here touches storage.
"""

from __future__ import annotations

import base64
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core import metrics
from bot.core.slack_ids import CARD_EVENT_TYPE
from bot.outbox.jobs import GiveUp, Job, Retry

# Slack's answer means the call had no effect and never will without a change by a person
# (invite the bot, unarchive the channel, fix the token): retrying only delays the alert.
PERMANENT = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "channel_is_archived",
    "invalid_blocks_format",
    "metadata_too_large",
    "ekm_access_denied",
    "team_access_not_granted",
    "not_allowed_token_type",
    "access_denied",
    "invalid_blocks",
    "msg_too_long",
    "no_text",
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "missing_scope",
    "message_not_found",
    "cant_update_message",
    "invalid_metadata_format",
    "user_not_found",
    "user_not_in_channel",
    "restricted_action",
    "too_many_attachments",
    "invalid_arguments",
}
# Slack may or may not have acted: look before posting again.
AMBIGUOUS = {"internal_error", "fatal_error", "request_timeout", "service_unavailable"}
HISTORY_PAGES = 10


class SlackWriter:
    """Posts, updates, ephemerals and file shares for outbox jobs, over one ``WebClient``."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def message(self, job: Job) -> dict[str, Any]:
        """A reminder or direct message: plain ``chat.postMessage``, no metadata; with a
        ``ts`` in the payload, an edit of a message posted so (an approval's draft card)."""
        if job.payload.get("ts"):
            return self.update(
                channel=job.channel_id,
                ts=str(job.payload["ts"]),
                text=job.payload["text"],
                blocks=job.payload.get("blocks"),
            )
        channel = job.channel_id
        if job.payload.get("open_dm") and channel[:1] in ("U", "W"):
            # A page (bot/urgent): open the direct message first, as Slack documents for DMs.
            channel = self.call("conversations.open", users=channel)["channel"]["id"]
        response = self.call(
            "chat.postMessage",
            channel=channel,
            text=job.payload["text"],
            blocks=job.payload.get("blocks"),
            unfurl_links=False,
            unfurl_media=False,
        )
        return {"channel": response["channel"], "ts": response["ts"]}

    def ephemeral(self, job: Job) -> dict[str, Any]:
        self.call(
            "chat.postEphemeral",
            channel=job.channel_id,
            user=job.payload["user"],
            text=job.payload["text"],
        )
        return {}

    def update(
        self, *, channel: str, ts: str | None, text: str, blocks: list[dict[str, Any]] | None
    ) -> dict[str, Any]:
        self.call("chat.update", channel=channel, ts=ts, text=text, blocks=blocks)
        return {"channel": channel, "ts": ts}

    def upload(self, job: Job) -> dict[str, Any]:
        """Share a file (``files_upload_v2``); a person's id means their direct messages."""
        channel = job.channel_id
        if channel[:1] in ("U", "W"):
            channel = self.call("conversations.open", users=channel)["channel"]["id"]
        try:
            self.client.files_upload_v2(
                channel=channel,
                file=base64.b64decode(job.payload["data"]),
                filename=job.payload["filename"],
                title=job.payload.get("title"),
                initial_comment=job.payload.get("comment"),
                alt_txt=job.payload.get("alt_txt"),
            )
        except SlackApiError as exc:
            raise self.classify("files.upload_v2", exc) from exc
        return {"channel": channel}

    def post(
        self,
        job: Job,
        *,
        text: str,
        blocks: list[dict[str, Any]] | None,
        thread_ts: str | None = None,
        broadcast: bool = False,
    ) -> dict[str, Any]:
        """Post to the job's channel (or thread), carrying the outbox id in ``metadata``."""
        args: dict[str, Any] = {
            "channel": job.channel_id,
            "text": text,
            "metadata": {
                "event_type": CARD_EVENT_TYPE,
                "event_payload": {"outbox_id": job.id, "mention_id": job.mention_id or 0},
            },
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if blocks is not None:
            args["blocks"] = blocks
        if thread_ts is not None:
            args["thread_ts"] = thread_ts
            if broadcast:
                args["reply_broadcast"] = True  # also shown in the channel
        response = self.call("chat.postMessage", **args)
        return {"channel": response["channel"], "ts": response["ts"]}

    def find(self, job: Job, thread_ts: str | None) -> str | None:
        """The ts of the message this job posted before, if Slack has it."""
        cursor = None
        for _ in range(HISTORY_PAGES):
            if thread_ts is not None:
                page = self.call(
                    "conversations.replies",
                    channel=job.channel_id,
                    ts=thread_ts,
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
            else:
                oldest = f"{job.created_at.timestamp() - 60:.6f}"
                page = self.call(
                    "conversations.history",
                    channel=job.channel_id,
                    oldest=oldest,
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
            for message in page.get("messages", []):
                meta = message.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if meta.get("event_type") == CARD_EVENT_TYPE and payload.get("outbox_id") == job.id:
                    return str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None

    def call(self, method: str, **args: Any) -> dict[str, Any]:
        try:
            # The SDK's own method sends each one the way Slack expects (JSON or form).
            call = getattr(self.client, method.replace(".", "_"))
            response = call(**{k: v for k, v in args.items() if v is not None})
        except SlackApiError as exc:
            raise self.classify(method, exc) from exc
        return dict(response.data) if isinstance(response.data, dict) else {}

    @staticmethod
    def classify(method: str, exc: SlackApiError) -> Exception:
        """Slack's failed answer as ``Retry`` or ``GiveUp`` (and counted in the metrics)."""
        status = exc.response.status_code
        error = str(exc.response.get("error", "")) if isinstance(exc.response.data, dict) else ""
        metrics.SLACK_ERRORS.labels(method=method, error=error or str(status)).inc()
        if status == 429 or error == "ratelimited":
            after = float(
                exc.response.headers.get("Retry-After")
                or exc.response.headers.get("retry-after")
                or 1
            )
            return Retry(f"{method}: rate limited", after=after, rate_limited=True)
        if error in PERMANENT:
            return GiveUp(f"{method}: {error}", code=error)
        ambiguous = status >= 500 or error in AMBIGUOUS or error.startswith("Received a response")
        code = error if error and not error.startswith("Received a response") else f"http_{status}"
        return Retry(f"{method}: {error or status}", ambiguous=ambiguous, code=code)
