"""Through the middle tier: signed requests dispatched into a real Bolt app with every handler
registered and the real services behind them, outcomes read in the database and the fake Slack.
"""

from __future__ import annotations

import threading
from typing import Any

from slack_bolt import BoltResponse
from sqlmodel import select

from bot.app.compose import Engage
from bot.core.adapter import IncomingMention
from bot.core.slack_ids import ActionId, BlockId, InputId
from bot.rules.admin import REFUSAL
from bot.sandbox.fake_slack import FakeSlack
from handlers.claims.modals import hand_over_modal
from handlers.commands import HELP
from handlers.rules import screens
from storage.db import session_scope
from storage.models import Away, Mention
from tests.factories import events_of
from tests.handlers.dispatch import (
    Dispatcher,
    answer,
    click,
    slash_command,
    submission,
)

PW = "C0PUBWORKS"
ALICE, BOB, COMMS = "U0ALICE01", "U0BOB0001", "U0COMMS01"


def _card(engage: Engage, slack: FakeSlack, text: str = "Big pothole on Elm St") -> dict[str, Any]:
    """A mention routed to Public Works, its card delivered to the fake Slack."""
    engage.ingest_one(IncomingMention(source="webhook", external_id="form-1", text=text))
    engage.delivery.drain()
    [card] = slack.messages(PW)
    return card


def _mention(engage: Engage) -> Mention:
    with session_scope(engage.engine) as session:
        [mention] = session.exec(select(Mention)).all()
        session.expunge(mention)
        return mention


