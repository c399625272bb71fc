"""The recurring words of a summary: which words many citizens used in a period.

Counted per mention (not per occurrence), so one post repeating a word ten times does not
outweigh ten posts saying it once; only words found in at least two mentions are kept. Words
are compared folded (case and accents ignored), shown in their most common spelling, and
dropped when shorter than 3 letters, numeric, a link, a handle, or a common en/fr/es/de word.
Scripts written without spaces (Chinese, Japanese, Thai) give no terms, since their tokens are
single characters.

A city-wide month is tens of thousands of texts, so each distinct word is folded and judged
once (a memo for the call), not once per occurrence: the same words recur in every post.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

from bot.core.text import TOKEN_RE, fold

__all__ = ["top_terms"]

_TOP_TERMS = 10

# Small on purpose: the point is to drop the glue words that top every count, not to do
# linguistics. Stored folded (lower case, no accents), since words are compared folded.
_STOPWORDS_BY_LANGUAGE = {
    "en": "about after again all also and any are because been before being but can could did"
    " does doing don each for from get got had has have hello her here him his how into its"
    " just like more most not now off only other our out over please should some still such"
    " than thank thanks that the their them then there these they this those today too very"
    " was were what when where which while who why will with would yes you your",
    "fr": "alors aussi aux avec bonjour car ces cette chez comme dans des donc elle elles encore"
    " est ete etre fait faire ils les leur leurs lui mais meme merci mes moi mon nos notre nous"
    " ont par pas peu plus pour quand que qui rien sans ses son sont sous sur tes toi ton tous"
    " tout toute tres une vos votre vous",
    "es": "como con cuando del donde esa ese eso esta estan estar este esto estos fue gracias hay"
    " hola las los mas mis muy nos nuestro para pero por porque que ser sin sobre son sus"
    " tambien tiene todo todos una uno unos unas",
    "de": "aber als auch auf aus bei bitte danke das dass dem den der des die dort ein eine einem"
    " einen einer fur hallo hat haben hier ich ihr ist kann mit nach nicht noch oder schon sich"
    " sie sind und uns von war was wenn werden wie wir wird zum zur",
    "web": "amp com http https via www",
}
_STOPWORDS = frozenset(w for words in _STOPWORDS_BY_LANGUAGE.values() for w in words.split())
_LINK_OR_HANDLE = re.compile(r"https?://\S+|www\.\S+|(?<!\w)@\w+")
_MIN_TERM_LENGTH = 3


def _key(word: str) -> str:
    """The folded word it counts as, or "" when it is not a term at all."""
    key = fold(word)
    if len(key) < _MIN_TERM_LENGTH or key.isdigit() or key in _STOPWORDS:
        return ""
    return key


def top_terms(texts: Iterable[str], limit: int = _TOP_TERMS) -> list[tuple[str, int]]:
    """The words found in the most texts (at least two), most frequent first, ties by word."""
    written: list[str] = []  # every word of every text, as written (for the spellings)
    found: list[str] = []  # every text's distinct terms, one after the other
    keys: dict[str, str] = {}  # each word as written: the term it counts as, or ""
    for text in texts:
        cleaned = unicodedata.normalize("NFC", text)
        if "http" in cleaned or "www." in cleaned or "@" in cleaned:
            cleaned = _LINK_OR_HANDLE.sub(" ", cleaned)
        words = TOKEN_RE.findall(cleaned)
        written += words
        distinct = set(words)
        for word in distinct.difference(keys):
            keys[word] = _key(word)
        found += set(map(keys.__getitem__, distinct))
    # Counted once at the end: Counter counts a list in C, but each update() is a Python call.
    mentions_with = Counter(found)
    del mentions_with[""]
    occurrences = Counter(written)
    spellings: dict[str, Counter[str]] = {}
    for word, n in occurrences.items():
        key = keys[word]
        if key:
            spellings.setdefault(key, Counter())[word.lower()] += n
    ranked = sorted(
        ((key, n) for key, n in mentions_with.items() if n >= 2), key=lambda kv: (-kv[1], kv[0])
    )
    return [(_most_common_spelling(spellings[key]), n) for key, n in ranked[:limit]]


def _most_common_spelling(counts: Counter[str]) -> str:
    return min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
