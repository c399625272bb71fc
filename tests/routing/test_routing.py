"""Tests for the routing engine (bot.routing, bot.routing_*) and text normalisation (bot.core.text).

Table-driven tests pin the documented semantics one feature at a time; the randomised
cross-check at the end compares Router against a deliberately naive reference implementation
(rule by rule, token window by token window, every regex run) over a few hundred generated rule
sets, which is what catches index and prefilter bugs the tables do not think of.
"""

# Look-alike characters (dotless i, long s, full-width letters) are the point of several tests.
# ruff: noqa: RUF001

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.core.text import fold, hashtags, original_span, tokenize
from bot.routing import Explanation, Match, Router, RuleDef, RuleError, Veto
from bot.routing._regex import regex_literals


def rule(name: str = "r", department: str = "dept", **kwargs: Any) -> RuleDef:
    """A RuleDef with list arguments turned into tuples, as the config loader would."""
    fixed: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
    return RuleDef(name, department, **fixed)


def matches(text: str, source: str = "twitter", **criteria: Any) -> bool:
    return Router([rule(**criteria)]).route(text, source) is not None


# ------------------------------------------------------------------------------- keywords


@pytest.mark.parametrize(
    ("keyword", "text", "expected"),
    [
        ("bin", "the bin is full", True),
        ("bin", "BIN!", True),
        ("bin", "bin", True),
        ("bin", "binance pump", False),
        ("bin", "a cabin in the woods", False),
        ("bin", "the bins are full", False),
        ("bin", "bin2 and bin_3", False),  # digits and '_' are word characters
        ("bin*", "the bins are full", True),
        ("bin*", "binance", True),
        ("bin*", "bin", True),
        ("bin*", "a cabin", False),
        ("bin*", "cabins", False),
        ("bins*", "bin", False),
        ("2024", "election 2024!", True),
        ("2024", "20245", False),
    ],
)
def test_keywords_are_whole_words_unless_prefix(keyword: str, text: str, expected: bool) -> None:
    assert matches(text, keywords=[keyword]) is expected


@pytest.mark.parametrize(
    ("keyword", "text", "expected"),
    [
        ("street light", "Street  light!", True),
        ("street light", "STREET-LIGHT", True),
        ("street light", "street\n\tlight", True),
        ("street light", "street, light", True),  # punctuation is only a separator
        ("street light", "street 💡 light", True),
        ("street light", "street lights", False),
        ("street light", "light street", False),
        ("street light", "streetlight", False),
        ("street light", "street big light", False),
        ("street light", "main street lighting", False),
        ("street light*", "main street lighting", True),
        ("street light*", "STREET-LIGHTS are out", True),
        ("street-light", "street light", True),  # the keyword's '-' is a separator too
        ("  street   light  ", "street light", True),
        ("nid-de-poule", "Un nid de poule énorme", True),
    ],
)
def test_phrases_across_punctuation_and_whitespace(keyword: str, text: str, expected: bool) -> None:
    assert matches(text, keywords=[keyword]) is expected


@pytest.mark.parametrize(
    ("keyword", "text"),
    [
        ("pothole", "POTHOLE"),
        ("POTHOLE", "pothole"),
        ("PotHole", "pOThOLE"),
        ("strasse", "Straße"),  # full case folding: ß is ss
        ("Straße", "STRASSE"),
        ("istanbul", "İstanbul"),
        ("ISTANBUL", "istanbul"),
    ],
)
def test_case_insensitive(keyword: str, text: str) -> None:
    assert matches(text, keywords=[keyword])


