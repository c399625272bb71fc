"""Tests for routing by context and the richer criteria: languages, authors, service codes,
places, areas, required terms, how kinds combine (AND/OR/NOT), reasons, ``cc`` and errors.

Area rules use the hand-written wards in ``tests/fixtures/places/wards.geojson`` (see
``tests/routing/test_routing_geo.py`` for the point-in-polygon cases themselves).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.routing import Match, MentionContext, Router, RuleDef, RuleError, Veto
from bot.routing._rule import Mention
from tests.routing.test_routing_geo import load_wards

WARDS = load_wards()
IN_WARD_1 = {"lat": 42.34, "lon": -71.08}
IN_HOLE = {"lat": 42.32, "lon": -71.08}  # Ward 1's hole
ON_1_2 = {"lat": 42.32, "lon": -71.05}  # the edge Ward 1 and Ward 2 share
IN_WARD_2 = {"lat": 42.32, "lon": -71.02}
ISLAND = {"lat": 42.38, "lon": -70.97}  # Ward 4's second part
NOWHERE = {"lat": 40.0, "lon": -74.0}


def rule(name: str = "r", department: str = "dept", **kwargs: Any) -> RuleDef:
    """A RuleDef with list arguments turned into tuples, as the config loader would."""
    fixed: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
    return RuleDef(name, department, **fixed)


def route(
    text: str = "hello", source: str = "twitter", *, rules: list[RuleDef], **context: Any
) -> Match | None:
    return Router(rules, WARDS).route(text, source, context=MentionContext(**context))


def matches(text: str = "hello", context: dict[str, Any] | None = None, **criteria: Any) -> bool:
    return route(text, rules=[rule(**criteria)], **(context or {})) is not None


# ------------------------------------------------------------------------------ languages


@pytest.mark.parametrize(
    ("languages", "language", "expected"),
    [
        (["fr"], "fr", True),
        (["fr"], "FR", True),
        (["FR"], "fr", True),
        (["fr"], "fr-CA", True),  # regional tags compare by their language
        (["fr"], "fr_ca", True),
        (["fr-CA"], "fr", True),
        (["fr"], "en", False),
        (["fr", "en"], "en", True),
        (["fr"], None, False),  # unknown language: only rules that list "unknown"
        (["fr"], "", False),
        (["fr", "unknown"], None, True),
        (["unknown"], "", True),
        (["unknown"], "und", True),
        (["Unknown"], None, True),
        (["unknown"], "fr", False),
    ],
)
def test_languages(languages: list[str], language: str | None, expected: bool) -> None:
    assert matches(context={"language": language}, languages=languages) is expected


def test_no_context_is_an_unknown_language() -> None:
    router = Router([rule("fr", languages=["fr"]), rule("other", languages=["unknown"])])
    assert [m.rule for m in router.explain("bonjour", "x")] == ["other"]
    assert router.route("bonjour", "x", context=None) == router.route("bonjour", "x")


# -------------------------------------------------------------------------------- authors


@pytest.mark.parametrize(
    ("author", "mention_author", "expected"),
    [
        # Fediverse handles: a leading "@" is optional, case does not matter.
        ("@rosa@mastodon.social", "@rosa@mastodon.social", True),
        ("rosa@mastodon.social", "@Rosa@Mastodon.Social", True),
        ("@ROSA@mastodon.social", "rosa@mastodon.social", True),
        ("@rosa", "@rosa@mastodon.social", False),  # whole handles only
        ("@rosa@mastodon.social", "@rosa@mastodon.online", False),
        ("@cityhall", "@CityHall", True),  # X, Bluesky
        # Reddit.
        ("u/joe", "u/joe", True),
        ("U/Joe", "u/joe", True),
        ("/u/joe", "u/joe", True),
        ("joe", "u/joe", False),
        ("u/joe", "u/joey", False),
        # E-mail: "Name <address>" compares by the address.
        ("ana@x.org", "Ana <ana@x.org>", True),
        ("Ana <ANA@x.org>", "ana@x.org", True),
        ("Ana Lopez <ana@x.org>", "Someone Else <ana@x.org>", True),
        ("ana@x.org", "Ana <bob@x.org>", False),
        ("Ana", "Ana <ana@x.org>", False),
        # Display names (Facebook, RSS) are whole handles too.
        ("Ana Lopez", "ana  lopez", True),
        ("Ana", "Ana Lopez", False),
        ("u/joe", "", False),
    ],
)
def test_authors(author: str, mention_author: str, expected: bool) -> None:
    assert matches(context={"author": mention_author}, authors=[author]) is expected


# -------------------------------------------------------------------------- service codes


@pytest.mark.parametrize(
    ("codes", "code", "expected"),
    [
        (["POTHOLE"], "pothole", True),
        ([" sidewalk "], "SIDEWALK", True),
        (["4ffa4c69601827691b000018"], "4ffa4c69601827691b000018", True),
        (["a", "b"], "b", True),
        (["a"], "b", False),
        (["a"], None, False),
        (["a"], "  ", False),
    ],
)
def test_service_codes(codes: list[str], code: str | None, expected: bool) -> None:
    assert matches(context={"service_code": code}, service_codes=codes) is expected


# --------------------------------------------------------------------------------- places


@pytest.mark.parametrize(
    ("place", "text", "expected"),
    [
        ("Jamaica Plain", "pothole in jamaica plain!", True),
        ("Jamaica Plain", "JAMAICA-PLAIN", True),
        ("Jamaica Plain", "#JamaicaPlain", False),  # one word, not the phrase
        ("Jamaica Plain", "Jamaica Plainfield", False),
        ("Jamaica Plain", "plain jamaica", False),
        ("Roxbury", "roxburyish", False),
        ("Roxbury", "#Roxbury", True),
        # Accents, both ways.
        ("Côte-des-Neiges", "cote des neiges", True),
        ("cote des neiges", "CÔTE-DES-NEIGES", True),
        ("Mission Hill", "Mission Híll", True),
        # Street suffixes, on the last word only.
        ("Boylston Street", "on Boylston St. tonight", True),
        ("Boylston Street", "BOYLSTON ST", True),
        ("Boylston St", "boylston street", True),
        ("Boylston Street", "Boylston Streets", False),
        ("Boylston Street", "Boylston", False),
        ("Boylston Street", "Boylston Road", False),
        ("Massachusetts Ave", "Massachusetts Avenue", True),
        ("Blue Hill Avenue", "blue hill av", True),
        ("Centre Rd", "Centre Road", True),
        ("Columbus Blvd", "columbus boulevard", True),
        ("St Botolph Street", "St. Botolph St.", True),
        ("St Botolph Street", "Saint Botolph Street", False),  # "St" first is not a suffix
        ("Street", "St", False),  # a one-word place is never expanded
    ],
)
def test_places(place: str, text: str, expected: bool) -> None:
    assert matches(text, places=[place]) is expected


# ---------------------------------------------------------------------------------- areas


@pytest.mark.parametrize(
    ("areas", "context", "expected"),
    [
        (["Ward 1"], IN_WARD_1, True),
        (["Ward 1"], IN_HOLE, False),
        (["Ward 1"], ON_1_2, True),  # on the boundary: inside
        (["Ward 2"], ON_1_2, True),  # ... of both neighbours
        (["Ward 1"], IN_WARD_2, False),  # across the boundary
        (["Ward 4"], ISLAND, True),  # a MultiPolygon's second part
        (["ward 4"], ISLAND, True),  # names are case-insensitive
        (["Ward 1", "Ward 4"], ISLAND, True),
        (["Ward 1"], NOWHERE, False),
        (["Ward 1"], {}, False),  # no coordinates
        (["Ward 1"], {"lat": 42.34}, False),  # half a point is no point
        (["Ward 1"], {"lat": 42.34, "lon": float("nan")}, False),
    ],
)
def test_areas(areas: list[str], context: dict[str, Any], expected: bool) -> None:
    assert matches(context=context, areas=areas) is expected


# -------------------------------------------------------------------------------- require


@pytest.mark.parametrize(
    ("criteria", "text", "expected"),
    [
        ({"require": ["pothole", "boylston"]}, "Pothole on Boylston", True),
        ({"require": ["pothole", "boylston"]}, "pothole", False),
        ({"require": ["pothole", "boylston"]}, "boylston", False),
        ({"require": ["pothole*"]}, "POTHOLES", True),
        ({"require": ["pot*", "bin"]}, "potted bin", True),
        ({"require": ["pot*", "bin"]}, "potted plant", False),
        ({"require": ["street light"]}, "street-light out", True),
        ({"keywords": ["pothole", "crack"], "require": ["street"]}, "crack in the street", True),
        ({"keywords": ["pothole", "crack"], "require": ["street"]}, "crack", False),
        ({"keywords": ["pothole", "crack"], "require": ["street"]}, "street", False),
    ],
)
def test_require(criteria: dict[str, Any], text: str, expected: bool) -> None:
    assert matches(text, **criteria) is expected


# ------------------------------------------------------------------ AND, OR and NOT together

_COMBINED = {
    "keywords": ["pothole", "crack"],  # OR
    "areas": ["Ward 1", "Ward 2"],  # OR, AND-ed with the rest
    "languages": ["en", "fr"],
    "exclude": ["test"],  # NOT
}


@pytest.mark.parametrize(
    ("text", "context", "expected"),
    [
        ("a pothole", {**IN_WARD_1, "language": "en"}, True),
        ("a crack", {**IN_WARD_2, "language": "fr"}, True),
        ("a crack", {**ON_1_2, "language": "fr-CA"}, True),
        ("a bump", {**IN_WARD_1, "language": "en"}, False),  # no text criterion hit
        ("a pothole", {**IN_HOLE, "language": "en"}, False),  # not in any area
        ("a pothole", {**IN_WARD_1, "language": "es"}, False),  # wrong language
        ("a pothole", {**IN_WARD_1}, False),  # unknown language
        ("a pothole", {"language": "en"}, False),  # no coordinates
        ("a pothole test", {**IN_WARD_1, "language": "en"}, False),  # vetoed
    ],
)
def test_kinds_combine_with_and(text: str, context: dict[str, Any], expected: bool) -> None:
    assert matches(text, context, **_COMBINED) is expected


def test_every_kind_at_once() -> None:
    full = rule(
        "all",
        keywords=["pothole"],
        require=["deep"],
        places=["Boylston Street"],
        areas=["Ward 1"],
        languages=["en"],
        service_codes=["POTHOLE"],
        authors=["u/joe"],
        sources=["reddit"],
        exclude=["fixed"],
    )
    good = {**IN_WARD_1, "language": "en", "service_code": "pothole", "author": "u/joe"}
    text = "Deep pothole on Boylston St"
    assert route(text, "reddit", rules=[full], **good) is not None
    for field, value in [
        ("language", "fr"),
        ("service_code", "other"),
        ("author", "u/ann"),
        ("lat", 42.32),  # into the hole
    ]:
        assert route(text, "reddit", rules=[full], **{**good, field: value}) is None, field
    assert route(text, "rss", rules=[full], **good) is None
    assert route("Deep pothole on Tremont St", "reddit", rules=[full], **good) is None
    assert route("Pothole on Boylston St", "reddit", rules=[full], **good) is None
    assert route(text + ", fixed", "reddit", rules=[full], **good) is None
    assert route("Deep hole on Boylston St", "reddit", rules=[full], **good) is None


def test_priority_across_context_rules() -> None:
    rules = [
        rule("french", "francophone", priority=300, languages=["fr"]),
        rule("press", "comms", priority=10, authors=["@reporter@news.social"]),
        rule("open311", "public-works", priority=50, service_codes=["POTHOLE"]),
        rule("ward1", "ward-one", priority=100, areas=["Ward 1"]),
        rule("jp", "jp-team", priority=150, places=["Jamaica Plain"]),
        rule("potholes", "public-works", priority=200, keywords=["pothole"]),
    ]
    context = MentionContext("fr", "@Reporter@news.social", "pothole", 42.34, -71.08)
    text = "nid de poule, pothole, Jamaica Plain"
    explained = Router(rules, WARDS).explain(text, "x", context=context)
    assert [m.rule for m in explained] == ["press", "open311", "ward1", "jp", "potholes", "french"]


# -------------------------------------------------------------------------- reasons and cc


@pytest.mark.parametrize(
    ("criteria", "text", "context", "reason"),
    [
        (
            {"keywords": ["pothole"], "areas": ["Ward 1"], "languages": ["fr"]},
            "Pothole!",
            {**IN_WARD_1, "language": "fr"},
            'keyword "pothole" matched "Pothole", area Ward 1, language fr',
        ),
        (
            {"places": ["Boylston Street"]},
            "sur Boylston St. ce matin",
            {},
            'place "Boylston Street" matched "Boylston St"',
        ),
        (
            {"places": ["cote des neiges"]},
            "à Côte-des-Neiges",
            {},
            'place "cote des neiges" matched "Côte-des-Neiges"',
        ),
        (
            {"require": ["deep", "pot*"]},
            "DEEP potholes",
            {},
            'required "deep" matched "DEEP", required "pot*" matched "potholes"',
        ),
        ({"areas": ["ward 2"]}, "x", ON_1_2, "area Ward 2"),
        ({"areas": ["Ward 1", "Ward 2"]}, "x", ON_1_2, "area Ward 1"),
        ({"languages": ["unknown"]}, "x", {}, "language unknown"),
        ({"languages": ["fr"]}, "x", {"language": "FR-ca"}, "language fr"),
        ({"service_codes": ["pothole"]}, "x", {"service_code": "POTHOLE"}, "service code POTHOLE"),
        (
            {"authors": ["ana@x.org"], "sources": ["email"]},
            "x",
            {"author": "Ana <ana@x.org>"},
            "author Ana <ana@x.org>, source is email",
        ),
    ],
)
def test_reasons(criteria: dict[str, Any], text: str, context: dict[str, Any], reason: str) -> None:
    source = "email" if "sources" in criteria else "x"
    assert route(text, source, rules=[rule(**criteria)], **context) == Match("r", "dept", reason)


def test_veto_reason_includes_context() -> None:
    router = Router([rule("w1", areas=["Ward 1"], exclude=["spam"])], WARDS)
    explained = router.explain("SPAM", "x", context=MentionContext(lat=42.34, lon=-71.08))
    assert explained == []
    assert explained.vetoed == [Veto("w1", 'exclude "spam" matched "SPAM" (area Ward 1)')]


def test_cc_is_carried() -> None:
    router = Router(
        [rule("press", "comms", authors=["@reporter"], cc="mayors-office"), rule("rest", "x")]
    )
    context = MentionContext(author="@Reporter")
    assert router.route("hi", "x", context=context) == Match(
        "press", "comms", "author @Reporter", "mayors-office"
    )
    assert [m.cc for m in router.explain("hi", "x", context=context)] == ["mayors-office", None]
    assert Match("a", "b", "c") == Match("a", "b", "c", None)  # old callers unaffected
    assert rule("c", cc=" parks ").cc == " parks "  # the RuleDef keeps what was written...
    found = Router([rule("c", cc=" parks ")]).route("x", "x")
    assert found is not None and found.cc == "parks"  # ...the match carries the slug


# --------------------------------------------------------------------------- rule errors


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (rule("lang", languages=["English"]), 'language "English" is not a language code'),
        (rule("lang", languages=[""]), 'language "" is not a language code'),
        (rule("lang", languages=["f"]), 'language "f" is not'),
        (rule("auth", authors=["@"]), "empty author"),
        (rule("auth", authors=[" "]), "empty author"),
        (rule("svc", service_codes=[" "]), "empty service code"),
        (rule("place", places=["Boylston*"]), '"*" is not allowed in a place name'),
        (rule("place", places=["!!!"]), 'place "!!!" has no letters or digits'),
        (rule("req", require=["st*reet"]), 'require "st*reet": "*" is only allowed at the end'),
        (rule("area", areas=["Ward 9"]), 'unknown area "Ward 9" (known: Ward 1, Ward 2,'),
        (rule("cc", cc=""), "cc must be a department slug"),
        (rule("cc", cc=3), "cc must be a department slug"),
        (RuleDef("str", "d", languages="fr"), "languages must be a list of strings"),  # type: ignore[arg-type]
        (RuleDef("int", "d", areas=(5,)), "areas must contain strings"),  # type: ignore[arg-type]
        (rule("off", places=["*"], enabled=False), "place"),
    ],
)
def test_rule_errors(bad: RuleDef, message: str) -> None:
    with pytest.raises(RuleError, match=re.escape(message)) as caught:
        Router([rule("fine", keywords=["ok"]), bad], WARDS)
    assert caught.value.rule == bad.name


def test_areas_need_an_area_index() -> None:
    with pytest.raises(RuleError, match="areas need boundaries: give the Router an AreaIndex"):
        Router([rule("w", areas=["Ward 1"])])
    assert Router([rule("w", areas=["Ward 1"])], WARDS).areas is WARDS


# --------------------------------------------------- rules without text use cheap indexes


@pytest.mark.parametrize(
    ("criteria", "context", "text"),
    [
        ({"authors": ["u/joe{i}"]}, {"author": "u/joe7"}, "hi"),
        ({"service_codes": ["code{i}"]}, {"service_code": "CODE7"}, "hi"),
        ({"places": ["Place {i} Street"]}, {}, "at place 7 st"),
        ({"require": ["word{i}", "ok"]}, {}, "word7 ok"),  # gated by the longer word
        ({"require": ["word{i}*"]}, {}, "word7s"),
        ({"languages": ["{code}"]}, {"language": "AH"}, "hi"),
        ({"sources": ["feed{i}"]}, {}, "hi"),
    ],
)
def test_context_only_rules_are_indexed(
    criteria: dict[str, list[str]], context: dict[str, Any], text: str
) -> None:
    rules = []
    for i in range(100):
        code = chr(97 + i // 26) + chr(97 + i % 26)  # "ah" for 7
        fields: dict[str, Any] = {
            kind: [value.format(i=i, code=code) for value in values]
            for kind, values in criteria.items()
        }
        rules.append(rule(f"r{i}", **fields))
    router = Router(rules, WARDS)
    source = "feed7" if "sources" in criteria else "x"
    found = router.route(text, source, context=MentionContext(**context))
    assert found is not None and found.rule == "r7"
    mention = Mention(text, MentionContext(**context), WARDS)
    hits, maybes = router._index.scan(mention)
    assert len(router._index.candidates(mention, source, hits, maybes)) == 1  # not all 100


def test_area_only_rules_are_indexed() -> None:
    rules = [rule(f"w{n}", areas=[f"Ward {n}"]) for n in range(1, 6)]
    router = Router(rules, WARDS)
    context = MentionContext(lat=42.38, lon=-70.97)
    assert [m.rule for m in router.explain("hi", "x", context=context)] == ["w4"]
    mention = Mention("hi", context, WARDS)
    assert router._index.candidates(mention, "x", set(), set()) == [3]
