"""Who to nudge about an unclaimed mention, so that answering citizens is shared fairly.

A department's channel is a commons: if the bot always nudged whoever looks keenest, the same
two people would answer every angry citizen while the rest learn to wait. So the nudge goes to
whoever has engaged *least recently* in this department, never to the same person twice in a
row while anyone else could take it, never to someone who said they are away, and -- for
mentions labelled "handle with care" -- never to someone who already took their share of those
today, because facing abuse all day wears people down.

This module is deliberately pure: no storage, no Slack, no clock. The caller gathers the facts
(members, their last engagement, away status, today's care count) and passes them in, which
keeps the policy readable in one place and testable on small tables.

Tie-breaking: people who engaged at the same moment are first ordered by ``turn`` (one sweep
names several people at one ``now``, one per mention due: whoever was named first in it has
waited longest); the rest (most often: all "never") by a stable hash of their user id salted
with the previously picked user id, not alphabetically, so ``U0AAAA`` is not first in every
fresh department forever, yet the same inputs always give the same answer (blake2b, not
``hash()``, which changes between processes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["Candidate", "Pick", "Rotation", "pick"]


@dataclass(frozen=True)
class Candidate:
    """One member of the department as the caller sees them right now."""

    user_id: str
    # Last time they claimed/answered/were nudged in this department (None = never).
    last_engaged_at: datetime | None
    # Opted out for now (/engage away until <date>) or Slack presence/status says away.
    away: bool = False
    # Mentions labelled "handle with care" they took today.
    care_today: int = 0
    is_bot: bool = False
    # Among people who engaged at the same moment, a higher turn engaged later (the order in
    # which one sweep named them).
    turn: int = 0


@dataclass(frozen=True)
class Pick:
    """The decision, with a reason a person can read (it goes into logs and the nudge)."""

    user_id: str | None  # None: nobody available
    reason: str  # why this person (or why nobody)


def _aware(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC (SQLite hands them back naive), so that stored and
    fresh timestamps compare instead of raising TypeError."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _tie_rank(user_id: str, salt: str) -> bytes:
    """Stable across processes and runs, unlike ``hash()``; the salt rotates who wins ties."""
    return hashlib.blake2b(f"{salt}\x00{user_id}".encode(), digest_size=8).digest()


def _merge(candidates: Sequence[Candidate]) -> list[Candidate]:
    """One entry per user id, timestamps made aware. If the caller's gathering produced
    duplicates, keep the cautious view of each fact (most recent engagement, away if any says
    so, the highest care count, bot if any says so) rather than letting a stale duplicate win
    the rotation."""
    merged: dict[str, Candidate] = {}
    for cand in candidates:
        seen = merged.get(cand.user_id)
        latest = [
            (_aware(c.last_engaged_at), c.turn)
            for c in (cand, seen)
            if c is not None and c.last_engaged_at is not None
        ]
        at, turn = max(latest) if latest else (None, 0)
        merged[cand.user_id] = Candidate(
            user_id=cand.user_id,
            last_engaged_at=at,
            away=cand.away or (seen is not None and seen.away),
            care_today=max(cand.care_today, seen.care_today if seen else 0),
            is_bot=cand.is_bot or (seen is not None and seen.is_bot),
            turn=turn,
        )
    return list(merged.values())


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count == 1 else plural}"


def pick(
    candidates: Sequence[Candidate],
    *,
    last_picked: str | None,
    care: bool = False,
    care_limit: int = 2,
) -> Pick:
    """Choose who to nudge about one unclaimed mention.

    Rules, in order: bots never (they cannot answer a citizen); away people are skipped (they
    asked not to be disturbed, or Slack says they are gone); for a care mention, people who
    already took ``care_limit`` or more care mentions today are skipped (protect the people who
    face the public); of the rest, whoever engaged least recently, never-engaged first; not
    ``last_picked`` again while anyone else is available, but them rather than nobody.
    """
    people = _merge(candidates)
    bots = [c for c in people if c.is_bot]
    humans = [c for c in people if not c.is_bot]
    away = [c for c in humans if c.away]
    present = [c for c in humans if not c.away]
    spent = [c for c in present if care and c.care_today >= care_limit]
    available = [c for c in present if not (care and c.care_today >= care_limit)]

    skipped: list[str] = []
    if away:
        skipped.append(f"{len(away)} away")
    if spent:
        limit = _plural(care_limit, "care mention", "care mentions")
        skipped.append(f"{len(spent)} at today's limit of {limit}")
    if bots:
        skipped.append(_plural(len(bots), "bot", "bots"))
    skipped_note = f" (skipped {', '.join(skipped)})" if skipped else ""

    if not available:
        if not people:
            return Pick(None, "nobody available: the department has no members")
        return Pick(None, f"nobody available: {', '.join(skipped)}")

    others = [c for c in available if c.user_id != last_picked]
    if not others:
        only = available[0]
        return Pick(
            only.user_id,
            f"only one available, so picked again despite being picked last time{skipped_note}",
        )

    salt = last_picked or ""
    chosen = min(
        others,
        key=lambda c: (
            c.last_engaged_at is not None,
            c.last_engaged_at or datetime.min.replace(tzinfo=UTC),
            c.turn,
            _tie_rank(c.user_id, salt),
            c.user_id,
        ),
    )
    if chosen.last_engaged_at is None:
        why = "has never engaged in this department"
    else:
        when = chosen.last_engaged_at.isoformat(timespec="minutes")
        why = f"engaged least recently (last {when})"
    ties = [
        c
        for c in others
        if c is not chosen and (c.last_engaged_at, c.turn) == (chosen.last_engaged_at, chosen.turn)
    ]
    if ties:
        why += f"; tie with {_plural(len(ties), 'other', 'others')} broken by stable hash"
    return Pick(chosen.user_id, f"{why}{skipped_note}")


class Rotation:
    """A department's rotation kept in memory, for callers that pick many in a row: the sweep,
    naming one person per mention of a grouped reminder, and the fairness tests. Each pick
    counts as engagement at ``now``, in a later turn than the picks before it, so the person
    just nudged goes to the back of the queue even when several are named at one ``now``; a
    member returning from being away keeps their old timestamp and so is picked once, soon,
    and then rejoins the rotation rather than being handed the backlog.

    ``engaged`` seeds what is known already: each member's last engagement and its turn (see
    :attr:`Candidate.turn`); ``last_picked`` who was named last.
    """

    def __init__(
        self,
        members: Sequence[str],
        *,
        care_limit: int = 2,
        engaged: Mapping[str, tuple[datetime, int]] | None = None,
        last_picked: str | None = None,
    ) -> None:
        known = engaged or {}
        # dict keeps the members' order and drops duplicates.
        self._last_engaged: dict[str, tuple[datetime, int] | None] = {
            member: known.get(member) for member in members
        }
        self._turn = max((turn for _, turn in known.values()), default=0)
        self._last_picked = last_picked
        self._care_limit = care_limit

    @property
    def last_picked(self) -> str | None:
        return self._last_picked

    def next(
        self,
        *,
        now: datetime,
        away: Collection[str] = (),
        care: bool = False,
        care_counts: Mapping[str, int] | None = None,
    ) -> Pick:
        """Pick for one mention and record it. ``care_counts`` is each member's care mentions
        today as the caller counts them (what "today" means is the caller's time zone's
        business); None means nobody has taken any."""
        counts = care_counts or {}
        result = pick(
            [
                Candidate(
                    user_id=member,
                    last_engaged_at=engaged[0] if engaged else None,
                    away=member in away,
                    care_today=counts.get(member, 0),
                    turn=engaged[1] if engaged else 0,
                )
                for member, engaged in self._last_engaged.items()
            ],
            last_picked=self._last_picked,
            care=care,
            care_limit=self._care_limit,
        )
        if result.user_id is not None:
            self._turn += 1
            self._last_engaged[result.user_id] = (now, self._turn)
            self._last_picked = result.user_id
        return result
