"""The weekly digests' schedule: each department's in its own time zone, the city's for the
comms team. Kept out of :mod:`bot.app.compose` (at its size limit), which calls this with its
scheduler."""

from __future__ import annotations

from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.config.file import DigestConfig, EngageConfig
from bot.summaries.service import Summaries


def schedule_digests(
    scheduler: BackgroundScheduler,
    config: EngageConfig,
    summaries: Summaries,
    jobs: dict[str, Any],
) -> None:
    digests: list[tuple[str | None, str, DigestConfig]] = [
        (d.slug, d.timezone, d.digest) for d in config.departments
    ]
    digests.append((None, config.nudges.timezone, config.comms_team.digest))
    for slug, timezone, digest in digests:
        if not digest.enabled:
            continue
        trigger = CronTrigger(day_of_week=digest.day, hour=digest.hour, timezone=timezone)
        scheduler.add_job(
            summaries.digest, trigger, args=[slug], id=f"digest:{slug or 'city'}", **jobs
        )
