"""The compiled rule index: from one mention to the few rules worth checking, without a loop.

Internal to :mod:`bot.routing`, which owns the semantics (see its docstring) and turns
:class:`~bot.routing.RuleDef` into the :class:`CompiledRule` and :class:`Term` forms defined
here. This module owns how fast that is.

Design: compile once, index, never loop over rules per mention
--------------------------------------------------------------
A naive router tries one regex per rule per mention: with a thousand rules that is a thousand
regex scans of every text. Here each mention is folded and tokenised once (:class:`Mention`),
and the rule set is compiled into indexes the mention's tokens look up (:class:`RuleIndex`):

* single words: a dict token -> rules, intersected with the mention's token set (in C);
* phrases: the same lookup on the phrase's first token, then a substring check of
  ``" street light "`` in the mention's tokens joined by single spaces (exact whole-token
  sequence, because tokens never contain spaces);
* prefixes ("bin*"): each distinct word of the mention is looked up, per prefix length, in
  a dict of prefixes;
* hashtags: a set intersection;
* regexes: only those whose required literals (:mod:`bot.routing_regex`) occur in the folded
  text are run. A literal made of word characters can only occur inside one word, so it is
  looked for word by word. Regexes with no usable literal (``\\d{5}``) run for every mention;
* the per-word lookups (prefixes, regex literals) loop over prefix lengths and literals, so
  their result is memoised per distinct word: mentions keep reusing the same few thousand
  words, and a word seen before costs one dict lookup;
* rules without text criteria are precomputed per source.

The candidates found this way are tried in priority order, checking source, regex and
exclusions only for them (:meth:`CompiledRule.applies`, :meth:`CompiledRule.first_veto`).

Rules are identified by ``rank``, their place in priority order, so sorting candidate ranks is
sorting by priority. A :class:`RuleIndex` never changes after construction except for its
per-word memo, which only holds entries that any thread would compute identically (it is
cleared, not trimmed, when full), so it is safe to share between threads.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.routing_regex import regex_literals
from bot.text import fold, hashtags, is_plain_word, tokenize

__all__ = ["CompiledRule", "Mention", "RuleIndex", "Term"]


@dataclass(frozen=True, slots=True)
class Term:
    """A keyword or exclusion, folded and split into tokens."""

    raw: str  # as written, for reasons
    tokens: tuple[str, ...]
    prefix: bool
    # What to look for in Mention.joined: " a b " for whole words, " a b" for a prefix.
    needle: str


class Mention:
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
        """Hashtags, folded and without '#'; computed on first use (most texts need none)."""
        if self._tags is None:
            self._tags = hashtags(self.folded)
        return self._tags

    def regex_hit(self, rx: re.Pattern[str]) -> re.Match[str] | None:
        """Search the original text, then the folded text (only if folding changed anything)."""
        hit = rx.search(self.text)
        if hit is None and self.folded != self.text:
            hit = rx.search(self.folded)
        return hit


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A compiled, enabled rule. ``rank`` is its place in priority order (0 = tried first)."""

    rank: int
    name: str
    department: str
    sources: frozenset[str] | None  # None = any source; else normalised by the compiler
    keywords: tuple[Term, ...]
    hashtags: tuple[tuple[str, str], ...]  # (as written, folded without '#')
    regexes: tuple[re.Pattern[str], ...]
    excludes: tuple[Term, ...]

    @property
    def has_text(self) -> bool:
        return bool(self.keywords or self.hashtags or self.regexes)

    def applies(self, mention: Mention, src: str, hits: set[int]) -> bool:
        """Source and text criteria (not exclusions) for a candidate from :meth:`RuleIndex.scan`.

        *hits* are the ranks whose keywords or hashtags already hit, so only the regexes of
        a rule that was merely a "maybe" are run here.
        """
        if self.sources is not None and src not in self.sources:
            return False
        if self.rank in hits or not self.has_text:
            return True
        return any(mention.regex_hit(rx) is not None for rx in self.regexes)

    def first_veto(self, mention: Mention) -> Term | None:
        """The first exclusion that hits *mention*, if any (a hit vetoes the rule)."""
        for term in self.excludes:
            if term.needle in mention.joined:
                return term
        return None


