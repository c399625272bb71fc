"""Fixtures the end-to-end tests share: the loopback Mastodon of the adapter tests (REST and
its streaming server), and a bot that streams mentions from it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from bot.app.compose import Engage
from bot.config.file import parse_config
from bot.sandbox.fake_slack import FakeSlack
from tests.conftest import CONFIG, settings_for
from tests.intake.adapters.test_mastodon import TOKEN, FakeMastodon


@pytest.fixture
def mastodon() -> Iterator[tuple[FakeMastodon, FakeMastodon]]:
    """The REST server, and the streaming server it names."""
    rest, streaming = FakeMastodon(), FakeMastodon()
    rest.instance_v1["urls"] = {"streaming_api": streaming.url.replace("http://", "ws://")}
    yield rest, streaming
    rest.close()
    streaming.close()


def mastodon_bot(
    slack: FakeSlack, engine: Engine, mastodon: tuple[FakeMastodon, FakeMastodon]
) -> Engage:
    """The whole bot, started, with a Mastodon adapter streaming from ``mastodon``."""
    rest, streaming = mastodon
    config = parse_config(
        CONFIG + f"adapters:\n  - {{type: mastodon, name: city-masto, base_url: '{rest.url}', "
        "stream: true}\n"
    )
    settings = settings_for(slack, env={"MASTODON_ACCESS_TOKEN": TOKEN})
    bot = Engage(settings, config, engine=engine, migrate=False)
    bot.start(host="127.0.0.1", port=0)
    streaming.wait_streams("/api/v1/streaming/user/notification", 1)
    return bot


@pytest.fixture
def streaming_bot(
    slack: FakeSlack, sqlite: Engine, mastodon: tuple[FakeMastodon, FakeMastodon]
) -> Iterator[Engage]:
    """:func:`mastodon_bot` on SQLite, stopped after the test."""
    bot = mastodon_bot(slack, sqlite, mastodon)
    yield bot
    bot.stop()
