"""Triage that resists brigading: decide, before a card is posted, whether it should be one.

- A muted author's mention is stored and counted, never posted.
- A near-duplicate of a recent card in the same department (same or lightly edited text, any
  account) is folded into that card, which shows a running count and the authors.
- An author past ``flood_limit`` posts in ``flood_window`` is folded into their first card, but
  only a person posting from their own account: a feed, a web form, a 311 system or the city's
  own account is never folded by author (its items are many people's, or the city's), nor
  folded as a near-duplicate of its own earlier items (a 311 feed's items are alike by design,
  and each web form submission is someone's report), and an anonymous sender is not one
  author. Near-duplicates from people's accounts, or across sources, still fold.
- Abusive language earns a "handle with care" label and goes to the comms team (triage) first.

Nothing is dropped silently: folded and muted mentions are stored, with an event each.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.config.adapters import AdapterBase, own_accounts
from bot.config.file import BrigadingConfig
from bot.core.sources import ANONYMOUS, PERSON_SOURCES, UNFOLDED
from bot.intake.screening.care import needs_care
from bot.intake.screening.fingerprint import near, simhash
from storage.intake import folding


@dataclass(frozen=True)
class Decision:
    fingerprint: int
    muted: bool = False
    fold_into: int | None = None  # the mention whose card shows this one
    fold_reason: str | None = None  # "near-duplicate" or "flood"
    care: list[str] = field(default_factory=list)  # the words that earned the label
    author_key: int | None = None  # stored with the mention: (source, author) hashed


class Brigading:
    def __init__(self, config: BrigadingConfig, adapters: Sequence[AdapterBase] = ()) -> None:
        self.config = config
        # Adapters that say whether their mentions are people's own posts (else the source's
        # default), and the city's own accounts, which are never folded by author.
        self.person_accounts = {
            a.name: a.person_accounts for a in adapters if a.person_accounts is not None
        }
        self.city_accounts = {_plain(name) for a in adapters for name in own_accounts(a)}

    def author_key(self, *, source: str, author: str) -> int | None:
        """Who posted it, hashed (stored and indexed); ``None`` for an anonymous sender."""
        if _plain(author) in ANONYMOUS:
            return None
        digest = hashlib.blake2b(f"{source}\0{author.strip()}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True)

    def is_person(self, *, source: str, adapter: str = "") -> bool:
        """Whether the source's authors are people posting from their own accounts: not a
        feed, a form or a 311 system (see :data:`PERSON_SOURCES`)."""
        return self.person_accounts.get(adapter, source in PERSON_SOURCES)

    def is_city(self, author: str) -> bool:
        return _plain(author) in self.city_accounts

    def decide(
        self,
        session: Session,
        *,
        text: str,
        author: str,
        department: str | None,
        now: datetime,
        source: str = "",
        adapter: str = "",
    ) -> Decision:
        fingerprint = simhash(text)
        care = needs_care(text, self.config.care_words)
        key = self.author_key(source=source, author=author)
        person = self.is_person(source=source, adapter=adapter)
        city = person and self.is_city(author)
        if folding.is_muted(session=session, author=author):
            return Decision(fingerprint, muted=True, care=care, author_key=key)
        if source in UNFOLDED:
            return Decision(fingerprint, care=care, author_key=key)
        since = now - timedelta(minutes=self.config.window)
        for root in folding.recent_roots(session=session, department=department, since=since):
            if not person and (root.source, root.adapter) == (source, adapter):
                continue  # a feed's or a form's own items are each their own, however alike
            if city and root.author_key == key:
                continue  # so are the city's own posts
            if root.fingerprint is not None and near(
                fingerprint, root.fingerprint, length=len(text), limit=self.config.distance
            ):
                return Decision(
                    fingerprint,
                    fold_into=root.id,
                    fold_reason="near-duplicate",
                    care=care,
                    author_key=key,
                )
        if person and not city and key is not None:
            target = folding.flood_target(
                session=session,
                author_key=key,
                since=now - timedelta(minutes=self.config.flood_window),
                limit=self.config.flood_limit,
            )
            if target is not None:
                return Decision(
                    fingerprint, fold_into=target, fold_reason="flood", care=care, author_key=key
                )
        return Decision(fingerprint, care=care, author_key=key)


def _plain(author: str) -> str:
    """An author as the config names accounts: no ``@`` or ``u/`` before it, any case."""
    plain = author.strip().casefold()
    for prefix in ("@", "u/"):
        plain = plain.removeprefix(prefix)
    return plain


MUTED_AUTHOR_LIMIT = 255  # the stored author's length (storage.models.Muted)


def set_muted(
    session: Session, *, author: str, by: str, on: bool, allowed: bool, now: datetime
) -> str:
    """Mute or unmute an author (the comms team's call); the answer for the person asking."""
    if not allowed:
        return "Only the comms team can mute or unmute an author."
    author = author.strip()
    if not author:
        return "Say whom, as their author name appears on the card: `/engage mute @handle`."
    if len(author) > MUTED_AUTHOR_LIMIT:
        return f"No author name is that long (at most {MUTED_AUTHOR_LIMIT} characters)."
    if on:
        done = folding.mute(session=session, author=author, by=by, now=now)
        return (
            f"Muted {author}: their posts are stored and counted, not posted."
            if done
            else f"{author} was muted already."
        )
    done = folding.unmute(session=session, author=author)
    return f"Unmuted {author}." if done else f"{author} was not muted."
