"""The "handle with care" label: abusive language sends a mention to the comms team first.

A short list of insults and threats in the languages Engage detects most (en, fr, es, de),
matched as whole words after case and accent folding; a city adds its own words in the
config. It is a first filter for people's wellbeing, not moderation: nothing is hidden.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.text import fold, tokenize

_LISTS = {
    "en": "idiot idiots moron morons stupid scum scumbag bastard bastards bitch asshole assholes "
    "fuck fucking fucked shit shithead dickhead cunt retard retarded",
    "fr": "connard connards connasse salaud salauds salope encule encules merde abruti abrutis "
    "cretin cretins debile",
    "es": "idiota idiotas imbecil estupido cabron cabrones puta mierda pendejo",
    "de": "arschloch arschlocher scheisse dummkopf wichser hurensohn",
}
WORDS = frozenset(fold(word) for words in _LISTS.values() for word in words.split())


def needs_care(text: str, extra_words: Iterable[str] = ()) -> list[str]:
    """The words that earned the label (empty: none)."""
    words = WORDS | {fold(w) for w in extra_words}
    return sorted({w for w in tokenize(fold(text)) if w in words})
