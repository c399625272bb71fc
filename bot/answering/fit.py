"""Which saved replies fit a card, best first. Pure: the service reads, this ranks.

A reply for another department never fits (a city-wide one always may). Then, in order of
weight: a keyword of the reply found in the mention, the card's own department over
city-wide, the card's language over "any language" over another one, and the replies used most
first. A search (what the person typed in the menu) keeps only the replies whose title, text
or keywords contain every word typed, accents and case aside.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.core.text import fold, tokenize

KEYWORD = 8  # per keyword found in the mention (at most three count): outweighs the rest
OWN_DEPARTMENT = 4
CITY_WIDE = 2
SAME_LANGUAGE = 3
ANY_LANGUAGE = 1
OTHER_LANGUAGE = -4


@dataclass(frozen=True)
class Candidate:
    id: int
    title: str
    text: str
    department: str | None
    language: str | None
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Card:
    department: str | None  # None: triage (any department's reply may fit)
    language: str | None
    text: str


def score(reply: Candidate, card: Card) -> int | None:
    """How well ``reply`` fits ``card``; ``None``: it does not (another department's)."""
    if None not in (reply.department, card.department) and reply.department != card.department:
        return None
    points = OWN_DEPARTMENT if reply.department and reply.department == card.department else 0
    if reply.department is None:
        points += CITY_WIDE
    if reply.language is None:
        points += ANY_LANGUAGE
    elif card.language and _lang(reply.language) == _lang(card.language):
        points += SAME_LANGUAGE
    elif card.language:
        points += OTHER_LANGUAGE
    folded = fold(card.text)
    words = set(tokenize(folded))
    found = sum(1 for k in reply.keywords if _has(fold(k), folded, words))
    return points + KEYWORD * min(found, 3)


def matches(reply: Candidate, query: str) -> bool:
    """Every word of ``query`` is in the reply's title, text or keywords."""
    terms = tokenize(fold(query))
    if not terms:
        return True
    haystack = fold(" ".join((reply.title, reply.text, *reply.keywords)))
    return all(term in haystack for term in terms)


def rank(
    replies: Iterable[Candidate],
    card: Card,
    *,
    query: str = "",
    uses: Mapping[int, int] | None = None,
    limit: int = 100,
) -> list[Candidate]:
    used = uses or {}
    scored: list[tuple[int, int, str, int, Candidate]] = []
    for reply in replies:
        points = score(reply, card)
        if points is None or not matches(reply, query):
            continue
        scored.append((-points, -used.get(reply.id, 0), fold(reply.title), reply.id, reply))
    scored.sort(key=lambda row: row[:4])
    return [row[4] for row in scored[:limit]]


def label(reply: Candidate, names: Mapping[str, str] | None = None) -> str:
    """The reply as a menu shows it: "Pothole repair · fr · Public Works"."""
    parts: Sequence[str] = [
        reply.title,
        *([reply.language] if reply.language else []),
        (names or {}).get(reply.department or "", reply.department or "city-wide"),
    ]
    return " · ".join(parts)


def _lang(code: str) -> str:
    return code.split("-")[0].lower()


def _has(keyword: str, folded: str, words: set[str]) -> bool:
    if not keyword:
        return False
    if " " in keyword or not keyword.isalnum():
        return keyword in folded  # a phrase: as written, accents and case aside
    return keyword in words
