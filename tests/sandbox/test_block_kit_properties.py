"""Whatever a citizen, a rule or a department writes, the Block Kit builders and the card give
Slack blocks it accepts: property tests against the fake's validator.

Texts are drawn from everything that has broken Slack messages elsewhere: huge ones, control
characters, ``<!channel>`` and link syntax, ``&<>`` that grow when escaped, astral characters,
and empty strings. The example counts are small on purpose: the suite has a time budget, and
the interesting cases (empty, at a limit, far past it) are in every draw's reach.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import blocks
from bot.core.slack_ids import ActionId
from bot.outbox.cards import CardView, LinkedReport, render
from bot.sandbox.block_kit import message_problems, view_problems
from storage.models import MentionStatus

TRICKY = [
    "",
    " ",
    "<!channel>",
    "<!here> <@U123> <!subteam^S1>",
    "<https://evil.example|click me>",
    "&<>" * 1200,
    "\x00\x07\x1b[31m\u202e\ufeff",
    "🙂" * 3100,
    "a" * 3001,
    "https://example.org/" + "p" * 3000,
]
TEXTS = st.one_of(
    st.sampled_from(TRICKY),
    st.text(max_size=200),
    st.builds(
        lambda part, times: part * times, st.text(min_size=1, max_size=8), st.integers(1, 900)
    ),
)
URLS = st.one_of(
    st.none(),
    TEXTS,
    st.builds(lambda path: f"https://example.org/{path}", TEXTS),
)
FAST = settings(max_examples=40, deadline=None)


@FAST
@given(text=TEXTS, value=TEXTS, url=URLS)
def test_the_builders_always_make_blocks_slack_accepts(
    text: str, value: str, url: str | None
) -> None:
    message = [
        blocks.header(text),
        blocks.section(text, blocks.button(text, ActionId.CLAIM, value, url=url)),
        blocks.context(text),
        blocks.divider(),
        blocks.actions(
            [
                blocks.button(text, ActionId.RELEASE, value, "primary"),
                blocks.button(value, ActionId.ANSWERED, text, "danger", url=url),
            ]
        ),
    ]
    assert message_problems(message) == []
    menu = {
        "type": "static_select",
        "action_id": "pick",
        "options": [blocks.option(text, "one"), blocks.option(value, "two")],
    }
    view = {
        "type": "modal",
        "title": blocks.plain(text, blocks.VIEW_TITLE_LIMIT),
        "close": blocks.plain(value, blocks.VIEW_TITLE_LIMIT),
        "blocks": [*message, {"type": "section", "text": blocks.mrkdwn(text), "accessory": menu}],
    }
    assert view_problems(view, "modal") == []


REPORTS = st.builds(
    LinkedReport,
    source=st.sampled_from(["mastodon", "open311", "rss", "email", "x"]),
    url=URLS,
    author=TEXTS,
    request_id=st.one_of(st.none(), TEXTS),
    priority=st.one_of(st.none(), TEXTS),
)
MAYBE = st.one_of(st.none(), TEXTS)
WHEN = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
CARDS = st.builds(
    CardView,
    mention_id=st.integers(1, 2**31),
    source=st.sampled_from(["mastodon", "bluesky", "reddit", "rss", "email", "open311", "webhook"]),
    author=TEXTS,
    text=TEXTS,
    title=MAYBE,
    url=URLS,
    created_at=st.one_of(st.none(), WHEN),
    received_at=WHEN,
    department_name=MAYBE,
    rule=MAYBE,
    route_reason=MAYBE,
    status=st.sampled_from([s for s in MentionStatus if s != MentionStatus.FOLDED]),
    claimed_by=MAYBE,
    answered_by=MAYBE,
    dismissed_by=MAYBE,
    dismissed_reason=MAYBE,
    moved_to=MAYBE,
    moved_by=MAYBE,
    handed_from=MAYBE,
    handed_by=MAYBE,
    folded=st.integers(0, 10_000),
    folded_authors=st.lists(TEXTS, max_size=40).map(tuple),
    care=st.lists(TEXTS, max_size=30).map(tuple),
    priority=MAYBE,
    linked=st.lists(REPORTS, max_size=12).map(tuple),
    linked_total=st.integers(0, 500),
)


@FAST
@given(card=CARDS)
def test_a_card_is_always_blocks_slack_accepts(card: CardView) -> None:
    fallback, shown = render(card)
    assert message_problems(shown) == []
    assert fallback.strip()
