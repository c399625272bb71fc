"""Every kind of message and view Engage sends is Block Kit that Slack accepts.

Issue 12: reminders never reached Slack because two snooze buttons shared an ``action_id``,
and the fake Slack took them. The fake now checks as Slack does (``bot.sandbox.block_kit``);
here each kind of message and view is built and checked with that validator directly.

The builders that need no database are called as they are (cards in every state, the claim
modals, the rule screens); the rest (reminders of every rung, the reply-failed note,
summaries, the App Home of staff, a lead and the comms team) come from a running bot, whose
outbox and Slack calls are read back and checked one by one. The bot runs on SQLite only:
what is under test is the Block Kit, which the database does not change.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.app.compose import Engage
from bot.claims.briefs import MentionBrief
from bot.core.adapter import IncomingMention
from bot.core.slack_ids import ActionId, BlockId, InputId
from bot.nudges.messages import Sent
from bot.nudges.policy import STAGES
from bot.outbox.cards import CardView, LinkedReport, render
from bot.rules.admin import RuleLine
from bot.rules.learning import RuleStats
from bot.sandbox.block_kit import Problem, message_problems, view_problems
from bot.sandbox.fake_slack import FakeSlack, wait_until
from bot.sandbox.slack_payloads import ActionValue
from bot.sandbox.wire import json_arg
from handlers.claims import modals
from handlers.rules import dialogs
from handlers.rules.form import rule_form
from handlers.rules.history import history_modal
from handlers.rules.listing import PAGE, rules_modal
from handlers.summaries import answer as summary_answer
from storage import cards
from storage.db import make_engine, session_scope, upgrade
from storage.intake import adapter_states
from storage.models import Mention, MentionStatus, Outbox
from tests.conftest import CONFIG
from tests.factories import settled

PW, PARKS, TRIAGE = "C0PUBWORKS", "C0PARKS001", "C0TRIAGE01"
STAFF, OTHER, LEAD, COMMS = "U0ALICE01", "U0BOB0001", "U0LEADPW1", "U0COMMS01"
LONG = "Pothole <!channel> & <@U0LEADPW1> <https://evil.example|click> " * 120
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
Values = dict[str, dict[str, ActionValue]]


def ok_message(blocks: Any) -> None:
    assert message_problems(blocks) == [], _show(message_problems(blocks))


def ok_view(view: Any, kind: str = "modal") -> None:
    assert view_problems(view, kind) == [], _show(view_problems(view, kind))


def _show(problems: list[Problem]) -> str:
    return "\n".join(str(p) for p in problems)


# --------------------------------------------------------------------------- cards
def _card(**changes: Any) -> CardView:
    base: dict[str, Any] = {
        "mention_id": 7,
        "source": "mastodon",
        "author": "@citizen@social.example",
        "text": "The street light on Elm is out",
        "title": None,
        "url": "https://social.example/@citizen/1",
        "created_at": NOW,
        "received_at": NOW,
        "department_name": "Public Works",
        "rule": "streets",
        "route_reason": "keyword street light",
        "status": MentionStatus.NEW,
    }
    return CardView(**(base | changes))


REPORTS = tuple(
    LinkedReport(source, f"https://{source}.example/{i}" + "x" * 200 * i, "Someone " * 20)
    for i, source in enumerate(["bluesky", "reddit", "rss", "email", "x"] * 4)
)
CARDS = {
    "new": _card(),
    "claimed": _card(status=MentionStatus.CLAIMED, claimed_by=STAFF),
    "answered": _card(status=MentionStatus.ANSWERED, answered_by=STAFF),
    "dismissed": _card(
        status=MentionStatus.DISMISSED, dismissed_by=STAFF, dismissed_reason="spam " * 400
    ),
    "handed over, the old card": _card(moved_to="Parks and Recreation", moved_by=STAFF),
    "handed over, the new card": _card(handed_from="Public Works", handed_by=STAFF),
    "triage, no rule, no url": _card(department_name=None, rule=None, url=None),
    "folded campaign": _card(folded=480, folded_authors=tuple(f"@user{i}" * 9 for i in range(40))),
    "handle with care": _card(care=tuple(f"insult{i}" * 30 for i in range(60))),
    "priority author": _card(priority="Press " * 40),
    "linked reports": _card(linked=REPORTS, linked_total=87),
    "open311 linked": _card(
        linked=(LinkedReport("open311", None, "", request_id="311-" + "9" * 500),), linked_total=1
    ),
    "long everything": _card(
        text=LONG,
        title=LONG,
        author=LONG,
        route_reason=LONG,
        rule="r" * 500,
        url="https://social.example/" + "p" * 2950,
        department_name=LONG,
    ),
    "a url too long to link": _card(url="https://social.example/" + "p" * 4000),
    "no text": _card(text="   ", title=""),
}


@pytest.mark.parametrize("card", CARDS.values(), ids=CARDS.keys())
def test_cards_in_every_state(card: CardView) -> None:
    fallback, blocks = render(card)
    ok_message(blocks)
    assert len(fallback) <= 40_000


# --------------------------------------------------------------------------- claim modals
BRIEF = MentionBrief(7, "mastodon", LONG, LONG, MentionStatus.CLAIMED, "public-works")


def test_the_claim_modals() -> None:
    ok_view(modals.answer_modal(BRIEF))
    ok_view(modals.answer_modal(MentionBrief(7, "x", "", "", MentionStatus.NEW, None, "X" * 90)))
    ok_view(modals.dismiss_modal(BRIEF))
    many = [(f"dept-{i}", "Department of " + "Things " * 20) for i in range(150)]
    for departments in ([("public-works", "Public Works")], [("parks", "Parks")], many):
        ok_view(modals.hand_over_modal(BRIEF, departments))
    nowhere = modals.hand_over_modal(BRIEF, [("public-works", "Public Works")])
    assert "submit" not in nowhere  # nothing to hand over to: nothing to submit


# --------------------------------------------------------------------------- rule screens
def _rule(i: int, **doc: Any) -> RuleLine:
    base = {"name": f"rule {i} " + "n" * 100, "department": "public-works", "priority": i}
    base |= {"keywords": [f"word{i}-" + "k" * 60] * 30, "regex": ["^a+$"] * 5, "cc": "parks"}
    return RuleLine(i, i, base | doc, f"token{i}")


@dataclass(frozen=True)
class Change:
    """One audit entry as the history reads it (``storage.models.RuleChange`` has more)."""

    rule: str
    action: str
    actor: str | None
    at: datetime
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def test_the_rule_screens() -> None:
    names = {"public-works": "Public Works " * 10, "parks": "Parks"}
    lines = [_rule(i, enabled=i % 3 != 0) for i in range(1, 2 * PAGE + 12)]
    stats = {line.doc["name"]: RuleStats(line.doc["name"], 90, 40) for line in lines}
    for count in (0, 5, PAGE + 1, len(lines)):
        pages = max(1, -(-count // PAGE))
        for page in range(pages):
            ok_view(rules_modal(lines[:count], names=names, stats=stats, page=page, notice=LONG))
    departments = [(f"dept-{i}", "Department " * 12) for i in range(120)]
    areas = [f"Area {i} " + "a" * (200 if i == 5 else 10) for i in range(30)]
    changes = [
        Change("streets", action, "U0COMMS01", NOW, _rule(1).doc, _rule(2).doc)
        for action in ("edited", "moved", "seeded", "retired", "added")
    ] * 30
    for line in (None, lines[0], _rule(9, sources=["mastodon", "email"], areas=["Area 3"])):
        for area_names in ([], areas[:4], areas, [f"Area {i}" for i in range(150)]):
            ok_view(rule_form(line, departments=departments, areas=area_names, history=changes))
    prefill = {"name": "suggested " * 30, "department": "parks", "keywords": ["k" * 300]}
    ok_view(rule_form(None, departments=[("parks", "Parks")], prefill=prefill))
    ok_view(dialogs.retire_modal(lines[0]))
    ok_view(dialogs.test_modal())
    ok_view(dialogs.test_modal(LONG, "It would go to *Public Works* " * 200))
    ok_view(dialogs.notice_modal("Not retired, because of a long reason", LONG))
    ok_view(history_modal([]))
    ok_view(history_modal(changes))


# --------------------------------------------------------------------------- the running bot
@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """SQLite only here (the conftest's runs PostgreSQL too): this is about Block Kit."""
    eng = make_engine(f"sqlite:///{tmp_path / 'engage.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


def _setup(slack: FakeSlack) -> None:
    for user in (STAFF, OTHER, LEAD, COMMS):
        slack.add_user(user, user.lower())
    slack.add_channel(PW, "public-works", [STAFF, OTHER, LEAD, "U0BOT"])
    slack.add_channel(PARKS, "parks", [OTHER, "U0BOT"])
    slack.add_channel(TRIAGE, "triage", [COMMS, "U0BOT"])


def _ingest(bot: Engage, key: str, text: str, **more: Any) -> int:
    result = bot.ingest_one(IncomingMention(source="mastodon", external_id=key, text=text, **more))
    assert result.mention_id is not None
    return result.mention_id


def _card_ts(bot: Engage, mention_id: int) -> str:
    with session_scope(bot.engine) as session:
        card = cards.active(session=session, mention_id=mention_id)
        assert card is not None and card.ts is not None
        return card.ts


def _reminders(bot: Engage, unclaimed: int, claimed: int) -> None:
    """Every rung of both ladders, alone and grouped, plus the hand-back and help notes."""
    now = bot.clock.now()
    messages = bot.nudger.messages
    with session_scope(bot.engine) as session:
        sent: dict[str, Sent] = {}
        for stage in STAGES.values():
            mention = session.get(Mention, unclaimed if stage.ladder == "claim" else claimed)
            assert mention is not None
            card = cards.active(session=session, mention_id=mention.id or 0)
            assert card is not None
            sent[stage.name] = one = Sent(mention, stage, card.channel_id, card.ts)
            if stage.name == "answer_return":
                continue  # not announced: the sweep hands the claim back (below)
            policy = bot.nudger.policy(mention.department)
            messages.announce(session, policy, stage, [replace(one, named=STAFF)], now)
            messages.announce(session, policy, stage, [replace(one, named=OTHER)] * 45, now)
        messages.handed_back(session, sent["answer_return"], STAFF, now)
        messages.help_wanted(session, sent["answer_dm"].mention, STAFF, "help-1", now)
    bot.delivery.wake()


def _sources(bot: Engage) -> None:
    """One source that works and one that keeps failing, for the comms team's Home."""
    now = bot.clock.now()
    with session_scope(bot.engine) as session:
        for name, fails in (("city-mastodon", False), ("city-311" + "-x" * 60, True)):
            adapter_states.ensure(session=session, name=name, source="open311")
            adapter_states.acquire(session=session, name=name, owner="me", now=now, seconds=60)
            if fails:
                adapter_states.record_failure(
                    session=session,
                    name=name,
                    owner="me",
                    error="<boom> " * 500,
                    now=now,
                    next_run_at=now,
                )
            else:
                adapter_states.record_success(
                    session=session,
                    name=name,
                    owner="me",
                    cursor={},
                    items=3,
                    item_errors=0,
                    now=now,
                    next_run_at=now,
                )


KEPT = [
    "The playground swings in the park are broken",
    "Park benches need paint",
    "Lovely new playground at the park",
    "Dog park gate does not close",
    "The park fountain is dry",
    "Playground slide cracked at Elm park",
]
MOVED = [
    "Streetlight out at the park entrance",
    "The streetlight by the park flickers all night",
    "Park path dark: streetlight broken again",
    "No streetlight working near the park gate",
    "Streetlight pole leaning at the park corner",
]


def _misroutes(bot: Engage) -> None:
    """Parks mentions that keep going to Public Works: a hand-over suggestion for the Home."""
    for i, text in enumerate(KEPT):
        _ingest(bot, f"kept{i}", text, author=f"k{i}")
    for i, text in enumerate(MOVED):
        moved = _ingest(bot, f"moved{i}", text, author=f"m{i}")
        bot.claims.hand_over(
            mention_id=moved,
            user_id=OTHER,
            to_department="public-works",
            note="",
            request_key=f"m{i}",
        )


def test_everything_the_running_bot_sends(
    make_bot: Callable[..., Engage], slack: FakeSlack
) -> None:
    _setup(slack)
    bot = make_bot(CONFIG)
    url = f"{bot.url}/slack/events"
    link = "https://s.example/" + "p" * 2990
    claimed = _ingest(bot, "claimed", LONG, title=LONG, author=LONG, url=link)
    answered, dismissed = _ingest(bot, "a", "pothole on Main"), _ingest(bot, "d", "pothole on Oak")
    unclaimed = _ingest(bot, "unclaimed", "Street light out on Elm: &<> <!here> " * 90)
    _misroutes(bot)
    settled(bot)

    # Claims, an answer and a dismissal, through the card's buttons and the modals.
    def click(user: str, mention_id: int, action_id: str) -> None:
        ts = _card_ts(bot, mention_id)
        slack.click(url, user_id=user, channel=PW, ts=ts, action_id=action_id)

    click(STAFF, claimed, ActionId.CLAIM)
    click(STAFF, answered, ActionId.CLAIM)
    click(STAFF, answered, ActionId.ANSWERED)
    answer = wait_until(lambda: slack.view_stack(STAFF))[-1]
    reply: Values = {BlockId.ANSWER_TEXT.value: {InputId.ANSWER_TEXT.value: "Fixed " * 400}}
    slack.submit_view(url, user_id=STAFF, view_id=answer["id"], values=reply)
    click(OTHER, dismissed, ActionId.DISMISS)
    dismiss = wait_until(lambda: slack.view_stack(OTHER))[-1]
    reason: Values = {BlockId.REASON.value: {InputId.REASON.value: "spam"}}
    slack.submit_view(url, user_id=OTHER, view_id=dismiss["id"], values=reason)
    settled(bot)

    _reminders(bot, unclaimed, claimed)
    with session_scope(bot.engine) as session:
        bot.replies.record_failure(
            session, mention_id=claimed, actor=STAFF, error="<refused> " * 300, now=NOW, row_id=9
        )
    bot.delivery.wake()
    _sources(bot)

    # Summaries: the ephemeral answer with its button, then the posted one.
    for text in ("", "city last 30 days", "parks last week", "nonsense period"):
        shown = summary_answer(bot.summaries, text=text, channel=PW, user=LEAD)
        ok_message(shown.get("blocks", []))
        assert (ActionId.POST_SUMMARY.value in json.dumps(shown)) == ("blocks" in shown)
        slack.slash_command(url, user_id=LEAD, channel=PW, text=f"summary {text}")
    report = bot.summaries.report(department="public-works", period="this week", lead_view=True)
    bot.summaries.post(report, channel=PW, key="every-surface")

    # The App Home of staff, a lead, the comms team and a stranger; the rules modals.
    for user in (STAFF, LEAD, COMMS, "U0NOBODY1"):
        ok_view(bot.home.view(user), "home")
        slack.send_event(url, {"type": "app_home_opened", "user": user, "tab": "home"})
    assert "often say" in json.dumps(bot.home.view(COMMS))  # the suggestion is there
    slack.slash_command(url, user_id=COMMS, channel=TRIAGE, text="rules")
    slack.slash_command(url, user_id=COMMS, channel=TRIAGE, text="rules add")
    settled(bot)
    wait_until(lambda: slack.home(COMMS) and len(slack.calls_to("views.open")) >= 4)

    checked = _check_everything_sent(bot, slack)
    assert slack.rejections == []
    assert all(checked.values()), checked  # each kind was sent, and so checked


def _check_everything_sent(bot: Engage, slack: FakeSlack) -> dict[str, int]:
    """Check the blocks of every outbox row and every Slack call; count what was seen."""
    seen = dict.fromkeys(("snooze", "check-in", "retry", "card", "lead", "grouped", "home"), 0)
    with session_scope(bot.engine) as session:
        rows = list(session.exec(select(Outbox)))
    assert [r.last_error for r in rows if r.status == "failed"] == []
    for row in rows:
        if "blocks" in row.payload:
            ok_message(row.payload["blocks"])
        seen["lead"] += row.idem_key.startswith("lead:")
        seen["grouped"] += row.idem_key.startswith("group:")
    for call in slack.calls:
        if call.method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            blocks = json_arg(call.args.get("blocks")) or []
            ok_message(blocks)
            ids = json.dumps(blocks)
            seen["snooze"] += ActionId.SNOOZE_TOMORROW.value in ids
            seen["check-in"] += ActionId.NEED_HELP.value in ids
            seen["retry"] += ActionId.RETRY_REPLY.value in ids
            seen["card"] += ActionId.HAND_OVER.value in ids
        elif call.method.startswith("views."):
            kind = "home" if call.method == "views.publish" else "modal"
            ok_view(json_arg(call.args.get("view")), kind)
            seen["home"] += kind == "home"
    for response in slack.responses:
        ok_message(response.payload.get("blocks", []))
    return seen
