"""Benchmark: indexed Router against the naive one-regex-per-rule loop.

    python benchmarks/bench_routing.py [--mentions N] [--rules N] [--naive-mentions N] [--seed S]

Generates a deterministic rule set (``random.Random(seed)``) of mixed kinds: about 60 % keyword
lists, 15 % phrases, 10 % hashtags, 10 % regexes, 5 % prefixes with exclusions, source-only
and source-filtered rules; and mentions of 10-60 words from a bilingual vocabulary with
capitals, accents, punctuation, emoji, @handles, URLs, hashtags and near misses ("binance" for a
"bin" rule, a hashtag rule's word without '#'), about a third of which match some rule.

Prints compile time and mentions/second for the Router and for the naive approach (one
``re.compile(r"\\b(?:kw1|kw2)\\b", re.I)`` per rule, tried in priority order; run on fewer
mentions since it is slow, the rate is what counts), and their ratio. Before timing, it checks
on ASCII texts and keyword-only rules, where both approaches mean the same thing, that they pick
the same rule for every mention, so the comparison is between equivalent work.

Exits 1 if they disagree or a target is missed: >= 20,000 mentions/s and >= 20x naive.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from bot.routing import Router, RuleDef

TARGET_RATE = 20_000.0
TARGET_RATIO = 20.0

FILLER = [
    "the",
    "a",
    "an",
    "and",
    "or",
    "but",
    "so",
    "of",
    "to",
    "in",
    "on",
    "at",
    "for",
    "with",
    "from",
    "by",
    "about",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "it",
    "this",
    "that",
    "these",
    "those",
    "i",
    "you",
    "he",
    "she",
    "we",
    "they",
    "my",
    "your",
    "our",
    "their",
    "me",
    "him",
    "her",
    "us",
    "them",
    "not",
    "no",
    "yes",
    "very",
    "really",
    "just",
    "still",
    "again",
    "today",
    "yesterday",
    "tomorrow",
    "morning",
    "evening",
    "night",
    "week",
    "month",
    "year",
    "please",
    "thanks",
    "thank",
    "hello",
    "hi",
    "hey",
    "why",
    "how",
    "when",
    "where",
    "what",
    "who",
    "can",
    "could",
    "would",
    "should",
    "will",
    "need",
    "want",
    "see",
    "saw",
    "look",
    "looking",
    "going",
    "went",
    "come",
    "came",
    "make",
    "made",
    "know",
    "think",
    "feel",
    "got",
    "get",
    "le",
    "la",
    "les",
    "un",
    "une",
    "des",
    "et",
    "ou",
    "mais",
    "donc",
    "de",
    "du",
    "au",
    "aux",
    "en",
    "dans",
    "sur",
    "pour",
    "avec",
    "sans",
    "par",
    "est",
    "sont",
    "était",
    "être",
    "avoir",
    "fait",
    "très",
    "bien",
    "merci",
    "bonjour",
    "salut",
    "pourquoi",
    "comment",
    "quand",
    "où",
    "qui",
    "quoi",
    "encore",
    "toujours",
    "déjà",
    "aujourd'hui",
    "hier",
    "demain",
    "matin",
    "soir",
    "semaine",
    "mois",
    "année",
    "ça",
    "ce",
    "cette",
    "ces",
    "mon",
    "ma",
    "mes",
    "ton",
    "ta",
    "tes",
    "son",
    "sa",
    "ses",
    "notre",
    "votre",
    "leur",
    "nous",
    "vous",
    "ils",
    "elles",
    "il",
    "elle",
    "on",
    "je",
    "tu",
    "city",
    "ville",
    "quartier",
    "neighbourhood",
    "people",
    "gens",
    "someone",
    "quelqu'un",
    "everyone",
    "tout",
    "tous",
    "problem",
    "problème",
    "issue",
    "question",
    "help",
    "aide",
    "idea",
    "idée",
    "great",
    "super",
    "bad",
    "mauvais",
    "good",
    "bon",
    "new",
    "old",
    "vieux",
    "nouveau",
    "big",
    "grand",
    "small",
    "petit",
    "long",
    "short",
    "long",
    "near",
    "près",
    "far",
    "loin",
    "here",
    "ici",
    "there",
    "là",
    "corner",
    "coin",
    "front",
    "devant",
    "behind",
    "derrière",
    "next",
    "prochain",
    "last",
    "dernier",
    "first",
    "premier",
]

CITY = [
    "pothole",
    "potholes",
    "streetlight",
    "lamp",
    "sidewalk",
    "trottoir",
    "crosswalk",
    "bike",
    "vélo",
    "lane",
    "piste",
    "bus",
    "métro",
    "transit",
    "garbage",
    "ordures",
    "recycling",
    "recyclage",
    "compost",
    "snow",
    "neige",
    "plow",
    "déneigement",
    "ice",
    "glace",
    "salt",
    "sel",
    "parking",
    "stationnement",
    "ticket",
    "contravention",
    "noise",
    "bruit",
    "graffiti",
    "tree",
    "arbre",
    "park",
    "parc",
    "library",
    "bibliothèque",
    "pool",
    "piscine",
    "water",
    "eau",
    "sewer",
    "égout",
    "flood",
    "inondation",
    "fire",
    "incendie",
    "police",
    "permit",
    "permis",
    "tax",
    "taxe",
    "council",
    "conseil",
    "mayor",
    "maire",
    "election",
    "élection",
]

SYLLABLES = [
    "ba",
    "be",
    "bi",
    "bo",
    "bu",
    "ca",
    "ce",
    "ci",
    "co",
    "cu",
    "da",
    "de",
    "di",
    "do",
    "du",
    "fa",
    "fe",
    "fi",
    "fo",
    "fu",
    "ga",
    "ge",
    "go",
    "gu",
    "la",
    "le",
    "li",
    "lo",
    "lu",
    "ma",
    "me",
    "mi",
    "mo",
    "mu",
    "na",
    "ne",
    "ni",
    "no",
    "nu",
    "pa",
    "pe",
    "pi",
    "po",
    "pu",
    "ra",
    "re",
    "ri",
    "ro",
    "ru",
    "sa",
    "se",
    "si",
    "so",
    "su",
    "ta",
    "te",
    "ti",
    "to",
    "tu",
    "va",
    "ve",
    "vi",
    "vo",
    "vu",
    "za",
    "zo",
    "tré",
    "pré",
    "mé",
    "sé",
    "dé",
    "lè",
    "vè",
    "çon",
    "gné",
    "ël",
    "ïs",
    "ôt",
]

EMOJI = ["😡", "🙏", "🚧", "❄️", "🚲", "👍", "🔥", "💡", "🗑️", "🇨🇦"]
SOURCES = ["twitter"] * 10 + ["facebook"] * 6 + ["rss"] * 3 + ["email"]


@dataclass
class Generated:
    rules: list[RuleDef]
    samples: list[list[str]]  # per rule: strings that make it match when put in a text
    near_misses: list[str]  # strings that look like rule terms but match none


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


# ------------------------------------------------------------------------------- naive router


@dataclass(frozen=True)
class NaiveRule:
    name: str
    sources: frozenset[str]
    pattern: re.Pattern[str] | None  # None: no text criteria
    exclude: re.Pattern[str] | None


def _naive_term(term: str) -> str:
    prefix = term.endswith("*")
    words = re.findall(r"\w+", term.rstrip("*"))
    body = r"\W+".join(re.escape(word) for word in words)
    return rf"\b{body}" + (r"\w*" if prefix else r"\b")


def compile_naive(rules: Sequence[RuleDef]) -> list[NaiveRule]:
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
        compiled.append(NaiveRule(rule.name, frozenset(rule.sources), pattern, exclude))
    return compiled


def naive_route(rules: Sequence[NaiveRule], text: str, source: str) -> str | None:
    for rule in rules:
        if rule.sources and source not in rule.sources:
            continue
        if rule.pattern is not None and rule.pattern.search(text) is None:
            continue
        if rule.exclude is not None and rule.exclude.search(text) is not None:
            continue
        return rule.name
    return None


# ------------------------------------------------------------------------------------ checks


def check_agreement(gen: Generated, count: int, seed: int) -> tuple[int, int, int]:
    """Router vs naive on keyword-only rules and ASCII texts: (agreed, total, matched).

    Keyword lists, phrases, prefixes and exclusions mean the same in both as long as the text
    is ASCII (the naive regexes do not fold accents) and sources are left out. The texts are
    generated from these rules' own samples so that most of them match something: agreement
    on mentions that match nothing would prove little.
    """
    keep = [
        i
        for i, rule in enumerate(gen.rules)
        if rule.keywords
        and not (rule.hashtags or rule.regex or rule.sources)
        and all(kw.isascii() for kw in rule.keywords + rule.exclude)
    ]
    subset = Generated(
        [gen.rules[i] for i in keep], [gen.samples[i] for i in keep], gen.near_misses
    )
    mentions = generate_mentions(count, subset, random.Random(seed), match_rate=0.9)
    router = Router(subset.rules)
    naive = compile_naive(subset.rules)
    agreed = matched = 0
    for text, source in mentions:
        text = _ascii(text)
        mine = router.route(text, source)
        theirs = naive_route(naive, text, source)
        if (mine.rule if mine else None) == theirs:
            agreed += 1
        else:
            print(f"  DISAGREE: router={mine} naive={theirs} text={text!r}")
        matched += theirs is not None
    return agreed, len(mentions), matched


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentions", type=int, default=100_000)
    parser.add_argument("--rules", type=int, default=1_000)
    parser.add_argument("--naive-mentions", type=int, default=3_000)
    parser.add_argument("--check-mentions", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=20240611)
    args = parser.parse_args(argv)

    rnd = random.Random(args.seed)
    gen = generate_rules(args.rules, rnd)
    mentions = generate_mentions(args.mentions, gen, rnd)
    total_chars = sum(len(text) for text, _ in mentions)
    kinds = {
        "keyword lists": sum(
            bool(r.keywords)
            and all(" " not in k and "*" not in k for k in r.keywords)
            and not (r.sources or r.exclude)
            for r in gen.rules
        ),
        "phrases": sum(any(" " in k for k in r.keywords) for r in gen.rules),
        "hashtags": sum(bool(r.hashtags) for r in gen.rules),
        "regex": sum(bool(r.regex) for r in gen.rules),
        "prefix+exclude": sum(bool(r.exclude) for r in gen.rules),
        "source-only": sum(not (r.keywords or r.hashtags or r.regex) for r in gen.rules),
        "keywords+source": sum(bool(r.keywords and r.sources) for r in gen.rules),
    }
    print("rule mix: " + ", ".join(f"{count} {kind}" for kind, count in kinds.items()))
    print(
        f"{len(gen.rules)} rules, {len(mentions)} mentions "
        f"(avg {total_chars / max(len(mentions), 1):.0f} chars), seed {args.seed}"
    )

    ok = True
    agreed, checked, matched = check_agreement(gen, args.check_mentions, args.seed + 1)
    print(
        f"agreement (keyword-only rules, ASCII texts): {agreed}/{checked} same rule, "
        f"{matched} of them matched"
    )
    ok &= agreed == checked

    started = time.perf_counter()
    router = Router(gen.rules)
    compile_seconds = time.perf_counter() - started
    print(f"router compile: {compile_seconds * 1000:.1f} ms")

    # Words seen for the first time cost more (see Router._word_entry), so show a fresh
    # router on the first mentions too, not only the warmed-up average.
    cold = mentions[:10_000]
    cold_router = Router(gen.rules)
    started = time.perf_counter()
    for text, source in cold:
        cold_router.route(text, source)
    cold_rate = len(cold) / (time.perf_counter() - started)
    print(f"router, first {len(cold):,} mentions on a fresh router: {cold_rate:,.0f} mentions/s")

    route = router.route
    started = time.perf_counter()
    routed = sum(route(text, source) is not None for text, source in mentions)
    seconds = time.perf_counter() - started
    rate = len(mentions) / seconds
    print(
        f"router: {rate:,.0f} mentions/s ({seconds * 1e6 / len(mentions):.1f} us each), "
        f"{routed / len(mentions):.0%} routed"
    )

    started = time.perf_counter()
    naive = compile_naive(gen.rules)
    print(f"naive compile: {(time.perf_counter() - started) * 1000:.1f} ms")
    sample = mentions[: args.naive_mentions]
    started = time.perf_counter()
    naive_routed = sum(naive_route(naive, text, source) is not None for text, source in sample)
    naive_seconds = time.perf_counter() - started
    naive_rate = len(sample) / naive_seconds
    print(
        f"naive:  {naive_rate:,.0f} mentions/s on {len(sample)} mentions "
        f"({naive_seconds * 1e6 / len(sample):.0f} us each), "
        f"{naive_routed / len(sample):.0%} routed (no accent folding)"
    )
    ratio = rate / naive_rate
    print(f"ratio: {ratio:.1f}x")

    for label, value, target in (
        ("mentions/s", rate, TARGET_RATE),
        ("speed-up over naive", ratio, TARGET_RATIO),
    ):
        met = value >= target
        ok &= met
        print(f"target {label} >= {target:,.0f}: {'met' if met else 'NOT MET'} ({value:,.1f})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