@pytest.mark.parametrize(
    ("keyword", "text"),
    [
        ("cafe", "Café"),
        ("café", "cafe"),
        ("Montréal", "montreal"),
        ("montreal", "MONTRÉAL"),
        ("déneigement", "DENEIGEMENT"),
        ("cafe", "Cafe\u0301"),  # decomposed accent in the text
        ("Cafe\u0301", "café"),  # decomposed accent in the keyword
        ("fire", "ﬁre"),  # ligature
        ("pothole", "ｐｏｔｈｏｌｅ"),  # full-width letters
        ("sao paulo", "São Paulo"),
        ("zurich", "Zürich"),
        ("ilik", "ılık"),  # dotless i folds like an accented i
    ],
)
def test_accent_insensitive_both_ways(keyword: str, text: str) -> None:
    assert matches(text, keywords=[keyword])


def test_keyword_matches_inside_a_hashtag() -> None:
    assert matches("fix it #pothole", keywords=["pothole"])


@pytest.mark.parametrize(
    ("keyword", "text", "expected"),
    [
        ("路灯", "我要投诉路灯坏了", True),  # no spaces in Chinese: characters in order
        ("路灯", "我要投诉路坏了灯", False),
        ("ไฟถนน", "แจ้งไฟถนนเสีย", True),
        ("שלום", "!שלום עולם", True),
        ("مرحبا", "مرحبا بالعالم", True),
    ],
)
def test_other_scripts(keyword: str, text: str, expected: bool) -> None:
    assert matches(text, keywords=[keyword]) is expected


# ------------------------------------------------------------------------------- hashtags


@pytest.mark.parametrize(
    ("tag", "text", "expected"),
    [
        ("potholes", "Look #Potholes", True),
        ("potholes", "#POTHOLES everywhere", True),
        ("Potholes", "#potholes", True),
        ("#potholes", "#potholes", True),  # a leading '#' in the config is tolerated
        ("potholes", "potholes everywhere", False),  # the bare word is not the hashtag
        ("potholes", "#potholes2024", False),
        ("potholes", "#pot", False),
        ("potholes", "email#potholes", False),  # not a hashtag when glued to a word
        ("elections", "#Élections municipales", True),
        ("élections", "#elections", True),
        ("路灯", "坏了 #路灯", True),
        ("potholes", "(#potholes)", True),
    ],
)
def test_hashtags(tag: str, text: str, expected: bool) -> None:
    assert matches(text, hashtags=[tag]) is expected


# --------------------------------------------------------------------------------- regexes


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        (r"\bplow\w*", "They are PLOWING the street", True),
        (r"\bplow\w*", "snowplow", False),
        (r"pot\s*holes?", "pot holes", True),
        (r"\d{3}-\d{4}", "call 872-0311", True),
        (r"\d{3}-\d{4}", "call 8720311", False),
        (r"montreal", "Montréal", True),  # found in the folded text
        (r"montréal", "MONTRÉAL", True),  # found in the original text
        (r"montréal", "montreal", False),  # patterns are not folded: write them without accents
        (r"(?-i:Bin)", "bin", False),
        (r"(?-i:Bin)", "Bin", True),
        (r"(?-i:bin)", "BIN", True),  # the folded text is lower case
        (r"(?x) street \s+ light", "street light", True),
        (r"caf(?:e|é)\b", "CAFÉ", True),
        (r"\bst(?:reet)?\.?\s+denis\b", "rue St. Denis", True),
    ],
)
def test_regex(pattern: str, text: str, expected: bool) -> None:
    assert matches(text, regex=[pattern]) is expected


# ------------------------------------------------------------------ sources and exclusions


@pytest.mark.parametrize(
    ("exclude", "text", "expected"),
    [
        (["binance"], "the bins are full", True),
        (["binance"], "buy binance", False),
        (["binance"], "bins and BINANCE", False),  # any exclusion hit vetoes
        (["crypto*"], "bin for cryptocurrency", False),
        (["crypto*"], "bin", True),
        (["bin bag"], "a bin bag in the bin", False),
        (["bin bag"], "bin, bag", False),
        (["bin bag"], "bag bin", True),
    ],
)
def test_exclusion_vetoes(exclude: list[str], text: str, expected: bool) -> None:
    assert matches(text, keywords=["bin*"], exclude=exclude) is expected


