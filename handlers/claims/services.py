"""What the claim listeners use of the services in Bolt's context: the claims service, and the
answer desk (``bot.answering``) that the Answered modal records through and fills from."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from slack_bolt import BoltContext

from bot.claims.click_queue import ClickQueue
from bot.claims.service import Claims, Outcome
from handlers.context import SERVICES


class AnswerDesk(Protocol):
    """The answer path with its approval gate, and a saved reply's text filled for a card."""

    def answer(
        self,
        *,
        mention_id: int,
        user_id: str,
        text: str,
        request_key: str,
        send_reply: bool = False,
        saved_reply_id: int | None = None,
    ) -> Outcome: ...

    def text_for(self, *, mention_id: int, reply_id: int) -> str | None: ...


@runtime_checkable
class ClaimsServices(Protocol):
    @property
    def claims(self) -> Claims: ...

    @property
    def answering(self) -> AnswerDesk: ...

    @property
    def click_queue(self) -> ClickQueue | None: ...


def services_of(context: BoltContext) -> ClaimsServices:
    services: ClaimsServices = context[SERVICES]
    return services
