"""What cross-platform linking compares: a mention reduced to ids, places, a point and words.

Everything is computed from what the mention carries (text, title, Open311 ``address`` and
coordinates), with the folding routing uses (:mod:`bot.core.text`), so "Boylston St", "BOYLSTON
STREET" and "boylston st." are one place, and "Montréal" is "montreal".

* **Open311 ids.** A request's own id, and ids a text names: after "311", "case", "request",
  "ticket", "report", "ref" or "#", or anywhere in a link. Boston's ids come in two shapes
  (``101003193368`` and ``H323401-101003193368``); the digits after the last "-" also count,
  since that is what a citizen copies from a confirmation. Six digits at least: shorter
  numbers are house numbers and years.
* **Places.** A street is the word before a street suffix (:data:`STREET_SUFFIXES`), kept
  only when it looks like a name: capitalised, or followed by an abbreviation ("elm st"), or
  after a house number ("12 elm street"); so "the street" or "a busy road" are not places.
  The configured ``places`` (squares, parks, landmarks) are found as phrases. A house number
  right before a street is remembered: "10 Pompeii St" and "48 Pompeii St" are two places.
* **Words.** Content words, folded, without glue words, numbers, links, handles and the
  place's own words, with a plural "s" dropped: what two reports of one issue share besides
  where it is.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.text import TOKEN_RE, fold, tokenize
from bot.routing import STREET_SUFFIXES, place_variants, point_of

OPEN311 = "open311"
MIN_ID_DIGITS = 6
EARTH_RADIUS_M = 6_371_000.0

Place = tuple[str, ...]  # folded tokens, the street suffix in its long form

_ID = r"(?:[a-z]\d+-)?\d{6,}"
_REFERENCE = re.compile(
    r"(?:\b(?:311|case|request|ticket|report|reference|ref|sr)\b\W{0,3}"
    r"(?:(?:no|nr|number|id)\b\W{0,3})?|#\s?)"
    rf"({_ID})(?!\d)"
)
_URL = re.compile(r"https?://\S+|www\.\S+")
_URL_ID = re.compile(rf"(?<![a-z0-9])({_ID})(?!\d)")
_NOISE = re.compile(r"https?://\S+|www\.\S+|(?<!\w)@[\w.@-]+")
_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th)")
_SUFFIX = {form: group[0] for group in STREET_SUFFIXES for form in group}

# Glue words (en, fr, es, de) and the words of report forms ("Details:", "Specific
# location:") that every 311 text shares: none says what the issue is.
_STOPWORDS_BY_KIND = {
    "en": "about above across after again against all almost along also always and another any"
    " anyone are around away back been before behind being below beside between both but can"
    " cannot city could did does doing done down during each either else even ever every"
    " everyone few for from front further get gets getting got had has have having hello her"
    " here hers him his how into its just last like more morning most much near nearby next not"
    " now off once only other our out outside over own people please really right same see seen"
    " should since some someone something still such than thank thanks that the their them then"
    " there these they thing this those though through today tonight too toward town under until"
    " upon very was way week were what when where which while who whom whose why will with"
    " within without would yes yesterday yet you your yours",
    "fr": "alors aussi aux avec bonjour car ces cette chez comme dans des donc elle elles encore"
    " est ete etre fait faire ils les leur leurs lui mais meme merci mes moi mon nos notre nous"
    " ont par pas peu plus pour quand que qui rien rue sans ses son sont sous sur tes toi ton"
    " tous tout toute tres une vos votre vous",
    "es": "calle como con cuando del donde esa ese eso esta estan estar este esto estos fue"
    " gracias hay hola las los mas mis muy nos nuestro para pero por porque que ser sin sobre"
    " son sus tambien tiene todo todos una uno unos unas",
    "de": "aber als auch auf aus bei bitte danke das dass dem den der des die dort ein eine einem"
    " einen einer fur hallo hat haben hier ich ihr ist kann mit nach nicht noch oder schon sich"
    " sie sind strasse und uns von war was wenn werden wie wir wird zum zur",
    "forms": "case describe description detail details issue problem report reported reporting"
    " request requested service specific location submitted ticket via",
    "web": "amp com http https www",
}
_STOPWORDS = frozenset(w for words in _STOPWORDS_BY_KIND.values() for w in words.split())
# Words that come before a street suffix without naming a street ("the street", "my road").
_NAMELESS = "a an at by in of on to my busy side cross dead end one way wrong whole entire"
_NOT_NAMES = _STOPWORDS | frozenset(_NAMELESS.split())


@dataclass(frozen=True)
class Features:
    source: str
    request_ids: frozenset[str] = frozenset()  # the Open311 request's own id keys
    refs: frozenset[str] = frozenset()  # Open311 id keys the text names
    places: frozenset[Place] = frozenset()
    numbers: Mapping[Place, frozenset[str]] = field(default_factory=dict)  # house numbers
    point: tuple[float, float] | None = None  # (lat, lon)
    words: frozenset[str] = frozenset()


class Gazetteer:
    """Configured place names (squares, parks, landmarks), found as phrases in folded text."""

    def __init__(self, names: Iterable[str]) -> None:
        self._needles: list[tuple[str, Place]] = []
        for name in names:
            tokens = tuple(tokenize(fold(name)))
            if not tokens:
                continue
            key = _canonical(tokens)
            for variant in place_variants(tokens):
                self._needles.append((" " + " ".join(variant) + " ", key))

    def find(self, joined: str) -> set[Place]:
        return {key for needle, key in self._needles if needle in joined}


NO_PLACES = Gazetteer(())


def id_keys(request_id: str) -> frozenset[str]:
    """The forms an Open311 id is named by: the whole id, and its digits after the last "-"."""
    whole = fold(request_id.strip())
    tail = whole.rsplit("-", 1)[-1]
    keys = {whole} if whole else set()
    if tail.isdigit() and len(tail) >= MIN_ID_DIGITS:
        keys.add(tail)
    return frozenset(keys)


def references(text: str) -> frozenset[str]:
    """Keys of the Open311 ids a citizen's text names (see the module docstring)."""
    folded = fold(text)
    found = [m.group(1) for m in _REFERENCE.finditer(folded)]
    for url in _URL.findall(folded):
        found += _URL_ID.findall(url)
    return frozenset(key for rid in found for key in id_keys(rid))


