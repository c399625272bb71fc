"""Fixtures for the web tests: an Engage that is built but never started (no server, no
scheduler, no delivery thread), whose WSGI app the tests call directly."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.app.compose import Engage
from bot.config.file import parse_config
from bot.sandbox.fake_slack import FakeSlack
from storage.db import session_scope
from storage.models import Event, Mention, Outbox
from tests.conftest import CONFIG, settings_for


@pytest.fixture
def built(slack: FakeSlack, sqlite: Engine) -> Engage:
    return Engage(settings_for(slack), parse_config(CONFIG), engine=sqlite, migrate=False)


@pytest.fixture
def built_on_both(slack: FakeSlack, engine: Engine) -> Engage:
    """On SQLite and on PostgreSQL (``tests/conftest.py``'s ``engine``)."""
    return Engage(settings_for(slack), parse_config(CONFIG), engine=engine, migrate=False)


def stored(bot: Engage) -> tuple[int, int, int]:
    """How many mentions, events and outbox rows there are."""
    with session_scope(bot.engine) as s:
        return (
            len(s.exec(select(Mention.id)).all()),
            len(s.exec(select(Event.id)).all()),
            len(s.exec(select(Outbox.id)).all()),
        )
