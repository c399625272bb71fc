"""Listeners imported and called directly, as plain functions: a real ``slack_bolt.Ack``, a
Bolt context holding services (real ones on SQLite, or small recording stand-ins where the test
is about what the listener passes on), and no app at all.
"""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest
from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from sqlmodel import select

import handlers
from bot.app.compose import Engage
from bot.claims.service import Outcome
from bot.core.adapter import IncomingMention
from bot.core.slack_ids import ActionId, BlockId, CallbackId, InputId
from bot.routing import Match
from bot.sandbox.fake_slack import FakeSlack
from handlers import commands, home, nudges, summaries
from handlers.claims import actions as claim_actions
from handlers.claims import events as claim_events
from handlers.claims import views as claim_views
from handlers.claims.services import ClaimsServices
from handlers.context import SERVICES
from handlers.home import HomeServices
from handlers.nudges import NudgesServices
from handlers.rules import actions as rule_actions
from handlers.rules import submissions as rule_submissions
from handlers.rules.services import RulesServices
from handlers.summaries import SummariesServices
from storage.db import session_scope
from storage.models import Mention
from tests.handlers.dispatch import Dispatcher, answer, build_app, click

TABLES: tuple[ModuleType, ...] = (
    claim_actions,
    claim_views,
    claim_events,
    rule_actions,
    rule_submissions,
    nudges,
    summaries,
    home,
    commands,
)
# What Bolt injects by name into a listener (slack_bolt.kwargs_injection).
BOLT_ARGS = {"ack", "body", "action", "view", "command", "event", "client", "context", "logger"}
CLICK = {
    "type": "block_actions",
    "user": {"id": "U0ALICE01"},
    "channel": {"id": "C0PUBWORKS"},
    "actions": [{"action_id": "engage.claim", "action_ts": "1700000000.000100"}],
}


def new_ack() -> Ack:
    """A real Bolt ``Ack``: it keeps the response it was called with, as Bolt reads it."""
    return Ack()  # type: ignore[no-untyped-call]  # slack_bolt leaves __init__ unannotated


def _context(services: object) -> BoltContext:
    return BoltContext({SERVICES: services})


def _body(ack: Ack) -> dict[str, Any]:
    """What the listener acked with (``{}`` for an empty ack)."""
    assert ack.response is not None and ack.response.status == 200
    return answer(ack.response)


@dataclass
class Recorder:
    """Stands in for a service: records each call with the ack's state at that moment."""

    ack: Ack
    result: Any = None
    calls: list[tuple[str, dict[str, Any], bool]] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, {"args": args, **kwargs}, self.ack.response is not None))
            return self.result

        return call


@dataclass(frozen=True)
class Only:
    """Services with only the named ones set; the others are None, so a listener that reached
    for one would fail."""

    claims: Any = None
    nudger: Any = None
    summaries: Any = None
    home: Any = None
    route_test: Any = None
    mute: Any = None
    rule_admin: Any = None
    click_queue: Any = None


def _ingested(engage: Engage) -> int:
    engage.ingest_one(IncomingMention(source="webhook", external_id="f1", text="pothole on Elm"))
    with session_scope(engage.engine) as session:
        [mention] = session.exec(select(Mention)).all()
        assert mention.id is not None
        return mention.id


# The shape: module-level functions, taken from short tables, wired only by register().
@pytest.mark.parametrize("module", TABLES, ids=lambda m: m.__name__)
def test_listeners_are_module_level_functions_taking_bolts_named_args(module: ModuleType) -> None:
    assert module.LISTENERS
    for key, listener in module.LISTENERS:
        assert inspect.isfunction(listener)
        assert listener.__module__ == module.__name__
        assert listener.__qualname__ == listener.__name__  # not a closure or a method
        assert getattr(module, listener.__name__) is listener
        assert set(inspect.signature(listener).parameters) <= BOLT_ARGS, key


def test_importing_registers_nothing_and_register_wires_every_table(
    services: handlers.Services, slack: FakeSlack, engage: Engage
) -> None:
    app = build_app(
        services, api_url=slack.api_url, token=slack.bot_token, signing_secret=slack.signing_secret
    )
    bare = App(
        client=WebClient(token=slack.bot_token, base_url=slack.api_url),
        signing_secret=slack.signing_secret,
        token_verification_enabled=False,
        process_before_response=True,
    )
    engage.ingest_one(IncomingMention(source="webhook", external_id="f1", text="pothole"))
    engage.delivery.drain()
    [card] = slack.messages("C0PUBWORKS")
    payload = click("U0ALICE01", channel="C0PUBWORKS", message=card, action_id=ActionId.CLAIM)
    assert Dispatcher(bare, slack.signing_secret).interaction(payload).status == 404
    assert Dispatcher(app, slack.signing_secret).interaction(payload).status == 200


