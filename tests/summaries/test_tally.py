"""The figures the database counts (:func:`tally`) are the figures :func:`compute` defines, on
SQLite and PostgreSQL; and city-wide, each mention's times are its own department's.

The first test stores a few hundred mentions whose stories are drawn at random (claims,
releases, answers, hand-overs, dismissals, some with office times recorded as the claims
service records them, some without, as before migration 0007) at whole minutes, so that claims
and answers often land exactly on a deadline, where the stored office times alone cannot tell
whether it was missed. The last test is the bug of issue 13 through the service.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.claims.service import Claims
from bot.config.file import parse_config
from bot.core.office_time import OfficeHours
from bot.core.slack_directory import SlackDirectory
from bot.nudges.policy import policies
from bot.outbox.replies import Replies
from bot.sandbox.fake_slack import FakeSlack
from bot.summaries.figures import Figures, Levels, MentionFacts, compute, parse_period
from bot.summaries.service import Summaries
from bot.summaries.tally import due_before, tally
from storage import events, mentions
from storage import summaries as reads
from storage.db import session_scope
from storage.models import EventKind, Mention
from tests.conftest import store_config
from tests.factories import Clock

NOW = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)  # a Friday
MEMBERS = ["U1", "U2", "U3"]
US = timedelta(microseconds=1)


@dataclass(frozen=True)
class Dept:
    hours: OfficeHours
    claim: timedelta
    answer: timedelta


def _hours(zone: str, hours: dict[str, str], closures: list[str] | None = None) -> OfficeHours:
    return OfficeHours.parse(timezone=zone, hours=hours, holidays=None, closures=closures or [])


ROADS = Dept(
    _hours("America/New_York", {"mon-fri": "09:00-17:00"}), timedelta(hours=4), timedelta(hours=8)
)
PARKS = Dept(
    _hours("Asia/Tokyo", {"mon-sat": "08:00-12:00,13:00-18:00"}, ["2026-11-03"]),
    timedelta(hours=2),
    timedelta(hours=16),
)
TRIAGE = Dept(_hours("UTC", {"mon-fri": "09:00-17:00"}), timedelta(hours=1), timedelta(hours=4))
DEPARTMENTS: dict[str, Levels] = {"roads": ROADS, "parks": PARKS}
STEPS = [0, 1, 5, 55, 60, 120, 240, 480, 481, 600, 960, 1440, 2880]  # minutes


def _levels(slug: str | None) -> Levels:
    return DEPARTMENTS.get(slug or "") or TRIAGE  # "gone" is no longer configured: triage's


def _office_us(rng: random.Random, slug: str | None, start: datetime, end: datetime) -> int | None:
    if rng.random() < 0.3:
        return None  # recorded before 0007, or by a process without the hours
    return _levels(slug).hours.between(start, end) // US


def _story(session: Session, rng: random.Random, n: int) -> None:
    """One mention and what happened to it, in order, at whole minutes."""
    slug = rng.choice(["roads", "parks", None, "gone"])
    at = NOW - timedelta(minutes=rng.randrange(0, 40 * 24 * 60))
    mention_id = mentions.insert(
        session=session,
        values={
            "source": rng.choice(["email", "x", "rss"]),
            "external_id": f"m{n}",
            "text": " ".join(rng.choices(["pothole", "Café", "cafe", "tree", "noise"], k=3)),
            "received_at": at,
            "department": slug,
            "extra": {},
        },
    )
    assert mention_id is not None
    received, first_claim, who = at, None, rng.choice(["U1", "U2", "U3", "U4"])
    for _ in range(rng.randrange(0, 4)):
        at += timedelta(minutes=rng.choice(STEPS))
        if at >= NOW:
            return
        action = rng.choice(["claim", "claim", "answer", "release", "hand_over", "dismiss"])
        if action == "claim" and mentions.claim(
            session=session,
            mention_id=mention_id,
            user_id=who,
            now=at,
            claim_office_us=_office_us(rng, slug, received, at),
        ):
            first_claim = first_claim or at
        elif action == "answer":
            mentions.answer(
                session=session,
                mention_id=mention_id,
                user_id=who,
                text="done",
                now=at,
                claim_office_us=_office_us(rng, slug, received, first_claim or at),
                answer_office_us=_office_us(rng, slug, received, at),
            )
        elif action == "release":
            mentions.release(session=session, mention_id=mention_id, user_id=who, now=at)
        elif action == "dismiss":
            mentions.dismiss(session=session, mention_id=mention_id, user_id=who, reason="spam")
        elif action == "hand_over":
            to = rng.choice([d for d in ("roads", "parks", "gone") if d != slug])
            if mentions.hand_over(
                session=session,
                mention_id=mention_id,
                from_department=slug,
                to_department=to,
                now=at,
            ):
                events.record(
                    session=session, mention_id=mention_id, kind=EventKind.HANDED_OVER, at=at
                )
                slug = to


def _facts(
    session: Session, slug: str | None, everywhere: bool, start: datetime, end: datetime
) -> list[MentionFacts]:
    def took(us: int | None) -> timedelta | None:
        return None if us is None else us * US

    rows = reads.mentions_in(
        session=session, department=slug, start=start, end=end, everywhere=everywhere
    )
    return [
        MentionFacts(
            id=r.id,
            source=r.source,
            department=r.department,
            received_at=r.received_at,
            status=r.status,
            first_claimed_at=r.first_claimed_at,
            answered_at=r.answered_at,
            answered_by=r.answered_by,
            handed_over=r.handed_over,
            text=r.text,
            claim_office=took(r.claim_office_us),
            answer_office=took(r.answer_office_us),
        )
        for r in rows
    ]


def _unmeasured(engine: Engine) -> int:
    claimed = func.coalesce(col(Mention.first_claimed_at), col(Mention.answered_at))
    with session_scope(engine) as s:
        query = select(func.count()).where(
            claimed.is_not(None), col(Mention.claim_office_us).is_(None)
        )
        return int(s.exec(query).one())


def test_the_database_counts_what_compute_defines(engine: Engine) -> None:
    rng = random.Random(13)
    with session_scope(engine) as s:
        for n in range(400):
            _story(s, rng, n)
    assert _unmeasured(engine) > 0
    late = 0
    for slug, everywhere in (("roads", False), ("parks", False), (None, True)):
        levels = _levels(slug)
        for text in ("last 30 days", "last week", "this week", "today", "2026-10-25..2026-11-05"):
            period = parse_period(text, now=NOW, timezone=levels.hours.timezone)
            with session_scope(engine) as s:
                counted = tally(
                    session=s,
                    department=slug,
                    everywhere=everywhere,
                    period=period,
                    levels=levels,
                    departments=DEPARTMENTS,
                    nudges=2,
                    escalations=1,
                    members=MEMBERS,
                )
            with session_scope(engine) as s:
                facts = _facts(s, slug, everywhere, period.start, period.end)
            defined = compute(
                facts,
                period=period,
                hours=levels.hours,
                claim_sla=levels.claim,
                answer_sla=levels.answer,
                nudges=2,
                escalations=1,
                members=MEMBERS,
                departments=DEPARTMENTS if everywhere else None,
            )
            assert counted == defined, (slug, text)
            late += counted.sla_breaches
    assert late > 0
    # The summaries measured and stored what the last 30 days needed, once.
    with session_scope(engine) as s:
        facts = _facts(s, None, True, NOW - timedelta(days=30), NOW)
    assert all(f.claim_office is not None for f in facts if f.first_claimed_at or f.answered_at)


def test_due_before_splits_starts_exactly() -> None:
    for dept in (ROADS, PARKS, TRIAGE):
        for sla in (dept.claim, dept.answer, timedelta(0)):
            cut = due_before(dept.hours, sla, NOW)
            assert dept.hours.add(cut - US, sla) < NOW <= dept.hours.add(cut, sla)


CITY = """
triage: {channel: C0TRIAGE01}
departments:
  - {slug: public-works, name: Public Works, channel: C0PUBWORKS, timezone: America/New_York}
  - {slug: parks, name: Parks, channel: C0PARKS001, timezone: Asia/Tokyo}
