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

Design: compile once, index, never loop over rules per mention
--------------------------------------------------------------
A naive router tries one regex per rule per mention: with a thousand rules that is a thousand
regex scans of every text. Here each mention is folded and tokenised once, and the rule set is
compiled into indexes the mention's tokens look up:

* single words: a dict token -> rules, intersected with the mention's token set (in C);
* phrases: the same lookup on the phrase's first token, then a substring check of
  ``" street light "`` in the mention's tokens joined by single spaces (exact whole-token
  sequence, because tokens never contain spaces);
* prefixes ("bin*"): each distinct word of the mention is looked up, per prefix length, in
  a dict of prefixes;
* hashtags: a set intersection;
* regexes: CPython's ``re`` tries an alternation branch by branch at every position, so one
  combined alternation of 100 rule regexes as a prefilter costs about as much as running them
  one by one (measured ~180 us for a 300-character text, against a ~50 us budget). Instead
  each regex is parsed once to extract literals that any match must contain
  (``\\bpot\\s*holes?\\b`` needs "hole"; see ``_regex_literals``), and the rule's regex
  runs only when one of them occurs in the folded text. A literal made of word characters can
  only occur inside one word, so it is looked for word by word. Regexes with no usable literal
  (``\\d{5}``) run for every mention;
* the per-word lookups (prefixes, regex literals) loop over prefix lengths and literals, so
  their result is memoised per distinct word: mentions keep reusing the same few thousand
  words, and a word seen before costs one dict lookup;
* rules without text criteria are precomputed per source.

The candidates found this way are tried in priority order, checking source, regex and
exclusions only for them, and the first that passes wins. Reasons (which word matched, quoted
from the original text) are built only for returned matches.

A :class:`Router` is safe to share between threads: the rules and indexes never change after
construction, and the per-word memo only holds entries that any thread would compute
identically (it is cleared, not trimmed, when full).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, NamedTuple

from bot.text import (
    HASHTAG_RE,
    TOKEN_RE,
    fold,
    hashtags,
    is_plain_word,
    original_span,
    tokenize,
)

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
# Compiled forms


@dataclass(frozen=True, slots=True)
class _Term:
    """A keyword or exclusion, folded and split into tokens."""

    raw: str  # as written, for reasons
    tokens: tuple[str, ...]
    prefix: bool
    # What to look for in _Mention.joined: " a b " for whole words, " a b" for a prefix.
    needle: str


@dataclass(frozen=True, slots=True)
class _Rule:
    """A compiled, enabled rule. ``rank`` is its place in priority order (0 = tried first)."""

    rank: int
    name: str
    department: str
    sources: frozenset[str] | None  # None = any source
    keywords: tuple[_Term, ...]
    hashtags: tuple[tuple[str, str], ...]  # (as written, folded without '#')
    regexes: tuple[re.Pattern[str], ...]
    excludes: tuple[_Term, ...]

    @property
    def has_text(self) -> bool:
        return bool(self.keywords or self.hashtags or self.regexes)


class _Mention:
    """One mention, normalised once and shared by every index lookup and check."""

    __slots__ = ("_tags", "folded", "joined", "text", "token_set")

    def __init__(self, text: str) -> None:
        self.text = text
        self.folded = fold(text)
        tokens = tokenize(self.folded)
        self.token_set = set(tokens)
        # Single spaces around every token: " a b " in joined <=> a, b are consecutive tokens.
        self.joined = " " + " ".join(tokens) + " "
        self._tags: set[str] | None = None

    @property
    def tags(self) -> set[str]:
        if self._tags is None:
            self._tags = hashtags(self.folded)
        return self._tags

    def regex_hit(self, rx: re.Pattern[str]) -> re.Match[str] | None:
        """Search the original text, then the folded text (only if folding changed anything)."""
        hit = rx.search(self.text)
        if hit is None and self.folded != self.text:
            hit = rx.search(self.folded)
        return hit


# Per-word memo entry: (ranks hit by a keyword prefix, ranks whose regex literal is in the word).
_WordEntry = tuple[tuple[int, ...], tuple[int, ...]]
_NO_WORD_ENTRY: _WordEntry = ((), ())
_WORD_MEMO_SIZE = 50_000  # distinct words: a few MB at most
_WORD_MEMO_MAX_LENGTH = 40


