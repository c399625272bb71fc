"""Wiring for privacy and the public report: their services built from the config, and their
jobs scheduled (the daily retention purge, the monthly report).

Kept out of :mod:`bot.app.compose` (at its size limit), which calls these two functions.
Every replica runs the jobs: the purge skips what is already removed (and keys its card
updates), and the report writes the same files.
"""

from __future__ import annotations

from typing import Any, Protocol

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.engine import Engine

from bot.config.comms import CommsTeam
from bot.config.file import EngageConfig, Settings
from bot.core.clock import Clock
from bot.nudges.policy import policies
from bot.outbox.delivery import Delivery
from bot.privacy.service import Privacy
from bot.report.service import PublicReport

SECRET_ENV = "ENGAGE_PRIVACY_SECRET"  # keys the hashes of removed authors; else one is made


class Parts(Protocol):
    """What the wiring takes from the composition root (``bot.app.compose.Engage``), named
    here so this module does not import it back."""

    settings: Settings
    config: EngageConfig
    engine: Engine
    clock: Clock
    comms: CommsTeam
    delivery: Delivery


class Scheduled(Protocol):
    config: EngageConfig
    scheduler: BaseScheduler
    privacy: Privacy
    public_report: PublicReport


def build_privacy(engage: Parts) -> tuple[Privacy, PublicReport]:
    config = engage.config
    privacy = Privacy(
        engine=engage.engine,
        clock=engage.clock,
        config=config.retention,
        comms=engage.comms,
        author_lists=config.author_members(),
        secret=engage.settings.env.get(SECRET_ENV) or None,
        wake=engage.delivery.wake,
    )
    report = PublicReport(
        engine=engage.engine, clock=engage.clock, config=config, policies=policies(config)
    )
    return privacy, report


def schedule_privacy(engage: Scheduled, jobs: dict[str, Any]) -> None:
    """The purge daily at ``retention.hour`` (UTC) when retention is set; the report on the
    first of each month at 06:00 UTC when ``report.schedule`` is ``monthly``."""
    config = engage.config
    if config.retention.active:
        trigger = CronTrigger(hour=config.retention.hour, minute=0, timezone="UTC")
        engage.scheduler.add_job(engage.privacy.purge, trigger, id="retention-purge", **jobs)
    if config.report.schedule == "monthly":
        trigger = CronTrigger(day=1, hour=6, minute=0, timezone="UTC")
        engage.scheduler.add_job(
            engage.public_report.build_scheduled, trigger, id="public-report", **jobs
        )
