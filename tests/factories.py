"""Shared test factories: what many tests need to drive the running bot and read its state.

One place instead of a helper per file, so "wait until the outbox is empty" or "the card in a
channel" means the same thing in every test.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, Protocol, TypeVar

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.app.compose import Engage
from bot.config.file import EngageConfig, parse_config
from bot.intake.webhook import SIGNATURE_HEADER, sign
from bot.sandbox.fake_slack import FakeSlack, wait_until
from storage.db import session_scope
from storage.models import Card, Event, Outbox
from tests.conftest import CONFIG, WEBHOOK_SECRET, settings_for


class Clock:
    """The bot's clock, moved by the test: SLAs, reminders and digests without sleeping."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def post_webhook(
    base_url: str,
    payload: dict[str, Any] | bytes,
    *,
    secret: str = WEBHOOK_SECRET,
    signature: str | None = None,
) -> httpx.Response:
    """Post to the bot's webhook the way a form tool does, signed unless told otherwise."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature if signature is not None else sign(secret, body),
    }
    return httpx.post(f"{base_url}/ingest/webhook", content=body, headers=headers, timeout=10)


def settled(bot: Engage, timeout: float = 20) -> None:
    """Wait until the outbox has nothing pending: every card and note has left for Slack."""

    def empty() -> bool:
        with session_scope(bot.engine) as s:
            return not [o for o in s.exec(select(Outbox)).all() if o.status == "pending"]

    wait_until(empty, timeout=timeout)


def events_of(bot: Engage, kind: str) -> list[Event]:
    """The recorded events of one kind, oldest first."""
    with session_scope(bot.engine) as s:
        return [e for e in s.exec(select(Event)).all() if e.kind == kind]


def card_in(
    slack: FakeSlack, channel: str, count: int = 1, *, bot: Engage | None = None
) -> dict[str, Any]:
    """The latest message in ``channel`` once it holds at least ``count``; with ``bot``, also
    once the bot has recorded that message's ``ts``.

    Delivery records finished posts in batches a few milliseconds after Slack answered, so a
    test that acts on a card the instant it appears (faster than any person) must wait for
    that, or its click can come before the ``posted`` event and a thread reply before the card
    is known by its ``ts``.
    """
    messages = wait_until(
        lambda: slack.messages(channel) if len(slack.messages(channel)) >= count else []
    )
    if bot is not None:
        ts = messages[-1]["ts"]

        def recorded() -> bool:
            with session_scope(bot.engine) as session:
                return session.exec(select(Card).where(Card.ts == ts)).first() is not None

        wait_until(recorded)
    return messages[-1]


def opened_view(slack: FakeSlack) -> str:
    """The id of the first modal the bot opened, once it has opened one."""
    return wait_until(lambda: next(iter(slack.views), ""))


class _Closeable(Protocol):
    def close(self) -> None: ...


C = TypeVar("C", bound=_Closeable)


def closing_factory(build: Callable[..., C], **defaults: Any) -> Iterator[Callable[..., C]]:
    """The body of a ``make_adapter``-style fixture: ``make(**overrides)`` builds one with the
    fixture's ``defaults`` under the test's overrides, and each one built is closed afterwards."""
    made: list[C] = []

    def make(*args: Any, **overrides: Any) -> C:
        made.append(build(*args, **{**defaults, **overrides}))
        return made[-1]

    yield make
    for item in made:
        item.close()


def start_bot_in(
    mode: str, slack: FakeSlack, engine: Engine, config: str | EngageConfig = CONFIG, **kw: Any
) -> Engage:
    """Start the whole bot with Slack's requests arriving as signed POSTs (``mode="http"``) or
    over Socket Mode (``"socket"``: SLACK_APP_TOKEN set, so the bot opens the fake's WebSocket
    with slack_sdk's own client, and the fake sends every click, event and command there).

    The same test body then runs in both modes; stop the bot with ``bot.stop()``.
    """
    token = slack.app_token if mode == "socket" else None
    loaded = parse_config(config) if isinstance(config, str) else config
    bot = Engage(
        settings_for(slack, slack_app_token=token), loaded, engine=engine, migrate=False, **kw
    )
    bot.socket_ping_interval = 0.1  # a dropped socket is noticed and replaced within ~0.1 s
    slack.delivery = "socket" if mode == "socket" else "http"
    bot.start(host="127.0.0.1", port=0)
    if mode == "socket":
        slack.wait_for_socket()
    return bot