def test_two_users_click_claim_at_once_one_wins_the_other_is_told_who(
    bolt: Dispatcher, engage: Engage, slack: FakeSlack
) -> None:
    card = _card(engage, slack)
    barrier = threading.Barrier(2)
    responses: dict[str, BoltResponse] = {}

    def press(user: str) -> None:
        payload = click(user, channel=PW, message=card, action_id=ActionId.CLAIM)
        barrier.wait()
        responses[user] = bolt.interaction(payload)

    threads = [threading.Thread(target=press, args=(u,)) for u in (ALICE, BOB)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert {u: (r.status, r.body) for u, r in responses.items()} == {
        ALICE: (200, ""),
        BOB: (200, ""),
    }
    [claimed] = events_of(engage, "claimed")
    winner = claimed.actor
    loser = BOB if winner == ALICE else ALICE
    mention = _mention(engage)
    assert (mention.status, mention.claimed_by) == ("claimed", winner)
    # What the claims service queued before the acks reaches Slack through the outbox.
    engage.delivery.drain()
    refusals = [e["text"] for e in slack.ephemerals if e["user"] == loser]
    assert refusals == [f"Already claimed by <@{winner}>."]
    assert [e for e in slack.ephemerals if e["user"] == winner] == []
    assert [r["text"] for r in slack.replies(PW, card["ts"])] == [f"<@{winner}> claimed this."]


def test_a_forged_signature_is_refused_before_any_listener(
    bolt: Dispatcher, engage: Engage, slack: FakeSlack
) -> None:
    card = _card(engage, slack)
    payload = click(ALICE, channel=PW, message=card, action_id=ActionId.CLAIM)
    response = bolt.interaction(payload, secret="not-the-signing-secret")
    assert response.status == 401
    assert events_of(engage, "claimed") == []
    stale = bolt.interaction(payload, timestamp=1_000_000_000)
    assert stale.status == 401
    assert _mention(engage).claimed_by is None


def test_a_refused_hand_over_shows_its_reason_in_the_modal(
    bolt: Dispatcher, engage: Engage, slack: FakeSlack
) -> None:
    _card(engage, slack)
    mention = _mention(engage)
    assert mention.id is not None
    brief = engage.claims.brief(mention.id)
    assert brief is not None
    # The modal lists other departments only; a stale or forged one can still name its own.
    view = hand_over_modal(brief, [("parks", "Parks and Recreation")])
    values: dict[str, dict[str, Any]] = {
        BlockId.DEPARTMENT: {InputId.DEPARTMENT: "parks"},
        BlockId.NOTE: {InputId.NOTE: "wrong department"},
    }
    payload = submission(ALICE, view, values)
    state = payload["view"]["state"]["values"]
    state[BlockId.DEPARTMENT][InputId.DEPARTMENT]["selected_option"]["value"] = "public-works"

    response = bolt.interaction(payload)

    assert response.status == 200
    assert answer(response) == {
        "response_action": "errors",
        "errors": {BlockId.DEPARTMENT.value: "It is already with Public Works."},
    }
    assert events_of(engage, "handed_over") == []
    assert _mention(engage).department == "public-works"


def test_a_rule_form_with_problems_names_them_on_their_fields(
    bolt: Dispatcher, engage: Engage
) -> None:
    before = engage.rule_admin.rules()
    form = screens.form(engage.rule_admin, None)
    payload = submission(
        COMMS,
        form,
        {
            "engage.rule.name": {"name": "streets"},  # taken by the config's rule
            "engage.rule.department": {"department": "parks"},
            "engage.rule.keywords": {"keywords": "swing"},
        },
    )

    response = bolt.interaction(payload)

    assert response.status == 200
    body = answer(response)
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == ["engage.rule.name"]
    assert "streets" in body["errors"]["engage.rule.name"]
    assert engage.rule_admin.rules() == before


def test_engage_command_routes_each_verb_to_its_domain(bolt: Dispatcher, engage: Engage) -> None:
    past = bolt.command(slash_command(ALICE, channel=PW, text="away until 2020-01-01"))
    assert answer(past)["text"] == "2020-01-01 is in the past: say a day from today on."
    with session_scope(engage.engine) as session:
        assert session.exec(select(Away)).all() == []
    away = bolt.command(slash_command(ALICE, channel=PW, text="away until 2099-12-24"))
    assert away.status == 200
    assert answer(away)["text"].startswith("No reminders for you until Thursday 24 December 2099")
    with session_scope(engage.engine) as session:
        [row] = session.exec(select(Away)).all()
        assert row.user_id == ALICE

    route = bolt.command(slash_command(ALICE, channel=PW, text="route-test a pothole on Elm"))
    assert answer(route)["text"].startswith("It would go to *Public Works* by rule *streets*")

    rules = bolt.command(slash_command(ALICE, channel=PW, text="rules"))
    assert answer(rules)["text"] == REFUSAL

    back = bolt.command(slash_command(ALICE, channel=PW, text="back"))
    assert answer(back)["text"] == "Welcome back: you are in the reminder rotation again."
    with session_scope(engage.engine) as session:
        assert session.exec(select(Away)).all() == []

    for text in ("", "route-test   ", "help"):
        help_ = bolt.command(slash_command(ALICE, channel=PW, text=text))
        assert answer(help_)["text"] == HELP
    unknown = bolt.command(slash_command(ALICE, channel=PW, text="frobnicate <b>"))
    assert answer(unknown)["text"] == f"Unknown command `frobnicate`.\n{HELP}"


def test_opening_the_home_tab_publishes_it_to_slack(
    bolt: Dispatcher, slack: FakeSlack, engage: Engage
) -> None:
    event = {"type": "app_home_opened", "user": ALICE, "channel": "D0ALICE", "tab": "home"}
    payload = {
        "token": "unused",
        "team_id": "T0ENGAGE",
        "api_app_id": "A0ENGAGE",
        "event": event,
        "type": "event_callback",
        "event_id": "Ev0HOME0001",
        "event_time": 1_700_000_000,
        "authorizations": [{"team_id": "T0ENGAGE", "user_id": "U0BOT", "is_bot": True}],
    }
    assert bolt.event(payload).status == 200
    home = slack.home(ALICE)
    assert home is not None

    def shown(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in b.items() if k != "block_id"} for b in blocks]

    # Slack gives blocks without an id one of its own; the rest is what the Home renders.
    assert shown(home["blocks"]) == shown(engage.home.view(ALICE)["blocks"])
