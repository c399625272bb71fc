"""What the rule listeners use of the services in Bolt's context.

The rule admin is this domain's own service, and the route test is the routing engine's
answer for a text (both allowed by the import contracts). The App Home is another domain's:
after a hand-over suggestion is taken, the Home that showed it is published again. It is
reached through the :class:`HomeView` protocol, so this package never imports ``bot.home``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from slack_bolt import BoltContext

from bot.routing import Match
from bot.rules.admin import RuleAdmin
from handlers.context import SERVICES

RouteTest = Callable[[str], tuple[Match | None, str]]
"""Which rule would route a text, and the name of the department it would go to."""


class HomeView(Protocol):
    """Anything that renders someone's App Home (``bot.home.service.Home`` does)."""

    def view(self, user: str) -> dict[str, Any]: ...


@runtime_checkable
class RulesServices(Protocol):
    @property
    def rule_admin(self) -> RuleAdmin: ...

    @property
    def route_test(self) -> RouteTest: ...

    @property
    def home(self) -> HomeView: ...


def services_of(context: BoltContext) -> RulesServices:
    services: RulesServices = context[SERVICES]
    return services