@pytest.mark.parametrize(
    ("sources", "source", "expected"),
    [
        ([], "twitter", True),
        (["rss"], "rss", True),
        (["rss"], "RSS", True),
        (["RSS "], "rss", True),
        (["rss"], "twitter", False),
        (["rss", "email"], "email", True),
    ],
)
def test_source_filter(sources: list[str], source: str, expected: bool) -> None:
    assert matches("the bin", source, keywords=["bin"], sources=sources) is expected


def test_source_only_rule() -> None:
    router = Router([rule("feed", sources=["rss"])])
    assert router.route("anything at all", "rss") == Match("feed", "dept", "source is rss")
    assert router.route("anything at all", "twitter") is None


# ------------------------------------------------------- priority, ties, disabled, catch-all


def test_lowest_priority_number_wins() -> None:
    router = Router(
        [
            rule("late", "a", priority=200, keywords=["bin"]),
            rule("early", "b", priority=10, keywords=["bin"]),
            rule("middle", "c", priority=100, keywords=["bin"]),
        ]
    )
    found = router.route("bin", "twitter")
    assert found is not None and found.rule == "early" and found.department == "b"
    assert [m.rule for m in router.explain("bin", "twitter")] == ["early", "middle", "late"]


def test_ties_go_to_the_rule_given_first() -> None:
    names = ["b", "a", "c", "d"]
    router = Router([rule(name, keywords=["bin"]) for name in names])
    assert [m.rule for m in router.explain("bin", "x")] == names
    found = router.route("bin", "x")
    assert found is not None and found.rule == "b"


def test_priority_across_kinds_of_criteria() -> None:
    router = Router(
        [
            rule("kw", priority=30, keywords=["snow"]),
            rule("tag", priority=20, hashtags=["snow"]),
            rule("rx", priority=10, regex=[r"sno\w"]),
            rule("src", priority=5, sources=["rss"]),
        ]
    )
    assert [m.rule for m in router.explain("#snow", "rss")] == ["src", "rx", "tag", "kw"]
    assert [m.rule for m in router.explain("snow", "twitter")] == ["rx", "kw"]


def test_a_vetoed_rule_lets_the_next_one_win() -> None:
    router = Router(
        [
            rule("waste", "public-works", priority=1, keywords=["bin*"], exclude=["binance"]),
            rule("scam", "comms", priority=2, keywords=["binance"]),
        ]
    )
    found = router.route("binance bins", "x")
    assert found is not None and found.rule == "scam"


def test_disabled_rules_are_ignored() -> None:
    router = Router(
        [
            rule("off", priority=1, keywords=["bin"], enabled=False),
            rule("on", priority=2, keywords=["bin"]),
            rule("all-off", priority=0, enabled=False),
        ]
    )
    assert [m.rule for m in router.explain("bin", "x")] == ["on"]
    assert router.route("nothing", "x") is None
    assert [r.name for r in router.rules] == ["off", "on", "all-off"]  # rules: as given


def test_catch_all() -> None:
    router = Router([rule("bins", keywords=["bin"]), rule("rest", "triage", priority=1000)])
    assert router.route("hello", "x") == Match("rest", "triage", "catch-all rule")
    assert router.route("", "x") == Match("rest", "triage", "catch-all rule")
    found = router.route("bin", "x")
    assert found is not None and found.rule == "bins"


def test_catch_all_with_exclusions() -> None:
    router = Router([rule("rest", exclude=["spam"])])
    assert router.route("hello", "x") is not None
    assert router.route("SPAM!", "x") is None


@pytest.mark.parametrize("text", ["", "nothing relevant here", "cabin binance", "   "])
def test_no_match_is_none(text: str) -> None:
    router = Router([rule("bins", keywords=["bin"], hashtags=["bin"], regex=[r"\bbin\b"])])
    assert router.route(text, "x") is None
    assert router.explain(text, "x") == []


