"""What routing knows about a mention besides its text, and how each field is compared.

Internal to :mod:`bot.routing` (which re-exports :class:`MentionContext`). Every comparison in
routing normalises *both sides with the same function*: a rule's value when the rule is
compiled, a mention's value once per mention. So the functions here are the single definition
of "the same language", "the same author", "the same service code" and "the same street".

* Languages compare by primary subtag, case-insensitively: "fr", "FR", "fr-CA" and "fr_ca" are
  all "fr" (e-mail's Content-Language and RSS give regional tags; detection gives ISO 639-1). A
  missing, blank or "und" (undetermined) language is :data:`UNKNOWN_LANGUAGE`, which a rule must
  list explicitly to accept: a French-only rule should not swallow mentions nobody could read.
* Authors compare as whole handles, case-insensitively, with one leading "@" or "/" dropped and
  runs of spaces collapsed: "@Rosa@mastodon.social" is "rosa@mastodon.social", "/u/joe" is
  "u/joe". For "Name <address>" (e-mail) only the address counts, so "Ana <ana@x.org>" and
  "ana@x.org" are the same author. Nothing is matched partially: "joe" is not "u/joe".
* Open311 service codes are opaque identifiers, compared stripped and case-insensitively.
* Place names are keyword phrases (see :mod:`bot.routing`); in addition the *last* word of a
  place is treated as an English street suffix, so "Boylston Street" also matches "Boylston
  St" and "boylston st." (see :data:`STREET_SUFFIXES`). Only the last word: "St Botolph Street"
  keeps its leading "St", which is usually "Saint".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = [
    "STREET_SUFFIXES",
    "UNKNOWN_LANGUAGE",
    "MentionContext",
    "author_key",
    "is_language_key",
    "language_key",
    "place_variants",
    "point_of",
    "service_key",
]


@dataclass(frozen=True, slots=True)
class MentionContext:
    """Facts about a mention that rules may test besides its text and source.

    Everything is optional: a mention without a context (or with an empty one) simply fails
    rules that ask for languages, authors, service codes or areas, except that a rule listing
    the language "unknown" accepts a mention whose language is not known.
    """

    language: str | None = None  # ISO 639-1 ("fr"), detected on ingest; regional tags are fine
    author: str = ""  # "@rosa@mastodon.social", "u/joe", "Ana <ana@x.org>", ...
    service_code: str | None = None  # Open311 service code
    lat: float | None = None  # WGS 84 degrees; both or neither
    lon: float | None = None


#: The language of a mention whose language is not known; rules list it to accept such mentions.
UNKNOWN_LANGUAGE = "unknown"
_UNKNOWN_TAGS = frozenset({"", "und", UNKNOWN_LANGUAGE})
_LANGUAGE_KEY_RE = re.compile(r"[a-z]{2,3}")


def language_key(tag: str | None) -> str:
    """The comparable form of a language tag: its primary subtag, lower case, or "unknown"."""
    if not tag:
        return UNKNOWN_LANGUAGE
    primary = tag.strip().replace("_", "-").partition("-")[0].casefold()
    return UNKNOWN_LANGUAGE if primary in _UNKNOWN_TAGS else primary


def is_language_key(key: str) -> bool:
    """Whether a rule's language (after :func:`language_key`) looks like a code, not a typo.

    "English" or "french" in a config would otherwise silently never match anything.
    """
    return key == UNKNOWN_LANGUAGE or _LANGUAGE_KEY_RE.fullmatch(key) is not None


# The address of "Name <address>", at the end as e-mail headers put it.
_ANGLE_ADDRESS_RE = re.compile(r"<([^<>]*)>\s*$")


def author_key(handle: str) -> str:
    """The comparable form of an author: whole handle, or the address in "Name <address>"."""
    found = _ANGLE_ADDRESS_RE.search(handle) if ">" in handle else None
    if found is not None and found.group(1).strip():
        handle = found.group(1)
    key = " ".join(handle.split()).casefold()
    if key[:1] in ("@", "/"):
        key = key[1:].lstrip()
    return key


def service_key(code: str | None) -> str | None:
    """The comparable form of an Open311 service code; ``None`` for a missing or blank one."""
    if code is None:
        return None
    key = code.strip().casefold()
    return key or None


def point_of(lat: object, lon: object) -> tuple[float, float] | None:
    """``(lon, lat)`` (GeoJSON order) if both are finite numbers, else ``None``.

    Adapters hand over whatever the source said; a missing or NaN coordinate means "no
    location", never a crash in the router.
    """
    if isinstance(lat, bool) or isinstance(lon, bool):
        return None
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        return None
    x, y = float(lon), float(lat)
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    return x, y


#: English street suffixes: each group's forms are interchangeable as the last word of a place.
STREET_SUFFIXES: tuple[tuple[str, ...], ...] = (
    ("street", "st"),
    ("avenue", "ave", "av"),
    ("road", "rd"),
    ("boulevard", "blvd"),
    ("square", "sq"),
    ("place", "pl"),
    ("drive", "dr"),
    ("lane", "ln"),
    ("court", "ct"),
    ("terrace", "ter"),
    ("parkway", "pkwy"),
    ("highway", "hwy"),
)
_SUFFIX_GROUP = {form: group for group in STREET_SUFFIXES for form in group}


def place_variants(tokens: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """The token sequences a place name (folded tokens) stands for, itself first.

    A one-word place is never expanded: "St" alone must not match every "street".
    """
    group = _SUFFIX_GROUP.get(tokens[-1]) if len(tokens) > 1 else None
    if group is None:
        return (tokens,)
    stem = tokens[:-1]
    return (tokens, *((*stem, form) for form in group if form != tokens[-1]))