def test_services_give_every_domain_what_its_protocol_asks(services: handlers.Services) -> None:
    # Statically (mypy) and at run time, the one Services object serves each domain.
    each: tuple[ClaimsServices, RulesServices, NudgesServices, SummariesServices, HomeServices] = (
        services,
        services,
        services,
        services,
        services,
    )
    for needs, protocol in zip(
        each,
        (ClaimsServices, RulesServices, NudgesServices, SummariesServices, HomeServices),
        strict=True,
    ):
        assert isinstance(needs, protocol)
    assert isinstance(services, commands.CommandServices)


def test_a_context_copied_for_a_lazy_listener_keeps_the_same_services(
    services: handlers.Services,
) -> None:
    context = _context(services)
    assert context.to_copyable()[SERVICES] is services
    assert copy.deepcopy(services) is services


# Claims: the decision is taken before the ack; nothing is decided without a mention.
def test_claim_decides_before_it_acks() -> None:
    ack = new_ack()
    claims = Recorder(ack, result=Outcome(ok=True))
    action = {"action_id": ActionId.CLAIM.value, "value": "42", "action_ts": "1700000000.000100"}
    claim_actions.on_claim(ack=ack, body=CLICK, action=action, context=_context(Only(claims)))
    assert claims.calls == [
        (
            "claim",
            {
                "args": (),
                "mention_id": 42,
                "user_id": "U0ALICE01",
                "request_key": "action:U0ALICE01:engage.claim:1700000000.000100",
                "channel_id": "C0PUBWORKS",
            },
            False,  # not acked yet when the service was called
        )
    ]
    assert _body(ack) == {}


def test_a_release_is_kept_by_the_click_queue_before_it_acks() -> None:
    ack = new_ack()
    queue = Recorder(ack)
    action = {"value": "42"}  # the key is the body's first action's: CLICK's
    claim_actions.on_release(
        ack=ack, body=CLICK, action=action, context=_context(Only(click_queue=queue))
    )
    assert queue.calls == [
        (
            "accept",
            {
                "args": (),
                "action": "release",
                "mention_id": 42,
                "user_id": "U0ALICE01",
                "request_key": "action:U0ALICE01:engage.claim:1700000000.000100",
                "channel_id": "C0PUBWORKS",
            },
            False,  # not acked yet when it was kept
        )
    ]
    assert _body(ack) == {}


def test_a_click_without_a_mention_is_acked_and_decides_nothing() -> None:
    ack = new_ack()
    claims = Recorder(ack)
    claim_actions.on_release(
        ack=ack, body=CLICK, action={"value": "not-a-number"}, context=_context(Only(claims))
    )
    assert _body(ack) == {}
    assert claims.calls == []


def test_an_answer_submitted_is_recorded(engage: Engage, services: handlers.Services) -> None:
    target = _ingested(engage)
    view = {
        "id": "V0ANSWER01",
        "callback_id": CallbackId.ANSWER.value,
        "private_metadata": str(target),
        "state": {
            "values": {
                BlockId.ANSWER_TEXT: {InputId.ANSWER_TEXT: {"value": "  Fixed on Monday.  "}}
            }
        },
    }
    ack = new_ack()
    body = {"type": "view_submission", "user": {"id": "U0ALICE01"}, "view": view}
    claim_views.on_answer(ack=ack, body=body, view=view, context=_context(services))
    assert _body(ack) == {}
    with session_scope(engage.engine) as session:
        mention = session.get(Mention, target)
        assert mention is not None
        assert (mention.status, mention.answered_by) == ("answered", "U0ALICE01")
        assert mention.answer_text == "Fixed on Monday."


def test_a_submission_for_no_known_mention_is_an_error_in_the_modal() -> None:
    ack = new_ack()
    view = {"private_metadata": "", "state": {"values": {}}}
    claim_views.on_dismiss(ack=ack, body={}, view=view, context=_context(Only()))
    assert _body(ack) == {
        "response_action": "errors",
        "errors": {BlockId.REASON.value: "Unknown mention."},
    }