def test_no_rules() -> None:
    router = Router([])
    assert router.route("bin", "x") is None
    assert router.explain("bin", "x") == [] and router.explain("bin", "x").vetoed == []


# ---------------------------------------------------------------------------- robustness


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "🚀🔥💡",
        "🗑️🗑️ bin 🗑️",
        "שלום bin עולם",  # RTL around a match
        "\u202ebin\u202c",  # RTL override characters
        "مرحبا bin",
        "bin\x00\x01\x7f",
        "\ud800 bin",  # lone surrogate, as a broken decoder may produce
        "b\u0301in",
        "x" * 5000 + " bin " + "y" * 5000,
        "bin " * 2000,
        "#",
        "# bin",
        "####bin",
        "\u0301\u0301\u0301",
        "ﷺ ﷽ ㍿ ½ ℃",  # characters with long compatibility decompositions
    ],
)
def test_weird_texts_do_not_crash(text: str) -> None:
    router = Router(
        [
            rule("kw", keywords=["bin", "street light*"], exclude=["never"]),
            rule("tag", hashtags=["bin"]),
            rule("rx", regex=[r"\bb\w+", r"\d{5}", "(?x) b \n i \n n"]),
            rule("src", sources=["rss"]),
            rule("all", priority=1000),
        ]
    )
    found = router.route(text, "twitter")
    assert found is not None  # the catch-all at least
    explanation = router.explain(text, "rss")
    assert explanation[-1].rule == "all" and explanation[0] == router.route(text, "rss")
    for match in explanation:
        assert match.reason and "\n" not in match.reason


def test_long_text_reason_is_short() -> None:
    router = Router([rule("rx", regex=[r"a.*z"])])
    found = router.route("a" + "b" * 5000 + "z", "x")
    assert found is not None and len(found.reason) < 100


# -------------------------------------------------------------------- explain and reasons


@pytest.mark.parametrize(
    ("criteria", "text", "source", "reason"),
    [
        (
            {"keywords": ["street light"]},
            "The Street  Light is out",
            "x",
            'keyword "street light" matched "Street Light"',  # whitespace collapsed
        ),
        (
            {"keywords": ["street light*"]},
            "STREET-LIGHTS out",
            "x",
            'keyword "street light*" matched "STREET-LIGHTS"',
        ),
        ({"keywords": ["bin*"]}, "two Bins", "x", 'keyword "bin*" matched "Bins"'),
        ({"keywords": ["cafe"]}, "au Café!", "x", 'keyword "cafe" matched "Café"'),
        ({"keywords": ["strasse"]}, "die Straße", "x", 'keyword "strasse" matched "Straße"'),
        ({"keywords": ["路灯"]}, "投诉路灯坏了", "x", 'keyword "路灯" matched "路灯"'),
        ({"hashtags": ["potholes"]}, "ugh #Potholes", "x", 'hashtag #potholes matched "#Potholes"'),
        (
            {"hashtags": ["élections"]},
            "#Elections!",
            "x",
            'hashtag #élections matched "#Elections"',
        ),
        (
            {"regex": [r"\bplow\w*"]},
            "Still plowing?",
            "x",
            'regex \\bplow\\w* matched "plowing"',
        ),
        ({"regex": ["montreal"]}, "à Montréal", "x", 'regex montreal matched "Montréal"'),
        ({"regex": ["(?x) plow \n ing"]}, "plowing", "x", 'regex (?x) plow ing matched "plowing"'),
        ({"sources": ["rss"]}, "news", "rss", "source is rss"),
        (
            {"keywords": ["bin"], "sources": ["rss"]},
            "a bin",
            "rss",
            'keyword "bin" matched "bin", source is rss',
        ),
        ({}, "anything", "x", "catch-all rule"),
    ],
)
def test_reasons(criteria: dict[str, Any], text: str, source: str, reason: str) -> None:
    assert Router([rule(**criteria)]).route(text, source) == Match("r", "dept", reason)


