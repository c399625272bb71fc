"""The words and two-word phrases of a mention that a routing rule could use as keywords.

Texts are folded and split exactly as routing does (:mod:`bot.core.text`), so a term written back
into a rule matches the mentions it was found in: "Éclairage" and "#eclairage" both give
"eclairage". What cannot make a useful keyword is left out: stopwords, tokens of one or two
characters, anything with a digit (house numbers, dates, ids), URLs, e-mail addresses and
@handles. A phrase is two kept words that follow each other within a sentence.

Scripts written without spaces (Chinese, Japanese, Thai...) tokenise to single characters,
which are too short to be kept: no terms come from them.
"""

from __future__ import annotations

import functools
import re

from bot.core.text import fold, tokenize
from bot.rules.stopwords import STOPWORDS

__all__ = ["MIN_LENGTH", "terms"]

MIN_LENGTH = 3

# Where a phrase may not run across: things that are not words, and ends of sentences. The
# URL and address patterns come first so that their dots are not read as sentence ends.
_BREAK_RE = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # an e-mail address
    r"|(?<![\w@])@[\w.-]+(?:@[\w-]+(?:\.[\w-]+)+)?"  # @handle, @user@instance.social
    r"|[.!?;:…\n]+"
)


_DIGIT_RE = re.compile(r"\d")


# Words recur from mention to mention: a suggestion run asks about the same few thousand.
@functools.lru_cache(maxsize=65536)
def _keep(token: str) -> bool:
    return (
        len(token) >= MIN_LENGTH
        and token not in STOPWORDS
        and _DIGIT_RE.search(token) is None
        and token.strip("_") != ""
    )


def terms(text: str) -> set[str]:
    """Each distinct word and two-word phrase of *text* worth suggesting, folded."""
    found: set[str] = set()
    for part in _BREAK_RE.split(text):
        previous: str | None = None
        for token in tokenize(fold(part)):
            if not _keep(token):
                previous = None
                continue
            found.add(token)
            if previous is not None and previous != token:
                found.add(f"{previous} {token}")
            previous = token
    return found
