"""The public report: the summaries' figures of the same month, nothing personal, small counts
suppressed, and a page a browser and a screen reader can read.

The figures are checked on SQLite and PostgreSQL; the page is read once in headless Chromium
(skipped without it locally, required under CI, as ``tests/sandbox/test_sandbox_browser.py``).
"""

from __future__ import annotations

import importlib.util
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.app.compose import Engage
from bot.config.file import parse_config
from bot.core.adapter import IncomingMention
from bot.report.html import duration
from bot.sandbox.fake_slack import FakeSlack
from storage.db import session_scope
from storage.models import Outbox
from tests.conftest import CONFIG, settings_for
from tests.factories import Clock

CHROMIUM = Path("/usr/bin/chromium")
URL = "https://city.example/answers/"
STAFF = [f"U0ANSWER{i}" for i in range(1, 7)]
# (day of November, source, author, text, answered by, answered after minutes)
NOVEMBER = [
    (3, "mastodon", "@pia@town.social", "Pothole on Quince Lane", STAFF[0], 40),
    (4, "mastodon", "@quinn@town.social", "Pothole near the Ximenes bakery", STAFF[1], 90),
    (5, "mastodon", "@rosa@town.social", "Street light out on Yarrow Way", STAFF[2], 30),
    (6, "email", "Sam Vetch <sam@example.org>", "Bins not collected on Zinnia Road", STAFF[3], 200),
    (10, "email", "Tia Wren <tia@example.org>", "Pothole by the Umber school", STAFF[4], 60),
    (11, "mastodon", "@uma@town.social", "Pothole again on Quince Lane", STAFF[0], 20),
    (12, "mastodon", "@vic@town.social", "Street light flickering on Oleander", None, 0),
    (13, "mastodon", "@wes@town.social", "The playground at Juniper park is flooded", STAFF[5], 45),
    (14, "email", "Xan Yule <xan@example.org>", "Park benches broken at Kestrel park", None, 0),
]
OCTOBER = [
    (d, "mastodon", f"@oct{d}@town.social", f"Pothole number {d}", STAFF[d % 2], 30)
    for d in range(6, 12)
]
PERSONAL = ["town.social", "example.org", "pia", "Vetch", "Quince", "Ximenes", "pothole", "bench"]


def build(slack: FakeSlack, engine: Engine, extra: str = "") -> Engage:
    clock = Clock(datetime(2026, 10, 1, tzinfo=UTC))
    bot = Engage(
        settings_for(slack), parse_config(CONFIG + extra), engine=engine, migrate=False, clock=clock
    )
    n = 0
    for month, posts in ((10, OCTOBER), (11, NOVEMBER)):
        for day, source, author, text, answerer, after in posts:
            n += 1
            clock.at = datetime(2026, month, day, 15, 0, tzinfo=UTC)  # a weekday, office hours
            result = bot.ingest_one(IncomingMention(source, f"x{n}", text, author=author))
            assert result.mention_id is not None
            if answerer:
                clock.at += timedelta(minutes=after)
                outcome = bot.claims.answer(
                    mention_id=result.mention_id,
                    user_id=answerer,
                    text="On it",
                    request_key=f"a{n}",
                )
                assert outcome.ok
    clock.at = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    return bot


def test_the_report_agrees_with_the_summaries_and_names_nobody(
    slack: FakeSlack, engine: Engine, tmp_path: Path
) -> None:
    bot = build(slack, engine, f"report: {{url: '{URL}'}}\n")
    built = bot.public_report.build("2026-11", tmp_path / "site")
    assert [p.name for p in built.paths] == ["index.html", "report.csv", "report.json"]
    threshold = bot.config.report.min_count
    for scope in built.scopes:
        summary = bot.summaries.report(
            department=scope.slug, period="2026-11-01..2026-11-30", lead_view=False
        ).comparison.current
        shown = scope.current

        def same(count: int | None, figure: int) -> bool:
            return count == (figure if figure == 0 or figure >= threshold else None)

        assert same(shown.received.value, summary.received), scope.name
        assert same(shown.answered.value, summary.answered), scope.name
        assert same(shown.staff.value, summary.answerers), scope.name
        assert {s: c.value for s, c in shown.by_source.items()} == {
            s: n if n >= threshold else None for s, n in summary.received_by_source.items()
        }
        if summary.answered >= threshold:
            assert (shown.answer_median, shown.answer_p90) == (
                summary.answer_median,
                summary.answer_p90,
            )
        else:
            assert shown.answer_median is shown.answer_p90 is None
    city, works, parks = built.scopes
    assert (city.current.received.value, works.current.received.value) == (9, 7)
    assert (works.current.answered.value, works.current.staff.value) == (6, 5)
    assert parks.current.received.value is None and parks.current.share_answered is None
    assert works.current.share_answered == pytest.approx(6 / 7)
    assert [m.month for m in city.months] == [
        "2026-06",
        "2026-07",
        "2026-08",
        "2026-09",
        "2026-10",
        "2026-11",
    ]
    assert city.months[-2].received.value == 6

    data = json.loads(built.paths[2].read_text())
    row = next(r for r in data["rows"] if r["month"] == "2026-11" and r["department"] == "parks")
    assert row["received"] == "<5" and row["answer_median_minutes"] is None
    bot.summaries.digest("public-works")  # the weekly digest links to the published report
    with session_scope(bot.engine) as session:
        digests = [o.payload.get("text", "") for o in session.exec(select(Outbox))]
    assert any(f"<{URL}|public report>" in text for text in digests)
    published = "\n".join(p.read_text() for p in built.paths).lower()
    for word in [*PERSONAL, *STAFF, "on it"]:
        assert word.lower() not in published, word


def _browser_missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


def test_the_page_reads_well_in_a_browser(slack: FakeSlack, sqlite: Engine, tmp_path: Path) -> None:
    why = _browser_missing()
    if why is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{why}; CI needs it")
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    bot = build(slack, sqlite)
    built = bot.public_report.build("2026-11", tmp_path / "site")
    works = built.scopes[1].current
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            page.goto(built.paths[0].as_uri())
            assert page.evaluate("document.documentElement.lang") == "en"
            assert page.title().endswith("2026-11")
            text = page.inner_text("body")
            for word in [*PERSONAL, *STAFF]:
                assert word.lower() not in text.lower(), word
            assert "fewer than 5" in text
            tables = page.evaluate(
                "[...document.querySelectorAll('table')].map(t => [t.querySelector('caption')"
                "?.textContent || '', t.querySelectorAll('th').length])"
            )
            assert tables and all(caption and headers for caption, headers in tables)
            charts = page.evaluate(
                "[...document.querySelectorAll('svg')].map(s => [s.getAttribute('role'),"
                " s.querySelector('title')?.textContent || '', s.querySelector('desc')"
                "?.textContent || ''])"
            )
            assert charts and all(role == "img" and title and desc for role, title, desc in charts)
            row = page.evaluate(
                "[...document.querySelectorAll('tr')].find(r => r.querySelector('th')"
                "?.textContent === 'Public Works')?.innerText || ''"
            )
            cells = row.split("\t")
            assert cells == [
                "Public Works",
                "7",
                "6",
                "86%",
                duration(works.answer_median),
                duration(works.answer_p90),
                "5",
            ]
            parks = page.evaluate(
                "[...document.querySelectorAll('tr')].find(r => r.querySelector('th')"
                "?.textContent === 'Parks and Recreation')?.innerText || ''"
            )
            assert parks.split("\t")[1] == "fewer than 5"
        finally:
            browser.close()