def _source_key(source: str) -> str:
    return source.strip().casefold()


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
        self._compiled: tuple[_Rule, ...] = tuple(
            _compile_rule(rule, rank) for rank, (_, _, rule) in enumerate(enabled)
        )
        self._build_indexes()

    @property
    def rules(self) -> tuple[RuleDef, ...]:
        """All rules exactly as given, in the given order, disabled ones included."""
        return self._rules

    def route(self, text: str, source: str) -> Match | None:
        """The best matching rule for a mention, or ``None`` when no rule matches (triage)."""
        mention = _Mention(text)
        src = _source_key(source)
        hits, maybes = self._scan(mention)
        for rank in self._candidates(src, hits, maybes):
            rule = self._compiled[rank]
            if self._applies(rule, mention, src, hits) and _first_veto(rule, mention) is None:
                return Match(rule.name, rule.department, _reason(rule, mention, source))
        return None

    def explain(self, text: str, source: str) -> Explanation:
        """Every matching rule in priority order, plus the rules vetoed by an exclusion.

        ``explain(...)[0]`` (when there is one) is what :meth:`route` returns. See
        :class:`Explanation` for the shape.
        """
        mention = _Mention(text)
        src = _source_key(source)
        hits, maybes = self._scan(mention)
        result = Explanation()
        for rank in self._candidates(src, hits, maybes):
            rule = self._compiled[rank]
            if not self._applies(rule, mention, src, hits):
                continue
            reason = _reason(rule, mention, source)
            veto = _first_veto(rule, mention)
            if veto is None:
                result.append(Match(rule.name, rule.department, reason))
            else:
                why = f'exclude "{veto.raw}" matched {_quote_term(veto, mention)} ({reason})'
                result.vetoed.append(Veto(rule.name, why))
        return result

    # ---------------------------------------------------------------------------- internals

    def _build_indexes(self) -> None:
        single: dict[str, list[int]] = {}
        phrases: dict[str, dict[str, list[int]]] = {}  # first token -> needle -> ranks
        prefixes: dict[str, list[int]] = {}  # prefix (one token) -> ranks
        tags: dict[str, list[int]] = {}
        regex_literals: dict[str, list[int]] = {}
        regex_always: list[int] = []
        no_text_any: list[int] = []  # no text criteria, any source
        no_text_by_source: dict[str, list[int]] = {}
        for rule in self._compiled:
            rank = rule.rank
            for term in rule.keywords:
                if len(term.tokens) > 1:
                    phrases.setdefault(term.tokens[0], {}).setdefault(term.needle, []).append(rank)
                elif term.prefix:
                    prefixes.setdefault(term.tokens[0], []).append(rank)
                else:
                    single.setdefault(term.tokens[0], []).append(rank)
            for _, tag in rule.hashtags:
                tags.setdefault(tag, []).append(rank)
            if rule.regexes:
                literals = [_regex_literals(rx.pattern) for rx in rule.regexes]
                if any(lits is None for lits in literals):
                    regex_always.append(rank)
                else:
                    for lits in literals:
                        for literal in lits or ():
                            regex_literals.setdefault(literal, []).append(rank)
            if not rule.has_text:
                if rule.sources is None:
                    no_text_any.append(rank)
                else:
                    for src in rule.sources:
                        no_text_by_source.setdefault(src, []).append(rank)

        def ranks(found: list[int]) -> tuple[int, ...]:
            return tuple(sorted(set(found)))

        self._single = {token: ranks(found) for token, found in single.items()}
        self._single_keys = frozenset(self._single)
        self._phrases = {
            first: tuple((needle, ranks(found)) for needle, found in by_needle.items())
            for first, by_needle in phrases.items()
        }
        self._phrase_keys = frozenset(self._phrases)
        by_length: dict[int, dict[str, tuple[int, ...]]] = {}
        for prefix, found in prefixes.items():
            by_length.setdefault(len(prefix), {})[prefix] = ranks(found)
        self._prefixes = tuple(sorted(by_length.items()))
        self._tags = {tag: ranks(found) for tag, found in tags.items()}
        self._tag_keys = frozenset(self._tags)
        # A literal made only of word characters can only occur inside one word, so it is
        # looked for word by word (and memoised); any other literal in the whole folded text.
        # Word literals are bucketed by their first two characters, so a new word is checked
        # only against the literals starting with one of its character pairs, not against all.
        buckets: dict[str, list[tuple[str, tuple[int, ...]]]] = {}
        short: list[tuple[str, tuple[int, ...]]] = []
        for literal, found in regex_literals.items():
            if is_plain_word(literal):
                entry = (literal, ranks(found))
                if len(literal) >= 2:
                    buckets.setdefault(literal[:2], []).append(entry)
                else:
                    short.append(entry)
        self._literal_buckets = {pair: tuple(entries) for pair, entries in buckets.items()}
        self._literal_bucket_keys = frozenset(self._literal_buckets)
        self._short_literals = tuple(short)
        self._text_literals = tuple(
            (literal, ranks(found))
            for literal, found in regex_literals.items()
            if not is_plain_word(literal)
        )
        self._regex_always = ranks(regex_always)
        self._no_text_any = ranks(no_text_any)
        self._no_text_by_source = {
            src: ranks(found + no_text_any) for src, found in no_text_by_source.items()
        }
        self._per_word = bool(self._prefixes or self._literal_buckets or self._short_literals)
        self._word_memo: dict[str, _WordEntry] = {}

    def _scan(self, mention: _Mention) -> tuple[set[int], set[int]]:
        """Look the mention up in every index.

        Returns ``(hits, maybes)``: ranks of rules whose keyword or hashtag criteria hit, and
        ranks of regex rules that passed the literal prefilter (their regex still has to run).
        """
        hits: set[int] = set()
        maybes: set[int] = set()
        token_set = mention.token_set
        if self._single_keys:
            single = self._single
            for token in token_set.intersection(self._single_keys):
                hits.update(single[token])
        if self._phrase_keys:
            joined = mention.joined
            for first in token_set.intersection(self._phrase_keys):
                for needle, found in self._phrases[first]:
                    if needle in joined:
                        hits.update(found)
        if self._per_word:
            memo = self._word_memo
            for token in token_set:
                entry = memo.get(token)
                if entry is None:
                    entry = self._word_entry(token)
                if entry is not _NO_WORD_ENTRY:
                    hits.update(entry[0])
                    maybes.update(entry[1])
        if self._tag_keys and "#" in mention.folded:
            for tag in mention.tags.intersection(self._tag_keys):
                hits.update(self._tags[tag])
        if self._text_literals:
            folded = mention.folded
            for literal, found in self._text_literals:
                if literal in folded:
                    maybes.update(found)
        return hits, maybes

    def _word_entry(self, token: str) -> _WordEntry:
        """What one word contributes via prefixes and regex literals, memoised.

        Both lookups cost a loop per word (over prefix lengths, over the character pairs of the
        word), but a city's mentions reuse the same few thousand words, so each distinct word
        pays once. The memo is bounded and simply restarts when full; it
        is the Router's only mutable state, and racing threads can at worst compute an entry
        twice (dict get/set are atomic).
        """
        hits: set[int] = set()
        for length, by_prefix in self._prefixes:
            if length > len(token):
                break
            found = by_prefix.get(token[:length])
            if found:
                hits.update(found)
        maybes: set[int] = set()
        if self._literal_bucket_keys:
            pairs = {token[i : i + 2] for i in range(len(token) - 1)}
            for pair in pairs.intersection(self._literal_bucket_keys):
                for literal, found in self._literal_buckets[pair]:
                    if literal in token:
                        maybes.update(found)
        for literal, found in self._short_literals:
            if literal in token:
                maybes.update(found)
        entry = (tuple(hits), tuple(maybes)) if hits or maybes else _NO_WORD_ENTRY
        if len(token) <= _WORD_MEMO_MAX_LENGTH:  # a 5 KB "word" is noise, not vocabulary
            if len(self._word_memo) >= _WORD_MEMO_SIZE:
                self._word_memo.clear()
            self._word_memo[token] = entry
        return entry

    def _candidates(self, src: str, hits: set[int], maybes: set[int]) -> list[int]:
        """Ranks that may match, in priority order: text hits, regex maybes, no-text rules."""
        candidates = hits | maybes
        candidates.update(self._regex_always)
        candidates.update(self._no_text_by_source.get(src, self._no_text_any))
        return sorted(candidates)

    @staticmethod
    def _applies(rule: _Rule, mention: _Mention, src: str, hits: set[int]) -> bool:
        """Source and text criteria (not exclusions) for one candidate."""
        if rule.sources is not None and src not in rule.sources:
            return False
        if rule.rank in hits or not rule.has_text:
            return True
        return any(mention.regex_hit(rx) is not None for rx in rule.regexes)


