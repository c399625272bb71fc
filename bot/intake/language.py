"""Language of a mention, detected on ingest when the source does not say (CLD2, via pycld2).

Short texts are guessed badly ("ok" comes out as anything), so a guess is kept only when the
text has enough letters and the detector calls its guess reliable; otherwise the language
stays unknown, which only rules that list "unknown" match. A wrong guess is worse than none:
a rule for another language would match.

Why CLD2, then CLD3 (issue 15): ``benchmarks/bench_language.py`` compares candidates on the
labelled short texts in ``tests/fixtures/language/`` (about 200, twelve languages a city meets,
Haitian Creole and Tagalog among them), each in a fresh interpreter. Measured there:

=========================  =======  =======  ======  ==========
detector                   right    wrong    none    memory
=========================  =======  =======  ======  ==========
py3langid (until now)      98.0 %   0.5 %    1.5 %   +92 MB (its model and numpy)
CLD2 (pycld2)              95.6 %   0.0 %    4.4 %   +8 MB
CLD3 (cld3-py)             95.6 %   3.4 %    1.0 %   +3 MB
CLD2, then CLD3 (chosen)   98.0 %   0.5 %    1.5 %   +10 MB
fastText lid.176.ftz       89.7 %   2.5 %    7.9 %   +6 MB
langdetect                 90.1 %   7.4 %    2.5 %   +64 MB
lingua, low accuracy       90.6 %   8.4 %    1.0 %   +37 MB (it has no Haitian Creole)
=========================  =======  =======  ======  ==========

CLD2 made no wrong guess; what it will not call reliable (short Cyrillic and Chinese texts, a
short French one full of street names) goes to CLD3, kept only when CLD3 is reliable and at
least 90 % sure. Together: py3langid's accuracy for an eighth of its memory. Both have their
tables compiled into the extension: no model file to load, the first call as fast as the rest.
"""

from __future__ import annotations

import re
import threading

import gcld3
import pycld2

MIN_LETTERS = 12
MIN_CLD3 = 0.9  # CLD3's probability, for a text CLD2 would not call
_URLS_AND_TAGS = re.compile(r"https?://\S+|[#@]\w+")
# CLD2 still speaks a few pre-2000 codes, and tells Chinese scripts apart.
_CODES = {"iw": "he", "jw": "jv", "zh-Hant": "zh", "in": "id"}
# Characters CLD2 refuses to read (it wants valid UTF-8 without C0 controls).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_cld3 = threading.local()  # one CLD3 identifier per thread: a C++ object, not thread-safe


def detect(text: str) -> str | None:
    """An ISO 639 code, or ``None`` when the text is too short or the guess not reliable."""
    plain = _CONTROL.sub(" ", _URLS_AND_TAGS.sub(" ", text))
    if sum(ch.isalpha() for ch in plain) < MIN_LETTERS:
        return None
    try:
        reliable, _, details = pycld2.detect(plain)
    except pycld2.error:  # input it cannot read: unknown, never a failed ingest
        return None
    code = str(details[0][1])
    if not reliable or code == "un":
        found = _identifier().FindLanguage(text=plain)
        code = str(found.language)
        # "und" is CLD3's unknown; "ja-Latn" and the like are romanised guesses, too weak.
        if not found.is_reliable or found.probability < MIN_CLD3 or code == "und" or "-" in code:
            return None
    return _CODES.get(code, code)


def _identifier() -> gcld3.NNetLanguageIdentifier:
    identifier = getattr(_cld3, "identifier", None)
    if identifier is None:
        identifier = _cld3.identifier = gcld3.NNetLanguageIdentifier(0, 1000)
    return identifier
