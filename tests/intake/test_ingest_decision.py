"""The ingest decision on its own: what a new mention becomes, from its routing and screening.

A table of the cases the end-to-end tests drive through the bot (routed, triage, a folded
near-duplicate, a flood, a muted author, the care label, a linked report of the same issue,
an update of a stored item), decided here without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.config.priority_authors import Priority
from bot.core.adapter import IncomingMention
from bot.intake.ingest_decision import (
    UPDATE_OF,
    Copy,
    IngestDecision,
    Show,
    decide,
    decide_update,
    may_link,
    routing_text,
    update_of,
)
from bot.intake.screening.brigading import Decision
from bot.intake.screening.linking import BY_PLACE, BY_REFERENCE, LINKED_INTO, Link
from bot.routing import Match, Router
from bot.rules.rulebook import Book
from storage.models import Mention, MentionStatus

NOW = datetime(2024, 5, 6, 14, 0, tzinfo=UTC)
PW, PARKS, TRIAGE = "C0PUBWORKS", "C0PARKS001", "C0TRIAGE01"
BOOK = Book(
    version=1,
    router=Router([]),
    channels={"public-works": PW, "parks": PARKS},
    names={"public-works": "Public Works", "parks": "Parks and Recreation"},
)
STREETS = Match(rule="streets", department="public-works", reason='keyword "pothole"')
ITEM = IncomingMention(
    source="mastodon",
    external_id="post-1",
    text="Fix the pothole on Elm",
    author="@ana@mastodon.social",
)
FINGERPRINT = 0x5EED


@dataclass(frozen=True)
class Case:
    """What routing, screening and linking found, and what the decision must then say."""

    # Given.
    match: Match | None = STREETS
    screening: Decision = field(default_factory=lambda: Decision(FINGERPRINT))
    link: Link | None = None
    priority: Priority | None = None
    # Then.
    show: Show = Show.CARD
    status: MentionStatus = MentionStatus.NEW
    department: str | None = "public-works"
    channel: str | None = PW
    into: int | None = None
    route_reason: str | None = STREETS.reason
    extra: dict[str, Any] = field(default_factory=dict)
    shown: tuple[str, dict[str, Any]] | None = None  # the event after received and routed


CASES = {
    "routed to its department": Case(),
    "no rule matched: triage": Case(match=None, department=None, channel=TRIAGE, route_reason=None),
    "a near-duplicate is folded into the campaign's card": Case(
        screening=Decision(FINGERPRINT, fold_into=7, fold_reason="near-duplicate"),
        show=Show.FOLD,
        status=MentionStatus.FOLDED,
        channel=None,
        into=7,
        shown=("folded", {"into": 7, "reason": "near-duplicate"}),
    ),
    "a flood is folded into the author's first card": Case(
        screening=Decision(FINGERPRINT, fold_into=3, fold_reason="flood"),
        show=Show.FOLD,
        status=MentionStatus.FOLDED,
        channel=None,
        into=3,
        shown=("folded", {"into": 3, "reason": "flood"}),
    ),
    "a muted author is stored, dismissed, shown nowhere": Case(
        screening=Decision(FINGERPRINT, muted=True),
        show=Show.MUTE,
        status=MentionStatus.DISMISSED,
        channel=None,
        shown=("muted", {}),
    ),
    "abusive language goes to triage with the care label": Case(
        screening=Decision(FINGERPRINT, care=["idiots"]),
        department=None,
        channel=TRIAGE,
        route_reason="handle with care: idiots",
        extra={"care": ["idiots"], "suggested_department": "public-works"},
    ),
    "a folded copy keeps its department, care or not": Case(
        screening=Decision(FINGERPRINT, fold_into=7, fold_reason="near-duplicate", care=["idiots"]),
        show=Show.FOLD,
        status=MentionStatus.FOLDED,
        channel=None,
        into=7,
        shown=("folded", {"into": 7, "reason": "near-duplicate"}),
    ),
    "the same issue reported elsewhere joins its open card": Case(
        link=Link(root=4, matched=5, how=BY_PLACE),
        show=Show.LINK,
        status=MentionStatus.FOLDED,
        channel=None,
        into=4,
        extra={LINKED_INTO: 4},
        shown=("folded", {"into": 4, "reason": "same issue", "how": BY_PLACE, "via": 5}),
    ),
    "a priority author's badge is kept with the mention": Case(
        priority=Priority("press", "Press"),
        extra={"priority_author": "press", "priority_label": "Press"},
    ),
}


def _decide(case: Case, item: IncomingMention = ITEM) -> IngestDecision:
    return decide(
        item,
        adapter="city-masto",
        now=NOW,
        language="en",
        match=case.match,
        screening=case.screening,
        link=case.link,
        priority=case.priority,
        book=BOOK,
        triage_channel=TRIAGE,
    )


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_decision(case: Case) -> None:
    d = _decide(case)
    assert d.show is case.show
    assert d.row["status"] == case.status
    assert d.department == d.row["department"] == case.department
    assert d.rule == d.row["rule"] == (case.match.rule if case.match else None)
    assert d.channel == case.channel
    assert d.into == d.row["folded_into"] == case.into
    assert d.row["route_reason"] == case.route_reason
    assert d.row["extra"] == case.extra
    assert d.row["fingerprint"] == FINGERPRINT
    assert d.row["dismissed_reason"] == ("muted author" if case.screening.muted else None)
    # Only what gets a card of its own is nudged about.
    assert d.row["next_nudge_at"] == (NOW if case.show is Show.CARD else None)
    kinds = [(str(kind), dict(data)) for kind, data in d.events]
    assert kinds[:2] == [
        ("received", {"source": "mastodon", "adapter": "city-masto"}),
        (
            "routed",
            {
                "department": case.department,
                "rule": case.match.rule if case.match else None,
                "reason": case.match.reason if case.match else "no rule matched",
            },
        ),
    ]
    assert kinds[2:] == ([case.shown] if case.shown else [])
    assert d.link == case.link
    assert d.cc is None


def test_an_adapters_extra_cannot_claim_what_screening_decides() -> None:
    """The care label, a priority badge, a linked card: set by ingest alone (issue 12)."""
    forged = {
        "care": 7,
        "suggested_department": "parks",
        "priority_author": "mayor",
        "priority_label": "Mayor",
        LINKED_INTO: 3,
        "subreddit": "boston",
    }
    item = IncomingMention(source="reddit", external_id="r-1", text="Pothole", extra=forged)
    assert _decide(Case(), item).row["extra"] == {"subreddit": "boston"}


def test_the_row_is_the_item_as_stored() -> None:
    item = IncomingMention(
        source="reddit",
        external_id="x" * 600,
        text="Pothole",
        author="u/ana",
        url="https://reddit.example/1",
        title="Elm St",
        created_at=NOW,
        extra={"subreddit": "boston"},
    )
    row = _decide(Case(), item).row
    assert row == {
        "source": "reddit",
        "external_id": "x" * 512,
        "adapter": "city-masto",
        "author": "u/ana",
        "url": "https://reddit.example/1",
        "title": "Elm St",
        "text": "Pothole",
        "language": "en",
        "created_at": NOW,
        "received_at": NOW,
        "extra": {"subreddit": "boston"},
        "department": "public-works",
        "rule": "streets",
        "route_reason": STREETS.reason,
        "status": "new",
        "dismissed_reason": None,
        "fingerprint": FINGERPRINT,
        "folded_into": None,
        "version": 0,
        "next_nudge_at": NOW,
    }
    assert item.extra == {"subreddit": "boston"}  # the item's own extra is left alone


@pytest.mark.parametrize(
    ("cc", "department", "copied_to"),
    [
        ("parks", "public-works", PARKS),
        ("public-works", "public-works", None),  # the department it went to anyway
        ("libraries", "public-works", None),  # a department that no longer exists
        (None, "public-works", None),
    ],
)
def test_a_rule_copies_another_department(
    cc: str | None, department: str, copied_to: str | None
) -> None:
    match = Match(rule="streets", department=department, reason="r", cc=cc)
    d = _decide(Case(match=match))
    if copied_to is None:
        assert d.cc is None
        return
    assert d.cc == Copy(
        channel=copied_to,
        text=":incoming_envelope: For your information: a Mastodon mention went to "
        "*Public Works* (rule *streets*): Fix the pothole on Elm",
    )


def test_a_folded_or_muted_mention_copies_nobody() -> None:
    match = Match(rule="streets", department="public-works", reason="r", cc="parks")
    folded = Decision(FINGERPRINT, fold_into=7, fold_reason="flood")
    assert _decide(Case(match=match, screening=folded)).cc is None


@pytest.mark.parametrize(
    ("screening", "looked_for"),
    [
        (Decision(FINGERPRINT), True),
        (Decision(FINGERPRINT, muted=True), False),
        (Decision(FINGERPRINT, fold_into=7, fold_reason="flood"), False),
        (Decision(FINGERPRINT, care=["idiots"]), False),  # care stays with the comms team
    ],
)
def test_a_link_is_looked_for_only_for_a_card_of_its_own(
    screening: Decision, looked_for: bool
) -> None:
    assert may_link(screening) is looked_for


def test_routing_reads_the_title_too() -> None:
    assert routing_text(ITEM) == "Fix the pothole on Elm"
    titled = IncomingMention(source="rss", external_id="1", text="Body", title="Title")
    assert routing_text(titled) == "Title\nBody"


# -- an update of an item stored before ----------------------------------------------------------

UPDATE = IncomingMention(
    source="open311",
    external_id="101003172420#status:closed@2020-01-20T10:00:00Z",
    text="Status changed from open to closed. <!channel>",
    extra={UPDATE_OF: "101003172420", "previous_status": "open", "status": "closed"},
)


def _request(**fields: Any) -> Mention:
    return Mention(id=9, source="open311", external_id="101003172420", **fields)


@pytest.mark.parametrize(
    ("original", "has_card", "root", "note"),
    [
        (
            _request(),
            True,
            None,
            ":arrows_counterclockwise: Status changed from open to closed. &lt;!channel&gt;",
        ),
        (
            _request(folded_into=4, extra={LINKED_INTO: 4, "how": BY_REFERENCE}),
            False,
            4,
            ":arrows_counterclockwise: 311 request #101003172420: "
            "Status changed from open to closed. &lt;!channel&gt;",
        ),
        (
            # Folded as a copy, not linked: no card shows it, the event alone records it.
            _request(folded_into=4),
            False,
            None,
            ":arrows_counterclockwise: Status changed from open to closed. &lt;!channel&gt;",
        ),
    ],
    ids=["on its own card", "on the card it is linked to", "on no card"],
)
def test_an_update_is_a_note_on_the_card_that_shows_the_original(
    original: Mention, has_card: bool, root: int | None, note: str
) -> None:
    assert update_of(UPDATE) == "101003172420"
    update = decide_update(UPDATE, original, has_card=has_card)
    assert update.root == root
    assert update.note == note
    assert update.idem_key == f"update:open311:{UPDATE.external_id}"
    assert update.event == {
        "external_id": UPDATE.external_id,
        "text": UPDATE.text,
        **UPDATE.extra,
    }


def test_a_new_item_is_no_update() -> None:
    assert update_of(ITEM) is None
    assert update_of(IncomingMention(source="open311", external_id="1", text="x")) is None