def _first_veto(rule: _Rule, mention: _Mention) -> _Term | None:
    for term in rule.excludes:
        if term.needle in mention.joined:
            return term
    return None


# --------------------------------------------------------------------------------------------
# Reasons: built only for returned matches, so they may take their time.


def _reason(rule: _Rule, mention: _Mention, source: str) -> str:
    parts: list[str] = []
    why = _text_reason(rule, mention)
    if why:
        parts.append(why)
    if rule.sources is not None:
        parts.append(f"source is {source}")
    return ", ".join(parts) if parts else "catch-all rule"


def _text_reason(rule: _Rule, mention: _Mention) -> str | None:
    for term in rule.keywords:
        if term.needle in mention.joined:
            return f'keyword "{term.raw}" matched {_quote_term(term, mention)}'
    for raw, tag in rule.hashtags:
        if tag in mention.tags:
            for found in HASHTAG_RE.finditer(mention.folded):
                if found.group(1) == tag:
                    quoted = _quote_folded(mention, found.start(), found.end())
                    return f"hashtag #{raw.removeprefix('#')} matched {quoted}"
    for rx in rule.regexes:
        hit = rx.search(mention.text)
        if hit is not None:
            return f"regex {_one_line(rx.pattern)} matched {_quote(hit.group())}"
        if mention.folded != mention.text:
            hit = rx.search(mention.folded)
            if hit is not None:
                quoted = _quote_folded(mention, hit.start(), hit.end())
                return f"regex {_one_line(rx.pattern)} matched {quoted}"
    return None


