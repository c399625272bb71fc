"""Answering citizens where they wrote: the staff member's answer, sent by the source's adapter.

The answer is recorded first (``answered``) and the reply travels as an outbox row, so a
platform that is down delays the reply without losing it. The outcome is an event
(``replied`` with the reply's link, or ``reply_failed`` with the reason) and a note in the
card's thread; a failed reply keeps its text and offers a retry button.

A reply that timed out may have been published anyway, and most platforms offer no idempotency
key for posts, so a plain retry after an *ambiguous* failure (a timeout, a 5xx, a connection
lost after sending: ``ReplyError(ambiguous=True)``, or a crash mid-call) could publish twice.
The outbox row remembers that its last attempt was uncertain (``needs_check``, as for Slack
posts), and :meth:`Replies.send` then asks the adapter first whether the reply is on the
platform already (:class:`~bot.core.adapter.ReplyFinder`: the city account's recent replies to
the same post, with the same text) and adopts it instead of posting again. The seam sits here,
between the outbox and the adapters, because the outbox knows an attempt was uncertain and only
the adapter knows how its platform lists the account's replies; neither needs the other's part.
A replier that cannot look keeps its own rule: it says ``retryable`` only when it knows nothing
was sent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.core.adapter import Replier, ReplyFinder, ReplyResult, ReplyTarget
from bot.core.blocks import actions, button, section
from bot.core.mrkdwn import escape, safe
from bot.core.slack_ids import ActionId
from bot.core.sources import source_label
from storage import cards, events, mentions, outbox
from storage.models import EventKind, OutboxKind

log = logging.getLogger(__name__)


class Replies:
    def __init__(self, repliers: Mapping[str, Replier]) -> None:
        self.repliers = dict(repliers)  # by adapter name: the account that brought the mention

    def platform(self, adapter: str) -> str | None:
        """The platform's name if a reply can be sent for mentions from ``adapter``."""
        replier = self.repliers.get(adapter)
        return source_label(replier.source) if replier else None

    def target(self, session: Session, mention_id: int) -> tuple[Replier, ReplyTarget]:
        mention = mentions.get(session=session, mention_id=mention_id)
        if mention is None:
            raise LookupError("the mention is gone")
        replier = self.repliers.get(mention.adapter)
        if replier is None:
            raise LookupError(f"no adapter named {mention.adapter!r} can reply any more")
        return replier, ReplyTarget(
            source=mention.source,
            external_id=mention.external_id,
            author=mention.author,
            url=mention.url,
            title=mention.title,
            extra=dict(mention.extra),
        )

    @staticmethod
    def send(
        replier: Replier, target: ReplyTarget, text: str, *, look_first: bool = False
    ) -> ReplyResult:
        """Send ``text`` as the reply; after an uncertain attempt (``look_first``), adopt the
        reply found on the platform instead, where the replier can look."""
        if look_first and isinstance(replier, ReplyFinder):
            found = replier.find_reply(target, text)
            if found is not None:
                log.info(
                    "reply found on the platform after an uncertain attempt; not sent again",
                    extra={"source": target.source, "reply": found.external_id},
                )
                return found
        return replier.reply(target, text)

    def record_success(
        self,
        session: Session,
        *,
        mention_id: int,
        actor: str | None,
        result: dict[str, Any],
        now: datetime,
    ) -> None:
        platform = self._platform_of(session, mention_id)
        events.record(
            session=session,
            mention_id=mention_id,
            kind=EventKind.REPLIED,
            actor=actor,
            at=now,
            data=result,
        )
        link = result.get("url")
        where = f"<{link}|on {platform}>" if _linkable(link) else f"on {platform}"
        self._note(
            session,
            mention_id,
            f"reply:{mention_id}:{result.get('external_id')}",
            now,
            f":outbox_tray: The answer was sent to the citizen {where}.",
            None,
        )

    def record_failure(
        self,
        session: Session,
        *,
        mention_id: int,
        actor: str | None,
        error: str,
        now: datetime,
        row_id: int,
    ) -> None:
        platform = self._platform_of(session, mention_id)
        events.record(
            session=session,
            mention_id=mention_id,
            kind=EventKind.REPLY_FAILED,
            actor=actor,
            at=now,
            data={"error": error},
        )
        text = (
            f":warning: The answer could not be sent on {platform}: {safe(error, 500)}. "
            "It is kept; try again when the problem is fixed."
        )
        blocks = [
            section(text),
            actions([button("Retry the reply", ActionId.RETRY_REPLY, str(mention_id))]),
        ]
        self._note(session, mention_id, f"reply-failed:{row_id}", now, text, blocks)

    def _platform_of(self, session: Session, mention_id: int) -> str:
        mention = mentions.get(session=session, mention_id=mention_id)
        return escape(source_label(mention.source)) if mention else "the platform"

    @staticmethod
    def _note(
        session: Session,
        mention_id: int,
        key: str,
        now: datetime,
        text: str,
        blocks: list[dict[str, Any]] | None,
    ) -> None:
        card = cards.active(session=session, mention_id=mention_id)
        if card is None:
            return
        outbox.enqueue_for_card(
            session=session,
            card=card,
            kind=OutboxKind.THREAD_REPLY,
            idem_key=f"note:{key}",
            now=now,
            payload={"text": text, **({"blocks": blocks} if blocks else {})},
        )


def _linkable(url: Any) -> bool:
    return (
        isinstance(url, str)
        and url.startswith(("https://", "http://"))
        and "|" not in url
        and ">" not in url
    )
