"""Fixtures for the handler tests: the real services on SQLite, and the middle-tier app.

The services are the ones the composition root builds (an :class:`Engage` that is never
started: no scheduler, no HTTP server, no delivery thread), so a listener's effect is read in
the database and, after :meth:`Delivery.drain`, in the fake Slack.
"""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

import handlers
from bot.app.compose import Engage
from bot.config.file import parse_config
from bot.sandbox.fake_slack import FakeSlack
from tests.conftest import CONFIG, settings_for
from tests.handlers.dispatch import Dispatcher, build_app


@pytest.fixture
def engage(slack: FakeSlack, sqlite: Engine) -> Engage:
    return Engage(settings_for(slack), parse_config(CONFIG), engine=sqlite, migrate=False)


@pytest.fixture
def services(engage: Engage) -> handlers.Services:
    return handlers.Services(
        claims=engage.claims,
        nudger=engage.nudger,
        summaries=engage.summaries,
        home=engage.home,
        route_test=engage.route_test,
        mute=engage.mute,
        rule_admin=engage.rule_admin,
        answering=engage.answering,
    )


@pytest.fixture
def bolt(services: handlers.Services, slack: FakeSlack) -> Dispatcher:
    app = build_app(
        services, api_url=slack.api_url, token=slack.bot_token, signing_secret=slack.signing_secret
    )
    return Dispatcher(app, slack.signing_secret)
