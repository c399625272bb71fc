"""Language detection on ingest: confident guesses kept, short or unclear texts left unknown."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.intake.language import detect
from tests.properties import bounded


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Il y a un nid-de-poule énorme rue Sainte-Catherine", "fr"),
        ("Die Straßenlaterne vor unserem Haus ist seit Tagen kaputt", "de"),
        ("Hay un bache enorme en la calle principal desde hace semanas", "es"),
        ("The street light on 5th St has been out for a week", "en"),
        ("ok", None),  # too short to tell
        ("#potholes #fixmystreet https://example.org/x", None),  # tags and links are not words
        ("", None),
    ],
)
def test_detect(text: str, expected: str | None) -> None:
    assert detect(text) == expected


FIXTURE = Path(__file__).parent.parent / "fixtures" / "language" / "short_texts.tsv"


def _labelled() -> list[tuple[str, str]]:
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    return [(ln.split("\t", 1)[0], ln.split("\t", 1)[1]) for ln in lines if ln and ln[0] != "#"]


def test_short_social_texts_in_a_citys_languages_are_told_apart() -> None:
    """On the shipped set (about 200 texts, twelve languages): measured 98 % right, 0.5 % wrong
    and the rest unknown (benchmarks/bench_language.py). The floors leave room for a few texts
    to move with a library update, and fail for any of the candidates measured worse: a wrong
    guess (a rule for another language matching) is held to 2 %, which langdetect (7 %), lingua
    (8 %) and CLD3 alone (3 %) exceed; 95 % right is missed by fastText's small model (90 %).
    Each language is told right at least four times in five, so no one community's posts are
    left out (Haitian Creole and Tagalog included)."""
    rows = _labelled()
    assert len(rows) >= 200
    guesses = [(want, detect(text)) for want, text in rows]
    right = sum(got == want for want, got in guesses)
    wrong = [(want, got) for want, got in guesses if got is not None and got != want]
    assert right / len(rows) >= 0.95, guesses
    assert len(wrong) / len(rows) <= 0.02, wrong
    for language in {want for want, _ in rows}:
        mine = [got for want, got in guesses if want == language]
        assert sum(got == language for got in mine) / len(mine) >= 0.8, (language, mine)


@pytest.mark.parametrize(
    "text",
    [
        "\x00\x01 control characters around a sentence in English here",
        "\x7f\x85 C1 controls that CLD2 reads as invalid UTF-8, then English",
        "\ud800 a lone surrogate before a sentence in plain English",
        "x" * 100_000,
    ],
)
def test_text_the_detectors_cannot_read_is_unknown_or_read_never_an_error(text: str) -> None:
    assert detect(text) in (None, "en")


@bounded(200)
@given(st.text(max_size=300))
def test_any_text_gives_a_code_or_none(text: str) -> None:
    found = detect(text)
    assert found is None or (found.isascii() and 2 <= len(found) <= 8)
