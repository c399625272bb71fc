"""The routing engine: which department's channel does a citizen mention go to?

A department writes rules (:class:`RuleDef`): keywords, hashtags, regexes, required terms,
places, areas, languages, authors, service codes, sources, exclusions and a priority.
:class:`Router` compiles a rule set once and then routes each mention (its text, its source and
optionally a :class:`MentionContext`) to the best matching rule, or to nobody (``None``: the
caller sends it to triage).

Semantics
---------
Criteria come in kinds. Items *within* a kind are alternatives (OR); the kinds a rule gives
must *all* hold (AND); a kind the rule leaves empty does not constrain it. A rule matches a
mention when

* **text**: any keyword, hashtag or regex hits (these three are one kind, OR-ed: a rule with
  none of them passes), and
* **require**: every required term hits (AND, unlike keywords), and
* **places**: any place name occurs in the text, and
* **areas**: the mention's point (``context.lat``/``lon``) lies in any of the areas, and
* **languages**: the mention's language is one of them, and
* **service_codes**: the mention's Open311 service code is one of them, and
* **authors**: the mention's author is one of them, and
* **sources**: the mention's source is one of them (case-insensitively), and
* **exclude**: none of the exclusions hits (an exclusion is a veto, whatever else matched).

In short: (any text criterion hits, or none given) AND every other given kind matches AND all
``require`` terms hit AND no ``exclude`` term hits. For "keywords OR area", write two rules.

A mention without a context, or whose context lacks the field a kind tests, fails rules of that
kind: no coordinates, no area match. The exception is language: an unknown language (``None``,
blank or "und") matches only rules that list ``"unknown"`` among their languages, so a rule for
French mentions does not also take every mention too short to tell. Languages compare by
primary subtag ("fr-CA" is "fr"); authors as whole handles, case-insensitively, a leading "@"
optional, and for "Name <address>" by the address alone; service codes case-insensitively (see
:mod:`bot.routing._criteria`). Among matching rules the lowest ``priority`` wins; equal
priorities go to the rule given first. A rule with no criteria at all is a catch-all.

Keywords, required terms, exclusions and places are whole words or phrases compared on folded
text (see :mod:`bot.core.text`): case- and accent-insensitive, and any run of non-word characters
(spaces, punctuation, '-', '#', emoji) separates words, so "street light" matches
"STREET-LIGHT" and "Street  light!". "bin" matches neither "binance" nor "cabin" nor "bins"; a
trailing ``*`` makes a prefix, so "bin*" matches "bins" and "binance" (exclude "binance" to veto
that); places take no ``*``. A keyword also matches inside a hashtag ("pothole" matches
"#pothole"), but a hashtag criterion only matches a hashtag ("#Élections" matches hashtag
"elections"; the bare word does not). Punctuation inside a keyword is only a separator ("c++"
is the word "c"): use a regex when the punctuation matters. In scripts written without spaces
(Chinese, Japanese, Thai, ...) every character is a word, so a keyword matches wherever its
characters appear in that order. The last word of a place is also read as an English street
suffix: "Boylston Street" matches "Boylston St." and "BOYLSTON ST" (st/street, ave/avenue,
rd/road, blvd/boulevard and a few more: :data:`bot.routing._criteria.STREET_SUFFIXES`).

Regexes are Python regexes searched case-insensitively in the original text and, failing that,
in the folded text, so ``montreal`` also finds "Montréal" (write patterns without accents to
get that).

Areas are named polygons (wards, districts) in an :class:`AreaIndex` given to the router; a
point on an area's boundary is inside it, so on a shared boundary it is in both neighbours (see
:mod:`bot.routing._geo`). ``cc`` is carried to :attr:`Match.cc` untouched: copying the mention
to a second department is the caller's business.

How it is fast
--------------
:class:`Router` never loops over rules per mention. It compiles the rule set once into an index
(:mod:`bot.routing._index`) that each mention, folded and tokenised once, looks up; regexes run
only when literals they require occur in the text (:mod:`bot.routing._regex`). Rules are indexed
by their text criteria; the other kinds are checked only for the candidates found, and rules
without text criteria are indexed by a place, a required term, a service code, an author, an
area, a source or a language instead. Reasons, which word matched quoted from the original
text, are built only for returned matches (:mod:`bot.routing._reasons`). Those modules are
internal: import from this one.

A :class:`Router` is safe to share between threads: the rules and indexes never change after
construction, and the per-word memo only holds entries that any thread would compute
identically (it is cleared, not trimmed, when full).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from bot.routing._compile import RuleError, check_rule_shape, compile_rule, source_key
from bot.routing._criteria import (
    STREET_SUFFIXES,
    MentionContext,
    author_key,
    language_key,
    place_variants,
    point_of,
    service_key,
)
from bot.routing._geo import AreaIndex
from bot.routing._index import RuleIndex
from bot.routing._reasons import reason, veto_reason
from bot.routing._rule import CompiledRule, Mention, RuleDef

__all__ = [
    "STREET_SUFFIXES",
    "AreaIndex",
    "Explanation",
    "Match",
    "MentionContext",
    "Router",
    "RuleDef",
    "RuleError",
    "Veto",
    "author_key",
    "language_key",
    "place_variants",
    "point_of",
    "service_key",
]


@dataclass(frozen=True)
class Match:
    """The rule a mention was routed by, a human-readable why, and who else to copy."""

    rule: str
    department: str
    reason: str
    cc: str | None = None  # the rule's cc department, if any


class Veto(NamedTuple):
    """A rule that would have matched but for an exclusion (a plain ``(rule, reason)`` pair)."""

    rule: str
    reason: str


class Explanation(list[Match]):
    """Every rule that matches a mention, best first; ``.vetoed`` lists the excluded ones.

    It *is* a ``list[Match]`` (``explanation[0]`` is what :meth:`Router.route` returns), so
    callers that only want the matches can ignore the extra attribute. ``vetoed`` holds, in
    priority order, the rules whose every other criterion matched but whose exclusion hit,
    with a reason naming both, e.g. ``Veto("waste", 'exclude "binance" matched "Binance"
    (keyword "bin*" matched "Binance")')``. Rules that failed for any other reason are not
    listed: they simply do not apply.
    """

    def __init__(self, matches: Iterable[Match] = (), vetoed: Iterable[Veto] = ()) -> None:
        super().__init__(matches)
        self.vetoed: list[Veto] = list(vetoed)

    def __repr__(self) -> str:
        return f"Explanation({list(self)!r}, vetoed={self.vetoed!r})"


class Router:
    """Routes mentions through a rule set compiled once (see the module docstring)."""

    def __init__(self, rules: Sequence[RuleDef], areas: AreaIndex | None = None) -> None:
        """Validate and compile *rules*; raise :class:`RuleError` on the first bad one.

        *areas* holds the polygons that rules' ``areas`` name; a rule naming an area it does
        not have (or any area, without it) is an error. Disabled rules are validated too (a
        typo should surface when the config is loaded, not the day someone enables the rule)
        but never route anything.
        """
        self._rules = tuple(rules)
        self._areas = areas
        seen: set[str] = set()
        enabled: list[tuple[int, int, RuleDef]] = []
        for index, rule in enumerate(self._rules):
            check_rule_shape(rule)
            if rule.name in seen:
                raise RuleError(rule.name, "duplicate rule name")
            seen.add(rule.name)
            if rule.enabled:
                enabled.append((rule.priority, index, rule))
            else:
                compile_rule(rule, -1, areas)  # validation only
        enabled.sort(key=lambda entry: (entry[0], entry[1]))
        self._compiled: tuple[CompiledRule, ...] = tuple(
            compile_rule(rule, rank, areas) for rank, (_, _, rule) in enumerate(enabled)
        )
        self._index = RuleIndex(self._compiled)

    @property
    def rules(self) -> tuple[RuleDef, ...]:
        """All rules exactly as given, in the given order, disabled ones included."""
        return self._rules

    @property
    def areas(self) -> AreaIndex | None:
        """The areas rules may name, as given."""
        return self._areas

    def route(
        self, text: str, source: str, *, context: MentionContext | None = None
    ) -> Match | None:
        """The best matching rule for a mention, or ``None`` when no rule matches (triage)."""
        mention = Mention(text, context, self._areas)
        src = source_key(source)
        hits, maybes = self._index.scan(mention)
        for rank in self._index.candidates(mention, src, hits, maybes):
            rule = self._compiled[rank]
            if rule.applies(mention, src, hits) and rule.first_veto(mention) is None:
                return Match(rule.name, rule.department, reason(rule, mention, source), rule.cc)
        return None

    def explain(
        self, text: str, source: str, *, context: MentionContext | None = None
    ) -> Explanation:
        """Every matching rule in priority order, plus the rules vetoed by an exclusion.

        ``explain(...)[0]`` (when there is one) is what :meth:`route` returns. See
        :class:`Explanation` for the shape.
        """
        mention = Mention(text, context, self._areas)
        src = source_key(source)
        hits, maybes = self._index.scan(mention)
        result = Explanation()
        for rank in self._index.candidates(mention, src, hits, maybes):
            rule = self._compiled[rank]
            if not rule.applies(mention, src, hits):
                continue
            why = reason(rule, mention, source)
            veto = rule.first_veto(mention)
            if veto is None:
                result.append(Match(rule.name, rule.department, why, rule.cc))
            else:
                result.vetoed.append(Veto(rule.name, veto_reason(veto, mention, why)))
        return result
