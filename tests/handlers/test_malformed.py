"""Signed but malformed Slack payloads, through the middle tier (the gate, then Bolt and the
listeners): each case of issue 12 answered 500 or changed state; now it is refused with 200 and
nothing changed (or the modal's field error), or with the gate's 400 when Bolt could not even
route it. Then a property over payloads mutated at random.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from sqlmodel import select

from bot.app.compose import Engage
from bot.core.adapter import IncomingMention
from bot.core.slack_ids import ActionId, BlockId, CallbackId, InputId
from bot.sandbox.fake_slack import FakeSlack
from storage.db import session_scope
from storage.models import Away, Event, Mention, Muted, Outbox, Rule, SlackInbox
from tests.handlers.dispatch import APP_ID, TEAM, Dispatcher, answer, slash_command
from tests.properties import bounded

PW = "C0PUBWORKS"
ALICE, COMMS = "U0ALICE01", "U0COMMS01"
TS = "1700000000.000100"


@pytest.fixture
def target(engage: Engage) -> int:
    """A routed mention with its card delivered, whose id the payloads point at."""
    engage.ingest_one(IncomingMention(source="webhook", external_id="f-1", text="pothole on Elm"))
    engage.delivery.drain()
    with session_scope(engage.engine) as session:
        [mention] = session.exec(select(Mention)).all()
        assert mention.id is not None
        return mention.id


def snapshot(engage: Engage) -> tuple[Any, ...]:
    """Everything a listener could change: the mention, and the rows of every table it writes."""
    with session_scope(engage.engine) as s:
        mentions = [
            (m.status, m.claimed_by, m.answered_by, m.answer_text, m.dismissed_by, m.department)
            for m in s.exec(select(Mention)).all()
        ]
        counts = [len(s.exec(select(t)).all()) for t in (Event, Outbox, SlackInbox, Away, Muted)]
        rules = [(r.id, r.priority, r.position, r.enabled) for r in s.exec(select(Rule)).all()]
        return (mentions, counts, rules)


def click(action_id: str, *, user: str | None = ALICE, **action: Any) -> dict[str, Any]:
    """A card button's ``block_actions`` payload, as Slack shapes it."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "api_app_id": APP_ID,
        "token": "unused",
        "team": dict(TEAM),
        "container": {"type": "message", "message_ts": TS, "channel_id": PW},
        "trigger_id": "trig-1",
        "channel": {"id": PW, "name": "public-works"},
        "actions": [{"action_id": action_id, "block_id": "b1", "action_ts": TS, **action}],
    }
    if user is not None:
        payload["user"] = {"id": user, "username": user.lower(), "team_id": TEAM["id"]}
    return payload


def submitted(callback: CallbackId, metadata: str, values: Any, *, user: str = ALICE) -> Any:
    view: dict[str, Any] = {
        "id": "V0SUBMIT01",
        "type": "modal",
        "callback_id": callback.value,
        "private_metadata": metadata,
    }
    if values is not None:
        view["state"] = {"values": values}
    return {
        "type": "view_submission",
        "api_app_id": APP_ID,
        "team": dict(TEAM),
        "user": {"id": user, "team_id": TEAM["id"]},
        "view": view,
        "trigger_id": "trig-2",
        "response_urls": [],
    }


# The cases of the issue, one by one.
def test_empty_actions_are_refused_before_bolt(
    bolt: Dispatcher, engage: Engage, target: int
) -> None:
    before = snapshot(engage)
    payload = {**click(ActionId.CLAIM, value=str(target)), "actions": []}
    assert bolt.interaction(payload).status == 400  # Bolt indexed actions[0]: IndexError, 500
    assert snapshot(engage) == before


def test_a_claim_on_no_valid_mention_id_is_acked_and_changes_nothing(
    bolt: Dispatcher, engage: Engage, target: int
) -> None:
    before = snapshot(engage)
    for value in [str(10**30), 10**30, "²", "-1", "0", "1.0", "", None, [1]]:
        response = bolt.interaction(click(ActionId.CLAIM, value=value))
        assert (response.status, response.body) == (200, ""), value  # 10**30: DB overflow
        assert snapshot(engage) == before, value


