"""What the claim listeners use of the services in Bolt's context: the claims service only."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from slack_bolt import BoltContext

from bot.claims.service import Claims
from handlers.context import SERVICES


@runtime_checkable
class ClaimsServices(Protocol):
    @property
    def claims(self) -> Claims: ...


def services_of(context: BoltContext) -> ClaimsServices:
    services: ClaimsServices = context[SERVICES]
    return services
