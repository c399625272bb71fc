"""The one place that turns the config's ``adapters`` section into running adapters."""

from __future__ import annotations

from collections.abc import Sequence

from bot.adapters.base import Replier
from bot.adapters.rss import RssAdapter
from bot.config import EngageConfig, RssAdapterConfig
from bot.polling import Scheduled


def build(config: EngageConfig) -> list[Scheduled]:
    scheduled: list[Scheduled] = []
    for entry in config.adapters:
        if isinstance(entry, RssAdapterConfig):
            scheduled.append(Scheduled(RssAdapter(name=entry.name, url=entry.url), entry.every))
    return scheduled


def repliers(scheduled: Sequence[Scheduled]) -> dict[str, Replier]:
    """Adapters that can also answer the citizen, by adapter name."""
    return {s.adapter.name: s.adapter for s in scheduled if isinstance(s.adapter, Replier)}
