"""Benchmark: indexed Router against a naive loop over rules, on two rule sets.

    python benchmarks/bench_routing.py [--mentions N] [--rules N] [--naive-mentions N]
                                       [--seed S] [--suite classic|mixed|both]

*classic*: a deterministic rule set (``random.Random(seed)``) of text rules: about 60 % keyword
lists, 15 % phrases, 10 % hashtags, 10 % regexes, 5 % prefixes with exclusions, source-only and
source-filtered rules; and mentions of 10-60 words from a bilingual vocabulary with capitals,
accents, punctuation, emoji, @handles, URLs, hashtags and near misses ("binance" for a "bin"
rule, a hashtag rule's word without '#'), about a third of which match some rule.

*mixed*: the same, then about 10 % of the rules get languages (plus two language-only
catch-alls), and 5 % each become author rules (handles in their three forms), Open311 service
code rules, place rules (streets with suffixes, neighbourhoods) and area rules over 30 made-up
ward polygons of ~200 vertices each (some with holes), half of each alone and half with
keywords. Mentions carry a context: a language (10 % unknown), an author (a fifth of them named
by some rule), a service code for 15 % and coordinates for 60 %.

Prints compile time and mentions/second for the Router and for the naive approach (per rule,
one ``re.compile(r"\\b(?:kw1|kw2)\\b", re.I)`` plus the context checks, areas by a plain ray
cast; rules tried in priority order; run on fewer mentions since it is slow, the rate is what
counts), and their ratio. Before timing, it checks on ASCII texts and rules whose only text
criteria are keywords, where both approaches mean the same thing, that they pick the same rule
for every mention, so the comparison is between equivalent work.

Exits 1 if they disagree or a target is missed, for either suite: >= 20,000 mentions/s and
>= 20x naive.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from bot.routing import (
    STREET_SUFFIXES,
    AreaIndex,
    MentionContext,
    Router,
    RuleDef,
    author_key,
    language_key,
    service_key,
)

TARGET_RATE = 20_000.0
TARGET_RATIO = 20.0


def _words(text: str) -> list[str]:
    """Word lists are written as paragraphs: one per line would be hundreds of lines."""
    return text.split()


FILLER = _words("""
the a an and or but so of to in on at for with from by about is are was were be been it this
that these those i you he she we they my your our their me him her us them not no yes very
really just still again today yesterday tomorrow morning evening night week month year please
thanks thank hello hi hey why how when where what who can could would should will need want see
saw look looking going went come came make made know think feel got get le la les un une des et
ou mais donc de du au aux en dans sur pour avec sans par est sont était être avoir fait très
bien merci bonjour salut pourquoi comment quand où qui quoi encore toujours déjà aujourd'hui
hier demain matin soir semaine mois année ça ce cette ces mon ma mes ton ta tes son sa ses notre
votre leur nous vous ils elles il elle on je tu city ville quartier neighbourhood people gens
someone quelqu'un everyone tout tous problem problème issue question help aide idea idée great
super bad mauvais good bon new old vieux nouveau big grand small petit long short long near près
far loin here ici there là corner coin front devant behind derrière next prochain last dernier
first premier
""")

CITY = _words("""
pothole potholes streetlight lamp sidewalk trottoir crosswalk bike vélo lane piste bus métro
transit garbage ordures recycling recyclage compost snow neige plow déneigement ice glace salt
sel parking stationnement ticket contravention noise bruit graffiti tree arbre park parc library
bibliothèque pool piscine water eau sewer égout flood inondation fire incendie police permit
permis tax taxe council conseil mayor maire election élection
""")

SYLLABLES = _words("""
ba be bi bo bu ca ce ci co cu da de di do du fa fe fi fo fu ga ge go gu la le li lo lu ma me mi
mo mu na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo vu
za zo tré pré mé sé dé lè vè çon gné ël ïs ôt
""")

EMOJI = ["😡", "🙏", "🚧", "❄️", "🚲", "👍", "🔥", "💡", "🗑️", "🇨🇦"]
SOURCES = ["twitter"] * 10 + ["facebook"] * 6 + ["rss"] * 3 + ["email"]


@dataclass
class Generated:
    rules: list[RuleDef]
    samples: list[list[str]]  # per rule: strings that make it match when put in a text
    near_misses: list[str]  # strings that look like rule terms but match none
    authors: list[str] = field(default_factory=list)  # handles that author rules name
    codes: list[str] = field(default_factory=list)  # service codes that rules name


def _ascii(text: str) -> str:
    """Strip accents and drop other non-ASCII characters, keeping case."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii())


