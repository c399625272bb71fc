"""Language of a mention, detected on ingest when the source does not say (py3langid).

Short texts are guessed badly ("ok" comes out as Afrikaans), so a guess is kept only when the
text has enough letters and the model is confident; otherwise the language stays unknown,
which only rules that list "unknown" match.
"""

from __future__ import annotations

import re
import threading

from py3langid.langid import MODEL_FILE, LanguageIdentifier

MIN_LETTERS = 12
MIN_CONFIDENCE = 0.5
_URLS_AND_TAGS = re.compile(r"https?://\S+|[#@]\w+")
_lock = threading.Lock()
_identifier: LanguageIdentifier | None = None


def _model() -> LanguageIdentifier:
    global _identifier
    with _lock:  # the model takes a moment to load: once per process, on first use
        if _identifier is None:
            _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _identifier


def detect(text: str) -> str | None:
    """An ISO 639-1 code, or ``None`` when the text is too short or the guess too weak."""
    plain = _URLS_AND_TAGS.sub(" ", text)
    if sum(ch.isalpha() for ch in plain) < MIN_LETTERS:
        return None
    language, confidence = _model().classify(plain)
    return str(language) if float(confidence) >= MIN_CONFIDENCE else None
