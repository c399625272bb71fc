"""Summaries for department leads and the comms team: the figures, the text, the chart.

Computed on demand (``/engage summary``) and weekly (the digest), each figure beside the
previous period of the same length. What each figure means is ``bot/summaries/figures.py``;
the database counts them (``bot/summaries/tally.py`` over ``storage/summaries/``), from the
mentions and the office times recorded on them when they were claimed and answered.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy.engine import Engine

from bot.config.comms import CommsTeam
from bot.config.file import EngageConfig
from bot.core.clock import Clock
from bot.core.slack_directory import SlackDirectory
from bot.nudges.policy import Policy
from bot.summaries.answering import saved_replies_line
from bot.summaries.chart import Chart, render_summary_chart
from bot.summaries.figures import Figures, Period, parse_period
from bot.summaries.tally import recurring_words, tally
from bot.summaries.text import Comparison, render_text
from bot.summaries.urgent import urgent_line
from storage import outbox
from storage import summaries as reads
from storage.db import session_scope
from storage.models import OutboxKind

log = logging.getLogger(__name__)
CITY = "city"


@dataclass(frozen=True)
class Report:
    department: str | None  # None: city-wide
    label: str
    period: Period
    text: str
    comparison: Comparison
    # The line answer times are held against: a department's claim plus answer service levels
    # from arrival. None for the city, whose departments promise different times.
    service_level: timedelta | None = None

    def chart(self) -> Chart:
        return render_summary_chart(
            self.comparison, department=self.label, service_level=self.service_level
        )


class Summaries:
    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        config: EngageConfig,
        policies: dict[str | None, Policy],
        directory: SlackDirectory,
        wake: Callable[[], None],
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.config = config
        self.policies = policies
        self.directory = directory
        self.wake = wake

    def is_lead(self, user: str, department: str | None) -> bool:
        """Leads see who has not answered yet; so does the comms team, city-wide."""
        if user in self.config.comms_team.users:
            return True
        policy = self.policies.get(department)
        return department is not None and policy is not None and user in policy.leads

    def department_of_channel(self, channel: str) -> str | None:
        return next((d.slug for d in self.config.departments if d.channel == channel), None)

    def report(self, *, department: str | None, period: str, lead_view: bool) -> Report:
        """``department`` None: the whole city. ``period`` as ``parse_period`` reads it."""
        policy = self.policies.get(department) or self.policies[None]
        now = self.clock.now()
        current = parse_period(period, now=now, timezone=policy.hours.timezone)
        label = policy.name if department else "The whole city"
        channel = policy.channel if department else self.config.triage.channel
        members = [m for m in self.directory.members(channel) if not self.directory.is_bot(m)]
        # Three parts, each in its own thread and session, so that the database counts the two
        # periods while Python reads the recurring words (the one part done over every text,
        # and the dearest). Nobody shows the previous period's words: they are not read (its
        # ``top_terms`` is empty).
        with ThreadPoolExecutor(max_workers=2) as pool:
            before = pool.submit(self._figures, department, current.previous(), policy, members)
            words = pool.submit(self._words, department, current)
            figures = self._figures(department, current, policy, members)
            figures = replace(figures, top_terms=words.result())
            comparison = Comparison(current=figures, previous=before.result(), period=current)
        text = render_text(comparison, department=label, lead_view=lead_view)
        used = saved_replies_line(self.engine, department=department, period=current)
        text += f"\n{used}" if used else ""
        urgent = urgent_line(self.engine, department=department, period=current)
        text += f"\n{urgent}" if urgent else ""
        level = policy.claim + policy.answer if department else None
        return Report(department, label, current, text, comparison, level)

    def _figures(
        self,
        department: str | None,
        period: Period,
        policy: Policy,
        members: list[str],
    ) -> Figures:
        everywhere = department is None
        with session_scope(self.engine) as session:
            nudged, escalated = reads.nudge_counts(
                session=session,
                department=department,
                start=period.start,
                end=period.end,
                everywhere=everywhere,
            )
            # City-wide, each mention is judged by its own department's hours and service levels.
            return tally(
                session=session,
                department=department,
                everywhere=everywhere,
                period=period,
                levels=policy,
                departments={slug: p for slug, p in self.policies.items() if slug is not None},
                nudges=nudged,
                escalations=escalated,
                members=members,
                terms=False,
            )

    def _words(self, department: str | None, period: Period) -> list[tuple[str, int]]:
        with session_scope(self.engine) as session:
            return recurring_words(
                session=session, department=department, everywhere=department is None, period=period
            )

    def post(self, report: Report, *, channel: str, key: str) -> None:
        """Queue the summary text and its chart for a channel or a person (a user id)."""
        now = self.clock.now()
        chart = report.chart()
        with session_scope(self.engine) as session:
            outbox.enqueue(
                session=session,
                kind=OutboxKind.MESSAGE,
                idem_key=f"{key}:text",
                channel_id=channel,
                now=now,
                payload={"text": report.text},
            )
            outbox.enqueue(
                session=session,
                kind=OutboxKind.FILE,
                idem_key=f"{key}:chart",
                channel_id=channel,
                now=now,
                payload={
                    "data": base64.b64encode(chart.png).decode(),
                    "filename": "summary.png",
                    "title": f"{report.label}: {report.period.label}",
                    "alt_txt": chart.alt_text,
                },
            )
        self.wake()

    def digest(self, department: str | None) -> None:
        """The weekly digest: last week, to the leads (or the comms team for the city).

        The invitation list (who has not answered yet) is for leads and the comms team only:
        with ``to: channel``, or with nobody to send it to, the digest is posted to the
        channel without it, so it never names people in public.
        """
        if department is None:
            to = self.config.comms_team.digest.to
            readers = CommsTeam(self.config.comms_team, self.directory).members()
            channel = self.config.triage.channel
        else:
            policy = self.policies[department]
            to = next(d.digest.to for d in self.config.departments if d.slug == department)
            readers, channel = list(policy.leads), policy.channel
        privately = to == "leads" and bool(readers)
        report = self.report(department=department, period="last week", lead_view=privately)
        if self.config.report.url:  # the city's public report (bot/report), for everyone
            link = f"How the city answers, published: <{self.config.report.url}|public report>"
            report = replace(report, text=f"{report.text}\n{link}")
        week = report.period.start.strftime("%Y-%m-%d")
        for target in readers if privately else [channel]:
            self.post(report, channel=target, key=f"digest:{department or CITY}:{week}:{target}")
        log.info("weekly digest queued", extra={"department": department, "week": week})
