"""The weekly digest's audience (issue 13): ``digest.to`` is honoured, and the invitation list
("No answer yet in this period: @…") goes to leads and the comms team only, never into a
channel: not with ``to: channel``, and not when a department has no lead (or the city no comms
team) and the digest falls back to the channel.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.app.compose import Engage
from bot.core.adapter import IncomingMention
from bot.sandbox.fake_slack import FakeSlack
from bot.sandbox.wire import dm_channel
from tests.factories import Clock, settled

NY = ZoneInfo("America/New_York")
PW, PARKS, LIBRARIES, TRIAGE = "C0PUBWORKS", "C0PARKS001", "C0LIBRARY1", "C0TRIAGE01"
PW_LEAD, LIBRARIES_LEAD = "U0LEADPW1", "U0LEADLB1"
ALICE, BOB = "U0ALICE01", "U0BOB0001"  # Alice answers; Bob has not yet
CONFIG = f"""
triage: {{channel: {TRIAGE}}}
departments:
  - {{slug: public-works, name: Public Works, channel: {PW}, leads: [{PW_LEAD}],
      digest: {{to: channel}}}}
  - {{slug: parks, name: Parks, channel: {PARKS}}}
  - {{slug: libraries, name: Libraries, channel: {LIBRARIES}, leads: [{LIBRARIES_LEAD}]}}
rules:
  - {{name: streets, department: public-works, keywords: [pothole]}}
  - {{name: parks, department: parks, keywords: [playground]}}
  - {{name: books, department: libraries, keywords: [book]}}
delivery: {{channel_interval: 0}}
"""
INVITATION = "No answer yet"


def _last_week(make_bot: Callable[..., Engage], slack: FakeSlack) -> Engage:
    """A mention a department last week, each answered by Alice; now the Tuesday after."""
    for channel, name in ((PW, "pw"), (PARKS, "parks"), (LIBRARIES, "lib"), (TRIAGE, "triage")):
        slack.add_channel(channel, name, [ALICE, BOB])
    clock = Clock(datetime(2026, 11, 16, 10, 0, tzinfo=NY))  # Monday
    bot = make_bot(CONFIG, clock=clock)
    for text in ("pothole on Elm", "broken playground", "overdue book"):
        result = bot.ingest_one(IncomingMention(source="webhook", external_id=text, text=text))
        assert result.mention_id is not None
        clock.at += timedelta(hours=1)
        bot.claims.answer(
            mention_id=result.mention_id, user_id=ALICE, text="Done", request_key=f"a:{text}"
        )
    clock.at = datetime(2026, 11, 24, 9, 30, tzinfo=NY)
    settled(bot)
    return bot


def _summaries(slack: FakeSlack, channel: str) -> list[str]:
    return [m["text"] for m in slack.messages(channel) if "summary for last week" in m["text"]]


def test_department_digests_go_where_configured_and_name_nobody_in_a_channel(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot = _last_week(make_bot, slack)
    for department in ("public-works", "parks", "libraries"):
        bot.summaries.digest(department)
    settled(bot)

    # to: channel, though there is a lead: the channel, without the list.
    [public_works] = _summaries(slack, PW)
    assert INVITATION not in public_works and "<@" not in public_works
    assert _summaries(slack, dm_channel(PW_LEAD)) == []
    # to: leads, but no lead: the channel, without the list.
    [parks] = _summaries(slack, PARKS)
    assert INVITATION not in parks and "<@" not in parks
    # to: leads, with a lead: a direct message with the list; nothing in the channel.
    [libraries] = _summaries(slack, dm_channel(LIBRARIES_LEAD))
    assert f"{INVITATION} in this period:* <@{BOB}>" in libraries
    assert _summaries(slack, LIBRARIES) == []
    # Each came with its chart.
    for channel in (PW, PARKS, dm_channel(LIBRARIES_LEAD)):
        assert any(m.get("files") for m in slack.messages(channel))


def test_city_digest_without_a_comms_team_goes_to_triage_without_the_list(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot = _last_week(make_bot, slack)
    bot.summaries.digest(None)
    settled(bot)
    [city] = _summaries(slack, TRIAGE)
    assert "The whole city" in city
    assert INVITATION not in city and "<@" not in city
