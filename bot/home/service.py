"""The App Home: what is mine, what waits for my departments, (for leads) how it goes, and
(for the comms team) routing, hand-over suggestions and the sources' health."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from bot.config.comms import CommsTeam
from bot.config.file import EngageConfig
from bot.core.blocks import context, divider, header, section
from bot.core.clock import Clock
from bot.core.mrkdwn import escape, one_line, safe
from bot.core.slack_directory import SlackDirectory
from bot.core.sources import source_label
from bot.home.comms import comms_blocks, failed_blocks
from bot.outbox.failures import FailedDeliveries
from bot.rules.admin import RuleAdmin
from bot.summaries.service import Summaries
from storage import cards, mentions
from storage.db import session_scope
from storage.intake.adapter_states import all_states as adapter_states
from storage.models import Mention

MAX_BLOCKS = 100
FAILED_SHOWN = 5  # failed deliveries listed on the comms team's Home (all: `engage outbox`)


class Home:
    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        config: EngageConfig,
        directory: SlackDirectory,
        summaries: Summaries,
        comms: CommsTeam,
        rule_admin: RuleAdmin,
        deliveries: FailedDeliveries,
    ) -> None:
        self.comms = comms
        self.rule_admin = rule_admin
        self.deliveries = deliveries
        self.engine = engine
        self.clock = clock
        self.config = config
        self.directory = directory
        self.summaries = summaries

    def view(self, user: str) -> dict[str, Any]:
        now = self.clock.now()
        mine = [
            d
            for d in self.config.departments
            if user in d.leads or user in self.directory.members(d.channel)
        ]
        led = [d for d in self.config.departments if user in d.leads]
        comms = self.comms.includes(user)
        blocks: list[dict[str, Any]] = [header("Engage")]
        with session_scope(self.engine) as session:
            claimed = mentions.claimed_by(session=session, user_id=user)
            blocks += [section(f"*Your open claims* ({len(claimed)})")]
            blocks += [self._line(session, m, now) for m in claimed] or [
                context("Nothing claimed: the channels below may need a hand.")
            ]
            adapters = adapter_states(session=session) if comms else []
            routing_at = len(blocks)  # the comms team's routing part goes under their claims
            places: list[tuple[str, str | None]] = [(d.name, d.slug) for d in mine]
            if comms:
                places.append(("Triage", None))
            for name, slug in places:
                count, oldest = mentions.waiting(session=session, department=slug)
                blocks += [
                    divider(),
                    section(f"*Waiting for a claim in {escape(name)}*: {count}"),
                ]
                blocks += [self._line(session, m, now) for m in oldest]
        if comms:  # after the session: these services open their own (never nest them)
            failed = failed_blocks(
                self.deliveries.recent(FAILED_SHOWN), self.deliveries.count(), now
            )
            blocks[routing_at:routing_at] = failed + comms_blocks(self.rule_admin, adapters, now)
        for department in led[:2]:
            report = self.summaries.report(
                department=department.slug, period="this week", lead_view=True
            )
            blocks += [divider(), section(report.text[:2900])]
        if not mine and not comms and not claimed:
            blocks.append(context("You are in no department's channel yet: ask to be added."))
        return {"type": "home", "blocks": blocks[:MAX_BLOCKS]}

    def retry_delivery(self, user: str, which: str) -> list[int]:
        """The Retry button of a failed delivery (``which``: its id, or ``all``): the comms
        team's to press. The ids of the rows put back in the queue."""
        if not self.comms.includes(user):
            return []
        if which == "all":
            return self.deliveries.retry()
        # "²" is a digit to isdigit() but no number to int().
        return self.deliveries.retry(int(which)) if which.isascii() and which.isdigit() else []

    def _line(self, session: Any, m: Mention, now: datetime) -> dict[str, Any]:
        card = cards.active(session=session, mention_id=m.id or 0)
        link = self.directory.permalink(
            card.channel_id if card else None, card.ts if card else None
        )
        label = escape(source_label(m.source))
        label = f"<{link}|{label}>" if link else label
        hours = int((now - m.received_at).total_seconds() // 3600)
        return section(f"• {label}: {safe(one_line(m.text), 120)} _({hours} h ago)_")
