"""One issue, one card: reports of one issue from several platforms are linked to one card.

The 311 requests are real records from Boston's Open311 server (tests/fixtures/open311); the
posts about them are written for the tests, since no recorded post names those places.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.app.compose import Engage
from bot.claims.service import Claims
from bot.config.file import parse_config
from bot.config.service import LinkingConfig
from bot.core.adapter import IncomingMention
from bot.intake.adapters.open311.parse import status_update, to_mention
from bot.intake.ingest import Ingestor
from bot.intake.screening.linking import BY_PLACE, BY_REFERENCE, Linking, match
from bot.intake.screening.linking_text import Features, Gazetteer, features, references
from bot.outbox.replies import Replies
from bot.rules.rulebook import Rulebook
from bot.sandbox.fake_slack import FakeSlack
from storage import summaries
from storage.db import session_scope
from storage.models import Event, Mention
from tests.conftest import CONFIG, store_config
from tests.factories import post_webhook, settled

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "open311"
TICKETS = "https://311.boston.gov/tickets/{id}"
TRIAGE = "C0TRIAGE01"
PW = "C0PUBWORKS"


def _record(n: int = 0, **changes: Any) -> dict[str, Any]:
    data = json.loads((FIXTURES / "boston-unsafe-conditions.json").read_text(encoding="utf-8"))
    record: dict[str, Any] = {**data[n], **changes}
    return record


# Record 0: "H323401-101003193368", a broken fence on the sidewalk at "10 Pompeii St, Roxbury".
FENCE = _record(0)
FENCE_ID = "H323401-101003193368"
FENCE_AT = (FENCE["lat"], FENCE["long"])
NEAR, FAR = FENCE_AT[0] + 0.00045, FENCE_AT[0] + 0.009  # 50 m and 1 km north


def _request(record: dict[str, Any]) -> IncomingMention:
    return to_mention(record, url_template=TICKETS)


def _of(item: IncomingMention, gazetteer: Gazetteer | None = None) -> Features:
    return features(
        source=item.source,
        text=item.text,
        title=item.title,
        external_id=item.external_id,
        extra=item.extra,
        gazetteer=gazetteer or Gazetteer(()),
    )


def _post(source: str, text: str, **extra: Any) -> IncomingMention:
    return IncomingMention(source=source, external_id=f"{source}:{text}", text=text, extra=extra)


# -- the decision, table-driven --------------------------------------------------------------

FENCE_REQUEST = _request(FENCE)
OTHER_REQUEST = _request(
    {**FENCE, "service_request_id": "101003200000", "requested_datetime": "2020-02-12T16:00:00"}
)
FENCE_POST = _post("mastodon", "Broken fence lying across the sidewalk on Pompeii St, watch out")

CASES: list[tuple[str, IncomingMention, IncomingMention, str | None]] = [
    (
        "same street and wording, another platform",
        _post("mastodon", "Broken fence across the sidewalk on Pompeii Street, someone gets hurt"),
        FENCE_REQUEST,
        BY_PLACE,
    ),
    (
        "accents and case fold away",
        _post("bluesky", "BROKEN FÉNCE on the SIDEWALK at Pompéii St!!"),
        FENCE_REQUEST,
        BY_PLACE,
    ),
    (
        "the 311 id in the text, no place needed",
        _post("reddit", "My 311 case #101003193368 is still not fixed, a week later"),
        FENCE_REQUEST,
        BY_REFERENCE,
    ),
    (
        "a link to the request",
        _post("email", "Still there: https://311.boston.gov/tickets/H323401-101003193368"),
        FENCE_REQUEST,
        BY_REFERENCE,
    ),
    (
        "names another 311 request",
        _post("mastodon", "Broken fence on the sidewalk of Pompeii St, case 101003999999"),
        FENCE_REQUEST,
        None,
    ),
    ("two 311 requests never link", OTHER_REQUEST, FENCE_REQUEST, None),
    (
        "same platform: that is brigading's business",
        _post("mastodon", "Broken fence across the sidewalk on Pompeii Street, someone gets hurt"),
        FENCE_POST,
        None,
    ),
    (
        "two potholes on one street, told differently",
        _post("reddit", "Pothole on Elm St swallowed my bike wheel this morning"),
        _post("bluesky", "Another pothole on Elm Street, right by the bakery"),
        None,
    ),
    (
        "same street, other house number",
        _post("webhook", "Broken fence fell on the sidewalk in front of 48 Pompeii St"),
        FENCE_REQUEST,
        None,
    ),
    (
        "coordinates 50 m apart decide, no street named",
        _post(
            "webhook",
            "Broken fence fell on the sidewalk here",
            lat=FENCE_AT[0] + 0.00045,
            lon=-71.07,
        ),
        FENCE_REQUEST,
        BY_PLACE,
    ),
    (
        "coordinates 1 km apart decide, though the street is the same",
        _post(
            "webhook",
            "Broken fence on the sidewalk of Pompeii St",
            lat=FENCE_AT[0] + 0.009,
            lon=-71.07,
        ),
        FENCE_REQUEST,
        None,
    ),
    (
        "one shared word is not the same issue",
        _post("bluesky", "The Pompeii St sidewalk is a mess again"),
        FENCE_REQUEST,
        None,
    ),
    (
        '"the street" is no place',
        _post("reddit", "The fence on the street is broken and the sidewalk blocked"),
        _post("bluesky", "Broken fence on our street blocks the sidewalk"),
        None,
    ),
    (
        "a lower-case 'square' is only a place when configured",
        _post("reddit", "Huge sinkhole at copley square, cones around it"),
        _post("bluesky", "Sinkhole at Copley Sq!! cones everywhere"),
        None,
    ),
]


@pytest.mark.parametrize(("why", "new", "old", "expected"), CASES, ids=[c[0] for c in CASES])
def test_linking_decisions(
    why: str, new: IncomingMention, old: IncomingMention, expected: str | None
) -> None:
    found = match(_of(new), _of(old), config=LinkingConfig())
    assert (found[0] if found else None) == expected, why
    # The decision does not depend on which of the two came first.
    back = match(_of(old), _of(new), config=LinkingConfig())
    assert (back[0] if back else None) == expected, why


def test_configured_places_are_found_in_any_case() -> None:
    places = Gazetteer(["Copley Square"])
    new = _of(_post("reddit", "Huge sinkhole at copley square, cones around it"), places)
    old = _of(_post("bluesky", "Sinkhole at Copley Sq!! cones everywhere"), places)
    found = match(new, old, config=LinkingConfig())
    assert found is not None and found[0] == BY_PLACE


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("311 request #101004716 still open", {"101004716"}),
        ("Case No. 101003262787, filed Monday", {"101003262787"}),
        ("see https://311.boston.gov/tickets/101003262787", {"101003262787"}),
        ("ref: H323401-101003193368", {"h323401-101003193368", "101003193368"}),
        ("TICKET 101003262787", {"101003262787"}),
        ("call 617-635-4500 or 311", set()),  # a phone number
        ("in 2019 I reported it at 1234 Elm St", set()),  # a year, a house number
        ("my 101003262787 neighbours", set()),  # a bare number names nothing
    ],
)
def test_open311_ids_named_in_texts(text: str, keys: set[str]) -> None:
    assert references(text) == keys


# -- in storage: windows, open cards, 311 ids both ways ----------------------------------------


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2020, 2, 12, 21, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


@dataclass
class Step:
    hours: float
    item: IncomingMention
    links_to: int | None  # the step whose card it joins (None: a card of its own)
    answer_first: list[int] = field(default_factory=list)  # steps answered before this one


SIDING = _record(3, service_request_id="101003188888")

SCENARIOS: dict[str, list[Step]] = {
    "inside the window": [
        Step(0, _post("mastodon", "Broken fence lying on the sidewalk at Pompeii St"), None),
        Step(71, _request(FENCE), 0),
    ],
    "after the window": [
        Step(0, _post("mastodon", "Fallen tree blocking the sidewalk on Quincy St"), None),
        Step(73, _post("reddit", "Fallen tree still blocking the Quincy Street sidewalk"), None),
    ],
    "an answered card takes no more links": [
        Step(0, _post("mastodon", "Fallen tree blocking the sidewalk on Walnut Ave"), None),
        Step(1, _post("reddit", "Fallen tree blocking the Walnut Avenue sidewalk"), None, [0]),
    ],
    "a 311 id is named long after the window": [
        Step(0, _request(_record(1)), None),
        Step(200, _post("reddit", "Case 101003193359: still debris everywhere on Pearl"), 0),
    ],
    "a 311 request after a post that named its id": [
        Step(0, _post("webhook", "I filed 311 request #101003188888, please look"), None),
        Step(1, _request(SIDING), 0),
    ],
    "a 311 id leads to the card its request is linked to": [
        Step(0, _post("bluesky", "Broken fence lying on the sidewalk at Pompeii St"), None),
        Step(2, _request({**FENCE, "service_request_id": "101003177777"}), 0),
        Step(3, _post("email", "About 311 case 101003177777: nobody came yet"), 0),
    ],
}


def test_links_in_storage(engine: Engine) -> None:
    store_config(engine, parse_config(CONFIG))
    clock = Clock()
    ingestor = Ingestor(
        rulebook=Rulebook(triage_channel=TRIAGE), clock=clock, linking=Linking(LinkingConfig())
    )
    claims = Claims(engine=engine, clock=clock, wake=lambda: None, replies=Replies({}))
    start = clock.at
    for name, steps in SCENARIOS.items():
        ids: list[int] = []
        for n, step in enumerate(steps):
            for answered in step.answer_first:
                claims.answer(
                    mention_id=ids[answered], user_id="U0ALICE01", text="Done", request_key=name
                )
            clock.at = start + timedelta(hours=step.hours)
            with session_scope(engine) as s:
                (result,) = ingestor.ingest(session=s, items=[step.item])
            assert result.mention_id is not None, (name, n)
            ids.append(result.mention_id)
            with session_scope(engine) as s:
                stored = s.get(Mention, result.mention_id)
                assert stored is not None
                expected = ids[step.links_to] if step.links_to is not None else None
                assert stored.folded_into == expected, (name, n)
                assert (stored.status == "folded") is (expected is not None), (name, n)
        start += timedelta(days=30)  # each scenario on its own, past every window


# -- end to end: one card lists every platform ------------------------------------------------


def test_one_issue_reported_on_four_platforms_is_one_card(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot = make_bot()
    first = bot.ingest_one(
        IncomingMention(
            source="mastodon",
            external_id="111",
            url="https://mastodon.social/@resident/111",
            author="@resident@mastodon.social",
            text="Broken fence lying across the sidewalk on Pompeii St in Roxbury. <!channel>",
        )
    )
    linked = [
        bot.ingest_one(_request(FENCE)),
        bot.ingest_one(
            IncomingMention(
                source="reddit",
                external_id="t3_fence",
                url="https://www.reddit.com/r/boston/comments/fence/",
                author="u/roxbury_walker",
                text="PSA: broken fence lying across the Pompeii Street sidewalk, walk around it",
            )
        ),
    ]
    # A web form naming the 311 request's id (the digits a confirmation e-mail shows).
    response = post_webhook(
        bot.url,
        {"id": "form-77", "author": "Ana", "text": "Following up on case 101003193368: fence?"},
    )
    assert response.status_code == 202, response.text
    # Another issue on the same street keeps its own card, in its own department.
    other = bot.ingest_one(_post("bluesky", "Huge pothole on Pompeii St, fix it please"))
    settled(bot)

    (card,) = slack.messages(TRIAGE)
    blocks = json.dumps(card["blocks"])
    assert "Also reported on" in blocks
    assert f"<https://311.boston.gov/tickets/{FENCE_ID}|311 request #{FENCE_ID}>" in blocks
    assert "<https://www.reddit.com/r/boston/comments/fence/|Reddit> (u/roxbury_walker)" in blocks
    assert "Web form (Ana)" in blocks
    assert "similar or repeated" not in blocks  # linked reports are not copies
    assert "&lt;!channel&gt;" in blocks and "<!channel>" not in blocks
    assert len(slack.messages(PW)) == 1 and other.department == "public-works"
    notes = [m["text"] for m in slack.replies(TRIAGE, card["ts"])]
    assert len(notes) == 3 and all("The same issue was reported on" in n for n in notes)

    with session_scope(bot.engine) as s:
        rows = {m.id: m for m in s.exec(select(Mention))}
        links = [e for e in s.exec(select(Event)) if e.kind == "folded"]
    assert first.mention_id is not None
    for result in linked:
        assert result.mention_id is not None
        row = rows[result.mention_id]
        assert row.folded_into == first.mention_id and row.status == "folded"
    assert len(links) == 3 and all(e.data["reason"] == "same issue" for e in links)

    # The city closes the request: its news goes to the card it is shown on.
    closed = {**FENCE, "status": "closed", "updated_datetime": "2020-02-13T09:00:00-05:00"}
    bot.ingest_one(status_update(closed, "open", url_template=TICKETS))
    # Answered once: the root's answer settles every report of the issue.
    bot.claims.answer(
        mention_id=first.mention_id, user_id="U0ALICE01", text="Fence removed", request_key="k1"
    )
    settled(bot)
    notes = [m["text"] for m in slack.replies(TRIAGE, card["ts"])]
    assert any(f"311 request #{FENCE_ID}: Status changed from open to closed" in n for n in notes)
    assert "Answered by" in json.dumps(slack.messages(TRIAGE)[0]["blocks"])
    with session_scope(bot.engine) as s:
        open_now, _ = summaries.backlog(session=s, department=None)
    assert open_now == 0


# -- priority authors -------------------------------------------------------------------------

PRESS = (
    CONFIG
    + """
