"""The ladder of reminders and each department's policy: its hours, service levels and rungs.

What falls due when is decided here (:meth:`Policy.due`); :mod:`bot.nudges.sweep` runs the
schedule and :mod:`bot.nudges.messages` says what each rung sends. Summaries read the same
policies, so a service level means the same thing in a reminder and in a report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config.file import (
    EngageConfig,
    EscalationConfig,
    OfficeHoursConfig,
    SlaConfig,
    office_hours,
)
from bot.core.office_time import OfficeHours
from storage.models import Mention


@dataclass(frozen=True)
class Stage:
    name: str
    ladder: str  # "claim": unclaimed, from arrival; "answer": claimed, from the claim
    factor: float | None  # share of the SLA; None: the department's warn_at
    rung: str  # the EscalationConfig switch that enables it
    escalation: bool = False  # recorded as "escalated" rather than "nudged"
    # Names one person, picked by rotation; only these count as a turn in the rotation.
    rotates: bool = False


LADDERS = {
    "claim": (
        Stage("claim_warn", "claim", None, "warn"),
        Stage("claim_thread", "claim", 1.0, "thread", rotates=True),
        Stage("claim_channel", "claim", 1.5, "channel"),
        Stage("claim_lead", "claim", 2.0, "lead", escalation=True),
    ),
    "answer": (
        Stage("answer_warn", "answer", None, "warn"),
        Stage("answer_dm", "answer", 1.0, "claimer"),
        Stage("answer_return", "answer", 1.5, "hand_back", escalation=True),
        Stage("answer_lead", "answer", 2.0, "lead", escalation=True),
    ),
}
STAGES = {s.name: s for ladder in LADDERS.values() for s in ladder}
ROTATING = tuple(s.name for s in STAGES.values() if s.rotates)
# What the claimer's answer to the check-in (any of its buttons) spares them: the claim going back.
CHECKED_IN = "answer_return"


@dataclass(frozen=True)
class Policy:
    """One department's service levels, hours and ladder."""

    name: str
    channel: str
    leads: tuple[str, ...]
    hours: OfficeHours
    claim: timedelta
    answer: timedelta
    warn_at: float
    rungs: frozenset[str]
    care_limit: int = 2

    def due(self, stage: Stage, mention: Mention) -> datetime | None:
        base = mention.received_at if stage.ladder == "claim" else mention.claimed_at
        if base is None:
            return None
        sla = self.claim if stage.ladder == "claim" else self.answer
        return self.hours.add(base, sla * (stage.factor or self.warn_at))


def policies(config: EngageConfig) -> dict[str | None, Policy]:
    """Each department's policy, and triage's (None) from the ``nudges`` section."""

    def build(
        name: str,
        channel: str,
        leads: tuple[str, ...],
        timezone: str,
        hours: OfficeHoursConfig,
        sla: SlaConfig,
        rungs: EscalationConfig,
    ) -> Policy:
        return Policy(
            name=name,
            channel=channel,
            leads=leads,
            hours=office_hours(timezone, hours),
            claim=timedelta(minutes=sla.claim),
            answer=timedelta(minutes=sla.answer),
            warn_at=sla.warn_at,
            care_limit=rungs.care_limit,
            rungs=frozenset(k for k, v in rungs.model_dump().items() if v is True),
        )

    found: dict[str | None, Policy] = {
        d.slug: build(d.name, d.channel, d.leads, d.timezone, d.office_hours, d.sla, d.escalation)
        for d in config.departments
    }
    n = config.nudges
    found[None] = build(
        "Triage",
        config.triage.channel,
        config.comms_team.users,
        n.timezone,
        n.office_hours,
        n.sla,
        EscalationConfig(),
    )
    return found
