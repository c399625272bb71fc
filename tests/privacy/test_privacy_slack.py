"""``/engage privacy export|erase`` from Slack: the comms team gets a file or a confirmed
erasure; anyone else is refused, and every request is in the audit log. The real bot on
loopback (SQLite), the fake Slack sending the signed command and the button click."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import fields
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import select

import handlers
from bot.app.compose import Engage
from bot.config.file import parse_config
from bot.core.adapter import IncomingMention
from bot.core.slack_ids import ActionId
from bot.privacy.service import REFUSED
from bot.sandbox.fake_slack import FakeSlack, wait_until
from handlers.privacy import confirm_blocks
from storage.db import session_scope
from storage.models import Mention
from storage.privacy.tables import PrivacyRequest
from tests.conftest import CONFIG, settings_for
from tests.factories import Clock, settled
from tests.handlers.dispatch import Dispatcher, build_app, click, slash_command
from tests.properties import bounded

PW, TRIAGE = "C0PUBWORKS", "C0TRIAGE01"
COMMS, LEAD = "U0COMMS01", "U0LEADPW1"
ALICE_SAYS = "Pothole outside number 12 Elm St"


@pytest.fixture
def bot(slack: FakeSlack, sqlite: Engine) -> Iterator[Engage]:
    engage = Engage(
        settings_for(slack),
        parse_config(CONFIG),
        engine=sqlite,
        migrate=False,
        clock=Clock(datetime(2026, 11, 24, 15, 0, tzinfo=UTC)),
    )
    engage.start(host="127.0.0.1", port=0)
    yield engage
    engage.stop()


def command(slack: FakeSlack, bot: Engage, user: str, text: str) -> dict[str, object]:
    result = slack.slash_command(f"{bot.url}/slack/events", user_id=user, channel=PW, text=text)
    assert result.status == 200
    if not result.body.startswith("{"):  # a text-only ack is plain text
        return {"text": result.body}
    answer = result.json()
    assert isinstance(answer, dict)
    return answer


def press_erase(slack: FakeSlack, bot: Engage, user: str, message: dict[str, object]) -> None:
    # The ephemeral answer as Slack shows it: a message with a ts of its own.
    shown = {**message, "ts": "1764000000.000100"}
    payload = click(user, channel=PW, message=shown, action_id=ActionId.PRIVACY_ERASE)
    body = urlencode({"payload": json.dumps(payload)}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", **slack.signed_headers(body)}
    assert slack.send_raw(f"{bot.url}/slack/events", body, headers).status == 200


def texts(bot: Engage) -> list[str]:
    with session_scope(bot.engine) as session:
        return [m.text for m in session.exec(select(Mention).order_by(Mention.id))]  # type: ignore[arg-type]


def test_comms_team_exports_and_erases_from_slack_others_are_refused(
    bot: Engage, slack: FakeSlack
) -> None:
    for external_id, author, text in (
        ("1", "@alice@town.social", ALICE_SAYS),
        ("2", "@dave@town.social", "Broken bench on Main St"),
    ):
        bot.ingest_one(IncomingMention("mastodon", external_id, text, author=author))
    settled(bot)

    assert command(slack, bot, LEAD, "privacy export @alice@town.social")["text"] == REFUSED
    assert command(slack, bot, LEAD, "privacy erase @alice@town.social")["text"] == REFUSED
    assert "Try `/engage privacy" in str(command(slack, bot, COMMS, "privacy shred alice")["text"])

    said = command(slack, bot, COMMS, "privacy export @Alice@town.social")
    assert "1 mention" in str(said["text"])
    shared = wait_until(lambda: [f for f in slack.files.values() if f.get("data")])
    exported = json.loads(shared[0]["data"])
    assert [m["text"] for m in exported["mentions"]] == [ALICE_SAYS]
    assert "dave" not in json.dumps(exported).lower()
    wait_until(lambda: slack.direct_messages(COMMS))

    confirm = command(slack, bot, COMMS, "privacy erase @alice@town.social")
    assert "1 mention" in str(confirm["text"])
    assert texts(bot)[0] == ALICE_SAYS  # asking is not erasing
    press_erase(slack, bot, LEAD, confirm)  # a forwarded button: checked again
    wait_until(lambda: any(e.get("text") == REFUSED for e in slack.ephemerals))
    assert texts(bot)[0] == ALICE_SAYS
    press_erase(slack, bot, COMMS, confirm)
    settled(bot)
    assert texts(bot) == ["", "Broken bench on Main St"]
    told = wait_until(lambda: [e for e in slack.ephemerals if "Erased" in str(e.get("text"))])
    assert told[0]["user"] == COMMS
    cards = json.dumps([slack.messages(PW), slack.messages(TRIAGE)])
    assert "Elm St" not in cards and "alice" not in cards and "<@None>" not in cards
    assert "removed at the author" in cards and "Broken bench" in cards

    with session_scope(bot.engine) as session:
        log = [
            (r.action, r.actor, r.outcome)
            for r in session.exec(select(PrivacyRequest).order_by(PrivacyRequest.id))  # type: ignore[arg-type]
        ]
    assert log == [
        ("export", LEAD, "refused"),
        ("erase", LEAD, "refused"),
        ("export", COMMS, "done"),
        ("erase", COMMS, "asked"),
        ("erase", LEAD, "refused"),
        ("erase", COMMS, "done"),
    ]


@bounded(60)
@given(
    text=st.text(st.characters(exclude_categories=["Cs"]), max_size=400),
    user=st.sampled_from([LEAD, COMMS, ""]),
)
def test_any_privacy_command_or_button_is_answered_and_outsiders_change_nothing(
    middle: tuple[Engage, Dispatcher], text: str, user: str
) -> None:
    engage, bolt = middle
    response = bolt.command(slash_command(user, channel=PW, text=f"privacy {text}"))
    assert response.status in (200, 400)  # 400: the gate refuses what Slack never sends (a NUL)
    if user != COMMS:
        message = {"ts": "1764000000.000100", "blocks": confirm_blocks([text[:50] or "x"], "", 1)}
        payload = click(user or LEAD, channel=PW, message=message, action_id=ActionId.PRIVACY_ERASE)
        assert bolt.interaction(payload).status in (200, 400)
        assert texts(engage) == [ALICE_SAYS]


@pytest.fixture
def middle(slack: FakeSlack, sqlite: Engine) -> Iterator[tuple[Engage, Dispatcher]]:
    """The real services (not started) behind the middle tier: the gate, Bolt, the listeners."""
    engage = Engage(settings_for(slack), parse_config(CONFIG), engine=sqlite, migrate=False)
    engage.ingest_one(IncomingMention("mastodon", "1", ALICE_SAYS, author="@alice@town.social"))
    # Every service the composition root hands the listeners, by the names it keeps them under.
    services = handlers.Services(
        **{f.name: getattr(engage, f.name) for f in fields(handlers.Services)}
    )
    app = build_app(
        services, api_url=slack.api_url, token=slack.bot_token, signing_secret=slack.signing_secret
    )
    yield engage, Dispatcher(app, slack.signing_secret)
