"""The claimer's check-in (issue 13): one direct message lists all of a claimer's overdue
answers, each with its own buttons, and each button is an answer: after *Need help* or *Still
on it* the claim stays, and only a claimer who did not answer has it handed back.

The bot runs against the fake Slack, which refuses what Slack would (duplicate block ids, more
than 50 blocks); the split of a long list into several messages is checked on the outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.app.compose import Engage
from bot.config.file import parse_config
from bot.core.adapter import IncomingMention
from bot.core.slack_directory import SlackDirectory
from bot.core.slack_ids import ActionId, BlockId
from bot.nudges.messages import NudgeMessages, Sent
from bot.nudges.policy import STAGES, policies
from bot.sandbox.block_kit import message_problems
from bot.sandbox.fake_slack import FakeSlack, wait_until
from bot.sandbox.wire import dm_channel
from storage import cards
from storage.db import session_scope
from storage.models import Mention, MentionStatus, Outbox
from tests.factories import Clock, events_of, settled
from tests.nudges.test_sweep import CONFIG, PW, STAFF, ny

CLAIMER = STAFF[1]


def _three_claimed(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> tuple[Engage, Clock, list[int]]:
    """Monday 09:00: three mentions, all claimed by one person (answer due in 2 office hours)."""
    for user in STAFF:
        slack.add_user(user, user.lower())
    slack.add_channel(PW, "public-works", [*STAFF, "U0BOT"])
    clock = Clock(ny(23, 9, 0))
    bot = make_bot(CONFIG, clock=clock)
    ids = []
    for n in range(3):
        result = bot.ingest_one(
            IncomingMention(source="webhook", external_id=f"p{n}", text=f"pothole {n}")
        )
        assert result.mention_id is not None
        ids.append(result.mention_id)
        bot.claims.claim(
            mention_id=result.mention_id, user_id=CLAIMER, request_key=f"c{n}", channel_id=PW
        )
    settled(bot)
    return bot, clock, ids


def _sweep(bot: Engage, clock: Clock, at: datetime) -> int:
    clock.at = at
    sent = bot.nudger.sweep()
    settled(bot)
    return sent


def _check_in_blocks(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in message["blocks"] if b["type"] == "actions"}


def test_a_claimers_overdue_answers_come_in_one_message(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot, clock, ids = _three_claimed(make_bot, slack)
    assert _sweep(bot, clock, ny(23, 11, 1)) == 3  # all three overdue at once
    dms = wait_until(lambda: slack.direct_messages(CLAIMER))
    assert len(dms) == 1
    assert "these 3 mentions are overdue" in dms[0]["text"]
    rows = _check_in_blocks(dms[0])
    assert sorted(rows) == sorted(f"{BlockId.CHECK_IN}:{m}" for m in ids)
    for block_id, block in rows.items():
        mention = block_id.rsplit(":", 1)[1]
        assert [(e["action_id"], e["value"]) for e in block["elements"]] == [
            (ActionId.STILL_ON_IT, mention),
            (ActionId.HAND_BACK, mention),
            (ActionId.NEED_HELP, mention),
        ]


def test_each_check_in_button_is_an_answer(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    bot, clock, (helped, on_it, silent) = _three_claimed(make_bot, slack)
    _sweep(bot, clock, ny(23, 11, 1))
    dm = wait_until(lambda: slack.direct_messages(CLAIMER))[-1]
    clock.at = ny(23, 11, 2)
    for mention, action in ((helped, ActionId.NEED_HELP), (on_it, ActionId.STILL_ON_IT)):
        slack.click(
            f"{bot.url}/slack/events",
            user_id=CLAIMER,
            channel=dm_channel(CLAIMER),
            ts=dm["ts"],
            action_id=action,
            block_id=f"{BlockId.CHECK_IN}:{mention}",
        )
    wait_until(lambda: events_of(bot, "snoozed") and len(events_of(bot, "nudged")) >= 4)

    # 1.5x the answer time: only the claim whose check-in went unanswered goes back.
    _sweep(bot, clock, ny(23, 12, 1))
    _sweep(bot, clock, ny(23, 12, 30))  # and Still on it's hour is over
    with session_scope(bot.engine) as s:
        held = {m.id: (m.status, m.claimed_by) for m in s.exec(select(Mention))}
    assert held[helped] == held[on_it] == (MentionStatus.CLAIMED, CLAIMER)
    assert held[silent] == (MentionStatus.NEW, None)
    assert [e.mention_id for e in events_of(bot, "released")] == [silent]
    with session_scope(bot.engine) as s:
        card = cards.active(session=s, mention_id=helped)
        assert card is not None and card.ts is not None
    helped_thread = " ".join(r["text"] for r in slack.replies(PW, card.ts))
    assert "would like a second person" in helped_thread
    assert "has not answered" not in helped_thread

    # 2x: still not answered, so the leads hear about both.
    _sweep(bot, clock, ny(23, 13, 1))
    leads = wait_until(lambda: slack.direct_messages("U0LEADPW1"))
    assert any("2 mention(s) claimed but not answered" in m["text"] for m in leads)


class _NoSlack(SlackDirectory):
    def __init__(self) -> None:
        super().__init__(WebClient(base_url="http://127.0.0.1:9/"))


def test_a_long_check_in_list_is_split_into_messages_slack_accepts(engine: Engine) -> None:
    # 30 overdue answers (60 blocks of buttons) and a repeat: two messages, none over 50 blocks.
    now = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    policy = policies(parse_config(CONFIG))["public-works"]
    stage = STAGES["answer_dm"]
    items = [
        Sent(
            Mention(
                id=n,
                source="webhook",
                external_id=str(n),
                text=f"pothole {n}",
                received_at=now - timedelta(hours=5),
                claimed_by=CLAIMER,
                claimed_at=now - timedelta(hours=3),
            ),
            stage,
            None,
            None,
        )
        for n in range(1, 31)
    ]
    with session_scope(engine) as session:
        NudgeMessages(_NoSlack()).announce(session, policy, stage, [*items, items[0]], now)
    with session_scope(engine) as session:
        sent = list(session.exec(select(Outbox)))
    assert [r.channel_id for r in sent] == [CLAIMER, CLAIMER]
    blocks = [r.payload["blocks"] for r in sent]
    assert [message_problems(b) for b in blocks] == [[], []]
    buttons = [b["block_id"] for m in blocks for b in m if b["type"] == "actions"]
    assert sorted(buttons) == sorted(f"{BlockId.CHECK_IN}:{n}" for n in range(1, 31))