def test_a_claim_without_a_valid_user_changes_nothing(
    bolt: Dispatcher, engage: Engage, target: int
) -> None:
    """A Claim with no ``user`` used to set ``claimed_by=''``."""
    before = snapshot(engage)
    for user in [None, "", "u0alice01", "U" * 33, "U0\u00c9"]:
        payload = click(ActionId.CLAIM, value=str(target))
        if user is None:
            del payload["user"]
        else:
            payload["user"]["id"] = user
        assert bolt.interaction(payload).status == 200
        assert snapshot(engage) == before, user
    good = bolt.interaction(click(ActionId.CLAIM, value=str(target)))
    assert good.status == 200 and snapshot(engage) != before  # the same click, well-formed


def test_an_answer_modal_with_no_state_is_a_field_error(
    bolt: Dispatcher, engage: Engage, target: int
) -> None:
    """It used to be recorded as answered, with an empty answer."""
    before = snapshot(engage)
    blank = {BlockId.ANSWER_TEXT: {InputId.ANSWER_TEXT: {"type": "x", "value": "   "}}}
    shapes: list[Any] = [None, {}, blank, {BlockId.ANSWER_TEXT: []}, {BlockId.ANSWER_TEXT: "x"}]
    for values in shapes:
        response = bolt.interaction(submitted(CallbackId.ANSWER, str(target), values))
        assert response.status == 200
        assert answer(response) == {
            "response_action": "errors",
            "errors": {BlockId.ANSWER_TEXT: "Write the answer you gave the citizen."},
        }
    assert snapshot(engage) == before


def test_a_rule_menu_choice_that_is_not_a_number_changes_nothing(
    bolt: Dispatcher, engage: Engage
) -> None:
    """``"²".isdigit()`` is true and ``int("²")`` fails: the menu answered 500."""
    before = snapshot(engage)
    for value in ("up:²", "down:" + "9" * 30, "toggle:-1", "up:", 7):
        chosen = {"selected_option": {"value": value}}
        response = bolt.interaction(click(ActionId.RULE_MENU, user=COMMS, **chosen))
        assert response.status == 200
    assert snapshot(engage) == before