def test_explain_lists_every_match_and_the_vetoed() -> None:
    router = Router(
        [
            rule("lights", "roads", priority=50, keywords=["street light*"]),
            rule("waste", "public-works", keywords=["bin*"], exclude=["binance"]),
            rule("potholes", "roads", hashtags=["potholes"]),
            rule("snow", "snow", regex=[r"\bplow\w*"]),
            rule("feed", "comms", priority=500, sources=["rss"]),
            rule("other", "triage", priority=1000),
            rule("never", "x", keywords=["zebra"]),
        ]
    )
    text = "Street lights out, #potholes, plowing late, and Binance bins"
    explanation = router.explain(text, "rss")
    assert isinstance(explanation, Explanation) and isinstance(explanation, list)
    assert explanation == [
        Match("lights", "roads", 'keyword "street light*" matched "Street lights"'),
        Match("potholes", "roads", 'hashtag #potholes matched "#potholes"'),
        Match("snow", "snow", 'regex \\bplow\\w* matched "plowing"'),
        Match("feed", "comms", "source is rss"),
        Match("other", "triage", "catch-all rule"),
    ]
    assert explanation.vetoed == [
        Veto(
            "waste",
            'exclude "binance" matched "Binance" (keyword "bin*" matched "Binance")',
        )
    ]
    assert explanation.vetoed[0] == ("waste", explanation.vetoed[0].reason)  # a plain pair
    assert router.route(text, "rss") == explanation[0]
    assert "vetoed=" in repr(explanation)


# ---------------------------------------------------------------------------- rule errors


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (rule("broken-rx", regex=["(unclosed"]), r'rule "broken-rx": bad regex'),
        (rule("empty-rx", regex=["x*"]), "matches an empty text"),
        (rule("alt-rx", regex=["|pothole"]), "matches an empty text"),
        (rule("empty-kw", keywords=[""]), "has no letters or digits"),
        (rule("punct-kw", keywords=["!!!"]), "has no letters or digits"),
        (rule("star-kw", keywords=["*"]), "has no letters or digits"),
        (rule("mid-star", keywords=["st*reet"]), '"*" is only allowed at the end'),
        (rule("lone-star", keywords=["street *"]), "must directly follow"),
        (rule("bad-ex", exclude=[" "]), 'exclude " " has no letters'),
        (rule("tag-space", hashtags=["pot holes"]), "must be one word"),
        (rule("tag-empty", hashtags=["#"]), "must be one word"),
        (rule("src", sources=[""]), "empty source name"),
        (RuleDef("str-kw", "d", keywords="pothole"), "must be a list of strings"),  # type: ignore[arg-type]
        (RuleDef("int-kw", "d", keywords=(3,)), "must contain strings"),  # type: ignore[arg-type]
        (RuleDef("none-kw", "d", keywords=None), "must be a list of strings"),  # type: ignore[arg-type]
        (RuleDef("str-on", "d", enabled="false"), "enabled must be true or false"),  # type: ignore[arg-type]
        (RuleDef("", "d"), "name must be a non-empty string"),
        (RuleDef("no-dept", " "), "department must be"),
        (RuleDef("prio", "d", priority="1"), "priority must be an integer"),  # type: ignore[arg-type]
        (rule("off", regex=["("], enabled=False), 'rule "off": bad regex'),
    ],
)
def test_rule_errors(bad: RuleDef, message: str) -> None:
    with pytest.raises(RuleError, match=re.escape(message)) as caught:
        Router([rule("fine", keywords=["ok"]), bad])
    assert caught.value.rule == bad.name
    assert isinstance(caught.value, ValueError)


def test_duplicate_rule_names() -> None:
    with pytest.raises(RuleError, match='rule "twin": duplicate rule name'):
        Router([rule("twin", keywords=["a"]), rule("twin", keywords=["b"])])


