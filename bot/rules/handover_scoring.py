"""Which terms of the mentions handed over from A to B are telling: the words B's rule misses.

A term is telling when more people used it in A-to-B hand-overs than its share among the
mentions A kept would predict. Both sides are counted in people: one account posting the same
complaint ten times is one voice (a city's 311 system names nobody, so there each request is
its own voice). The score is that excess, in people: ``authors - people * rate_in_A``, where
``rate_in_A`` is add-one (Laplace) smoothed: a term never seen in a sample of 1,000 counts as
about 1 in 1,000, and with no kept mentions at all as 1 in 2 (knowing nothing of A, only
terms in most hand-overs stand out). A term must also be ``MIN_LIFT`` times as common in the
hand-overs as in A, and not a fluke: each candidate carries the chance of that many people
using it were the hand-overs like A's kept mentions (:mod:`bot.rules.significance`), to be judged
over all pairs at once (in a pair of few hand-overs a common word often looks twice as
common).

A phrase and a word in it say the same thing twice: the word is dropped when it is in no more
mentions than the phrase (the phrase is the more precise keyword), and otherwise the better
scored of the two is kept.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

from bot.core.sources import UNFOLDED
from bot.core.text import fold
from bot.rules.keyword_terms import terms
from bot.rules.significance import more_than_chance
from storage.rules.stats import MentionText

MIN_LIFT = 2.0

Hit = tuple[int, str]  # (mention id, author key)


def author_key(mention: MentionText) -> str:
    """Who wrote it, as far as a person can be told apart; unknown authors are each their own."""
    author = mention.author.strip()
    if not author or mention.source in UNFOLDED:
        return f"#{mention.id}"
    return f"{mention.source}:{fold(author)}"


def mention_terms(mention: MentionText) -> set[str]:
    # The title is routed with the text (see bot/intake/ingest.py), so a keyword may come from it.
    return terms(f"{mention.title}\n{mention.text}" if mention.title else mention.text)


class Background:
    """How common each term is among a sample of the mentions a department kept."""

    def __init__(self, term_sets: Iterable[Collection[str]]) -> None:
        self.size = 0
        self.counts: Counter[str] = Counter()
        for found in term_sets:
            self.size += 1
            self.counts.update(found)

    def rate(self, term: str) -> float:
        return (self.counts[term] + 1) / (self.size + 2)


@dataclass(frozen=True)
class Candidate:
    term: str
    hits: tuple[Hit, ...]  # newest mention first
    authors: int
    score: float
    p_value: float  # the chance of `authors` people or more, were it no more common than in A

    def examples(self, n: int) -> tuple[int, ...]:
        """Up to *n* mention ids, newest first, one per author before any second one."""
        seen: set[str] = set()
        first: list[int] = []
        again: list[int] = []
        for mention_id, author in self.hits:
            (again if author in seen else first).append(mention_id)
            seen.add(author)
        return tuple((first + again)[:n])


def candidates(
    handed: Sequence[tuple[int, str, Collection[str]]],
    background: Background,
    *,
    min_count: int,
    covered: Callable[[str], bool],
) -> list[Candidate]:
    """The terms of ``handed`` (mention id, author key, terms) in ``min_count`` mentions or
    more and not already ``covered``, in no order.

    Only those by at least two people (one, if ``min_count`` is 1) and ``MIN_LIFT`` times as
    common as in ``background`` get a p-value below 1. The others are returned all the same:
    they were looked at, and leaving them out of the count of tests would make the flukes
    among the rest look rarer than they are.
    """
    by_term: dict[str, list[Hit]] = defaultdict(list)
    for mention_id, author, found in handed:
        for term in found:
            by_term[term].append((mention_id, author))
    people = len({author for _, author, _ in handed})
    need_authors = min(2, min_count)
    worth: list[Candidate] = []
    for term, hits in by_term.items():
        if len(hits) < min_count:
            continue
        if covered(term):
            continue
        authors = len({author for _, author in hits})
        rate = background.rate(term)
        chance = 1.0
        if authors >= need_authors and authors >= MIN_LIFT * rate * people:
            chance = more_than_chance(authors, people, background.counts[term], background.size)
        newest = tuple(sorted(hits, reverse=True))
        worth.append(Candidate(term, newest, authors, authors - people * rate, chance))
    return worth


def distinct(telling: Sequence[Candidate]) -> list[Candidate]:
    """One pair's telling terms, best first, without a word and a phrase saying the same."""
    count = {c.term: len(c.hits) for c in telling}
    redundant = {
        word
        for c in telling
        if " " in c.term
        for word in c.term.split(" ")
        if count.get(word) == len(c.hits)
    }
    kept: list[Candidate] = []
    for c in sorted(telling, key=lambda c: (-c.score, -len(c.hits), c.term)):
        words = set(c.term.split(" "))
        if c.term in redundant or any(_nested(words, set(k.term.split(" "))) for k in kept):
            continue
        kept.append(c)
    return kept


def _nested(a: set[str], b: set[str]) -> bool:
    return a <= b or b <= a