def generate_rules(count: int, rnd: random.Random) -> Generated:
    filler_folded = {word.casefold() for word in FILLER}
    pool: list[str] = []
    seen: set[str] = set()
    for word in CITY:
        if _ascii(word).casefold() not in seen:
            seen.add(_ascii(word).casefold())
            pool.append(word)
    while len(pool) < 6 * count + 100:
        word = "".join(rnd.choice(SYLLABLES) for _ in range(rnd.randint(2, 4)))
        key = _ascii(word).casefold()
        if key in seen or key in filler_folded or len(key) < 4:
            continue
        seen.add(key)
        pool.append(word)
    rnd.shuffle(pool)
    words = iter(pool)

    rules: list[RuleDef] = []
    samples: list[list[str]] = []
    near: list[str] = []
    priorities = [10, 50, 100, 100, 100, 100, 200, 500]
    for index in range(count):
        roll = rnd.random()
        name, dept = f"rule-{index:04d}", f"dept-{index % 40:02d}"
        priority = rnd.choice(priorities)
        if roll < 0.60:
            kws = tuple(next(words) for _ in range(rnd.randint(1, 5)))
            rules.append(RuleDef(name, dept, priority, keywords=kws))
            samples.append(list(kws))
            near.extend(kw + rnd.choice(["ance", "s", "er"]) for kw in kws[:1])
        elif roll < 0.75:
            phrases = tuple(
                " ".join(next(words) for _ in range(rnd.randint(2, 3)))
                for _ in range(rnd.randint(1, 3))
            )
            rules.append(RuleDef(name, dept, priority, keywords=phrases))
            samples.append(
                [p.replace(" ", rnd.choice([" ", "  ", "-", ", ", " - "])) for p in phrases]
            )
            near.append(phrases[0].split()[0])  # the first word alone is not the phrase
        elif roll < 0.85:
            tags = tuple(next(words) for _ in range(rnd.randint(1, 3)))
            rules.append(RuleDef(name, dept, priority, hashtags=tags))
            samples.append(["#" + tag.capitalize() for tag in tags])
            near.append(tags[0])  # the bare word is not the hashtag
        elif roll < 0.95:
            w1, w2 = _ascii(next(words)), _ascii(next(words))
            kind = rnd.randrange(6)
            if kind == 0:
                pattern, sample = rf"\b{w1}\w*", w1 + "ing"
            elif kind == 1:
                pattern, sample = rf"\b{w1}\s*{w2}s?\b", f"{w1} {w2}s"
            elif kind == 2:
                pattern, sample = rf"\b(?:{w1}|{w2})\b", w2
            elif kind == 3:
                pattern, sample = rf"\b{w1}[- ]?\d{{2,4}}\b", f"{w1}-311"
            elif kind == 4:
                pattern, sample = rf"{w1}(?:ing|ed|s)?\b", w1 + "ed"
            else:
                pattern, sample = rf"(?x: {w1} \s+ (?:{w2}|{w1}) \b)", f"{w1}  {w1}"
            if index % 50 == 7:  # now and then a regex with no literal to prefilter on
                pattern, sample = r"\b\d{3}-\d{3}-\d{4}\b", "514-872-0311"
            rules.append(RuleDef(name, dept, priority, regex=(pattern,)))
            samples.append([sample])
        else:
            kind = rnd.randrange(3)
            if kind == 0:
                stem = _ascii(next(words))[:4]
                rules.append(
                    RuleDef(
                        name,
                        dept,
                        priority,
                        keywords=(stem + "*",),
                        exclude=(stem + "ance", stem + "ium*"),
                    )
                )
                samples.append([stem + "s", stem + "ing"])
                near.append(stem + "ance")
            elif kind == 1:
                rules.append(RuleDef(name, dept, priority + 300, sources=("email",)))
                samples.append([])
            else:
                kws = (next(words), next(words))
                rules.append(RuleDef(name, dept, priority, keywords=kws, sources=("rss",)))
                samples.append(list(kws))
    return Generated(rules, samples, near)