def test_rules_may_be_lists_as_loaded_from_yaml() -> None:
    router = Router([RuleDef("r", "d", keywords=["bin"], sources=["rss"])])  # type: ignore[arg-type]
    assert router.route("bin", "rss") is not None


# ------------------------------------------------------------------- normalisation helpers

_CHAR_POOL = (
    "abcXYZ 019_-#.,!?'\n\t"
    "éèÉçÇñÑüÜøØåÅßẞİıœŒæ"  # Latin with accents and special cases
    "\u0301\u0308\u0327"  # combining marks
    "ﬁﬂ²½℃ｐＱ＃①ǅ"  # compatibility forms
    "ΣσςΐKÅµſ"  # Greek, Kelvin, Angstrom, micro, long s
    "路灯我ひらカナ한국어ไฟถนนเสีย"  # CJK, kana, Hangul, Thai
    "שלוםمرحبا\u202e"  # RTL
    "🚀🗑️🇨🇦\U0001d165\U0001d400"  # emoji, astral combining mark, math bold
    "\ud800"  # lone surrogate
)


def _random_text(rnd: random.Random, length: int = 30) -> str:
    return "".join(rnd.choice(_CHAR_POOL) for _ in range(rnd.randint(0, length)))


def test_fold_is_idempotent_and_works_character_by_character() -> None:
    rnd = random.Random(7)
    for _ in range(2000):
        a, b = _random_text(rnd), _random_text(rnd)
        assert fold(fold(a)) == fold(a)
        assert fold(a + b) == fold(a) + fold(b)
        assert fold(a) == "".join(fold(ch) for ch in a)
    for cp in range(0, 0x3000, 7):  # a sweep over many scripts
        ch = chr(cp)
        if not 0xD800 <= cp <= 0xDFFF:
            assert fold(fold(ch)) == fold(ch)


def test_fold_agrees_with_re_ignorecase() -> None:
    # Characters re.IGNORECASE treats as equal must fold alike: the regex prefilter needs it.
    for a, b in map(tuple, ["kK", "sſ", "iı", "Iı", "µμ", "σς", "åÅ", "ǆǅ", "θϑ"]):
        assert re.fullmatch(re.escape(a), b, re.IGNORECASE), (a, b)
        assert fold(a) == fold(b), (a, b)


def test_tokenize_and_hashtags() -> None:
    folded = fold("STREET-lights, #Élections 路灯! e-mail_x 2024 #a#b x#y")
    assert tokenize(folded) == [
        "street", "lights", "elections", "路", "灯", "e", "mail_x", "2024", "a", "b", "x", "y",
    ]  # fmt: skip
    assert hashtags(folded) == {"elections", "a"}


def test_original_span_quotes_the_original() -> None:
    rnd = random.Random(11)
    for _ in range(1000):
        text = _random_text(rnd, 40)
        folded = fold(text)
        for token in re.finditer(r"\w+", folded):
            start, end = original_span(text, token.start(), token.end())
            assert 0 <= start <= end <= len(text)
            assert token.group() in fold(text[start:end])


# ------------------------------------------------------------------- regex literal prefilter


@pytest.mark.parametrize(
    ("pattern", "literals"),
    [
        (r"\bpot\s*holes?\b", {"hole"}),
        (r"\bplow\w*", {"plow"}),
        (r"(?:snow|ice)\s+removal", {"removal"}),
        (r"(?:snowplow|icebreak)\w+", {"snowplow", "icebreak"}),
        (r"colou?r", {"color", "colour"}),
        (r"[Mm]ontr[eé]al", {"montreal"}),
        (r"(?i:ABC)", {"abc"}),
        (r"\d{3}-\d{4}", {"-"}),
        (r"\d{5}", None),
        (r"(a)\1", {"a"}),
        (r".+", None),
    ],
)
def test_regex_literals(pattern: str, literals: set[str] | None) -> None:
    found = regex_literals(pattern)
    assert (set(found) if found is not None else None) == literals


