"""Router against a deliberately naive reference, on random rule sets *with contexts*.

Like the cross-check in ``tests/routing/test_routing.py`` (whose text reference and generators this
reuses), but the rules also use languages, authors, service codes, places (street suffixes
included), areas and required terms, and the mentions carry random contexts, with points on a
grid that puts many of them exactly on the fixture wards' edges and vertices. The reference
re-implements every comparison the obvious way, rule by rule, with a winding-number
point-in-polygon, so agreement says the indexes, gates and banded ray casts lose nothing.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
from typing import Any

from bot.core.text import fold, tokenize
from bot.routing import MentionContext, Router, RuleDef
from tests.routing.test_routing import _random_mention, _random_rules, _random_term, _ref_term
from tests.routing.test_routing_geo import WARDS_FILE, load_wards, winding_contains

WARDS = load_wards()
_Rings = list[list[tuple[float, float]]]


def _ward_polygons() -> dict[str, list[_Rings]]:
    data = json.loads(WARDS_FILE.read_text())
    polygons: dict[str, list[_Rings]] = {}
    for feature in data["features"]:
        geometry = feature["geometry"]
        parts = geometry["coordinates"]
        if geometry["type"] == "Polygon":
            parts = [parts]
        polygons.setdefault(feature["properties"]["name"], []).extend(
            [[(x, y) for x, y in ring[:-1]] for ring in part] for part in parts
        )
    return polygons


POLYGONS = _ward_polygons()

# ------------------------------------------------------------------------------ reference

_SUFFIXES = [{"street", "st"}, {"avenue", "ave", "av"}, {"road", "rd"}, {"boulevard", "blvd"}]


def _ref_language(tag: str | None) -> str:
    primary = re.split(r"[-_]", (tag or "").strip())[0].lower()
    return "unknown" if primary in ("", "und") else primary


def _ref_author(handle: str) -> str:
    inside = re.search(r"<([^<>]*)>\s*$", handle)
    if inside and inside.group(1).strip():
        handle = inside.group(1)
    handle = " ".join(handle.split()).lower()
    return handle[1:].strip() if handle.startswith(("@", "/")) else handle


def _ref_place(place: str, tokens: list[str]) -> bool:
    words = tokenize(fold(place))
    forms = [words[-1]]
    for group in _SUFFIXES:
        if len(words) > 1 and words[-1] in group:
            forms = sorted(group)
    return any(_ref_term(" ".join([*words[:-1], form]), tokens) for form in forms)


def _ref_areas(context: MentionContext) -> set[str]:
    if context.lat is None or context.lon is None:
        return set()
    return {
        name
        for name, parts in POLYGONS.items()
        if any(winding_contains(context.lon, context.lat, rings) for rings in parts)
    }


def _ref_text(r: RuleDef, text: str, tokens: list[str]) -> bool:
    tags = set(re.findall(r"(?<!\w)#(\w+)", fold(text)))
    return (
        any(_ref_term(k, tokens) for k in r.keywords)
        or any(fold(h.lstrip("#")) in tags for h in r.hashtags)
        or any(
            re.search(p, text, re.IGNORECASE) or re.search(p, fold(text), re.IGNORECASE)
            for p in r.regex
        )
    )


def reference(
    rules: list[RuleDef], text: str, source: str, context: MentionContext
) -> tuple[list[str], list[str]]:
    """(matched, vetoed) rule names in priority order, rule by rule, the obvious way."""
    tokens = tokenize(fold(text))
    areas = _ref_areas(context)
    matched: list[str] = []
    vetoed: list[str] = []
    for index in sorted(range(len(rules)), key=lambda i: (rules[i].priority, i)):
        r = rules[index]
        checks = [
            not (r.keywords or r.hashtags or r.regex) or _ref_text(r, text, tokens),
            all(_ref_term(term, tokens) for term in r.require),
            not r.places or any(_ref_place(p, tokens) for p in r.places),
            not r.areas or any(a.strip().lower() == b.lower() for a in r.areas for b in areas),
            not r.languages
            or _ref_language(context.language) in {_ref_language(x) for x in r.languages},
            not r.service_codes
            or (context.service_code or "").strip().lower()
            in {c.strip().lower() for c in r.service_codes},
            not r.authors or _ref_author(context.author) in {_ref_author(a) for a in r.authors},
            not r.sources or source.strip().lower() in {s.strip().lower() for s in r.sources},
        ]
        if not r.enabled or not all(checks):
            continue
        if any(_ref_term(e, tokens) for e in r.exclude):
            vetoed.append(r.name)
        else:
            matched.append(r.name)
    return matched, vetoed


# ------------------------------------------------------------------------------ generators

_PLACES = [
    "Boylston Street", "Boylston St", "Jamaica Plain", "Côte-des-Neiges", "Blue Hill Ave",
    "Centre Road", "bin street", "Montréal", "St Botolph Street",
]  # fmt: skip
_PLACE_TEXT = [
    "Boylston", "St.", "street", "ST", "Jamaica", "Plain", "Cote", "des", "NEIGES", "Blue", "Hill",
    "Avenue", "av", "Centre", "rd", "road", "Botolph", "Saint", "montreal",
]  # fmt: skip
_AUTHORS = [
    "@rosa@mastodon.social", "Rosa@Mastodon.social", "u/joe", "/u/joe", "Ana <ana@x.org>",
    "ana@x.org", "Bob <bob@x.org>", "@CityHall",
]  # fmt: skip
_AREA_NAMES = ["Ward 1", "ward 2", "Ward 3", "WARD 4", "Ward 5"]  # names are case-insensitive
_LANGUAGES = ["en", "fr", "unknown", "fr-CA", "ES"]
_MENTION_LANGUAGES = [None, "", "en", "EN-us", "fr", "fr_CA", "es", "und"]
_CODES = ["POTHOLE", "sidewalk", "4ffa4c69601827691b000018"]
_MENTION_CODES = [None, "", "pothole ", "SIDEWALK", "4ffa4c69601827691b000018", "other"]
# A grid through the wards' vertices and edges (rounded: the same doubles as in the file).
_LONS = [round(-71.21 + 0.005 * k, 3) for k in range(55)]
_LATS = [round(42.24 + 0.005 * k, 3) for k in range(36)]


def _random_context_rules(rnd: random.Random) -> list[RuleDef]:
    rules = []
    for r in _random_rules(rnd):
        extra: dict[str, Any] = {}
        if rnd.random() < 0.25:
            extra["languages"] = tuple(rnd.sample(_LANGUAGES, rnd.randint(1, 2)))
        if rnd.random() < 0.15:
            extra["authors"] = tuple(rnd.sample(_AUTHORS, rnd.randint(1, 2)))
        if rnd.random() < 0.15:
            extra["service_codes"] = tuple(rnd.sample(_CODES, rnd.randint(1, 2)))
        if rnd.random() < 0.2:
            extra["places"] = tuple(rnd.sample(_PLACES, rnd.randint(1, 2)))
        if rnd.random() < 0.35:
            extra["areas"] = tuple(rnd.sample(_AREA_NAMES, rnd.randint(1, 2)))
        if rnd.random() < 0.2:
            extra["require"] = tuple(_random_term(rnd) for _ in range(rnd.randint(1, 2)))
        if rnd.random() < 0.1:
            extra["cc"] = "copy"
        rules.append(dataclasses.replace(r, **extra))
    return rules


def _random_context(rnd: random.Random) -> MentionContext:
    point = rnd.random() < 0.7
    return MentionContext(
        language=rnd.choice(_MENTION_LANGUAGES),
        author=rnd.choice([*_AUTHORS, ""]) if rnd.random() < 0.8 else "ANA@X.ORG",
        service_code=rnd.choice(_MENTION_CODES),
        lat=rnd.choice(_LATS) if point else None,
        lon=rnd.choice(_LONS) if point else None,
    )


def _random_text(rnd: random.Random) -> str:
    text = _random_mention(rnd)
    for _ in range(rnd.randint(0, 4)):
        text += rnd.choice([" ", ", ", "-", " #"]) + rnd.choice(_PLACE_TEXT)
    return text


def test_router_agrees_with_reference_on_contexts() -> None:
    rnd = random.Random(20250101)
    compared = matched = vetoed = with_area = 0
    for _ in range(300):
        rules = _random_context_rules(rnd)
        router = Router(rules, WARDS)
        for _ in range(15):
            text = _random_text(rnd)
            source = rnd.choice(["rss", "twitter", "TWITTER", "email", "facebook"])
            context = _random_context(rnd)
            expected, expected_vetoed = reference(rules, text, source, context)
            where = (rules, text, source, context)
            found = router.route(text, source, context=context)
            assert (found.rule if found else None) == (expected[0] if expected else None), where
            explanation = router.explain(text, source, context=context)
            assert [m.rule for m in explanation] == expected, where
            assert [v.rule for v in explanation.vetoed] == expected_vetoed, where
            by_name = {r.name: r for r in rules}
            for m in explanation:
                assert m.reason and m.cc == by_name[m.rule].cc
                if by_name[m.rule].areas:
                    with_area += 1
                    assert "area Ward" in m.reason
            compared += 1
            matched += bool(expected)
            vetoed += bool(expected_vetoed)
    # The generator must exercise both outcomes, and areas, or the agreement means little.
    assert matched > compared // 4 and compared - matched > compared // 10
    assert vetoed > 100 and with_area > 100