def generate_mentions(
    count: int, gen: Generated, rnd: random.Random, match_rate: float = 0.3
) -> list[tuple[str, str]]:
    mentions: list[tuple[str, str]] = []
    matchable = [i for i, samples in enumerate(gen.samples) if samples]
    for _ in range(count):
        words = [rnd.choice(FILLER) for _ in range(rnd.randint(10, 60))]
        if rnd.random() < match_rate:
            samples = gen.samples[rnd.choice(matchable)]
            words.insert(rnd.randrange(len(words) + 1), rnd.choice(samples))
        if rnd.random() < 0.4:
            words.insert(rnd.randrange(len(words) + 1), rnd.choice(gen.near_misses))
        if rnd.random() < 0.2:
            words.insert(0, "@" + rnd.choice(["CityHall", "VilleMTL", "STM_info", "mayor"]))
        if rnd.random() < 0.15:
            words.append(f"https://t.co/{rnd.randrange(16**8):08x}")
        if rnd.random() < 0.2:
            words.append("#" + rnd.choice(["MTL", "Montréal", "YUL", "Verdun", "help"]))
        for i, word in enumerate(words):
            roll = rnd.random()
            if roll < 0.08:
                words[i] = word.capitalize()
            elif roll < 0.10:
                words[i] = word.upper()
            elif roll < 0.20:
                words[i] = word + rnd.choice([",", ".", "!", "?", "...", ":"])
            elif roll < 0.23:
                words[i] = word + " " + rnd.choice(EMOJI)
        mentions.append((" ".join(words), rnd.choice(SOURCES)))
    return mentions


# ------------------------------------------------------------------------ the mixed rule set

WARD_COLS, WARD_ROWS, LON0, LAT0, CELL_W, CELL_H = 6, 5, -71.19, 42.23, 0.033, 0.034
Rings = list[list[tuple[float, float]]]
LANGUAGES = ["en"] * 6 + ["fr"] * 2 + ["es", None]  # a tenth unknown


