"""The sandbox page in a real headless Chromium: a newcomer's whole loop, step by step.

Playwright drives Debian's Chromium (``/usr/bin/chromium``); it never downloads a browser.
Each step leaves a screenshot in ``test-output/sandbox/`` to look at. Without Chromium or the
``playwright`` package the test is skipped, except under CI (``CI`` set), where it fails.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from bot.config.file import load_config
from bot.sandbox.run import Sandbox

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "sandbox"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ALEX, BLAIR = "U0STAFF001", "U0STAFF002"


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install 'playwright>=1.48,<2')"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    why = _missing()
    if why is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{why}; CI needs it")
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    # A Tuesday at 10:00 in the sample departments' zone: a day later the office is open again.
    sandbox = Sandbox(
        load_config(None),
        port=0,
        database=tmp_path / "sandbox.db",
        start_at=_next_tuesday_morning(),
    )
    try:
        url = sandbox.start()
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                str(tmp_path / "chromium-profile"),  # a new, empty user data dir
                executable_path=str(CHROMIUM),
                headless=True,
                args=ARGS,
                viewport={"width": 1440, "height": 860},
            )
            try:
                context.set_default_timeout(8000)
                page = context.pages[0] if context.pages else context.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                page.on(
                    "console",
                    lambda msg: errors.append(msg.text) if msg.type == "error" else None,
                )
                page.goto(url)
                yield page
                assert not errors, f"the page logged errors: {errors}"
            finally:
                context.close()
    finally:
        sandbox.stop()


def _next_tuesday_morning() -> datetime:
    zone = ZoneInfo("America/New_York")
    today = datetime.now(zone).date()
    tuesday = today + timedelta(days=(1 - today.weekday()) % 7 or 7)
    return datetime.combine(tuesday, time(10), zone)


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_a_newcomer_walks_the_whole_loop(page: Page) -> None:
    from playwright.sync_api import expect

    # The sample mentions are there as cards: two in #public-works.
    expect(page.locator("#channels .nav-item")).to_have_count(4)
    page.click('[data-channel="C0PUBWORKS"]')
    expect(page.locator("#channel-name")).to_have_text("# public-works")
    expect(page.locator("#messages .msg")).to_have_count(2)
    expect(page.locator("#messages")).to_contain_text("pothole the size of a bathtub")
    _shot(page, "01-start")

    # A citizen posts on Bluesky; the page follows the card into #parks.
    page.click("#citizen-open")
    page.select_option("#citizen-source", "bluesky")
    expect(page.locator("#citizen-author")).to_have_value("@maria.bsky.social")
    page.fill("#citizen-text", "The dog park gate on 5th Ave won't close & dogs <b>run</b> out!")
    _shot(page, "02-citizen")
    page.click("#citizen-post")
    expect(page.locator("#channel-name")).to_have_text("# parks")
    card = page.locator("#messages .msg", has_text="dog park gate")
    expect(card).to_contain_text("won't close & dogs <b>run</b> out!")  # text, never HTML
    expect(card).to_contain_text("Bluesky")
    expect(card).to_contain_text("Unclaimed")
    _shot(page, "03-card-arrived")

    # alex claims it.
    card.get_by_role("button", name="Claim", exact=True).click()
    expect(card).to_contain_text("Claimed by @alex")
    expect(card.get_by_role("button", name="Release")).to_be_visible()
    _shot(page, "04-claimed")

    # blair tries to take it over: Engage refuses, only to blair.
    page.select_option("#user", BLAIR)
    card.get_by_role("button", name="Release").click()
    refusal = page.locator("#messages .msg.ephemeral")
    expect(refusal).to_contain_text("Only @alex, who claimed it, can release it.")
    expect(refusal).to_contain_text("Only visible to you")
    expect(card).to_contain_text("Claimed by @alex")
    _shot(page, "05-refused")

    # alex answers through the modal; a required field left empty is refused first.
    page.select_option("#user", ALEX)
    expect(refusal).to_have_count(0)  # ephemerals are the other user's
    card.get_by_role("button", name="Answered").click()
    modal = page.locator("#modal")
    expect(modal).to_be_visible()
    expect(modal).to_contain_text("Mark as answered")
    expect(modal).to_contain_text("@maria.bsky.social wrote:")
    modal.get_by_role("button", name="Save answer").click()
    expect(modal).to_contain_text("Please complete this required field.")
    modal.locator("textarea").fill("Thanks Maria! A crew fixes the gate tomorrow morning.")
    _shot(page, "06-answer-modal")
    modal.get_by_role("button", name="Save answer").click()
    expect(page.locator("#overlay")).to_be_hidden()
    expect(card).to_contain_text("Answered by @alex")
    expect(card.locator(".b-actions button")).to_have_count(0)  # nothing left to do

    # The thread keeps the story.
    card.locator(".replies").click()
    thread = page.locator("#thread-messages")
    expect(thread).to_contain_text("@alex claimed this.")
    expect(thread).to_contain_text("Thanks Maria! A crew fixes the gate tomorrow morning.")
    _shot(page, "07-answered-thread")

    # Time moves forward a day.
    before = page.locator("#now").inner_text()
    ahead = page.locator("#ahead").inner_text()
    page.click('[data-minutes="1440"]')
    expect(page.locator("#ahead")).not_to_have_text(ahead)  # one more day ahead
    assert page.locator("#now").inner_text() != before
    expect(page.locator("#tour-count")).to_contain_text("done")
    # A day of office time later the seeded mentions nobody claimed are brought back.
    page.locator("#channels").get_by_text("public-works").click()
    expect(page.locator("#messages")).to_contain_text("waiting for someone to claim", timeout=15000)
    _shot(page, "08-clock")
