"""What every layer knows about a source by its name: how staff see it, and whether it is folded."""

from __future__ import annotations

SOURCE_LABELS = {
    "rss": "Feed",
    "webhook": "Web form",
    "mastodon": "Mastodon",
    "bluesky": "Bluesky",
    "reddit": "Reddit",
    "email": "Email",
    "open311": "311 request",
    "x": "X",
    "facebook": "Facebook",
}

# A city's own 311 system is not brigaded, and its reports share texts ("Abandoned Vehicle")
# while being about different places: each keeps its card.
UNFOLDED = frozenset({"open311"})


def source_label(source: str) -> str:
    return SOURCE_LABELS.get(source, source.capitalize())