author_lists:
  press:
    members: ["@globe_reporter@mastodon.social", "desk@gazette.example"]
    priority: true
    label: Press
  councillors: ["@cllr_ana@mastodon.social"]
"""
)


def test_a_priority_author_gets_a_badge(make_bot: Callable[..., Engage], slack: FakeSlack) -> None:
    bot = make_bot(PRESS)
    press = IncomingMention(
        source="email",
        external_id="<m1@gazette.example>",
        author="Gazette Desk <Desk@Gazette.example>",
        text="Pothole on Elm St: will the city comment?",
    )
    plain = replace(press, external_id="<m2@x>", author="@cllr_ana@mastodon.social")
    bot.ingest_one(press)
    bot.ingest_one(replace(plain, text="Pothole on Oak St, residents ask"))
    settled(bot)
    first, second = slack.messages(PW)
    assert ":star: *Press*" in json.dumps(first["blocks"])
    assert "(Press)" in first["text"]
    assert ":star:" not in json.dumps(second["blocks"])  # a list without priority: no badge
    with session_scope(bot.engine) as s:
        rows = list(s.exec(select(Mention).order_by(col(Mention.id))))
    assert rows[0].extra["priority_author"] == "press"
    assert "priority_author" not in rows[1].extra


def test_author_lists_in_both_forms() -> None:
    config = parse_config(
        PRESS.replace("  - name: parks\n", "  - name: parks\n    authors: [list:councillors]\n")
    )
    assert config.author_members() == {
        "press": ("@globe_reporter@mastodon.social", "desk@gazette.example"),
        "councillors": ("@cllr_ana@mastodon.social",),
    }
    assert config.author_lists["press"].priority and not config.author_lists["councillors"].priority
    parks = next(r for r in config.rule_defs() if r.name == "parks")
    assert parks.authors == ("@cllr_ana@mastodon.social",)
    with pytest.raises(Exception, match=r"author_lists.press.*expected a list of authors"):
        parse_config(CONFIG + "author_lists:\n  press: '@one'\n")


def test_the_linking_section() -> None:
    config = parse_config(CONFIG + "linking:\n  window_hours: 24\n  places: [Copley Square]\n")
    assert config.linking.window_hours == 24 and config.linking.enabled
    assert parse_config(CONFIG).linking == LinkingConfig()
    with pytest.raises(Exception, match=r"line \d+: linking.radius: unknown key"):
        parse_config(CONFIG + "linking:\n  radius: 100\n")
