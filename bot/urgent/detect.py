"""Is a new mention urgent? A rule says so, or a danger word in its language does.

Called by :func:`bot.intake.ingest_decision.decide`, so it is pure and cheap: the words are
folded (case and accents) and compiled once into one regular expression per language, and a
mention is read once per language it is checked against.

Which languages are checked: the mention's own when there is a list for it (short texts are
where language detection errs, but "Brand" is German for fire and English for a brand, so a
known language is trusted), every list when its language is unknown or has no list.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.config.urgent import DEFAULT_DANGER_WORDS

# The key of a stored mention's extra that marks it urgent (its value is the reason), and the
# one that keeps the reason once someone said "Not urgent".
URGENT_KEY = "urgent"
DOWNGRADED_KEY = "urgent_downgraded"


def fold(text: str) -> str:
    """Lower case without accents: "Inundación" and "inundacion" are the same word."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _pattern(words: Sequence[str]) -> re.Pattern[str] | None:
    phrases = sorted({" ".join(fold(w).split()) for w in words if w.strip()}, key=len, reverse=True)
    if not phrases:
        return None
    # Whole words only ("fire" is not "firework"); any run of spaces between a phrase's words.
    alternatives = "|".join(r"\s+".join(map(re.escape, p.split(" "))) for p in phrases)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


@dataclass(frozen=True)
class DangerWords:
    patterns: Mapping[str, re.Pattern[str]]
    written: Mapping[str, Mapping[str, str]]  # per language: folded phrase -> word as listed

    @classmethod
    def of(cls, words: Mapping[str, Sequence[str]]) -> DangerWords:
        compiled = {lang: _pattern(w) for lang, w in words.items()}
        written = {
            lang: {" ".join(fold(w).split()): " ".join(w.split()) for w in reversed(listed)}
            for lang, listed in words.items()
        }
        return cls({lang: p for lang, p in compiled.items() if p is not None}, written)

    @classmethod
    def default(cls) -> DangerWords:
        return cls.of(DEFAULT_DANGER_WORDS)

    def find(self, text: str, language: str | None) -> str | None:
        """The first danger word found in ``text``, as the list writes it, or ``None``."""
        folded = fold(text)
        lang = (language or "").split("-")[0].lower()
        checked = [lang] if lang in self.patterns else list(self.patterns)
        for each in checked:
            hit = self.patterns[each].search(folded)
            if hit:
                key = " ".join(hit.group(0).split())
                return self.written[each].get(key, key)
        return None


DEFAULT = DangerWords.default()


def urgency(
    text: str,
    *,
    language: str | None,
    rule: str | None,
    urgent_rules: frozenset[str],
    danger: DangerWords | None = None,
) -> str | None:
    """Why a mention is urgent (shown on the card and in the page), or ``None``."""
    if rule is not None and rule in urgent_rules:
        return f"rule {rule} is marked urgent"
    word = (danger or DEFAULT).find(text, language)
    return f"danger word “{word}”" if word else None