"""


def _claims(engine: Engine, slack: FakeSlack, *, record: bool) -> dict[str | None, Figures]:
    """Three claims after 1, 5 and 3 minutes of office time (Public Works in New York, Parks in
    Tokyo), all while triage's UTC office is closed; the figures of each and of the city."""
    config = parse_config(CITY)
    store_config(engine, config)
    rules = policies(config)
    clock = Clock(NOW)
    claims = Claims(
        engine=engine,
        clock=clock,
        wake=lambda: None,
        replies=Replies({}),
        office_hours=(lambda slug: (rules.get(slug) or rules[None]).hours) if record else None,
    )
    tuesday = datetime(2026, 11, 17)
    stories = [  # department, zone, arrival (local), minutes to the claim
        ("public-works", "America/New_York", tuesday.replace(hour=13, minute=55), 1),
        ("public-works", "America/New_York", tuesday.replace(hour=14), 5),
        ("parks", "Asia/Tokyo", tuesday.replace(hour=10), 3),
    ]
    for n, (slug, zone, local, minutes) in enumerate(stories):
        arrived = local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
        assert not rules[None].hours.is_open(arrived)  # outside triage's hours: 0 min there
        with session_scope(engine) as s:
            mention_id = mentions.insert(
                session=s,
                values={
                    "source": "x",
                    "external_id": f"c{n}",
                    "received_at": arrived,
                    "department": slug,
                    "extra": {},
                },
            )
        assert mention_id is not None
        clock.at = arrived + timedelta(minutes=minutes)
        assert claims.claim(
            mention_id=mention_id, user_id="U1", request_key=f"k{n}", channel_id="C"
        )
    summaries = Summaries(
        engine=engine,
        clock=Clock(NOW),
        config=config,
        policies=rules,
        directory=SlackDirectory(WebClient(token=slack.bot_token, base_url=slack.api_url)),
        wake=lambda: None,
    )
    return {
        slug: summaries.report(
            department=slug, period="this week", lead_view=False
        ).comparison.current
        for slug in ("public-works", "parks", None)
    }


@pytest.mark.parametrize("record", [True, False], ids=["recorded", "measured"])
def test_city_wide_times_are_each_departments_own(
    engine: Engine, slack: FakeSlack, record: bool
) -> None:
    """Recorded by the claims service, or (as before 0007) measured by the summary."""
    figures = _claims(engine, slack, record=record)
    works, parks, city = figures["public-works"], figures["parks"], figures[None]
    assert (works.claim_median, works.claim_p90) == (timedelta(minutes=1), timedelta(minutes=5))
    assert parks.claim_median == timedelta(minutes=3)
    # 1, 3 and 5 minutes: the city's median is the middle one, its 90th the slowest.
    assert (city.claim_median, city.claim_p90) == (timedelta(minutes=3), timedelta(minutes=5))
    assert city.received == works.received + parks.received == 3
    assert city.sla_breaches == works.sla_breaches + parks.sla_breaches
