"""Language detection on ingest: confident guesses kept, short or unclear texts left unknown."""

from __future__ import annotations

import pytest

from bot.intake.language import detect


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
