"""The summary chart: a real PNG of a fixed size, for busy and empty periods alike, quickly."""

from __future__ import annotations

import dataclasses
import struct
import time
from datetime import UTC, date, datetime, timedelta

from bot.core.office_time import OfficeHours
from bot.summaries.chart import HEIGHT, WIDTH, render_chart
from bot.summaries.figures import Figures, compute, parse_period

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NOW = datetime(2026, 11, 18, 17, 0, tzinfo=UTC)
HOURS = OfficeHours.parse(
    timezone="America/New_York", hours={"mon-fri": "09:00-17:00"}, holidays=None, closures=[]
)


def empty(text: str = "last 30 days") -> Figures:
    period = parse_period(text, now=NOW, timezone="America/New_York")
    return compute(
        [],
        period=period,
        hours=HOURS,
        claim_sla=timedelta(hours=4),
        answer_sla=timedelta(hours=8),
        nudges=0,
        escalations=0,
        members=["U0ALICE01"],
    )


def busy(days: int = 30) -> Figures:
    start = date(2026, 10, 20)
    # Made-up but varied: counts 0-10, and a day without answers every fourth day.
    daily = [
        (
            start + timedelta(days=i),
            (i * 7) % 11,
            timedelta(minutes=40 * (i % 9)) if i % 4 else None,
        )
        for i in range(days)
    ]
    return dataclasses.replace(empty(), daily=daily, received=sum(n for _, n, _ in daily))


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which always follows the signature."""
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_chart_is_a_png_of_a_fixed_size() -> None:
    data = render_chart(busy(), title="Roads: last 30 days")
    assert data.startswith(PNG_SIGNATURE)
    assert png_size(data) == (WIDTH, HEIGHT) == (900, 450)


def test_size_does_not_depend_on_the_period_or_title() -> None:
    for figures, title in [
        (busy(7), "Roads & Parks: this week"),
        (busy(366), "A rather long department name: 2025-11-18 to 2026-11-18"),
        (busy(1), "$5 fares & <script>"),  # '$' must not switch on math mode
    ]:
        assert png_size(render_chart(figures, title=title)) == (900, 450)


def test_empty_period_renders() -> None:
    no_days = dataclasses.replace(empty(), daily=[])
    for figures in (empty(), empty("today"), no_days):
        data = render_chart(figures, title="Roads: nothing yet")
        assert data.startswith(PNG_SIGNATURE)
        assert png_size(data) == (900, 450)


def test_same_figures_same_bytes() -> None:
    figures = busy()
    assert render_chart(figures, title="Roads") == render_chart(figures, title="Roads")


def test_fast() -> None:
    figures = busy()
    render_chart(figures, title="warm-up")  # the first call loads fonts
    best = float("inf")
    for _ in range(3):  # best of three, so a busy CI machine does not make it flaky
        started = time.perf_counter()
        render_chart(figures, title="Roads: last 30 days")
        best = min(best, time.perf_counter() - started)
    assert best < 0.5