def test_a_reply_in_a_thread_asks_the_service_to_claim() -> None:
    claims = Recorder(new_ack())
    event = {"type": "message", "channel": "C1", "user": "U1", "ts": "2.0", "thread_ts": "1.0"}
    body = {"type": "event_callback", "event_id": "Ev1", "event": event}
    claim_events.on_message(body=body, event=event, context=_context(Only(claims)))
    assert [(name, kw) for name, kw, _ in claims.calls] == [
        (
            "claim_by_reply",
            {
                "args": (),
                "channel_id": "C1",
                "thread_ts": "1.0",
                "user_id": "U1",
                "request_key": "event:Ev1",
            },
        )
    ]
    # The bot's own note in the thread, or the thread's parent, claims nothing.
    for other in ({**event, "bot_id": "B1"}, {**event, "ts": "1.0"}):
        claim_events.on_message(body=body, event=other, context=_context(Only(claims)))
    assert len(claims.calls) == 1


# Reminders: hand back goes to the claims service through the Releases protocol.
def test_hand_back_releases_through_the_claims_service() -> None:
    ack = new_ack()
    claims = Recorder(ack, result=Outcome(ok=True))
    nudges.on_hand_back(
        ack=ack, body=CLICK, action={"value": "7"}, context=_context(Only(claims=claims))
    )
    assert [(name, kw["mention_id"], acked) for name, kw, acked in claims.calls] == [
        ("release", 7, False)
    ]
    assert _body(ack) == {}


def test_away_needs_a_date() -> None:
    ack = new_ack()
    nudger = Recorder(ack)
    nudges.on_away(
        ack=ack, command={"user_id": "U1"}, context=_context(Only(nudger=nudger)), text="soon"
    )
    assert _body(ack) == {"text": "Say until when, e.g. `/engage away until 2026-12-24`."}
    assert nudger.calls == []


# Rules: the test box answers in the modal itself.
def test_the_rule_test_box_answers_in_the_modal() -> None:
    def route_test(text: str) -> tuple[Match | None, str]:
        return Match(rule="streets", department="public-works", reason="keyword pothole"), "PW"

    view = {"state": {"values": {"engage.rule.test_text": {"test_text": {"value": "pothole"}}}}}
    ack = new_ack()
    rule_submissions.on_test(ack=ack, view=view, context=_context(Only(route_test=route_test)))
    said = _body(ack)
    assert said["response_action"] == "update"
    assert said["view"]["callback_id"] == CallbackId.RULE_TEST.value
    shown = said["view"]["blocks"][0]["text"]["text"]
    assert shown == "It would go to *PW* by rule *streets*: keyword pothole."


def test_a_suggestion_taken_refreshes_the_home_through_the_services(
    engage: Engage, services: handlers.Services, slack: FakeSlack
) -> None:
    """The rules domain publishes the Home without importing it (HomeView protocol)."""
    client = WebClient(token=slack.bot_token, base_url=slack.api_url)
    ack = new_ack()
    body = {"type": "block_actions", "user": {"id": "U0COMMS01"}, "actions": [{}]}
    rule_actions.on_suggestion_add(
        ack=ack, body=body, action={"value": "bad"}, client=client, context=_context(services)
    )
    assert _body(ack) == {}
    home_view = slack.home("U0COMMS01")
    assert home_view is not None and home_view["blocks"][0]["type"] == "header"


# Summaries and the command router.
def test_the_summary_command_answers_with_a_share_button(services: handlers.Services) -> None:
    ack = new_ack()
    command = {"user_id": "U0LEADPW1", "channel_id": "C0PUBWORKS"}
    summaries.on_summary(ack=ack, command=command, context=_context(services), text=" last week ")
    said = _body(ack)
    assert "Public Works" in said["text"]
    share = said["blocks"][-1]["elements"][0]
    assert (share["action_id"], share["value"]) == (
        ActionId.POST_SUMMARY.value,
        "public-works|last week",
    )


def test_mute_goes_to_the_mute_service_and_its_answer_is_escaped() -> None:
    said: list[tuple[str, str, bool]] = []

    def mute(author: str, by: str, on: bool) -> str:
        said.append((author, by, on))
        return f"Muted {author} <!channel>"

    ack = new_ack()
    commands.on_engage(
        ack=ack,
        command={"text": "mute @spam@example.social", "user_id": "U0COMMS01"},
        client=WebClient(),
        context=_context(Only(mute=mute)),
    )
    assert said == [("@spam@example.social", "U0COMMS01", True)]
    assert _body(ack) == {"text": "Muted @spam@example.social &lt;!channel&gt;"}
