"""Saved replies without Slack: placeholders, the fit, the management form and the service.

The form test is a property: whatever a submission's state holds, reading it and saving it
gives a saved reply or a message per field, never an exception, and a refused save changes
nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.answering.fit import Candidate, Card, label, rank
from bot.answering.placeholders import display_author, fill, unknown
from bot.answering.saved import SavedReplies, problems
from bot.config.comms import CommsTeam
from bot.config.file import CommsTeamConfig, parse_config
from handlers.answering.form import form_doc, form_target
from storage.answering.tables import SavedReply, SavedReplyChange
from storage.db import session_scope
from tests.conftest import CONFIG, store_config
from tests.factories import Clock
from tests.properties import bounded

FACTS = {"author": "Ann Lee", "department": "Public Works", "ref": "311-42", "link": "https://x"}


def test_placeholders_are_filled_and_nothing_else_is_touched() -> None:
    text = "Hi {author}, {department} has {ref}: {link}. {unknown} {{author}} {}"
    assert fill(text, FACTS) == (
        "Hi Ann Lee, Public Works has 311-42: https://x. {unknown} {Ann Lee} {}"
    )
    assert fill("Ref {ref}.", {"ref": ""}) == "Ref ."
    assert unknown("Hi {autor} {author} {autor} {x y}") == ["autor"]
    assert display_author("Ann Lee <ann@x.org>") == "Ann Lee"
    assert display_author("<ann@x.org>") == "ann@x.org"
    assert display_author("@ann@town.social") == "@ann@town.social"


def _reply(i: int, **kw: Any) -> Candidate:
    values: dict[str, Any] = {"title": f"R{i}", "text": "", "department": None, "language": None}
    return Candidate(id=i, **(values | kw))


def test_fit_prefers_keywords_then_department_then_language_then_use() -> None:
    card = Card(department="pw", language="fr", text="Un nid-de-poule rue Élan")
    replies = [
        _reply(1, department="parks"),  # another department: never offered
        _reply(2),  # city-wide, any language
        _reply(3, department="pw", language="en"),  # own department, wrong language
        _reply(4, department="pw", language="fr"),
        _reply(5, department="pw", language="fr-CA", keywords=("elan",)),
        _reply(6, keywords=("nid-de-poule",)),  # a phrase, accents and case aside
        _reply(7, department="pw", language="fr"),  # as 4, used more
    ]
    ranked = [c.id for c in rank(replies, card, uses={7: 3})]
    assert ranked == [5, 6, 7, 4, 2, 3]
    assert [c.id for c in rank(replies, card, query="r7")] == [7]
    assert [c.id for c in rank(replies, card, limit=2)] == [5, 6]
    # A triage card (no department yet) is offered every department's replies.
    assert len(rank(replies, Card(department=None, language=None, text=""))) == 7
    assert label(replies[4], {"pw": "Public Works"}) == "R5 · fr-CA · Public Works"


def test_problems_name_the_field() -> None:
    names = {"pw": "Public Works"}
    good = {"title": "T", "text": "Hi {author}", "department": "pw", "language": "en"}
    assert problems(good, departments=names) == {}
    assert set(problems({}, departments=names)) == {"title", "text"}
    bad = good | {"text": "Hi {autor}", "department": "nope", "language": "english!"}
    assert set(problems(bad, departments=names)) == {"text", "department", "language"}
    assert "{author}" in problems(bad, departments=names)["text"]


_values = st.one_of(st.none(), st.text(max_size=80), st.integers(), st.lists(st.text(max_size=5)))
_element = st.dictionaries(
    st.sampled_from(["value", "selected_option", "type"]),
    st.one_of(_values, st.dictionaries(st.sampled_from(["value", "text"]), _values)),
)
_state = st.dictionaries(
    st.sampled_from([f"engage.reply.{f}" for f in ("title", "text", "department", "language")])
    | st.text(max_size=10),
    st.dictionaries(st.sampled_from(["title", "text", "department", "language"]), _element),
)


@pytest.fixture
def saved(sqlite: Engine) -> SavedReplies:
    store_config(sqlite, parse_config(CONFIG))
    comms = CommsTeam(CommsTeamConfig(users=("U0COMMS01",)), None)
    clock = Clock(datetime(2026, 12, 1, tzinfo=UTC))
    return SavedReplies(engine=sqlite, clock=clock, comms=comms)


@bounded(40)
@given(state=_state, meta=st.one_of(st.text(max_size=30), st.integers(), st.none()))
def test_any_form_input_is_saved_or_refused_by_field(
    saved: SavedReplies, state: dict[str, Any], meta: Any
) -> None:
    view = {"state": {"values": state}, "private_metadata": meta}
    doc = form_doc(view)
    reply, token = form_target(view)
    with session_scope(saved.engine) as s:
        before = len(s.exec(select(SavedReplyChange)).all())
    change = saved.save(user="U0COMMS01", doc=doc, reply_id=reply, token=token, request_key="k")
    with session_scope(saved.engine) as s:
        after = len(s.exec(select(SavedReplyChange)).all())
        s.exec(select(SavedReply)).all()
    if not change.ok:
        assert after == before
        assert change.problems is None or set(change.problems) <= {
            "title",
            "text",
            "department",
            "language",
            "keywords",
        }


def test_only_the_comms_team_manages_and_every_change_is_recorded(saved: SavedReplies) -> None:
    doc = {"title": "Bins", "text": "Bin day is {ref}", "department": None}
    refused = saved.save(user="U0ALICE01", doc=doc, reply_id=None, token=None, request_key="a")
    assert not refused.ok and "comms team" in refused.message
    assert saved.save(user="U0COMMS01", doc=doc, reply_id=None, token=None, request_key="b").ok
    [line] = saved.lines()
    stale = line.token
    edit = {**doc, "text": "Bin day is Tuesday"}
    assert saved.save(user="U0COMMS01", doc=edit, reply_id=line.id, token=stale, request_key="c").ok
    again = saved.save(user="U0COMMS01", doc=doc, reply_id=line.id, token=stale, request_key="d")
    assert not again.ok and "Someone changed" in again.message
    assert saved.retire(user="U0COMMS01", reply_id=line.id, request_key="e").ok
    assert saved.lines() == []
    history = [(c.action, c.actor) for c in reversed(saved.history())]
    assert history == [("added", "U0COMMS01"), ("edited", "U0COMMS01"), ("retired", "U0COMMS01")]


def test_the_rule_form_keeps_a_rules_approval_mark() -> None:
    from bot.rules.admin import RuleLine
    from handlers.rules.form import block_of, form_doc, rule_form

    doc = {"name": "press", "department": "pw", "priority": 5, "approval": True}
    form = rule_form(RuleLine(id=1, rank=1, doc=doc, token="t"), departments=[("pw", "PW")])
    state = next(b for b in form["blocks"] if b.get("block_id") == block_of("enabled"))
    ticked = [o["value"] for o in state["element"]["initial_options"]]
    assert ticked == ["yes", "approval"]
    values = {
        block_of("name"): {"name": {"value": "press"}},
        block_of("department"): {"department": {"selected_option": {"value": "pw"}}},
        block_of("enabled"): {"enabled": {"selected_options": [{"value": "approval"}]}},
    }
    read = form_doc({"state": {"values": values}})
    assert read["approval"] is True and read["enabled"] is False
