"""Triage that resists brigading: decide, before a card is posted, whether it should be one.

- A muted author's mention is stored and counted, never posted.
- A near-duplicate of a recent card in the same department (same or lightly edited text, any
  account) is folded into that card, which shows a running count and the authors.
- An author past ``flood_limit`` posts in ``flood_window`` is folded into their first card.
- Abusive language earns a "handle with care" label and goes to the comms team (triage) first.

Nothing is dropped silently: folded and muted mentions are stored, with an event each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.config.file import BrigadingConfig
from bot.core.sources import UNFOLDED
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


class Brigading:
    def __init__(self, config: BrigadingConfig) -> None:
        self.config = config

    def decide(
        self,
        session: Session,
        *,
        text: str,
        author: str,
        department: str | None,
        now: datetime,
        source: str = "",
    ) -> Decision:
        fingerprint = simhash(text)
        care = needs_care(text, self.config.care_words)
        if folding.is_muted(session=session, author=author):
            return Decision(fingerprint, muted=True, care=care)
        if source in UNFOLDED:
            return Decision(fingerprint, care=care)
        since = now - timedelta(minutes=self.config.window)
        for root, other in folding.recent_roots(
            session=session, department=department, since=since
        ):
            if other is not None and near(
                fingerprint, other, length=len(text), limit=self.config.distance
            ):
                return Decision(
                    fingerprint, fold_into=root, fold_reason="near-duplicate", care=care
                )
        if author:
            recent = folding.by_author(
                session=session,
                author=author,
                since=now - timedelta(minutes=self.config.flood_window),
            )
            if len(recent) >= self.config.flood_limit:
                first = next((m for m in recent if m.folded_into is None), recent[0])
                target = first.folded_into if first.folded_into is not None else first.id
                if target is not None:
                    return Decision(fingerprint, fold_into=target, fold_reason="flood", care=care)
        return Decision(fingerprint, care=care)


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
