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

# Sources whose mentions are people's posts from their own accounts. Only these are ever folded
# by author (a flood): a feed, a web form or a 311 system speaks for many people under one name
# (or none), and a feed of 20 news items is 20 items. An adapter may say otherwise
# (``person_accounts`` in its config).
PERSON_SOURCES = frozenset({"mastodon", "bluesky", "reddit", "email", "x", "facebook"})

# Authors that name nobody in particular: each such mention is its own author.
# (Compared case-insensitively; "Facebook user" is how Graph names a hidden sender.)
ANONYMOUS = frozenset(
    {"", "anonymous", "anon", "unknown", "none", "[deleted]", "[removed]", "facebook user"}
)


def source_label(source: str) -> str:
    return SOURCE_LABELS.get(source, source.capitalize())
