"""A card renders from whatever a stored mention's ``extra`` holds.

Before issue 12 the webhook accepted ``extra: {"care": 7}`` and stored it; rendering the card
iterated the 7 and failed on every delivery attempt. The webhook refuses such keys now, and a
row stored before must still be delivered.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.app.compose import Engage
from bot.config.file import parse_config
from bot.core.adapter import IncomingMention
from bot.sandbox.fake_slack import FakeSlack
from storage.db import session_scope
from storage.models import Mention, Outbox
from tests.conftest import CONFIG, settings_for


def test_a_card_whose_stored_extra_is_malformed_is_still_delivered(
    slack: FakeSlack, engine: Engine
) -> None:
    bot = Engage(settings_for(slack), parse_config(CONFIG), engine=engine, migrate=False)
    bot.ingest_one(IncomingMention(source="webhook", external_id="old-1", text="pothole on Elm"))
    with session_scope(engine) as session:
        [mention] = session.exec(select(Mention)).all()
        mention.extra = {"care": 7, "priority_label": {"not": "a label"}}
        session.add(mention)
    bot.delivery.drain()
    [card] = slack.messages("C0PUBWORKS")
    assert "pothole on Elm" in card["text"]
    assert "Handle with care" not in str(card["blocks"])
    with session_scope(engine) as session:
        assert [o.status for o in session.exec(select(Outbox)).all()] == ["done"]