def features(
    *,
    source: str,
    text: str,
    title: str | None = None,
    external_id: str = "",
    extra: Mapping[str, Any] | None = None,
    gazetteer: Gazetteer = NO_PLACES,
) -> Features:
    extra = extra or {}
    body = f"{title}\n{text}" if title else text
    tokens = _tokens(_NOISE.sub(" ", body))
    address = extra.get("address") if source == OPEN311 else None
    # The request's address says where, not what: its words ("Roxbury") are no wording.
    parts = [tokens, _tokens(address)] if isinstance(address, str) else [tokens]
    places: set[Place] = set()
    numbers: dict[Place, set[str]] = {}
    for part in parts:
        places |= gazetteer.find(" " + " ".join(f for _, f in part) + " ")
        for place, found in _streets(part).items():
            places.add(place)
            numbers.setdefault(place, set()).update(found)
    own = (extra.get("service_request_id") or external_id) if source == OPEN311 else None
    lat_lon = point_of(extra.get("lat"), extra.get("long", extra.get("lon")))
    return Features(
        source=source,
        request_ids=id_keys(str(own)) if own else frozenset(),
        refs=frozenset() if source == OPEN311 else references(body),
        places=frozenset(places),
        numbers={place: frozenset(n) for place, n in numbers.items() if n},
        point=(lat_lon[1], lat_lon[0]) if lat_lon else None,
        words=_words(tokens, places),
    )


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres between two (lat, lon) points (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))


def _tokens(text: str) -> list[tuple[str, str]]:
    """(as written, folded) per token; NFC first so an accent stays inside its word."""
    out: list[tuple[str, str]] = []
    for word in TOKEN_RE.findall(unicodedata.normalize("NFC", text)):
        folded = fold(word)
        if folded:
            out.append((word, folded))
    return out


def _canonical(tokens: tuple[str, ...]) -> Place:
    last = _SUFFIX.get(tokens[-1]) if len(tokens) > 1 else None
    return (*tokens[:-1], last) if last else tokens


def _is_name(folded: str) -> bool:
    if _ORDINAL.fullmatch(folded):
        return True  # "5th St"
    return folded.isalpha() and len(folded) > 1 and folded not in _NOT_NAMES | _SUFFIX.keys()


def _streets(tokens: list[tuple[str, str]]) -> dict[Place, set[str]]:
    """Streets named in the tokens, each with the house numbers written before it."""
    found: dict[Place, set[str]] = {}
    for i in range(1, len(tokens)):
        folded = tokens[i][1]
        long_form = _SUFFIX.get(folded)
        name_word, name = tokens[i - 1]
        if long_form is None or not _is_name(name):
            continue
        number = tokens[i - 2][1] if i >= 2 and tokens[i - 2][1].isdigit() else None
        if not (name_word[:1].isupper() or folded != long_form or number):
            continue
        numbers = found.setdefault((name, long_form), set())
        if number:
            numbers.add(number)
    return found


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _words(tokens: list[tuple[str, str]], places: set[Place]) -> frozenset[str]:
    skip = {token for place in places for token in place} | _SUFFIX.keys()
    return frozenset(
        _singular(f)
        for _, f in tokens
        if len(f) > 2
        and f.isalpha()
        and f not in _STOPWORDS
        and f not in skip
        and _singular(f) not in _STOPWORDS
    )
