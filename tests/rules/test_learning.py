"""Misroute rates and hand-over suggestions, on SQLite and PostgreSQL.

Mentions are stored as ingest stores them and moved as staff move them (``mentions.hand_over``
plus the ``handed_over`` event, as in ``bot/claims/service.py``); each case is a table of posts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.rules.handover_scoring import Background, candidates
from bot.rules.keyword_coverage import KeywordCoverage
from bot.rules.keyword_terms import terms
from bot.rules.learning import RuleStats, Suggestion, handover_suggestions, misroute_rates
from bot.rules.significance import discoveries
from storage import events, mentions
from storage.db import session_scope
from storage.models import EventKind

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
SINCE = NOW - timedelta(days=30)
PARKS, WORKS, WATER = "parks", "public-works", "water"
KEYWORDS = {WORKS: ["pothole", "street light"], PARKS: ["park", "playground"]}


@dataclass(frozen=True)
class Post:
    text: str
    author: str = "@someone@mastodon.social"
    department: str | None = PARKS  # where routing sent it (None: triage)
    rule: str | None = "parks"
    moves: tuple[str, ...] = ()  # the departments staff handed it to, in turn
    gap: timedelta = timedelta(hours=1)  # before each move
    at: datetime = NOW - timedelta(days=2)
    folded: bool = False  # folded into the last post stored before it that was not
    muted: bool = False
    source: str = "mastodon"
    title: str | None = None


def _store(engine: Engine, posts: list[Post]) -> list[int]:
    ids: list[int] = []
    root: int | None = None
    with session_scope(engine) as session:
        for n, post in enumerate(posts):
            status = "folded" if post.folded else "dismissed" if post.muted else "new"
            mention_id = mentions.insert(
                session=session,
                values={
                    "source": post.source,
                    "external_id": f"post-{n}",
                    "author": post.author,
                    "title": post.title,
                    "text": post.text,
                    "received_at": post.at,
                    "extra": {},
                    "department": post.department,
                    "rule": post.rule,
                    "status": status,
                    "folded_into": root if post.folded else None,
                    "dismissed_reason": "muted author" if post.muted else None,
                },
            )
            assert mention_id is not None
            ids.append(mention_id)
            root = root if post.folded else mention_id
            kind = EventKind.MUTED if post.muted else EventKind.RECEIVED
            events.record(session=session, mention_id=mention_id, kind=kind, at=post.at)
            _move(session, mention_id, post)
    return ids


def _move(session: Session, mention_id: int, post: Post) -> None:
    here = post.department
    for n, there in enumerate(post.moves, start=1):
        at = post.at + n * post.gap
        assert mentions.hand_over(
            session=session,
            mention_id=mention_id,
            from_department=here,
            to_department=there,
            now=at,
        )
        events.record(
            session=session,
            mention_id=mention_id,
            kind=EventKind.HANDED_OVER,
            actor="U0STAFF01",
            at=at,
            data={"from": here, "to": there, "note": ""},
        )
        here = there


def _rates(engine: Engine, posts: list[Post]) -> dict[str, tuple[int, int]]:
    _store(engine, posts)
    with session_scope(engine) as session:
        stats = misroute_rates(session, since=SINCE)
    return {rule: (s.routed, s.handed_over) for rule, s in stats.items()}


def _street(text: str) -> Post:
    return Post(text, rule="streets", department=WORKS)


# Misroute rates: (posts, {rule: (routed, handed over)}).
RATE_CASES = [
    pytest.param(
        [
            Post("Streetlight out by Riverside Park", moves=(WORKS, WATER)),
            Post("Broken swing at the Jarry Park playground", moves=(WORKS,)),
            Post("Le parc Jarry est magnifique ce matin"),
            Post("Dog park gate left open on Elm Ave"),
            _street("Pothole on Rue Saint-Denis"),
            _street("Street light flickering on Maple St"),
        ],
        {"parks": (4, 2), "streets": (2, 0)},
        id="a mention handed over twice counts once",
    ),
    pytest.param(
        [
            Post("Streetlight out by the park", moves=(WORKS, PARKS)),
            Post("Trail closed at Mount Royal park"),
        ],
        {"parks": (2, 1)},
        id="handed over and back is still a misroute",
    ),
    pytest.param(
        [
            Post("FREE THE PARK SQUIRRELS", author="@loud"),
            Post("FREE THE PARK SQUIRRELS!!", author="@loud", folded=True),
            Post("free the park squirrels", author="@loud2", folded=True),
            Post("Spam about parks", author="@muted", muted=True),
            Post("Picnic tables at Jarry Park need paint", moves=(WORKS,)),
        ],
        {"parks": (2, 1)},
        id="folded and muted mentions had no card of their own",
    ),
    pytest.param(
        [
            Post("Playground slide cracked", at=SINCE),
            Post("Park fountain dry", at=SINCE - timedelta(seconds=1), moves=(WATER,)),
            Post("Park lights out", at=SINCE - timedelta(days=3), moves=(WORKS,)),
        ],
        {"parks": (1, 0)},
        id="the period starts at since, by arrival",
    ),
    pytest.param(
        [
            # A "handle with care" label sent it to triage although the rule matched.
            Post("This damn park is a disgrace", department=None, moves=(PARKS,)),
            Post("Stupid park lights, fix them", department=None, moves=(PARKS, WORKS)),
            Post("Idiotic park rules", department=None),
            Post("Park benches need paint"),
            Post("Nothing matched this one", department=None, rule=None, moves=(WORKS,)),
        ],
        {"parks": (1, 0)},
        id="triage detours are not routed by the rule",
    ),
    pytest.param([], {}, id="nothing routed"),
]


@pytest.mark.parametrize(("posts", "expected"), RATE_CASES)
def test_misroute_rates(
    engine: Engine, posts: list[Post], expected: dict[str, tuple[int, int]]
) -> None:
    assert _rates(engine, posts) == expected


def test_misroute_rate_is_the_share_handed_over() -> None:
    assert RuleStats("parks", routed=4, handed_over=1).misroute_rate == 0.25
    assert RuleStats("idle", routed=0, handed_over=0).misroute_rate == 0.0


# What the parks department keeps, in three of its parks: "park" is in nearly all of it.
PARKS_KEEP = [
    Post(text.format(park=park), author=f"@{who}{n}")
    for n, park in enumerate(["Riverside", "Jarry", "Maple"])
    for text, who in [
        ("The playground swings at {park} Park are broken again", "kim"),
        ("Can someone mow the grass at {park} Park? It's knee high", "lee"),
        ("Love the new dog park in {park}! #ParksMTL", "max"),
        ("Le parc {park} est magnifique ce matin, merci!", "noe"),
        ("Overflowing trash cans near the {park} park picnic tables", "oli"),
        ("Park benches need paint at {park} Park", "pam"),
        ("El parque {park} está muy limpio hoy, gracias", "quim"),
        ("Who do I ask about booking the {park} park pavilion for a birthday?", "ray"),
        ("Tennis court nets at {park} Park are torn", "sol"),
        ("The {park} park trail is muddy after the rain", "tess"),
    ]
]


def _handed(text: str, author: str, at: datetime = NOW - timedelta(days=2)) -> Post:
    return Post(text, author=author, moves=(WORKS,), at=at)


# Routed to parks (the park is named), handed to public works.
STREETLIGHTS = [
    _handed("Streetlight out at the entrance of Riverside Park, very dark at night", "@ana"),
    _handed("#StreetLight broken near the park gate on Elm Ave 🌙", "@bob@mastodon.social"),
    _handed("STREETLIGHT flickering by the park, someone will trip", "@chloe"),
    _handed("Lampadaire brisé près du parc Jarry : le streetlight est éteint", "@dominique"),
    _handed("Pothole the size of a bathtub by the park https://t.co/x1.jpg", "@eli"),
    _handed("Huge POTHOLE on the road into Maple Park @CityOfMTL", "@fatima"),
    _handed("That pothole next to the park is back, my tire is flat", "@gus"),
    # Handed over and back: the rule was right after all.
    *(
        Post(text, author=who, moves=(WORKS, PARKS))
        for text, who in [
            ("Streetlight in the park gazebo is out", "@hal"),
            ("Gazebo lamp at Jarry Park is broken", "@ida"),
            ("The gazebo lights by the pond flicker", "@jay"),
        ]
    ),
]
STORM_DRAINS = [
    _handed("Storm drain clogged with leaves at the park, the path floods", "@hana"),
    _handed("The storm drain by Maple Park is blocked again #flooding", "@ivan"),
    # Water passed it on: it counts from parks, where the rule sent it, though that first
    # move is older than the period.
    Post(
        "Storm-drain overflowing onto the park path",
        author="@jo",
        moves=(WATER, WORKS),
        at=SINCE - timedelta(days=3),
        gap=timedelta(days=2),
    ),
]
# Moved to water: "fountain" is new, "grass" is what parks gets every day (3 of 30 kept).
WATER_MOVES = [
    Post(text, author=who, moves=(WATER,))
    for text, who in [
        ("Sprinkler flooding the grass at Jarry Park since dawn", "@kai"),
        ("Drinking fountain at Maple Park spits brown water", "@lou"),
        ("The fountain in Riverside Park is leaking everywhere", "@mia"),
        ("Burst pipe under the grass by the park pavilion", "@ned"),
        ("Fountain pump at the park is broken, it floods the path", "@ora"),
        ("Puddles on the grass in the park after the hydrant test", "@pia"),
        ("Water fountain by the playground has no pressure", "@rex"),
        ("Leak near the park washrooms", "@sam"),
    ]
]
TROLL = [  # worded differently each time, so brigading did not fold them
    _handed(text, "@troll")
    for text in [
        "SINKHOLE swallowing the park fountain!!! wake up",
        "they are hiding the sinkhole under the park",
        "Sinkhole. Park. Cover-up. Do your research",
        "day 4 of asking about the park sinkhole",
        "#sinkhole #coverup the park is next",
    ]
]
GRAFFITI = [  # from triage: no rule matched
    Post(text, author=who, department=None, rule=None, moves=(WORKS,))
    for text, who in [
        ("Graffiti all over the underpass on Rue Ontario", "@uma"),
        ("Someone sprayed graffiti in the underpass again", "@vic"),
        ("Underpass graffiti is getting worse, please clean it", "@wes"),
    ]
]
TRIAGE_KEEP = [
    Post(text, author=who, department=None, rule=None)
    for text, who in [
        ("What time does city hall open on Friday?", "@xia"),
        ("Thank you to the staff at the library!", "@yan"),
        ("Is the recycling schedule changing for the holidays?", "@zed"),
        ("Great concert downtown last night", "@abe"),
        ("How do I register my dog?", "@bea"),
        ("Congrats to the mayor on the new budget", "@cal"),
        ("Who do I call about a noisy neighbour?", "@dee"),
        ("Where can I vote in the by-election?", "@eve"),
        ("Le site web de la ville ne fonctionne pas", "@fay"),
        ("¿Dónde pago mi multa de estacionamiento?", "@gil"),
        ("Jobs at the city: where are they posted?", "@hub"),
        ("Loved the fireworks on Saturday!", "@ike"),
    ]
]
OPEN311 = [  # Open311 names nobody: each request is its own author
    Post(
        text,
        title="Streetlight Repair",
        author="311 request",
        source="open311",
        department=None,
        rule=None,
        moves=(WORKS,),
    )
    for text in ["Dark corner near the school", "Bulb broken since Monday", "Flickers a lot"]
]
EARLIER = [  # handed over before the period: not read
    _handed("Streetlight dead near the park", f"@old{n}", at=SINCE - timedelta(days=5))
    for n in range(3)
]


STREETLIGHT = (PARKS, WORKS, "streetlight", 4)

# (posts, existing keywords, min_count, [(from, to, term, count)] in order)
SUGGESTION_CASES = [
    pytest.param(
        PARKS_KEEP + STREETLIGHTS,
        KEYWORDS,
        3,
        [STREETLIGHT],
        id="recurring term, not stopwords, B's keywords or what A keeps anyway",
    ),
    pytest.param(
        PARKS_KEEP + STREETLIGHTS,
        {**KEYWORDS, WORKS: ["pothole", "streetlight"]},
        3,
        [],
        id="B already routes on it",
    ),
    pytest.param(PARKS_KEEP + STREETLIGHTS, KEYWORDS, 5, [], id="fewer than min_count"),
    pytest.param(
        PARKS_KEEP + STREETLIGHTS + STORM_DRAINS,
        KEYWORDS,
        3,
        [STREETLIGHT, (PARKS, WORKS, "storm drain", 3)],
        id="the phrase, not its words, when they always come together",
    ),
    pytest.param(
        PARKS_KEEP + TROLL, KEYWORDS, 3, [], id="one account repeating itself is not a pattern"
    ),
    pytest.param(
        PARKS_KEEP + STREETLIGHTS + WATER_MOVES,
        KEYWORDS,
        3,
        [STREETLIGHT, (PARKS, WATER, "fountain", 4)],
        id="a common word in a few hand-overs is a fluke, not a pattern",
    ),
    pytest.param(
        PARKS_KEEP + STREETLIGHTS + TROLL,
        KEYWORDS,
        3,
        [STREETLIGHT],
        id="one account repeating itself does not drown the others",
    ),
    pytest.param(
        PARKS_KEEP + STREETLIGHTS + EARLIER,
        KEYWORDS,
        3,
        [STREETLIGHT],
        id="hand-overs before the period are not read",
    ),
    pytest.param(
        TRIAGE_KEEP + GRAFFITI + OPEN311,
        KEYWORDS,
        3,
        [
            (None, WORKS, "graffiti", 3),
            (None, WORKS, "streetlight repair", 3),
            (None, WORKS, "underpass", 3),
        ],
        id="from triage, titles read, 311 requests each their own author, ties by term",
    ),
]


@pytest.mark.parametrize(("posts", "existing", "min_count", "expected"), SUGGESTION_CASES)
def test_handover_suggestions(
    engine: Engine,
    posts: list[Post],
    existing: dict[str, list[str]],
    min_count: int,
    expected: list[tuple[str | None, str, str, int]],
) -> None:
    _store(engine, posts)
    with session_scope(engine) as session:
        found = handover_suggestions(
            session, since=SINCE, existing_keywords=existing, min_count=min_count
        )
        again = handover_suggestions(
            session, since=SINCE, existing_keywords=existing, min_count=min_count
        )
    assert [(s.from_department, s.to_department, s.term, s.count) for s in found] == expected
    assert found == again


def test_a_suggestion_says_how_many_and_shows_examples(engine: Engine) -> None:
    ids = _store(engine, PARKS_KEEP + STREETLIGHTS + STORM_DRAINS)
    with session_scope(engine) as session:
        top = handover_suggestions(session, since=SINCE, existing_keywords=KEYWORDS, limit=1)
    streetlit = ids[len(PARKS_KEEP) : len(PARKS_KEEP) + 4]  # the first four say "streetlight"
    assert top == [
        Suggestion(
            from_department=PARKS,
            to_department=WORKS,
            term="streetlight",
            count=4,
            handovers=10,
            examples=tuple(sorted(streetlit, reverse=True)[:3]),
            authors=4,
            score=top[0].score,
        )
    ]
    # Ten people handed over, a term none of the 30 kept mentions has: 4 - 10 * 1/(30 + 2).
    assert top[0].score == pytest.approx(4 - 10 / 32)


# Terms: (text, some expected terms, some that must not be there)
TERM_CASES = [
    ("#StreetLight OUT on Rue Saint-Denis", {"streetlight", "rue saint", "saint denis"}, {"out"}),
    ("L'éclairage du PARC est brisé", {"eclairage", "parc", "brise"}, {"l", "du", "est"}),
    ("Farola rota en el Parque Central", {"farola rota", "parque central"}, {"el", "en"}),
    ("See https://city.example/report?id=7 and @CityOfMTL", set(), {"city", "cityofmtl"}),
    ("Write to ana@example.org or @rosa@mastodon.social", {"write"}, {"ana", "rosa", "example"}),
    ("Pothole at 1234 Main St. Broken glass", {"pothole", "broken glass"}, {"1234", "st"}),
    ("Streetlight. Broken", {"streetlight", "broken"}, {"streetlight broken"}),
]


@pytest.mark.parametrize(("text", "present", "absent"), TERM_CASES)
def test_terms(text: str, present: set[str], absent: set[str]) -> None:
    found = terms(text)
    assert present <= found
    assert not absent & found


def test_a_common_word_is_not_a_pattern_by_chance() -> None:
    # A quarter of what A keeps mentions the sidewalk; 3 of 5 hand-overs doing so is a fluke
    # more than one time in ten. A word A never sees, in the same 3 of 5, is not.
    kept = Background([{"sidewalk"}] * 25 + [{"bench"}] * 75)
    handed = [(n, f"@p{n}", {"sidewalk", "streetlight"} if n < 3 else {"bench"}) for n in range(5)]
    found = {c.term: c for c in candidates(handed, kept, min_count=3, covered=lambda t: False)}
    assert found.keys() == {"sidewalk", "streetlight"}  # "bench" is in two only
    assert found["streetlight"].score == pytest.approx(3 - 5 * (0 + 1) / (100 + 2))
    assert found["sidewalk"].score == pytest.approx(3 - 5 * (25 + 1) / (100 + 2))
    accepted = discoveries([c.p_value for c in found.values()], 0.05)
    assert [t for t, ok in zip(found, accepted, strict=True) if ok] == ["streetlight"]


# (department's keywords, term, already matched)
COVERAGE_CASES = [
    (["street light"], "street light", True),
    (["street light"], "streetlight", False),
    (["Éclairage"], "eclairage", True),
    (["bin*"], "bins", True),
    (["light"], "street light", True),
    (["pothole", "*", " "], "pothole", True),  # keywords routing refuses are skipped
    ([], "pothole", False),
]


@pytest.mark.parametrize(("keywords", "term", "covered"), COVERAGE_CASES)
def test_keyword_coverage(keywords: list[str], term: str, covered: bool) -> None:
    assert KeywordCoverage({WORKS: keywords}).covers(WORKS, term) is covered


def test_one_voice_is_not_a_pattern_however_rare_the_word() -> None:
    kept = Background([{"bench"}] * 1000)
    troll = [(n, "mastodon:@troll", {"sinkhole"}) for n in range(5)]
    [alone] = candidates(troll, kept, min_count=3, covered=lambda term: False)
    assert (alone.term, len(alone.hits), alone.authors, alone.p_value) == ("sinkhole", 5, 1, 1.0)
    [allowed] = candidates(troll, kept, min_count=1, covered=lambda term: False)
    assert allowed.p_value < 0.01
