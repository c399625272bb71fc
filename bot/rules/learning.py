"""Learning from hand-overs: how often each rule sends mentions to the wrong department, and
which words keep turning up in the mentions staff move from one department to another.

A hand-over is staff saying "the rule got this one wrong". :func:`misroute_rates` counts, per
rule, the share of the mentions it routed that were handed over at least once.
:func:`handover_suggestions` looks at the mentions routed to A that ended in B and finds the
terms they share that A's other mentions do not: the keywords B's rule is missing.

A mention handed over several times counts once, from the department it was routed to, to the
one it ended in (A to B to A counts for nobody). Evidence is counted in people, not posts (see
:mod:`bot.rules.handover_scoring`), so one account repeating a phrase does not make a suggestion.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.rules.handover_scoring import (
    Background,
    Candidate,
    author_key,
    candidates,
    distinct,
    mention_terms,
)
from bot.rules.keyword_coverage import KeywordCoverage
from bot.rules.significance import discoveries
from storage.rules import stats as routing_stats
from storage.rules.stats import HandedOver

# Bounds on the work, whatever the size of the history: the latest hand-overs, and for each
# department they came from a sample of the latest mentions it kept, enough to estimate how
# common a word is there.
HANDOVER_SCAN = 2000
KEPT_SAMPLE = 1000
EXAMPLES = 3
# Of the suggestions made, about this share at most may be flukes of chance.
FALSE_DISCOVERY_RATE = 0.05


@dataclass(frozen=True)
class RuleStats:
    rule: str
    routed: int  # mentions the rule routed in the period (cards of their own)
    handed_over: int  # of those, handed to another department at least once

    @property
    def misroute_rate(self) -> float:
        return self.handed_over / self.routed if self.routed else 0.0


def misroute_rates(session: Session, *, since: datetime) -> dict[str, RuleStats]:
    """Each rule that routed mentions received since ``since``, by name."""
    routed = Counter(routing_stats.routed_counts(session=session, since=since))
    handed: Counter[str] = Counter()
    for moved in routing_stats.rule_hand_overs(session=session, since=since):
        if moved.routed_to is None:
            # A "handle with care" label sent it to triage: the rule matched but did not
            # route it, and the comms team passing it on is the label working, not a misroute.
            routed[moved.rule] -= 1
        else:
            handed[moved.rule] += 1
    return {
        rule: RuleStats(rule=rule, routed=n, handed_over=handed[rule])
        for rule, n in sorted(routed.items())
        if n > 0
    }


@dataclass(frozen=True)
class Suggestion:
    from_department: str | None  # None: triage
    to_department: str
    term: str  # a word or two-word phrase, as a keyword a rule could use
    count: int  # hand-overs A->B whose text has the term
    handovers: int  # all mentions moved A->B in the period (of the latest HANDOVER_SCAN)
    examples: tuple[int, ...]  # a few mention ids, newest first, different authors first
    authors: int  # how many different people wrote those `count` mentions
    score: float  # how many more of them than A's kept mentions would predict


def handover_suggestions(
    session: Session,
    *,
    since: datetime,
    existing_keywords: Mapping[str, Collection[str]],
    min_count: int = 3,
    limit: int = 10,
) -> list[Suggestion]:
    """The best ``limit`` terms to add to a department's rule, most telling first.

    ``existing_keywords`` maps a department to the keywords its rules already have: a term
    one of them already matches is not suggested. A term must be in at least ``min_count``
    mentions moved from A to B, written by at least two people (one, if ``min_count`` is 1),
    be at least twice as common there as in the mentions A kept, and more common than
    chance explains (at most ``FALSE_DISCOVERY_RATE`` of suggestions expected to be flukes).
    Ties go by count, then term: the same history always gives the same list.
    """
    pairs: dict[tuple[str | None, str], list[HandedOver]] = defaultdict(list)
    for moved in routing_stats.latest_hand_overs(session=session, since=since, limit=HANDOVER_SCAN):
        if moved.routed_to != moved.ended_in:
            pairs[(moved.routed_to, moved.ended_in)].append(moved)
    coverage = KeywordCoverage(existing_keywords)
    backgrounds: dict[str | None, Background] = {}
    tested: list[tuple[str | None, str, Candidate]] = []
    for (source, target), group in sorted(pairs.items(), key=lambda p: (p[0][0] or "", p[0][1])):
        if source not in backgrounds:
            sample = routing_stats.kept(
                session=session, department=source, since=since, limit=KEPT_SAMPLE
            )
            backgrounds[source] = Background(mention_terms(m) for m in sample)
        handed = [(m.mention.id, author_key(m.mention), mention_terms(m.mention)) for m in group]
        worth = candidates(
            handed,
            backgrounds[source],
            min_count=min_count,
            covered=functools.partial(coverage.covers, target),
        )
        tested += [(source, target, c) for c in worth]
    accepted = discoveries([c.p_value for _, _, c in tested], FALSE_DISCOVERY_RATE)
    telling: dict[tuple[str | None, str], list[Candidate]] = defaultdict(list)
    for (source, target, c), ok in zip(tested, accepted, strict=True):
        if ok:
            telling[(source, target)].append(c)
    found = [
        _suggestion(source, target, len(pairs[(source, target)]), c)
        for (source, target), cs in telling.items()
        for c in distinct(cs)
    ]
    found.sort(key=lambda s: (-s.score, -s.count, s.term, s.from_department or "", s.to_department))
    return found[:limit]


def _suggestion(
    source: str | None, target: str, handovers: int, candidate: Candidate
) -> Suggestion:
    return Suggestion(
        from_department=source,
        to_department=target,
        term=candidate.term,
        count=len(candidate.hits),
        handovers=handovers,
        examples=candidate.examples(EXAMPLES),
        authors=candidate.authors,
        score=candidate.score,
    )
