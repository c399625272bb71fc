"""Compiled rules and normalised mentions: the two forms every routing check works on.

Internal to :mod:`bot.routing`, which owns the semantics (see its docstring) and compiles
:class:`~bot.routing.RuleDef` into the :class:`CompiledRule` and :class:`Term` forms defined
here (:mod:`bot.routing._compile`). :mod:`bot.routing._index` finds candidate rules;
:meth:`CompiledRule.applies` and :meth:`CompiledRule.first_veto` decide, for candidates only.

Everything a check compares is normalised ahead of time: a rule's values when it is compiled,
a mention's text and context once per mention (:class:`Mention`), with the same functions
(:mod:`bot.core.text`, :mod:`bot.routing._criteria`), so a check is a set lookup or a substring
test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.core.text import fold, hashtags, tokenize
from bot.routing._criteria import (
    UNKNOWN_LANGUAGE,
    MentionContext,
    author_key,
    language_key,
    point_of,
    service_key,
)
from bot.routing._geo import AreaIndex

__all__ = ["CompiledRule", "Mention", "Place", "Term"]


@dataclass(frozen=True, slots=True)
class Term:
    """A keyword, required term or exclusion, folded and split into tokens."""

    raw: str  # as written, for reasons
    tokens: tuple[str, ...]
    prefix: bool
    # What to look for in Mention.joined: " a b " for whole words, " a b" for a prefix.
    needle: str


@dataclass(frozen=True, slots=True)
class Place:
    """A place name and the spellings it stands for (street suffix variants), itself first."""

    raw: str
    variants: tuple[Term, ...]


_NO_CONTEXT = MentionContext()


class Mention:
    """One mention, normalised once and shared by every index lookup and check."""

    __slots__ = (
        "_area_index",
        "_areas",
        "_tags",
        "author",
        "context",
        "folded",
        "joined",
        "language",
        "point",
        "service",
        "text",
        "token_set",
    )

    def __init__(
        self, text: str, context: MentionContext | None = None, areas: AreaIndex | None = None
    ) -> None:
        self.text = text
        self.folded = fold(text)
        tokens = tokenize(self.folded)
        self.token_set = set(tokens)
        # Single spaces around every token: " a b " in joined <=> a, b are consecutive tokens.
        self.joined = " " + " ".join(tokens) + " "
        self._tags: set[str] | None = None
        self._area_index = areas
        self._areas: frozenset[str] | None = None
        if context is None:
            self.context = _NO_CONTEXT
            self.language = UNKNOWN_LANGUAGE
            self.author = ""
            self.service: str | None = None
            self.point: tuple[float, float] | None = None
        else:
            self.context = context
            self.language = language_key(context.language)
            self.author = author_key(context.author) if context.author else ""
            self.service = service_key(context.service_code)
            self.point = point_of(context.lat, context.lon)

    @property
    def tags(self) -> set[str]:
        """Hashtags, folded and without '#'; computed on first use (most texts need none)."""
        if self._tags is None:
            self._tags = hashtags(self.folded)
        return self._tags

    @property
    def areas(self) -> frozenset[str]:
        """Names of the areas containing the mention's point; computed on first use."""
        if self._areas is None:
            if self.point is None or self._area_index is None:
                self._areas = frozenset()
            else:
                lon, lat = self.point
                self._areas = self._area_index.areas_at(lat, lon)
        return self._areas

    def regex_hit(self, rx: re.Pattern[str]) -> re.Match[str] | None:
        """Search the original text, then the folded text (only if folding changed anything)."""
        hit = rx.search(self.text)
        if hit is None and self.folded != self.text:
            hit = rx.search(self.folded)
        return hit


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A compiled, enabled rule. ``rank`` is its place in priority order (0 = tried first).

    ``None`` for a set-valued criterion means the rule does not ask about it; an empty tuple
    likewise for the others.
    """

    rank: int
    name: str
    department: str
    sources: frozenset[str] | None  # None = any source; else normalised by the compiler
    keywords: tuple[Term, ...]
    hashtags: tuple[tuple[str, str], ...]  # (as written, folded without '#')
    regexes: tuple[re.Pattern[str], ...]
    excludes: tuple[Term, ...]
    languages: frozenset[str] | None = None  # language keys, maybe "unknown"
    authors: frozenset[str] | None = None  # author keys
    service_codes: frozenset[str] | None = None  # service keys
    places: tuple[Place, ...] = ()
    areas: tuple[str, ...] = ()  # names as spelled in the AreaIndex
    requires: tuple[Term, ...] = ()
    cc: str | None = None
    has_text: bool = field(init=False)
    # Whether any criterion beyond text and source is given: the fast path skips them all.
    has_context: bool = field(init=False)
    place_needles: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        def set_(name: str, value: object) -> None:
            object.__setattr__(self, name, value)  # frozen: derived fields are set once here

        set_("has_text", bool(self.keywords or self.hashtags or self.regexes))
        set_("place_needles", tuple(t.needle for p in self.places for t in p.variants))
        set_(
            "has_context",
            self.languages is not None
            or self.authors is not None
            or self.service_codes is not None
            or bool(self.places or self.areas or self.requires),
        )

    def applies(self, mention: Mention, src: str, hits: set[int]) -> bool:
        """Every criterion except exclusions, for a candidate from the index.

        *hits* are the ranks whose keywords or hashtags already hit, so only the regexes of
        a rule that was merely a "maybe" are run here, and only once everything cheaper held.
        """
        if self.sources is not None and src not in self.sources:
            return False
        if self.has_context and not self.context_holds(mention):
            return False
        if self.rank in hits or not self.has_text:
            return True
        return any(mention.regex_hit(rx) is not None for rx in self.regexes)

    def context_holds(self, mention: Mention) -> bool:
        """Languages, service codes, authors, places, required terms and areas, cheapest first."""
        if self.languages is not None and mention.language not in self.languages:
            return False
        if self.service_codes is not None and mention.service not in self.service_codes:
            return False
        if self.authors is not None and mention.author not in self.authors:
            return False
        joined = mention.joined
        if self.place_needles and not any(needle in joined for needle in self.place_needles):
            return False
        if self.requires and not all(term.needle in joined for term in self.requires):
            return False
        return not self.areas or not mention.areas.isdisjoint(self.areas)

    def first_veto(self, mention: Mention) -> Term | None:
        """The first exclusion that hits *mention*, if any (a hit vetoes the rule)."""
        for term in self.excludes:
            if term.needle in mention.joined:
                return term
        return None


@dataclass(frozen=True)
class RuleDef:
    """One routing rule, as written in configuration (see the module docstring for semantics).

    New fields go at the end, with defaults, so positional construction keeps working.
    """

    name: str  # unique
    department: str  # department slug
    priority: int = 100  # lower number wins
    keywords: tuple[str, ...] = ()  # words or phrases, whole-word; trailing * = prefix
    hashtags: tuple[str, ...] = ()  # without '#'
    regex: tuple[str, ...] = ()  # Python regexes, case-insensitive
    sources: tuple[str, ...] = ()  # if non-empty, the mention's source must be one of these
    exclude: tuple[str, ...] = ()  # same syntax as keywords; any hit vetoes the rule
    enabled: bool = True
    languages: tuple[str, ...] = ()  # ISO 639-1 codes, or "unknown" for undetected ones
    authors: tuple[str, ...] = ()  # handles or addresses: "@rosa@mastodon.social", "u/joe"
    service_codes: tuple[str, ...] = ()  # Open311 service codes
    places: tuple[str, ...] = ()  # neighbourhoods, streets: phrases found in the text
    areas: tuple[str, ...] = ()  # names of areas in the Router's AreaIndex
    require: tuple[str, ...] = ()  # same syntax as keywords; all must hit
    cc: str | None = None  # a second department to copy the mention to, carried in Match.cc