def test_a_page_click_outside_the_rules_modal_updates_nothing(
    bolt: Dispatcher, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """With no view, ``views.update`` went to Slack without an id: an error, then a 500."""
    with caplog.at_level(logging.INFO):
        for value in ("1", "²", str(10**30)):
            response = bolt.interaction(click(ActionId.RULES_PAGE, user=COMMS, value=value))
            assert response.status == 200
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert slack.views == {}


def test_other_malformed_inputs_are_refused_without_a_change(
    bolt: Dispatcher, engage: Engage, target: int
) -> None:
    before = snapshot(engage)
    huge_priority = {"engage.rule.priority": {"priority": {"value": str(10**30)}}}
    form = bolt.interaction(submitted(CallbackId.RULE_FORM, "{}", huge_priority, user=COMMS))
    assert answer(form)["errors"] == {
        "engage.rule.priority": "Give a whole number from -1,000,000 to 1,000,000."
    }
    deep = "[" * 1400 + "]" * 1400  # private_metadata deeper than json.loads can recurse
    retire = bolt.interaction(submitted(CallbackId.RULE_RETIRE, deep, {}, user=COMMS))
    assert retire.status == 200
    away = bolt.command(slash_command(ALICE, channel=PW, text="away until 9999-12-31"))
    assert answer(away)["text"].startswith("Say until when")
    mute = bolt.command(slash_command(COMMS, channel=PW, text="mute " + "x" * 300))
    assert "No author name is that long" in answer(mute)["text"]
    summary = bolt.interaction(click(ActionId.POST_SUMMARY, value="public-works|not a period"))
    assert summary.status == 200
    nobody = slash_command(ALICE, channel=PW, text="away until 2026-12-24")
    assert bolt.command({**nobody, "user_id": ""}).status == 200
    assert snapshot(engage) == before


# A property: payloads of every kind the app handles, mutated at random, never 5xx, never log
# a failure other than Slack refusing a call, and change nothing when no valid user sent them.
def templates(target: int) -> list[dict[str, Any]]:
    value = str(target)
    clicks = [click(a.value, value=value) for a in ActionId]
    clicks.append(click(ActionId.RULE_MENU, user=COMMS, selected_option={"value": f"up:{value}"}))
    clicks.append(click(ActionId.SUGGESTION_ADD, user=COMMS, value="1|pothole"))
    text = {BlockId.ANSWER_TEXT: {InputId.ANSWER_TEXT: {"type": "x", "value": "Fixed."}}}
    reason = {BlockId.REASON: {InputId.REASON: {"selected_option": {"value": "spam"}}}}
    views = [
        submitted(CallbackId.ANSWER, value, text),
        submitted(CallbackId.DISMISS, value, reason),
        submitted(CallbackId.HAND_OVER, value, {}),
        submitted(CallbackId.RULE_FORM, json.dumps({"id": 1, "token": "t"}), {}, user=COMMS),
        submitted(CallbackId.RULE_RETIRE, json.dumps({"id": 1}), {}, user=COMMS),
        submitted(CallbackId.RULE_TEST, "", {}),
    ]
    message = {"type": "message", "channel": PW, "user": ALICE, "ts": "2.0", "thread_ts": TS}
    events = [
        {"type": "event_callback", "event_id": "Ev1", "team_id": TEAM["id"], "event": message},
        {"type": "event_callback", "event": {"type": "app_home_opened", "user": ALICE}},
    ]
    return [*clicks, *views, *events]


def paths(node: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a payload: each key of each object, each item of each list."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, child in items:
        yield (*here, key)
        if isinstance(child, dict | list) and child:
            yield from paths(child, (*here, key))


def get(node: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        node = node[key]
    return node


def put(node: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


LEAVES = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
)
JUNK = LEAVES | st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)
# Strings, so most payloads pass the gate's envelope check and reach a listener.
NOT_A_USER = st.text(max_size=8).map(lambda t: t.lower() + "-") | st.just("")


def strip_users(payload: dict[str, Any], junk: Any) -> None:
    """Every place a listener reads who acted, replaced by something that is no Slack id."""
    for owner in (payload, payload.get("event")):
        if isinstance(owner, dict):
            for key in ("user", "user_id"):
                if key in owner:
                    owner[key] = {"id": junk} if isinstance(owner[key], dict) else junk


PROPERTY = bounded(120)


def mutated(data: Any, target: int) -> dict[str, Any]:
    payload: dict[str, Any] = copy.deepcopy(
        data.draw(st.sampled_from(templates(target)), label="template")
    )
    places = list(paths(payload))
    leaves = [p for p in places if not isinstance(get(payload, p), dict | list)]
    where = st.one_of(st.sampled_from(leaves), st.sampled_from(leaves), st.sampled_from(places))
    for place in data.draw(st.lists(where, min_size=1, max_size=4)):
        # An earlier change may have removed that place: then there is nothing to change.
        with contextlib.suppress(KeyError, IndexError, TypeError):
            put(payload, place, data.draw(JUNK, label=str(place)))
    return payload


def dispatched(bolt: Dispatcher, payload: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    """Send it; no 5xx, and nothing logged as failed but Slack refusing a call."""
    caplog.clear()
    with caplog.at_level(logging.INFO):
        if payload.get("type") == "event_callback":
            response = bolt.event(payload)
        else:
            form = urlencode({"payload": json.dumps(payload)})
            response = bolt.send(form, "application/x-www-form-urlencoded")
    event(f"status {response.status}")
    assert response.status < 500, response.body
    failures = [r.args for r in caplog.records if r.levelno >= logging.ERROR]
    assert [a for a in failures if not (isinstance(a, tuple) and a[:1] == ("SlackApiError",))] == []


@PROPERTY
@given(data=st.data())
def test_mutated_payloads_without_a_user_change_nothing(
    bolt: Dispatcher, engage: Engage, target: int, caplog: pytest.LogCaptureFixture, data: Any
) -> None:
    payload = mutated(data, target)
    strip_users(payload, data.draw(NOT_A_USER, label="user"))
    before = snapshot(engage)
    dispatched(bolt, payload, caplog)
    assert snapshot(engage) == before


@PROPERTY
@given(data=st.data())
def test_mutated_payloads_from_real_users_never_fail(
    bolt: Dispatcher, target: int, caplog: pytest.LogCaptureFixture, data: Any
) -> None:
    dispatched(bolt, mutated(data, target), caplog)
