"""Near-duplicate detection for brigading: a 64-bit SimHash of a text's character shingles.

A campaign posts the same text, lightly edited (a word changed, a hashtag added, another
handle), from many accounts. SimHash maps texts whose 5-character shingles mostly agree to
fingerprints a few bits apart, so "the same post" is a Hamming distance, cheap to compare
against the handful of recent cards in a department. Texts are folded (case, accents) and
stripped of handles and links first: those are exactly what brigades vary.

Only the first :data:`LIMIT` characters count: campaigns post short texts, and hashing every
shingle of a 250,000-character webhook text (the body limit) cost seconds per mention.
"""

from __future__ import annotations

import hashlib
import re

from bot.core.text import fold, tokenize

BITS = 64
SHINGLE = 5  # characters: a changed word changes a few shingles, not a third of them
LIMIT = 8000  # characters of the text that are fingerprinted
_NOISE = re.compile(r"https?://\S+|@[\w.@-]+")


def simhash(text: str) -> int:
    """The fingerprint of ``text`` as a signed 64-bit integer (what databases store)."""
    plain = " ".join(tokenize(fold(_NOISE.sub(" ", text[: LIMIT * 2]))))[:LIMIT]
    grams = [plain[i : i + SHINGLE] for i in range(max(1, len(plain) - SHINGLE + 1))]
    weights = [0] * BITS
    for gram in grams:
        value = int.from_bytes(hashlib.blake2b(gram.encode(), digest_size=8).digest(), "big")
        for bit in range(BITS):
            weights[bit] += 1 if value >> bit & 1 else -1
    unsigned = sum(1 << bit for bit in range(BITS) if weights[bit] > 0)
    return unsigned - (1 << BITS) if unsigned >= 1 << (BITS - 1) else unsigned


SHORT = 40  # folded characters


def near(a: int, b: int, *, length: int, limit: int) -> bool:
    """Whether two fingerprints are the same post.

    Short texts must be identical once folded (case, accents, handles, links): "pothole on
    Elm" and "pothole on Oak" differ by few shingles but are two reports.
    """
    return distance(a, b) <= (limit if length >= SHORT else 0)


def distance(a: int, b: int) -> int:
    """How many of the 64 bits differ."""
    return ((a ^ b) & ((1 << BITS) - 1)).bit_count()