def _quote_term(term: _Term, mention: _Mention) -> str:
    """Quote, from the original text, the first occurrence of *term* (which must be there)."""
    joined = mention.joined
    at = joined.find(term.needle)
    first = joined.count(" ", 0, at)  # tokens before the match
    spans = list(islice(TOKEN_RE.finditer(mention.folded), first, first + len(term.tokens)))
    if not spans:  # cannot happen while fold/tokenize agree; never fail a route over a quote
        return '"?"'
    # Whole tokens: for "bin*" this quotes "bins", not just the "bin" the prefix needed.
    return _quote_folded(mention, spans[0].start(), spans[-1].end())


def _quote_folded(mention: _Mention, start: int, end: int) -> str:
    """Quote the original text behind the folded span ``[start, end)``."""
    orig_start, orig_end = original_span(mention.text, start, end)
    return _quote(mention.text[orig_start:orig_end])


def _one_line(text: str) -> str:
    """Reasons are shown on one line (Slack messages, CLI tables), verbose regexes included."""
    return " ".join(text.split())


def _quote(found: str, limit: int = 60) -> str:
    """Quote matched text on one line, cut short: a regex like ``.*`` can match kilobytes."""
    flat = _one_line(found)
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return f'"{flat}"'


# --------------------------------------------------------------------------------------------
# Compiling and validating rules


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


def _compile_rule(rule: RuleDef, rank: int) -> _Rule:
    name = rule.name
    sources = frozenset(_source_key(src) for src in rule.sources)
    if "" in sources:
        raise RuleError(name, "empty source name")
    return _Rule(
        rank=rank,
        name=name,
        department=rule.department,
        sources=sources or None,
        keywords=tuple(_compile_term(name, "keyword", raw) for raw in rule.keywords),
        hashtags=tuple((raw.strip(), _compile_hashtag(name, raw)) for raw in rule.hashtags),
        regexes=tuple(_compile_regex(name, raw) for raw in rule.regex),
        excludes=tuple(_compile_term(name, "exclude", raw) for raw in rule.exclude),
    )


def _compile_term(rule: str, kind: str, raw: str) -> _Term:
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
    return _Term(raw=raw.strip(), tokens=tokens, prefix=prefix, needle=needle)


def _compile_hashtag(rule: str, raw: str) -> str:
    tag = fold(raw.strip().removeprefix("#"))
    if not re.fullmatch(r"\w+", tag):
        raise RuleError(
            rule, f'hashtag "{raw}" must be one word of letters, digits or "_", without "#"'
        )
    return tag


def _compile_regex(rule: str, raw: str) -> re.Pattern[str]:
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


# --------------------------------------------------------------------------------------------
# Regex prefilter: literals that every match must contain
#
# We walk the parse tree of CPython's own regex parser (re._parser, private but stable since
# 3.11 and what re.compile itself uses). Each node yields
#   exact:    the finite set of strings it can match, if small (None = unknown/too many);
#   required: a set of strings one of which every match contains (None = nothing known).
# Any failure or unknown construct degrades to None, which means "always run this regex": the
# prefilter may let too much through, never too little.
#
# Why a literal found this way is safe to look for in the *folded* text: a regex that matches
# text T (original or folded) under IGNORECASE matches the literal character by character, each
# pair of characters being case-insensitively equal, and such pairs fold to the same string
# (bot.text); fold works character by character and is idempotent, so fold(literal) occurs in
# fold(T). We therefore fold the literals and test `literal in mention.folded`.

