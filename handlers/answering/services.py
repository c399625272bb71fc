"""What the answering listeners use of the services in Bolt's context: the answer desk."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from slack_bolt import BoltContext

from bot.answering.service import Answering
from handlers.context import SERVICES


@runtime_checkable
class AnsweringServices(Protocol):
    @property
    def answering(self) -> Answering: ...


def services_of(context: BoltContext) -> AnsweringServices:
    services: AnsweringServices = context[SERVICES]
    return services
