"""Slack in and out: thin listeners that parse a payload, call a service, render a reply.

One package or module per domain, mirroring ``bot/``: :mod:`handlers.claims` (card buttons,
their modals, thread replies), :mod:`handlers.rules` (the rule screens), :mod:`handlers.nudges`,
:mod:`handlers.summaries`, :mod:`handlers.home`; :mod:`handlers.commands` routes ``/engage``
to them. Shared by all: :mod:`handlers.payload` (reading Slack payloads) and
:mod:`handlers.context` (the services middleware).

Every listener is a module-level function taking Bolt's named arguments (``ack``, ``body``,
``action``, ``client``, ``context``...). The services come from Bolt's context: :func:`register`
installs a global middleware that puts the one :class:`Services` object under
``context["services"]``, and each domain reads it through its own ``services_of(context)``,
typed by a Protocol naming only what it uses. The domain handler modules are independent of
each other and import only their own domain (contracts in ``pyproject.toml``); this module
and :mod:`handlers.commands` are the only ones that reach several.

Importing this package registers nothing; :func:`register` wires every listener into an app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt import App

from bot.answering.service import Answering
from bot.claims.click_queue import ClickQueue
from bot.claims.service import Claims
from bot.home.service import Home
from bot.nudges.sweep import Nudger
from bot.privacy.service import Privacy
from bot.rules.admin import RuleAdmin
from bot.summaries.service import Summaries
from bot.urgent.service import UrgentDesk
from handlers import answering as answering_handlers
from handlers import claims as claims_handlers
from handlers import commands, nudges
from handlers import home as home_handlers
from handlers import privacy as privacy_handlers
from handlers import rules as rules_handlers
from handlers import summaries as summaries_handlers
from handlers import urgent as urgent_handlers
from handlers.commands import Mute
from handlers.context import provide
from handlers.rules.services import RouteTest

__all__ = ["Services", "register"]


@dataclass(frozen=True)
class Services:
    """Everything the listeners call, built once by the composition root (``bot.app``)."""

    claims: Claims
    nudger: Nudger
    summaries: Summaries
    home: Home
    route_test: RouteTest
    mute: Mute
    rule_admin: RuleAdmin
    answering: Answering  # saved replies and approvals (bot/answering)
    privacy: Privacy | None = None  # citizens' data requests (bot/privacy)
    urgent: UrgentDesk | None = None  # the urgent lane (bot/urgent)
    click_queue: ClickQueue | None = None  # claim/release acked once kept (None: decided first)

    def __deepcopy__(self, memo: dict[int, Any]) -> Services:
        # Bolt deep-copies the context for a lazy listener; services are shared, thread-safe
        # singletons (engines, clocks, locks), so the copy must carry these very objects.
        return self


def register(app: App, services: Services) -> None:
    app.middleware(provide(services))
    claims_handlers.register(app)
    rules_handlers.register(app)
    nudges.register(app)
    summaries_handlers.register(app)
    home_handlers.register(app)
    privacy_handlers.register(app)
    urgent_handlers.register(app)
    answering_handlers.register(app)
    commands.register(app)