def test_regex_literal_prefilter_never_rejects_a_match() -> None:
    pieces = [
        "a", "b", "é", "ß", "K", "ı", "İ", "x", "\\b", "\\w", "\\W", "\\d", ".", "[ab]", "[^a]",
        "[é-ê]", "(?:a|bé)", "(?:ab|)", "a?", "b*", "(?:ab)+", "(?=a)", "(?!b)", "(?-i:A)",
        "c{2}", "(ab){1,2}", "\\s", "^", "$",
    ]  # fmt: skip
    alphabet = "abAB éÉeßsSKkıiİI x-1_"
    rnd = random.Random(3)
    checked = 0
    for _ in range(1500):
        pattern = "".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 5)))
        try:
            compiled = re.compile(pattern, re.IGNORECASE)
        except re.error:
            continue
        literals = regex_literals(pattern)
        if literals is None:
            continue
        for _ in range(20):
            text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 12)))
            if rnd.random() < 0.3:
                text = unicodedata.normalize("NFD", text)
            if compiled.search(text) or compiled.search(fold(text)):
                checked += 1
                assert any(lit in fold(text) for lit in literals), (pattern, text, literals)
    assert checked > 1000


# ---------------------------------------------------- cross-check against a reference router


def _ref_term(term: str, tokens: list[str]) -> bool:
    body = term.strip()
    prefix = body.endswith("*")
    want = tokenize(fold(body.rstrip("*")))
    for i in range(len(tokens) - len(want) + 1):
        window = tokens[i : i + len(want)]
        last_ok = window[-1].startswith(want[-1]) if prefix else window[-1] == want[-1]
        if window[:-1] == want[:-1] and last_ok:
            return True
    return False


@dataclass
class _RefResult:
    matched: list[str] = field(default_factory=list)
    vetoed: list[str] = field(default_factory=list)


def _reference(rules: list[RuleDef], text: str, source: str) -> _RefResult:
    """Rule by rule, the obvious way: what Router must agree with."""
    tokens = tokenize(fold(text))
    tags = set(re.findall(r"(?<!\w)#(\w+)", fold(text)))
    result = _RefResult()
    order = sorted(range(len(rules)), key=lambda i: (rules[i].priority, i))
    for index in order:
        r = rules[index]
        if not r.enabled:
            continue
        if r.sources and source.strip().casefold() not in {s.strip().casefold() for s in r.sources}:
            continue
        has_text = bool(r.keywords or r.hashtags or r.regex)
        text_hit = (
            any(_ref_term(k, tokens) for k in r.keywords)
            or any(fold(h.lstrip("#")) in tags for h in r.hashtags)
            or any(
                re.search(p, text, re.IGNORECASE) or re.search(p, fold(text), re.IGNORECASE)
                for p in r.regex
            )
        )
        if has_text and not text_hit:
            continue
        if any(_ref_term(e, tokens) for e in r.exclude):
            result.vetoed.append(r.name)
        else:
            result.matched.append(r.name)
    return result


_WORDS = [
    "bin", "bins", "binance", "cabin", "Café", "cafe", "CAFE\u0301", "rue", "street", "light",
    "lights", "élection", "election", "Montréal", "montreal", "snow", "plow", "plowing",
    "路灯", "路", "שלום", "Straße", "strasse", "ılık", "İlik", "2024", "the", "a", "e_mail",
]  # fmt: skip
_SEPARATORS = [" ", " ", " ", "  ", "-", "! ", ", ", "\n", "_", "'", ".", " #", "#", " 🚀 "]
_REGEXES = [
    r"\bplow\w*", r"montr[eé]al", r"\d{3}", r"(?-i:Bin)", r"caf(?:e|é)\b", r"street\s+lights?",
    r"\bst(?:reet)?\b", r"é", r"(?:^|\s)rue\b", r"ılık", r"\bbin\b", r"b\w+e", r"路灯",
    r"(?x) snow | plow", r"[^\W\d]{7}", r"(?=.*cafe)bin",
]  # fmt: skip


