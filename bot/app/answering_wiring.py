"""The answering services' wiring: saved replies and approvals, built from the config.

Kept out of :mod:`bot.app.compose` (at its size limit), which calls :func:`build_answering`.
Draft cards go to ``answering.approval.channel``, else to the triage channel, which the comms
team watches already.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.engine import Engine

from bot.answering.approvals import Approvals
from bot.answering.saved import SavedReplies
from bot.answering.service import Answering
from bot.claims.service import Claims
from bot.config.comms import CommsTeam
from bot.config.file import EngageConfig
from bot.core.clock import Clock
from bot.outbox.delivery import Delivery
from bot.outbox.replies import Replies


class Parts(Protocol):
    """What the composition root has built already (``Engage``), named here rather than
    imported, so this module and ``bot.app.compose`` do not import each other."""

    config: EngageConfig
    engine: Engine
    clock: Clock
    comms: CommsTeam
    claims: Claims
    replies: Replies
    delivery: Delivery


def build_answering(engage: Parts) -> Answering:
    config = engage.config
    approvals = Approvals(
        engine=engage.engine,
        clock=engage.clock,
        comms=engage.comms,
        claims=engage.claims,
        replies=engage.replies,
        config=config.answering.approval,
        channel=config.triage.channel,
        priority_lists=[name for name, entry in config.author_lists.items() if entry.priority],
        wake=engage.delivery.wake,
    )
    return Answering(
        engine=engage.engine,
        clock=engage.clock,
        claims=engage.claims,
        saved=SavedReplies(engine=engage.engine, clock=engage.clock, comms=engage.comms),
        approvals=approvals,
        suggestions=config.answering.suggestions,
    )
