"""The urgent lane's wiring: the service built from the config, and its sweep scheduled.

Kept out of :mod:`bot.app.compose` (at its size limit), which calls these functions with
itself. The sweep runs every ``urgent.sweep_every`` seconds (15 by default), day and night:
that is what "paged at once" means. Every replica may run it: the database decides who pages.
"""

from __future__ import annotations

from typing import Any, Protocol

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.engine import Engine

from bot.config.comms import CommsTeam
from bot.config.file import EngageConfig
from bot.core.clock import Clock
from bot.core.slack_directory import SlackDirectory
from bot.outbox.delivery import Delivery
from bot.urgent.detect import DangerWords
from bot.urgent.service import UrgentDesk

JOB_ID = "urgent-sweep"


class Parts(Protocol):
    """What the wiring takes from the composition root (``bot.app.compose.Engage``), named
    here so this module does not import it back."""

    config: EngageConfig
    engine: Engine
    clock: Clock
    directory: SlackDirectory
    comms: CommsTeam
    delivery: Delivery
    scheduler: BackgroundScheduler


def danger_words(parts: Parts) -> DangerWords:
    """The danger words in force: the built-in lists as the config edits them."""
    return DangerWords.of(parts.config.urgent.words())


def build_urgent(parts: Parts) -> UrgentDesk:
    return UrgentDesk(
        engine=parts.engine,
        clock=parts.clock,
        config=parts.config,
        directory=parts.directory,
        comms=parts.comms,
        wake=parts.delivery.wake,
    )


def schedule_urgent(parts: Parts, desk: UrgentDesk, jobs: dict[str, Any]) -> None:
    seconds = parts.config.urgent.sweep_every
    parts.scheduler.add_job(desk.sweep, "interval", id=JOB_ID, seconds=seconds, **jobs)
