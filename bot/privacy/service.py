"""The privacy service: the retention purge, and citizens' export and erase requests, for the
command line, the daily job and the comms team in Slack.

Every request (done, refused, or about nobody) is written to the audit log ``privacyrequest``
with who asked and a keyed hash of whom it was about, never the handle itself. In Slack only
the comms team may ask; an export is sent to the asker as a JSON file in a direct message,
and an erasure is confirmed with a button before anything is removed.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from bot.config.comms import CommsTeam
from bot.config.retention import RetentionConfig
from bot.core.clock import Clock
from bot.privacy import requests, retention
from bot.privacy.identity import Hasher, install_secret, keys_of
from bot.privacy.requests import Erasure
from bot.privacy.retention import EXPORT_PREFIX, PurgeCounts
from storage import outbox
from storage.db import session_scope
from storage.models import OutboxKind
from storage.privacy import queries

log = logging.getLogger(__name__)
REFUSED = "Only the comms team can see or erase a citizen's data."


@dataclass(frozen=True)
class PurgeReport:
    dry_run: bool
    cutoffs: retention.Cutoffs
    counts: PurgeCounts

    def lines(self) -> list[str]:
        verb = "would remove" if self.dry_run else "removed"
        cut = self.cutoffs
        out = []
        for source, n in sorted(self.counts.mentions.items()):
            out.append(f"{source}: {verb} the content of {n} mention(s)")
        if not self.counts.mentions:
            out.append(f"mentions: nothing past its time ({_when(cut)})")
        if cut.events is not None:
            out.append(
                f"events: {verb} the details of {self.counts.events} record(s) from before "
                f"{cut.events:%Y-%m-%d}"
            )
        if not self.dry_run:
            out.append(f"cards: {self.counts.cards} update(s) queued")
        return out


def _when(cut: retention.Cutoffs) -> str:
    parts = [f"{s} before {at:%Y-%m-%d}" for s, at in sorted(cut.by_source.items())]
    if cut.default is not None:
        parts.append(f"others before {cut.default:%Y-%m-%d}")
    return ", ".join(parts) or "no citizen data retention set"


class Privacy:
    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        config: RetentionConfig,
        comms: CommsTeam,
        author_lists: Mapping[str, Sequence[str]],
        secret: str | None = None,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.config = config
        self.comms = comms
        self.author_lists = author_lists
        self.wake = wake
        self._secret = secret
        self._hasher: Hasher | None = None

    @property
    def hasher(self) -> Hasher:
        if self._hasher is None:
            with session_scope(self.engine) as session:
                self._hasher = Hasher(install_secret(session, self._secret))
        return self._hasher

    def allowed(self, user: str) -> bool:
        return self.comms.includes(user)

    # The retention purge.
    def purge(self, *, dry_run: bool = False, actor: str = "schedule") -> PurgeReport:
        now = self.clock.now()
        cut = retention.cutoffs(self.config, now)
        if dry_run or not self.config.active:
            with session_scope(self.engine) as session:
                counts = retention.preview(session, cut) if self.config.active else PurgeCounts()
            return PurgeReport(dry_run=True, cutoffs=cut, counts=counts)
        counts = PurgeCounts()
        hasher = self.hasher  # before any unit of work: it may need one of its own
        more = True
        while more:  # one transaction per batch
            with session_scope(self.engine) as session:
                more = retention.remove_batch(
                    session, cut=cut, now=now, hasher=hasher, counts=counts
                )
        while cut.events is not None:
            with session_scope(self.engine) as session:
                if not retention.prune_events(session, before=cut.events, counts=counts):
                    break
        with session_scope(self.engine) as session:
            if cut.latest is not None:
                queries.scrub_old_outbox(session=session, before=cut.latest)
            queries.scrub_sent(session=session, prefix=EXPORT_PREFIX)
            queries.log_purge(
                session=session,
                at=now,
                actor=actor,
                cutoffs=cut.as_dict(),
                counts=counts.as_dict(),
            )
        if counts.cards:
            self.wake()
        log.info("retention purge", extra={"counts": counts.as_dict(), "actor": actor})
        return PurgeReport(dry_run=False, cutoffs=cut, counts=counts)

    # Citizens' requests.
    def export(self, authors: Sequence[str], *, actor: str) -> dict[str, Any]:
        keys = keys_of(authors)
        if not keys:
            raise ValueError("name a handle or an e-mail address")
        now, hasher = self.clock.now(), self.hasher
        with session_scope(self.engine) as session:
            data = requests.export(
                session, authors=authors, now=now, author_lists=self.author_lists, hasher=hasher
            )
            found = len(data["mentions"])
            queries.log_request(
                session=session,
                at=now,
                action="export",
                actor=actor,
                subject_hash=hasher.keys(keys),
                outcome="done" if found or data["muted"] else "nothing",
                counts={"mentions": found},
            )
        return data

    def erase(self, authors: Sequence[str], *, actor: str) -> Erasure:
        keys = keys_of(authors)
        if not keys:
            raise ValueError("name a handle or an e-mail address")
        now, hasher = self.clock.now(), self.hasher
        with session_scope(self.engine) as session:
            done = requests.erase(session, authors=authors, now=now, hasher=hasher)
            queries.log_request(
                session=session,
                at=now,
                action="erase",
                actor=actor,
                subject_hash=done.subject,
                outcome="done" if done.found else "nothing",
                counts=done.as_dict(),
            )
        if done.cards:
            self.wake()
        log.info("erasure", extra={"counts": done.as_dict(), "actor": actor})
        return done

    def refuse(self, action: str, authors: Sequence[str], *, actor: str) -> str:
        """Record a request from someone not allowed to make it; the answer for them."""
        hasher = self.hasher
        with session_scope(self.engine) as session:
            queries.log_request(
                session=session,
                at=self.clock.now(),
                action=action,
                actor=actor,
                subject_hash=hasher.keys(keys_of(authors)),
                outcome="refused",
            )
        return REFUSED

    def asked(self, action: str, authors: Sequence[str], *, actor: str) -> int:
        """Record an erasure asked for in Slack and not yet confirmed; how many mentions the
        identities have (for the confirmation)."""
        keys, hasher = keys_of(authors), self.hasher
        with session_scope(self.engine) as session:
            found = len(requests.mentions_by(session, keys))
            queries.log_request(
                session=session,
                at=self.clock.now(),
                action=action,
                actor=actor,
                subject_hash=hasher.keys(keys),
                outcome="asked",
                counts={"mentions": found},
            )
        return found

    def send_export(self, authors: Sequence[str], *, user: str, key: str) -> int:
        """Export to a comms team member: a JSON file in their direct messages (the payload
        is emptied by the next purge once sent). How many mentions it holds."""
        data = self.export(authors, actor=user)
        body = json.dumps(data, indent=2, ensure_ascii=False).encode()
        with session_scope(self.engine) as session:
            outbox.enqueue(
                session=session,
                kind=OutboxKind.FILE,
                idem_key=f"{EXPORT_PREFIX}{key}",
                channel_id=user,
                now=self.clock.now(),
                payload={
                    "data": base64.b64encode(body).decode(),
                    "filename": "engage-data-export.json",
                    "title": "Data export",
                    "comment": f"The data Engage holds about {len(authors)} identit(y/ies): "
                    f"{len(data['mentions'])} mention(s).",
                },
            )
        self.wake()
        return len(data["mentions"])

    def tell(self, *, user: str, channel: str, text: str, key: str) -> None:
        """A message only the asker sees, in the channel they asked from."""
        with session_scope(self.engine) as session:
            outbox.enqueue(
                session=session,
                kind=OutboxKind.EPHEMERAL,
                idem_key=f"privacy:tell:{key}",
                channel_id=channel,
                now=self.clock.now(),
                payload={"user": user, "text": text},
            )
        self.wake()


def erased_text(done: Erasure) -> str:
    if not done.found:
        return "Nothing to erase: no stored mention is by that author (erased already?)."
    muted = " They were muted; the mute is lifted with the rest." if done.unmuted else ""
    return (
        f"Erased the content of {done.mentions} mention(s) and updated {done.cards} card(s). "
        f"The audit log records that an erasure happened, without the data.{muted}"
    )


def now_key(at: datetime) -> str:
    return at.strftime("%Y%m%dT%H%M%S%f")