_SET_LIMIT = 64  # cap on exact/required set sizes: bounds cross products, keeps checks cheap

try:
    _parser: Any = importlib.import_module("re._parser")
except ImportError:  # pragma: no cover - every supported CPython has it; degrade, don't fail
    _parser = None

_Strings = frozenset[str]
_Info = tuple[_Strings | None, _Strings | None]  # (exact, required)
_EMPTY: _Strings = frozenset({""})


def _regex_literals(pattern: str) -> frozenset[str] | None:
    """Folded strings one of which every match of *pattern* contains, or None if unknown."""
    if _parser is None:
        return None
    try:
        exact, required = _sequence(_parser.parse(pattern, re.IGNORECASE))
        best = _better(required, exact)
    except Exception:  # private API: any surprise only costs speed
        return None
    if best is None:
        return None
    literals = {fold(item) for item in best}
    # "hole" already covers "holes": keep only literals that contain no other literal.
    return frozenset(
        item for item in literals if not any(o != item and o in item for o in literals)
    )


def _score(strings: _Strings | None) -> tuple[int, int]:
    """Higher is more selective: longest shortest folded literal, then fewest alternatives."""
    if not strings:
        return (0, 0)
    return (min(len(fold(item)) for item in strings), -len(strings))


def _better(a: _Strings | None, b: _Strings | None) -> _Strings | None:
    best = a if _score(a) >= _score(b) else b
    return best if _score(best)[0] > 0 else None  # "" as a requirement says nothing


def _sequence(items: Iterable[tuple[Any, Any]]) -> _Info:
    best: _Strings | None = None
    run = _EMPTY  # exact strings of the current run of consecutive exact nodes
    all_exact = True
    for op, av in items:
        exact, required = _node(op, av)
        best = _better(best, required)
        if exact is not None and len(run) * len(exact) <= _SET_LIMIT:
            run = frozenset(left + right for left, right in _product(run, exact))
            continue
        all_exact = False
        best = _better(best, run)
        run = exact if exact is not None else _EMPTY
    best = _better(best, run)
    return (run if all_exact else None), best


def _union(sets: Iterable[_Strings]) -> _Strings:
    result: set[str] = set()
    for strings in sets:
        result.update(strings)
    return frozenset(result)


def _product(left: _Strings, right: _Strings) -> Iterator[tuple[str, str]]:
    return ((a, b) for a in left for b in right)


def _node(op: Any, av: Any) -> _Info:
    kind = getattr(op, "name", str(op))
    if kind == "LITERAL":
        return frozenset({chr(av)}), None
    if kind == "IN":
        if len(av) <= 8 and all(getattr(o, "name", "") == "LITERAL" for o, _ in av):
            return frozenset(chr(code) for _, code in av), None
        return None, None
    if kind in ("AT", "ASSERT", "ASSERT_NOT"):
        return _EMPTY, None  # zero-width: contributes "" to whatever surrounds it
    if kind == "SUBPATTERN":
        return _sequence(av[-1])
    if kind == "ATOMIC_GROUP":
        return _sequence(av)
    if kind == "BRANCH":
        infos = [_sequence(alternative) for alternative in av[1]]
        exacts = [exact for exact, _ in infos]
        exact_union: _Strings | None = None
        if all(exact is not None for exact in exacts):
            exact_union = _union(e for e in exacts if e is not None)
            if len(exact_union) > _SET_LIMIT:
                exact_union = None
        needs = [_better(required, exact) for exact, required in infos]
        required_union: _Strings | None = None
        if all(need is not None for need in needs):
            required_union = _union(n for n in needs if n is not None)
            if len(required_union) > _SET_LIMIT:
                required_union = None
        return exact_union, required_union
    if kind in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, high, body = av
        exact, required = _sequence(body)
        if low == 0:
            if high == 0:
                return _EMPTY, None
            if high == 1 and exact is not None:
                return exact | _EMPTY, None
            return None, None
        repeated: _Strings | None = None
        if low == high and exact is not None and len(exact) ** low <= _SET_LIMIT:
            repeated = _EMPTY
            for _ in range(low):
                repeated = frozenset(a + b for a, b in _product(repeated, exact))
        return repeated, _better(required, exact)  # the first repetition is always there
    return None, None  # ANY, NOT_LITERAL, CATEGORY, GROUPREF, conditionals, ...