# Per-word memo entry: (ranks hit by a keyword prefix, ranks whose regex literal is in the word).
_WordEntry = tuple[tuple[int, ...], tuple[int, ...]]
_NO_WORD_ENTRY: _WordEntry = ((), ())
_WORD_MEMO_SIZE = 50_000  # distinct words: a few MB at most
_WORD_MEMO_MAX_LENGTH = 40

_Literals = tuple[tuple[str, tuple[int, ...]], ...]  # (folded literal, ranks needing it)


def _ranks(found: list[int]) -> tuple[int, ...]:
    """Deduplicated ranks in priority order (a rule may list the same word twice)."""
    return tuple(sorted(set(found)))


class RuleIndex:
    """Lookup tables over a compiled rule set, built once (see the module docstring)."""

    def __init__(self, rules: Sequence[CompiledRule]) -> None:
        """Index *rules*, whose ranks must be their positions in *rules*."""
        single: dict[str, list[int]] = {}
        phrases: dict[str, dict[str, list[int]]] = {}  # first token -> needle -> ranks
        prefixes: dict[str, list[int]] = {}  # prefix (one token) -> ranks
        tags: dict[str, list[int]] = {}
        literals: dict[str, list[int]] = {}
        regex_always: list[int] = []
        no_text_any: list[int] = []  # no text criteria, any source
        no_text_by_source: dict[str, list[int]] = {}
        for rule in rules:
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
                per_regex = [regex_literals(rx.pattern) for rx in rule.regexes]
                if any(lits is None for lits in per_regex):
                    regex_always.append(rank)
                else:
                    for lits in per_regex:
                        for literal in lits or ():
                            literals.setdefault(literal, []).append(rank)
            if not rule.has_text:
                if rule.sources is None:
                    no_text_any.append(rank)
                else:
                    for src in rule.sources:
                        no_text_by_source.setdefault(src, []).append(rank)

        self._single = {token: _ranks(found) for token, found in single.items()}
        self._single_keys = frozenset(self._single)
        self._phrases = {
            first: tuple((needle, _ranks(found)) for needle, found in by_needle.items())
            for first, by_needle in phrases.items()
        }
        self._phrase_keys = frozenset(self._phrases)
        by_length: dict[int, dict[str, tuple[int, ...]]] = {}
        for prefix, found in prefixes.items():
            by_length.setdefault(len(prefix), {})[prefix] = _ranks(found)
        self._prefixes = tuple(sorted(by_length.items()))
        self._tags = {tag: _ranks(found) for tag, found in tags.items()}
        self._tag_keys = frozenset(self._tags)
        self._index_literals(literals)
        self._regex_always = _ranks(regex_always)
        self._no_text_any = _ranks(no_text_any)
        self._no_text_by_source = {
            src: _ranks(found + no_text_any) for src, found in no_text_by_source.items()
        }
        self._per_word = bool(self._prefixes or self._literal_buckets or self._short_literals)
        self._word_memo: dict[str, _WordEntry] = {}

    def _index_literals(self, literals: dict[str, list[int]]) -> None:
        """Split regex literals into those looked for word by word and those in the text.

        A literal made only of word characters can only occur inside one word, so it is looked
        for word by word (and memoised); any other literal in the whole folded text. Word
        literals are bucketed by their first two characters, so a new word is checked only
        against the literals starting with one of its character pairs, not against all.
        """
        buckets: dict[str, list[tuple[str, tuple[int, ...]]]] = {}
        short: list[tuple[str, tuple[int, ...]]] = []
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
        pays once. The memo is bounded and simply restarts when full; it is the index's only
        mutable state, and racing threads can at worst compute an entry twice (dict get/set
        are atomic).
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

    def candidates(self, src: str, hits: set[int], maybes: set[int]) -> list[int]:
        """Ranks that may match, in priority order: text hits, regex maybes, no-text rules.

        *src* is the mention's source normalised the way rule sources are.
        """
        candidates = hits | maybes
        candidates.update(self._regex_always)
        candidates.update(self._no_text_by_source.get(src, self._no_text_any))
        return sorted(candidates)
