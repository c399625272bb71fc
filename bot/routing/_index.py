"""The compiled rule index: from one mention to the few rules worth checking, without a loop.

Internal to :mod:`bot.routing`, which owns the semantics (see its docstring); the rules come
compiled (:mod:`bot.routing._rule`). This module owns how fast routing is.

Design: compile once, index, never loop over rules per mention
--------------------------------------------------------------
A naive router tries one regex per rule per mention: with a thousand rules that is a thousand
regex scans of every text. Here each mention is folded and tokenised once
(:class:`~bot.routing._rule.Mention`), and the rule set is compiled into indexes the mention's
tokens look up (:class:`RuleIndex`):

* single words: a dict token -> rules, intersected with the mention's token set (in C);
* phrases: the same lookup on the phrase's first token, then a substring check of
  ``" street light "`` in the mention's tokens joined by single spaces (exact whole-token
  sequence, because tokens never contain spaces);
* prefixes ("bin*"): each distinct word of the mention is looked up, per prefix length, in
  a dict of prefixes;
* hashtags: a set intersection;
* regexes: only those whose required literals (:mod:`bot.routing._regex`) occur in the folded
  text are run. A literal made of word characters can only occur inside one word, so it is
  looked for word by word. Regexes with no usable literal (``\\d{5}``) run for every mention;
* the per-word lookups (prefixes, regex literals) loop over prefix lengths and literals, so
  their result is memoised per distinct word: mentions keep reusing the same few thousand
  words, and a word seen before costs one dict lookup.

Rules without text criteria (no keyword, hashtag or regex) are not tried for every mention
either: each is filed under one *gate*, a criterion every mention it matches must meet, looked
up the cheap way. In order of preference: its place names (the words and phrases above), one
of its required terms, its service codes, its authors, its areas (the mention's point is looked
up in the :class:`~bot.routing._geo.AreaIndex` once), its sources, its languages. A rule with
none of these is a catch-all, tried for every mention. Languages come last because "en" is
most mentions; places first because a neighbourhood name is rarer than any code.

The candidates found this way are tried in priority order, and only they are checked fully
(:meth:`~bot.routing._rule.CompiledRule.applies`, ``first_veto``): context criteria of a rule
found by its keyword, regexes of a rule merely let through by the prefilter, and so on.

Rules are identified by ``rank``, their place in priority order, so sorting candidate ranks is
sorting by priority. A :class:`RuleIndex` never changes after construction except for its
per-word memo, which only holds entries that any thread would compute identically (it is
cleared, not trimmed, when full), so it is safe to share between threads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.core.text import is_plain_word
from bot.routing._regex import regex_literals
from bot.routing._rule import CompiledRule, Mention, Term

__all__ = ["RuleIndex"]

# Per-word memo entry: (ranks hit by a keyword prefix, ranks a prefix gate or a regex literal
# in the word makes candidates).
_WordEntry = tuple[tuple[int, ...], tuple[int, ...]]
_NO_WORD_ENTRY: _WordEntry = ((), ())
_WORD_MEMO_SIZE = 50_000  # distinct words: a few MB at most
_WORD_MEMO_MAX_LENGTH = 40

_Literals = tuple[tuple[str, tuple[int, ...]], ...]  # (folded literal, ranks needing it)
_Prefixes = tuple[tuple[int, dict[str, tuple[int, ...]]], ...]  # (length, prefix -> ranks)
_Ranks = tuple[int, ...]
_KEYED_GATES = ("service", "author", "area", "source", "language")


def _ranks(found: list[int]) -> _Ranks:
    """Deduplicated ranks in priority order (a rule may list the same word twice)."""
    return tuple(sorted(set(found)))


def _freeze(table: dict[str, list[int]]) -> dict[str, _Ranks]:
    return {key: _ranks(found) for key, found in table.items()}


def _by_length(prefixes: dict[str, list[int]]) -> _Prefixes:
    by_length: dict[int, dict[str, _Ranks]] = {}
    for prefix, found in prefixes.items():
        by_length.setdefault(len(prefix), {})[prefix] = _ranks(found)
    return tuple(sorted(by_length.items()))


class _Words:
    """Whole words and phrases (prefix phrases too, but not one-word prefixes) -> ranks."""

    def __init__(self, terms: Iterable[tuple[Term, int]]) -> None:
        single: dict[str, list[int]] = {}
        phrases: dict[str, dict[str, list[int]]] = {}  # first token -> needle -> ranks
        for term, rank in terms:
            if len(term.tokens) > 1:
                phrases.setdefault(term.tokens[0], {}).setdefault(term.needle, []).append(rank)
            else:
                single.setdefault(term.tokens[0], []).append(rank)
        self._single = _freeze(single)
        self._single_keys = frozenset(self._single)
        self._phrases = {
            first: tuple((needle, _ranks(found)) for needle, found in by_needle.items())
            for first, by_needle in phrases.items()
        }
        self._phrase_keys = frozenset(self._phrases)

    def scan(self, mention: Mention, into: set[int]) -> None:
        """Add the ranks of every word or phrase that occurs in *mention* to *into*."""
        token_set = mention.token_set
        if self._single_keys:
            single = self._single
            for token in token_set.intersection(self._single_keys):
                into.update(single[token])
        if self._phrase_keys:
            joined = mention.joined
            for first in token_set.intersection(self._phrase_keys):
                for needle, found in self._phrases[first]:
                    if needle in joined:
                        into.update(found)


class _Gates:
    """While indexing: rules without text criteria, each filed under one gate (see above)."""

    def __init__(self) -> None:
        self.terms: list[tuple[Term, int]] = []  # places and required terms, as words
        self.prefixes: dict[str, list[int]] = {}  # one-word required prefixes
        self.keyed: dict[str, dict[str, list[int]]] = {kind: {} for kind in _KEYED_GATES}
        self.catch_all: list[int] = []

    def file(self, rule: CompiledRule) -> None:
        """File *rule* under its most selective cheap criterion."""
        rank = rule.rank
        if rule.places:
            for place in rule.places:
                self.terms.extend((variant, rank) for variant in place.variants)
            return
        if rule.requires:
            # All must hit, so any one will do: a whole word rather than a prefix, the longest.
            term = max(rule.requires, key=lambda t: (not t.prefix, len(t.needle)))
            if term.prefix and len(term.tokens) == 1:
                self.prefixes.setdefault(term.tokens[0], []).append(rank)
            else:
                self.terms.append((term, rank))
            return
        for kind, keys in (
            ("service", rule.service_codes),
            ("author", rule.authors),
            ("area", rule.areas or None),
            ("source", rule.sources),
            ("language", rule.languages),
        ):
            if keys is not None:
                table = self.keyed[kind]
                for key in keys:
                    table.setdefault(key, []).append(rank)
                return
        self.catch_all.append(rank)


class RuleIndex:
    """Lookup tables over a compiled rule set, built once (see the module docstring)."""

    def __init__(self, rules: Sequence[CompiledRule]) -> None:
        """Index *rules*, whose ranks must be their positions in *rules*."""
        keywords: list[tuple[Term, int]] = []
        prefixes: dict[str, list[int]] = {}  # keyword prefix (one token) -> ranks
        tags: dict[str, list[int]] = {}
        literals: dict[str, list[int]] = {}
        regex_always: list[int] = []
        gates = _Gates()
        for rule in rules:
            rank = rule.rank
            for term in rule.keywords:
                if term.prefix and len(term.tokens) == 1:
                    prefixes.setdefault(term.tokens[0], []).append(rank)
                else:
                    keywords.append((term, rank))
            for _, tag in rule.hashtags:
                tags.setdefault(tag, []).append(rank)
            if rule.regexes:
                per_regex = [regex_literals(rx.pattern) for rx in rule.regexes]
                if any(lits is None for lits in per_regex):
                    regex_always.append(rank)
                else:
                    for lits in per_regex:
                        for literal in lits or ():
                            literals.setdefault(literal, []).append(rank)
            if not rule.has_text:
                gates.file(rule)

        self._keywords = _Words(keywords)
        self._prefixes = _by_length(prefixes)
        self._tags = _freeze(tags)
        self._tag_keys = frozenset(self._tags)
        self._index_literals(literals)
        self._regex_always = _ranks(regex_always)
        self._gates = _Words(gates.terms)
        self._gate_prefixes = _by_length(gates.prefixes)
        self._by_service = _freeze(gates.keyed["service"])
        self._by_author = _freeze(gates.keyed["author"])
        self._by_area = _freeze(gates.keyed["area"])
        self._by_language = _freeze(gates.keyed["language"])
        self._has_gate_terms = bool(gates.terms)
        self._has_keyed_gates = bool(
            self._by_service or self._by_author or self._by_area or self._by_language
        )
        # Catch-alls are tried for every mention; keep them merged into each source's list.
        self._catch_all = _ranks(gates.catch_all)
        self._by_source = {
            src: _ranks(found + gates.catch_all) for src, found in gates.keyed["source"].items()
        }
        self._per_word = bool(
            self._prefixes or self._gate_prefixes or self._literal_buckets or self._short_literals
        )
        self._word_memo: dict[str, _WordEntry] = {}

    def _index_literals(self, literals: dict[str, list[int]]) -> None:
        """Split regex literals into those looked for word by word and those in the text.

        A literal made only of word characters can only occur inside one word, so it is looked
        for word by word (and memoised); any other literal in the whole folded text. Word
        literals are bucketed by their first two characters, so a new word is checked only
        against the literals starting with one of its character pairs, not against all.
        """
        buckets: dict[str, list[tuple[str, _Ranks]]] = {}
        short: list[tuple[str, _Ranks]] = []
        for literal, found in literals.items():
            if is_plain_word(literal):
                entry = (literal, _ranks(found))
                if len(literal) >= 2:
                    buckets.setdefault(literal[:2], []).append(entry)
                else:
                    short.append(entry)
        self._literal_buckets: dict[str, _Literals] = {
            pair: tuple(entries) for pair, entries in buckets.items()
        }
        self._literal_bucket_keys = frozenset(self._literal_buckets)
        self._short_literals: _Literals = tuple(short)
        self._text_literals: _Literals = tuple(
            (literal, _ranks(found))
            for literal, found in literals.items()
            if not is_plain_word(literal)
        )

    def scan(self, mention: Mention) -> tuple[set[int], set[int]]:
        """Look the mention's text up in every text index.

        Returns ``(hits, maybes)``: ranks of rules whose keyword or hashtag criteria hit, and
        ranks that may match but need checking: regex rules that passed the literal prefilter
        (their regex still has to run), and rules without text whose place or required term
        occurs.
        """
        hits: set[int] = set()
        maybes: set[int] = set()
        self._keywords.scan(mention, hits)
        if self._has_gate_terms:
            self._gates.scan(mention, maybes)
        if self._per_word:
            memo = self._word_memo
            for token in mention.token_set:
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
        pays once. The memo is bounded and simply restarts when full; it is the index's only
        mutable state, and racing threads can at worst compute an entry twice (dict get/set
        are atomic).
        """
        hits: set[int] = set()
        maybes: set[int] = set()
        for table, into in ((self._prefixes, hits), (self._gate_prefixes, maybes)):
            for length, by_prefix in table:
                if length > len(token):
                    break
                found = by_prefix.get(token[:length])
                if found:
                    into.update(found)
        if self._literal_bucket_keys:
            pairs = {token[i : i + 2] for i in range(len(token) - 1)}
            for pair in pairs.intersection(self._literal_bucket_keys):
                for literal, ranks in self._literal_buckets[pair]:
                    if literal in token:
                        maybes.update(ranks)
        for literal, ranks in self._short_literals:
            if literal in token:
                maybes.update(ranks)
        entry = (tuple(hits), tuple(maybes)) if hits or maybes else _NO_WORD_ENTRY
        if len(token) <= _WORD_MEMO_MAX_LENGTH:  # a 5 KB "word" is noise, not vocabulary
            if len(self._word_memo) >= _WORD_MEMO_SIZE:
                self._word_memo.clear()
            self._word_memo[token] = entry
        return entry

    def candidates(self, mention: Mention, src: str, hits: set[int], maybes: set[int]) -> list[int]:
        """Ranks that may match, in priority order: text hits and maybes, then gated rules.

        *src* is the mention's source normalised the way rule sources are.
        """
        candidates = hits | maybes
        candidates.update(self._regex_always)
        candidates.update(self._by_source.get(src, self._catch_all))
        if not self._has_keyed_gates:
            return sorted(candidates)
        if self._by_language:
            candidates.update(self._by_language.get(mention.language, ()))
        if self._by_service and mention.service is not None:
            candidates.update(self._by_service.get(mention.service, ()))
        if self._by_author and mention.author:
            candidates.update(self._by_author.get(mention.author, ()))
        if self._by_area and mention.point is not None:
            by_area = self._by_area
            for area in mention.areas:
                candidates.update(by_area.get(area, ()))
        return sorted(candidates)