def _random_term(rnd: random.Random) -> str:
    roll = rnd.random()
    word = rnd.choice(_WORDS)
    if roll < 0.15:
        return word + "*"
    if roll < 0.25:
        return fold(word)[:3] + "*"
    if roll < 0.45:
        return word + " " + rnd.choice(_WORDS) + rnd.choice(["", "", "*"])
    return word


def _random_rules(rnd: random.Random) -> list[RuleDef]:
    rules = []
    for i in range(rnd.randint(1, 12)):
        kwargs: dict[str, Any] = {"priority": rnd.choice([1, 2, 3]), "enabled": rnd.random() > 0.1}
        if rnd.random() < 0.6:
            kwargs["keywords"] = tuple(_random_term(rnd) for _ in range(rnd.randint(1, 3)))
        if rnd.random() < 0.25:
            tags = [w for w in _WORDS if re.fullmatch(r"\w+", fold(w))]
            kwargs["hashtags"] = tuple(rnd.sample(tags, rnd.randint(1, 2)))
        if rnd.random() < 0.25:
            kwargs["regex"] = tuple(rnd.sample(_REGEXES, rnd.randint(1, 2)))
        if rnd.random() < 0.2:
            kwargs["sources"] = tuple(rnd.sample(["rss", "Twitter", "email"], rnd.randint(1, 2)))
        if rnd.random() < 0.3:
            kwargs["exclude"] = tuple(_random_term(rnd) for _ in range(rnd.randint(1, 2)))
        rules.append(RuleDef(f"r{i}", f"d{i % 3}", **kwargs))
    return rules


def _random_mention(rnd: random.Random) -> str:
    parts = []
    for _ in range(rnd.randint(0, 10)):
        word = rnd.choice(_WORDS)
        word = rnd.choice([word, word, word.upper(), word.capitalize()])
        parts.append(word + rnd.choice(_SEPARATORS))
    text = "".join(parts)
    return unicodedata.normalize("NFD", text) if rnd.random() < 0.2 else text


def test_word_memo_is_bounded_and_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.routing._index

    monkeypatch.setattr(bot.routing._index, "_WORD_MEMO_SIZE", 5)
    rnd = random.Random(5)
    rules = [
        RuleDef("pre", "d", keywords=("bin*", "caf*")),
        RuleDef("rx", "d", regex=(r"\bplow\w*", r"montr[eé]al")),
    ]
    router = Router(rules)
    for _ in range(300):
        text = _random_mention(rnd) + rnd.choice(["", " bin" + "y" * 60])  # long words too
        expected = _reference(rules, text, "x").matched
        assert [m.rule for m in router.explain(text, "x")] == expected
        assert len(router._index._word_memo) <= 5


def test_router_agrees_with_reference_implementation() -> None:
    rnd = random.Random(20240611)
    compared = matched = vetoed = 0
    for _ in range(400):
        rules = _random_rules(rnd)
        router = Router(rules)
        for _ in range(15):
            text = _random_mention(rnd)
            source = rnd.choice(["rss", "twitter", "TWITTER", "email", "facebook"])
            expected = _reference(rules, text, source)
            found = router.route(text, source)
            context = (rules, text, source)
            assert (found.rule if found else None) == (
                expected.matched[0] if expected.matched else None
            ), context
            explanation = router.explain(text, source)
            assert [m.rule for m in explanation] == expected.matched, context
            assert [v.rule for v in explanation.vetoed] == expected.vetoed, context
            assert all(m.reason for m in explanation)
            compared += 1
            matched += bool(expected.matched)
            vetoed += bool(expected.vetoed)
    # The generator must exercise both outcomes, or the agreement means little.
    assert matched > compared // 4 and compared - matched > compared // 10 and vetoed > 100
