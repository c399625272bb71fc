"""The routing engine: which department's channel does a citizen mention go to?

A department writes rules (:class:`RuleDef`): keywords, hashtags, regexes, sources, exclusions
and a priority. :class:`Router` compiles a rule set once and then routes each mention to the
best matching rule, or to nobody (``None``: the caller sends it to triage).

Semantics
---------
A rule matches a mention when

* its text criteria hit: any keyword, hashtag or regex matches (a rule with none of the three
  has no text criteria and passes this test), and
* ``sources`` is empty or contains the mention's source (compared case-insensitively), and
* none of its ``exclude`` terms hits (an exclusion is a veto, whatever else matched).

Among matching rules the lowest ``priority`` wins; equal priorities go to the rule given first.
A rule without text criteria and without sources is a catch-all.

Keywords and exclusions are whole words or phrases compared on folded text (see
:mod:`bot.text`): case- and accent-insensitive, and any run of non-word characters (spaces,
punctuation, '-', '#', emoji) separates words, so "street light" matches "STREET-LIGHT" and
"Street  light!". "bin" matches neither "binance" nor "cabin" nor "bins"; a trailing ``*``
makes a prefix, so "bin*" matches "bins" and "binance" (exclude "binance" to veto that). A
keyword also matches inside a hashtag ("pothole" matches "#pothole"), but a hashtag criterion
only matches a hashtag ("#Élections" matches hashtag "elections"; the bare word does not).
Punctuation inside a keyword is only a separator ("c++" is the word "c"): use a regex when the
punctuation matters. In scripts written without spaces (Chinese, Japanese, Thai, ...) every
character is a word, so a keyword matches wherever its characters appear in that order.

Regexes are Python regexes searched case-insensitively in the original text and, failing that,
in the folded text, so ``montreal`` also finds "Montréal" (write patterns without accents to
get that).

How it is fast
--------------
:class:`Router` never loops over rules per mention. It compiles the rule set once into an index
(:mod:`bot.routing_index`) that each mention, folded and tokenised once, looks up; regexes run
only when literals they require occur in the text (:mod:`bot.routing_regex`). Reasons, which
word matched quoted from the original text, are built only for returned matches
(:mod:`bot.routing_reasons`). Those modules are internal: import from this one.

A :class:`Router` is safe to share between threads: the rules and indexes never change after
construction, and the per-word memo only holds entries that any thread would compute
identically (it is cleared, not trimmed, when full).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from bot.routing_index import CompiledRule, Mention, RuleIndex, Term
from bot.routing_reasons import reason, veto_reason
from bot.text import TOKEN_RE, fold, tokenize

__all__ = ["Explanation", "Match", "Router", "RuleDef", "RuleError", "Veto"]


@dataclass(frozen=True)
class RuleDef:
    """One routing rule, as written in configuration (see the module docstring for semantics)."""

    name: str  # unique
    department: str  # department slug
    priority: int = 100  # lower number wins
    keywords: tuple[str, ...] = ()  # words or phrases, whole-word; trailing * = prefix
    hashtags: tuple[str, ...] = ()  # without '#'
    regex: tuple[str, ...] = ()  # Python regexes, case-insensitive
    sources: tuple[str, ...] = ()  # if non-empty, the mention's source must be one of these
    exclude: tuple[str, ...] = ()  # same syntax as keywords; any hit vetoes the rule
    enabled: bool = True


@dataclass(frozen=True)
class Match:
    """The rule a mention was routed by, and a human-readable why."""

    rule: str
    department: str
    reason: str


class RuleError(ValueError):
    """A rule that cannot be compiled. Raised by :class:`Router` before any routing happens."""

    def __init__(self, rule: str, problem: str) -> None:
        super().__init__(f'rule "{rule}": {problem}')
        self.rule = rule
        self.problem = problem


class Veto(NamedTuple):
    """A rule that would have matched but for an exclusion (a plain ``(rule, reason)`` pair)."""

    rule: str
    reason: str


class Explanation(list[Match]):
    """Every rule that matches a mention, best first; ``.vetoed`` lists the excluded ones.

    It *is* a ``list[Match]`` (``explanation[0]`` is what :meth:`Router.route` returns), so
    callers that only want the matches can ignore the extra attribute. ``vetoed`` holds, in
    priority order, the rules whose text criteria and source matched but whose exclusion hit,
    with a reason naming both, e.g. ``Veto("waste", 'exclude "binance" matched "Binance"
    (keyword "bin*" matched "Binance")')``. Rules that failed for any other reason are not
    listed: they simply do not apply.
    """

    def __init__(self, matches: Iterable[Match] = (), vetoed: Iterable[Veto] = ()) -> None:
        super().__init__(matches)
        self.vetoed: list[Veto] = list(vetoed)

    def __repr__(self) -> str:
        return f"Explanation({list(self)!r}, vetoed={self.vetoed!r})"


# --------------------------------------------------------------------------------------------
# Router


class Router:
    """Routes mentions through a rule set compiled once (see the module docstring)."""

    def __init__(self, rules: Sequence[RuleDef]) -> None:
        """Validate and compile *rules*; raise :class:`RuleError` on the first bad one.

        Disabled rules are validated too (a typo should surface when the config is loaded,
        not the day someone enables the rule) but never route anything.
        """
        self._rules = tuple(rules)
        seen: set[str] = set()
        enabled: list[tuple[int, int, RuleDef]] = []
        for index, rule in enumerate(self._rules):
            _check_rule_shape(rule)
            if rule.name in seen:
                raise RuleError(rule.name, "duplicate rule name")
            seen.add(rule.name)
            if rule.enabled:
                enabled.append((rule.priority, index, rule))
            else:
                _compile_rule(rule, -1)  # validation only
        enabled.sort(key=lambda entry: (entry[0], entry[1]))
        self._compiled: tuple[CompiledRule, ...] = tuple(
            _compile_rule(rule, rank) for rank, (_, _, rule) in enumerate(enabled)
        )
        self._index = RuleIndex(self._compiled)

    @property
    def rules(self) -> tuple[RuleDef, ...]:
        """All rules exactly as given, in the given order, disabled ones included."""
        return self._rules

    def route(self, text: str, source: str) -> Match | None:
        """The best matching rule for a mention, or ``None`` when no rule matches (triage)."""
        mention = Mention(text)
        src = _source_key(source)
        hits, maybes = self._index.scan(mention)
        for rank in self._index.candidates(src, hits, maybes):
            rule = self._compiled[rank]
            if rule.applies(mention, src, hits) and rule.first_veto(mention) is None:
                return Match(rule.name, rule.department, reason(rule, mention, source))
        return None

    def explain(self, text: str, source: str) -> Explanation:
        """Every matching rule in priority order, plus the rules vetoed by an exclusion.

        ``explain(...)[0]`` (when there is one) is what :meth:`route` returns. See
        :class:`Explanation` for the shape.
        """
        mention = Mention(text)
        src = _source_key(source)
        hits, maybes = self._index.scan(mention)
        result = Explanation()
        for rank in self._index.candidates(src, hits, maybes):
            rule = self._compiled[rank]
            if not rule.applies(mention, src, hits):
                continue
            why = reason(rule, mention, source)
            veto = rule.first_veto(mention)
            if veto is None:
                result.append(Match(rule.name, rule.department, why))
            else:
                result.vetoed.append(Veto(rule.name, veto_reason(veto, mention, why)))
        return result


# --------------------------------------------------------------------------------------------
# Compiling and validating rules: RuleDef in, CompiledRule out, RuleError on anything wrong.


def _source_key(source: str) -> str:
    """Sources compare case- and whitespace-insensitively: " RSS" in a config is "rss"."""
    return source.strip().casefold()


_STRING_LISTS = ("keywords", "hashtags", "regex", "sources", "exclude")


def _check_rule_shape(rule: RuleDef) -> None:
    """Catch config-loading mistakes that the type hints cannot catch at runtime."""
    name = rule.name
    if not isinstance(name, str) or not name.strip():
        raise RuleError(str(name), "name must be a non-empty string")
    if not isinstance(rule.department, str) or not rule.department.strip():
        raise RuleError(name, "department must be a non-empty string")
    if isinstance(rule.priority, bool) or not isinstance(rule.priority, int):
        raise RuleError(name, f"priority must be an integer, not {rule.priority!r}")
    if not isinstance(rule.enabled, bool):  # the string "false" would be truthy
        raise RuleError(name, f"enabled must be true or false, not {rule.enabled!r}")
    for field in _STRING_LISTS:
        value = getattr(rule, field)
        # A YAML scalar where a list was meant would otherwise be split into characters.
        if isinstance(value, str) or not isinstance(value, Iterable):
            raise RuleError(name, f"{field} must be a list of strings, not {value!r}")
        for item in value:
            if not isinstance(item, str):
                raise RuleError(name, f"{field} must contain strings, not {item!r}")


def _compile_rule(rule: RuleDef, rank: int) -> CompiledRule:
    """Fold and compile everything routing compares, so no mention pays for it again."""
    name = rule.name
    sources = frozenset(_source_key(src) for src in rule.sources)
    if "" in sources:
        raise RuleError(name, "empty source name")
    return CompiledRule(
        rank=rank,
        name=name,
        department=rule.department,
        sources=sources or None,
        keywords=tuple(_compile_term(name, "keyword", raw) for raw in rule.keywords),
        hashtags=tuple((raw.strip(), _compile_hashtag(name, raw)) for raw in rule.hashtags),
        regexes=tuple(_compile_regex(name, raw) for raw in rule.regex),
        excludes=tuple(_compile_term(name, "exclude", raw) for raw in rule.exclude),
    )


def _compile_term(rule: str, kind: str, raw: str) -> Term:
    """Fold a keyword or exclusion with the same functions as mentions, so they agree."""
    body = raw.strip()
    prefix = body.endswith("*")
    if prefix:
        body = body[:-1]
    if "*" in body:
        raise RuleError(rule, f'{kind} "{raw}": "*" is only allowed at the end')
    folded = fold(body)
    tokens = tuple(tokenize(folded))
    if not tokens:
        raise RuleError(rule, f'{kind} "{raw}" has no letters or digits')
    if prefix and TOKEN_RE.fullmatch(folded[-1]) is None:
        # "street *": the star must extend a word, not stand on its own.
        raise RuleError(rule, f'{kind} "{raw}": "*" must directly follow a letter or digit')
    needle = " " + " ".join(tokens) + ("" if prefix else " ")
    return Term(raw=raw.strip(), tokens=tokens, prefix=prefix, needle=needle)


def _compile_hashtag(rule: str, raw: str) -> str:
    """A hashtag is one folded word: anything else could never equal a mention's hashtag."""
    tag = fold(raw.strip().removeprefix("#"))
    if not re.fullmatch(r"\w+", tag):
        raise RuleError(
            rule, f'hashtag "{raw}" must be one word of letters, digits or "_", without "#"'
        )
    return tag


def _compile_regex(rule: str, raw: str) -> re.Pattern[str]:
    """Compile case-insensitively, refusing patterns that would swallow every mention."""
    try:
        compiled = re.compile(raw, re.IGNORECASE)
    except (re.error, RecursionError, OverflowError, ValueError) as exc:
        raise RuleError(rule, f"bad regex {raw!r}: {exc}") from exc
    if compiled.search("") is not None:
        raise RuleError(
            rule,
            f"regex {raw!r} matches an empty text, so it would match every mention"
            " (to leave mentions out, use exclude)",
        )
    return compiled
