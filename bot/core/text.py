"""Text normalisation for rule matching: folding, tokenising, and mapping spans back.

Routing compares words, not bytes: "Café", "CAFE" and "cafe" must be the same word, and so must
"Montréal" and "montreal". :func:`fold` turns a text into that comparable form once per mention;
:func:`tokenize` splits folded text into words. Rules are folded with the *same* functions, so
whatever folding does to a word it does to both sides and matching stays consistent.

Properties the router relies on (checked in ``tests/routing/test_routing.py``):

* ``fold`` is idempotent: ``fold(fold(s)) == fold(s)``.
* ``fold`` works character by character: ``fold(a + b) == fold(a) + fold(b)``. Full case folding
  in Python is context-free, and the only thing NFKD reorders is combining marks, which are
  dropped. This is what lets :func:`original_span` map a span of folded text back to the
  original, and what makes literal prefilters for regexes safe.
* Two characters that ``re.IGNORECASE`` treats as equal fold to the same string. The one pair
  where Python's casefold disagrees with ``re`` is dotless i (U+0131) vs ``i``, which we fold
  explicitly.
"""

from __future__ import annotations

import functools
import re
import unicodedata

__all__ = [
    "HASHTAG_RE",
    "TOKEN_RE",
    "fold",
    "hashtags",
    "is_plain_word",
    "original_span",
    "tokenize",
]

# All characters with a non-zero canonical combining class: accents, cedillas, Hebrew points,
# Arabic harakat, Indic viramas... Stripping them after NFKD is what makes matching
# accent-insensitive. Built from the running Python's Unicode database so it always agrees with
# `unicodedata.normalize`. Every such character lives below U+20000 (the highest is in the
# U+1E900 Adlam block), so scanning the first two planes is enough (~5 ms at import).
_MARKS = [cp for cp in range(0x20000) if unicodedata.combining(chr(cp))]


def _char_class(code_points: list[int]) -> str:
    """A regex character class body for *code_points* (sorted), as compact ranges."""
    ranges: list[list[int]] = []
    for cp in code_points:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return "".join(
        re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}"
        for lo, hi in ranges
    )


# Two passes, for speed: `re` tests a class of BMP characters with one table lookup, but walks
# astral ranges one by one (~10x slower on every character, and emoji are astral). So BMP marks
# are removed in C, and astral runs (emoji, mostly) are looked at in Python, which is rare and
# short.
_BMP_MARKS_RE = re.compile("[" + _char_class([cp for cp in _MARKS if cp <= 0xFFFF]) + "]+")
_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]+")


def _drop_astral_marks(run: re.Match[str]) -> str:
    return "".join(ch for ch in run.group() if not unicodedata.combining(ch))


# Scripts written without spaces between words. Whole-word matching is meaningless there
# ("路灯坏了" is one `\w+` run), so each character is its own token and a keyword like "路灯"
# becomes a two-token phrase that matches anywhere in such a run. Hangul is not listed: Korean
# separates words with spaces.
_UNSPACED = (
    "\u0e00-\u0eff"  # Thai, Lao
    "\u1780-\u17ff"  # Khmer
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u31f0-\u31ff"  # Katakana phonetic extensions
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\U00020000-\U0003ffff"  # CJK extensions B and later
)

#: A token is one character of an unspaced script, or a maximal run of other word characters
#: (letters, digits, underscore: Python's ``\w``, as in a regex ``\b``). Any run of anything else
#: (spaces, punctuation, emoji, '#', '-') separates tokens.
TOKEN_RE = re.compile(f"[^\\W{_UNSPACED}]+|[{_UNSPACED}]")
_PLAIN_WORD_RE = re.compile(f"[^\\W{_UNSPACED}]+")
_UNSPACED_RE = re.compile(f"[{_UNSPACED}]")

_WORD_RE = re.compile(r"\w+")

#: A hashtag in folded text: '#' not glued to a preceding word, then its word characters.
HASHTAG_RE = re.compile(r"(?<!\w)#(\w+)")


_DOTLESS_I = "\u0131"


def fold(text: str) -> str:
    """Return *text* case-folded and stripped of accents, for comparison only.

    casefold (not lower) so that "STRASSE" and "straße" agree; NFKD so that compatibility forms
    (ligatures, full-width letters, superscripts) become plain letters and accents become
    separate combining marks, which are then removed. A second casefold is needed because NFKD
    can produce capitals (e.g. U+1D2C modifier letter capital A), and casefold can produce
    decomposable sequences, so neither order alone is idempotent.
    """
    if text.isascii():
        # The common case, and ~20x cheaper: for ASCII, casefold is lower and NFKD is a no-op.
        return text.lower()
    folded = _BMP_MARKS_RE.sub("", unicodedata.normalize("NFKD", text.casefold()))
    folded = _ASTRAL_RE.sub(_drop_astral_marks, folded).casefold()
    if _DOTLESS_I in folded:
        # re.IGNORECASE equates dotless i with 'i' and 'I'; casefold does not. Folding it keeps
        # the regex prefilter sound and treats it like any other accented i.
        folded = folded.replace(_DOTLESS_I, "i")
    return folded


def tokenize(folded: str) -> list[str]:
    """Split already-folded text into tokens (see :data:`TOKEN_RE`)."""
    if _UNSPACED_RE.search(folded) is None:
        # Same tokens, a third cheaper: plain `\w+` needs no alternation.
        return _WORD_RE.findall(folded)
    return TOKEN_RE.findall(folded)


def is_plain_word(folded: str) -> bool:
    """Whether *folded* is a single token of a spaced script: word characters only."""
    return _PLAIN_WORD_RE.fullmatch(folded) is not None


def hashtags(folded: str) -> set[str]:
    """The hashtags in already-folded text, without the '#'."""
    if "#" not in folded:
        return set()
    return set(HASHTAG_RE.findall(folded))


def original_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Map the span ``[start, end)`` of ``fold(text)`` to the matching span of *text*.

    Used only to quote what matched in human-readable reasons, never to decide a route. Relies
    on ``fold`` working character by character: ASCII runs keep their length, any other
    character is folded alone. Combining marks right after the span are included so that a
    quote of a decomposed "é" (e + U+0301) keeps its accent.
    """
    if text.isascii():
        return start, end
    end = max(end, start)
    pos = 0  # offset in the folded text where the current piece starts
    orig_start: int | None = None
    orig_end = len(text)
    for piece in _PIECE_RE.finditer(text):
        i = piece.start()
        if piece.group().isascii():
            width = piece.end() - i
            if orig_start is None and start < pos + width:
                orig_start = i + start - pos
            if orig_start is not None and end <= pos + width:
                orig_end = max(i + end - pos, orig_start)
                break
        else:
            width = _folded_width(piece.group())
            if orig_start is None and start < pos + width:
                orig_start = i
            if orig_start is not None and end <= pos + width and width:
                orig_end = i + 1
                break
        pos += width
    if orig_start is None:
        return len(text), len(text)
    while orig_end < len(text) and not _folded_width(text[orig_end]):
        orig_end += 1
    return orig_start, orig_end


# One run of ASCII, or one non-ASCII character: the units original_span walks through.
_PIECE_RE = re.compile(r"[\x00-\x7f]+|[^\x00-\x7f]")


@functools.lru_cache(maxsize=4096)
def _folded_width(char: str) -> int:
    return len(fold(char))