def make_wards(rnd: random.Random, per_side: int = 50) -> dict[str, list[Rings]]:
    """30 jittered rectangles of 4 * per_side vertices, every fifth with a square hole.

    The jitter is inward and vanishes at the corners, so the rings stay simple.
    """
    wards: dict[str, list[Rings]] = {}
    for i in range(WARD_COLS * WARD_ROWS):
        x0, y0 = LON0 + (i % WARD_COLS) * CELL_W, LAT0 + (i // WARD_COLS) * CELL_H
        x1, y1 = x0 + CELL_W, y0 + CELL_H
        ring: list[tuple[float, float]] = []
        for k in range(4 * per_side):
            side, step = divmod(k, per_side)
            t = step / per_side
            inset = rnd.uniform(0, 0.1) * (1 - abs(1 - 2 * t))
            ring.append(
                [
                    (x0 + t * CELL_W, y0 + inset * CELL_H),
                    (x1 - inset * CELL_W, y0 + t * CELL_H),
                    (x1 - t * CELL_W, y1 - inset * CELL_H),
                    (x0 + inset * CELL_W, y1 - t * CELL_H),
                ][side]
            )
        rings = [[*ring, ring[0]]]
        if i % 5 == 0:
            cx, cy, r = (x0 + x1) / 2, (y0 + y1) / 2, CELL_W / 8
            rings.append([(cx - r, cy - r), (cx - r, cy + r), (cx + r, cy + r), (cx + r, cy - r)])
        wards[f"Ward {i + 1}"] = [rings]
    return wards


def mix_in_context_rules(gen: Generated, rnd: random.Random) -> Generated:
    """Turn the classic rules into the mixed set (see the module docstring)."""
    rules, samples = list(gen.rules), [list(s) for s in gen.samples]
    names = [f"Ward {i + 1}" for i in range(WARD_COLS * WARD_ROWS)]
    streets = ["Boylston", "Tremont", "Centre", "Washington", "Blue Hill", "Dorchester"]
    for index, rule in enumerate(rules):
        roll = rnd.random()
        # Half of the rules that get a context criterion keep their keywords, half go without.
        kept = bool(rule.keywords) and rnd.random() < 0.5
        bare = replace(
            rule, keywords=rule.keywords if kept else (), hashtags=(), regex=(), sources=()
        )
        if roll < 0.10:
            rules[index] = replace(rule, languages=(rnd.choice(["en", "fr", "es"]),))
            continue
        if roll >= 0.30:
            continue
        if not kept:
            samples[index] = []
        if roll < 0.15:
            user = f"user{index}"
            forms = (f"@{user}@city.social", f"u/{user}", f"Clerk <{user}@x.org>")
            gen.authors.extend(forms)
            rules[index] = replace(bare, authors=forms)
        elif roll < 0.20:
            gen.codes.append(f"SVC{index:04d}")
            rules[index] = replace(bare, service_codes=(gen.codes[-1],))
        elif roll < 0.25:
            street = f"{rnd.choice(streets)} {rule.name[-3:]}"
            suffix, written = rnd.choice([("Street", "St."), ("Ave", "Avenue"), ("Rd", "road")])
            rules[index] = replace(bare, places=(f"{street} {suffix}",))
            sample = f"{street} {written}"
            samples[index] = [f"{kw} {sample}" for kw in rule.keywords] if kept else [sample]
        else:
            rules[index] = replace(bare, areas=(rnd.choice(names),))
    for name, language, priority in (("spanish", "es", 900), ("unknown", "unknown", 950)):
        rules.append(RuleDef(f"lang-{name}", "comms", priority, languages=(language,)))
        samples.append([])
    return Generated(rules, samples, gen.near_misses, gen.authors, gen.codes)


def add_contexts(
    mentions: list[tuple[str, str]], gen: Generated, rnd: random.Random
) -> list[tuple[str, str, MentionContext | None]]:
    """Give each mention a context: language, author, service code, coordinates."""
    result: list[tuple[str, str, MentionContext | None]] = []
    for text, source in mentions:
        author = rnd.choice(gen.authors) if gen.authors and rnd.random() < 0.2 else "@someone"
        code = None
        if rnd.random() < 0.15:
            code = rnd.choice(gen.codes) if gen.codes and rnd.random() < 0.5 else "OTHER"
        lat = lon = None
        if rnd.random() < 0.6:
            lon = rnd.uniform(LON0 - 0.01, LON0 + WARD_COLS * CELL_W + 0.01)
            lat = rnd.uniform(LAT0 - 0.01, LAT0 + WARD_ROWS * CELL_H + 0.01)
        context = MentionContext(rnd.choice(LANGUAGES), author, code, lat, lon)
        result.append((text, source, context))
    return result


# ------------------------------------------------------------------------------- naive router


@dataclass(frozen=True)
class NaiveRule:
    name: str
    sources: frozenset[str]
    pattern: re.Pattern[str] | None  # None: no text criteria
    exclude: re.Pattern[str] | None
    languages: frozenset[str] = frozenset()
    authors: frozenset[str] = frozenset()
    codes: frozenset[str] = frozenset()
    places: re.Pattern[str] | None = None
    areas: tuple[Rings, ...] = ()
    require: tuple[re.Pattern[str], ...] = field(default=())


def _naive_term(term: str) -> str:
    prefix = term.endswith("*")
    words = re.findall(r"\w+", term.rstrip("*"))
    body = r"\W+".join(re.escape(word) for word in words)
    return rf"\b{body}" + (r"\w*" if prefix else r"\b")


def _naive_place(place: str) -> str:
    words = re.findall(r"\w+", place.lower())
    last = next((g for g in STREET_SUFFIXES if words[-1] in g), (words[-1],))
    body = r"\W+".join(re.escape(word) for word in words[:-1])
    return rf"\b{body}\W+(?:{'|'.join(last)})\b" if body else rf"\b{re.escape(words[0])}\b"


def compile_naive(rules: Sequence[RuleDef], wards: dict[str, list[Rings]]) -> list[NaiveRule]:
    """One regex per rule (keywords, hashtags and regexes as one alternation), by priority."""
    ordered = sorted(
        (rule for rule in rules if rule.enabled),
        key=lambda rule: (rule.priority, rules.index(rule)),
    )
    compiled: list[NaiveRule] = []
    for rule in ordered:
        parts = [_naive_term(kw) for kw in rule.keywords]
        parts += [rf"#{re.escape(tag)}\b" for tag in rule.hashtags]
        parts += [f"(?:{rx})" for rx in rule.regex]
        pattern = re.compile("|".join(parts), re.IGNORECASE) if parts else None
        exclude = (
            re.compile("|".join(_naive_term(ex) for ex in rule.exclude), re.IGNORECASE)
            if rule.exclude
            else None
        )
        places = "|".join(_naive_place(place) for place in rule.places)
        compiled.append(
            NaiveRule(
                rule.name,
                frozenset(rule.sources),
                pattern,
                exclude,
                frozenset(language_key(lang) for lang in rule.languages),
                frozenset(author_key(author) for author in rule.authors),
                frozenset(code.casefold() for code in rule.service_codes),
                re.compile(places, re.IGNORECASE) if places else None,
                tuple(rings for area in rule.areas for rings in wards[area]),
                tuple(re.compile(_naive_term(term), re.IGNORECASE) for term in rule.require),
            )
        )
    return compiled


def naive_in(x: float, y: float, rings: Rings) -> bool:
    """Even-odd ray cast over every edge, after a bounding-box check."""
    xs, ys = [p[0] for p in rings[0]], [p[1] for p in rings[0]]
    if not (min(xs) <= x <= max(xs) and min(ys) <= y <= max(ys)):
        return False
    inside = False
    for ring in rings:
        for (ax, ay), (bx, by) in zip(ring, ring[1:] + ring[:1], strict=True):
            if (ay > y) != (by > y) and x < ax + (y - ay) * (bx - ax) / (by - ay):
                inside = not inside
    return inside


def naive_route(
    rules: Sequence[NaiveRule], text: str, source: str, context: MentionContext | None = None
) -> str | None:
    context = context or MentionContext()
    language, author = language_key(context.language), author_key(context.author)
    code = service_key(context.service_code)
    for rule in rules:
        if rule.sources and source not in rule.sources:
            continue
        if rule.pattern is not None and rule.pattern.search(text) is None:
            continue
        if rule.languages and language not in rule.languages:
            continue
        if (rule.authors and author not in rule.authors) or (rule.codes and code not in rule.codes):
            continue
        if rule.places is not None and rule.places.search(text) is None:
            continue
        if any(rx.search(text) is None for rx in rule.require):
            continue
        if rule.areas and (
            context.lat is None
            or context.lon is None
            or not any(naive_in(context.lon, context.lat, rings) for rings in rule.areas)
        ):
            continue
        if rule.exclude is not None and rule.exclude.search(text) is not None:
            continue
        return rule.name
    return None


# ------------------------------------------------------------------------------------ checks


def check_agreement(
    gen: Generated, count: int, seed: int, wards: dict[str, list[Rings]], areas: AreaIndex | None
) -> tuple[int, int, int]:
    """Router vs naive on rules whose text criteria are keywords only, ASCII texts.

    Returns (agreed, total, matched). Keyword lists, phrases, prefixes, exclusions and the
    context criteria mean the same in both as long as the text is ASCII (the naive regexes do
    not fold accents) and sources are left out. The texts are generated from these rules' own
    samples so that most of them match something: agreement on mentions that match nothing
    would prove little.
    """
    keep = [
        i
        for i, rule in enumerate(gen.rules)
        if not (rule.hashtags or rule.regex or rule.sources)
        and all(t.isascii() for t in rule.keywords + rule.exclude + rule.places)
        and (rule.keywords or rule.places or rule.authors or rule.service_codes or rule.areas)
    ]
    subset = replace(
        gen, rules=[gen.rules[i] for i in keep], samples=[gen.samples[i] for i in keep]
    )
    rnd = random.Random(seed)
    mentions = add_contexts(generate_mentions(count, subset, rnd, match_rate=0.9), gen, rnd)
    router, naive = Router(subset.rules, areas), compile_naive(subset.rules, wards)
    agreed = matched = 0
    for text, source, context in mentions:
        text = _ascii(text)
        mine = router.route(text, source, context=context)
        theirs = naive_route(naive, text, source, context)
        if (mine.rule if mine else None) == theirs:
            agreed += 1
        else:
            print(f"  DISAGREE: router={mine} naive={theirs} text={text!r} {context}")
        matched += theirs is not None
    return agreed, len(mentions), matched


def run_suite(suite: str, args: argparse.Namespace) -> bool:
    rnd = random.Random(args.seed)
    gen = generate_rules(args.rules, rnd)
    wards: dict[str, list[Rings]] = {}
    areas = None
    if suite == "mixed":
        wards = make_wards(rnd)
        areas = AreaIndex(wards)
        gen = mix_in_context_rules(gen, rnd)
    plain = generate_mentions(args.mentions, gen, rnd)
    mentions = add_contexts(plain, gen, rnd) if wards else [(t, s, None) for t, s in plain]
    total_chars = sum(len(text) for text, _, _ in mentions)
    r = gen.rules
    kinds = {
        "keyword lists": sum(
            bool(x.keywords)
            and all(" " not in k and "*" not in k for k in x.keywords)
            and not (x.sources or x.exclude)
            for x in r
        ),
        "phrases": sum(any(" " in k for k in x.keywords) for x in r),
        "hashtags": sum(bool(x.hashtags) for x in r),
        "regex": sum(bool(x.regex) for x in r),
        "prefix+exclude": sum(bool(x.exclude) for x in r),
        "no text": sum(not (x.keywords or x.hashtags or x.regex) for x in r),
        "with sources": sum(bool(x.sources) for x in r),
        "with languages": sum(bool(x.languages) for x in r),
        "with authors": sum(bool(x.authors) for x in r),
        "with service codes": sum(bool(x.service_codes) for x in r),
        "with places": sum(bool(x.places) for x in r),
        "with areas": sum(bool(x.areas) for x in r),
    }
    print(f"== {suite} rule set")
    print("rule mix: " + ", ".join(f"{count} {kind}" for kind, count in kinds.items() if count))
    polygons = f", {len(wards)} areas of ~200 vertices" if wards else ""
    print(
        f"{len(r)} rules{polygons}, {len(mentions)} mentions "
        f"(avg {total_chars / max(len(mentions), 1):.0f} chars), seed {args.seed}"
    )
    agreed, checked, matched = check_agreement(
        gen, args.check_mentions, args.seed + 1, wards, areas
    )
    label = "keyword-only text" + (" + context" if wards else "")
    print(
        f"agreement ({label} rules, ASCII texts): {agreed}/{checked} same rule, {matched} matched"
    )
    ok = agreed == checked

    started = time.perf_counter()
    router = Router(r, areas)
    print(f"router compile: {(time.perf_counter() - started) * 1000:.1f} ms")
    # Words seen for the first time cost more (see RuleIndex._word_entry), so show a fresh
    # router on the first mentions too, not only the warmed-up average.
    cold, cold_router = mentions[:10_000], Router(r, areas)
    started = time.perf_counter()
    for text, source, context in cold:
        cold_router.route(text, source, context=context)
    cold_rate = len(cold) / (time.perf_counter() - started)
    print(f"router, first {len(cold):,} mentions on a fresh router: {cold_rate:,.0f} mentions/s")

    route = router.route
    started = time.perf_counter()
    routed = sum(route(text, src, context=ctx) is not None for text, src, ctx in mentions)
    seconds = time.perf_counter() - started
    rate = len(mentions) / seconds
    print(
        f"router: {rate:,.0f} mentions/s ({seconds * 1e6 / len(mentions):.1f} us each), "
        f"{routed / len(mentions):.0%} routed"
    )
    started = time.perf_counter()
    naive = compile_naive(r, wards)
    print(f"naive compile: {(time.perf_counter() - started) * 1000:.1f} ms")
    sample = mentions[: args.naive_mentions]
    started = time.perf_counter()
    naive_routed = sum(naive_route(naive, t, s, c) is not None for t, s, c in sample)
    naive_seconds = time.perf_counter() - started
    naive_rate = len(sample) / naive_seconds
    print(
        f"naive:  {naive_rate:,.0f} mentions/s on {len(sample)} mentions "
        f"({naive_seconds * 1e6 / len(sample):.0f} us each), "
        f"{naive_routed / len(sample):.0%} routed (no accent folding)"
    )
    ratio = rate / naive_rate
    print(f"ratio: {ratio:.1f}x")
    for what, value, target in (
        ("mentions/s", rate, TARGET_RATE),
        ("speed-up over naive", ratio, TARGET_RATIO),
    ):
        met = value >= target
        ok &= met
        print(f"target {what} >= {target:,.0f}: {'met' if met else 'NOT MET'} ({value:,.1f})")
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentions", type=int, default=100_000)
    parser.add_argument("--rules", type=int, default=1_000)
    parser.add_argument("--naive-mentions", type=int, default=3_000)
    parser.add_argument("--check-mentions", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--suite", choices=["classic", "mixed", "both"], default="both")
    args = parser.parse_args(argv)
    suites = ["classic", "mixed"] if args.suite == "both" else [args.suite]
    ok = all([run_suite(suite, args) for suite in suites])  # every suite, even after a failure
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
