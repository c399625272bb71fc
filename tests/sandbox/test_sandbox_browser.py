"""The sandbox page in a real headless Chromium: every role's whole loop, in one browser session.

Playwright drives Debian's Chromium (``/usr/bin/chromium``); it never downloads a browser.
Each step leaves a screenshot in ``test-output/sandbox/`` (ignored by git) to look at. Without
Chromium or the ``playwright`` package the test is skipped, except under CI (``CI`` set), where
it fails. The sandbox starts on a Sunday evening in the sample departments' time zone, so one
"+1 day" crosses a Monday morning: the weekly digest comes at 9:00 and the reminders at the
times they fall due, not at the time of the click.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from bot.config.file import load_config
from bot.sandbox.run import Sandbox

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

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
ZONE = "America/New_York"
ALEX, BLAIR = "U0STAFF001", "U0STAFF002"
PW_LEAD, PARKS_LEAD, COMMS = "U0LEADPW1", "U0LEADPK1", "U0COMMS01"


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install 'playwright>=1.48,<2')"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium, or `make browser` as root)"
    return None


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    why = _missing()
    if why is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{why}; CI needs it")
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    for old in SHOTS.glob("*.png"):  # the artifacts are this run's only
        old.unlink()
    sandbox = Sandbox(
        load_config(None), port=0, database=tmp_path / "sandbox.db", start_at=_sunday_evening()
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
                timezone_id=ZONE,  # the page shows times in the departments' zone
                locale="en-US",
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
                page.on("dialog", lambda dialog: dialog.accept())  # "Are you sure?" confirms
                page.goto(url)
                yield page
                assert not errors, f"the page logged errors: {errors}"
                assert not sandbox.slack.rejections, "Slack would have refused some Block Kit"
            finally:
                context.close()
    finally:
        sandbox.stop()


def _sunday_evening() -> datetime:
    zone = ZoneInfo(ZONE)
    today = datetime.now(zone).date()
    sunday = today + timedelta(days=(6 - today.weekday()) % 7 or 7)
    return datetime.combine(sunday, time(18), zone)


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def _as(page: Page, user: str) -> None:
    page.select_option("#user", user)


def _channel(page: Page, name: str) -> None:
    page.locator("#channels").get_by_text(name, exact=True).click()
    from playwright.sync_api import expect

    expect(page.locator("#channel-name")).to_have_text(f"# {name}")


def _command(page: Page, text: str) -> None:
    page.fill("#composer-text", text)
    page.press("#composer-text", "Enter")


def _modal_submit(page: Page) -> None:
    page.click("#modal-submit")


def _time_of(message: Locator) -> str:
    return message.locator(".msg-head .time").inner_text()


def test_every_role_walks_the_whole_loop(page: Page) -> None:
    from playwright.sync_api import expect

    modal, overlay = page.locator("#modal"), page.locator("#overlay")

    # The sample mentions are there as cards: two in #public-works.
    expect(page.locator("#channels .nav-item")).to_have_count(4)
    _channel(page, "public-works")
    expect(page.locator("#messages .msg")).to_have_count(2)
    expect(page.locator("#messages")).to_contain_text("pothole the size of a bathtub")
    _shot(page, "01-start")

    # A citizen posts on Bluesky; the page follows the card into #parks.
    page.click("#citizen-open")
    page.select_option("#citizen-source", "bluesky")
    expect(page.locator("#citizen-author")).to_have_value("@maria.bsky.social")
    page.fill("#citizen-text", "The dog park gate on 5th Ave won't close & dogs <b>run</b> out!")
    page.click("#citizen-post")
    expect(page.locator("#channel-name")).to_have_text("# parks")
    card = page.locator("#messages .msg", has_text="dog park gate")
    expect(card).to_contain_text("won't close & dogs <b>run</b> out!")  # text, never HTML
    expect(card).to_contain_text("Bluesky")
    _shot(page, "02-card-arrived")

    # alex claims it; blair's Release is refused, only to blair.
    card.get_by_role("button", name="Claim", exact=True).click()
    expect(card).to_contain_text("Claimed by @alex")
    _as(page, BLAIR)
    card.get_by_role("button", name="Release").click()
    refusal = page.locator("#messages .msg.ephemeral")
    expect(refusal).to_contain_text("Only @alex, who claimed it, can release it.")
    expect(card).to_contain_text("Claimed by @alex")
    _shot(page, "03-refused")

    # blair answers on alex's claim: allowed, and said on the card and in the thread.
    card.get_by_role("button", name="Answered").click()
    expect(modal).to_be_visible()
    _modal_submit(page)
    expect(modal).to_contain_text("Please complete this required field.")
    modal.locator("textarea").first.fill("Thanks Maria! A crew fixes the gate tomorrow morning.")
    _shot(page, "04-answer-modal")
    _modal_submit(page)
    expect(overlay).to_be_hidden()
    expect(card).to_contain_text("Answered by @blair on @alex's claim")
    card.locator(".replies").click()
    thread = page.locator("#thread-messages")
    expect(thread).to_contain_text("@blair answered the citizen on @alex's claim")
    _shot(page, "05-answered-thread")
    page.click("#pane-close")

    # alex hands the street light card over to Parks.
    _as(page, ALEX)
    _channel(page, "public-works")
    light = page.locator("#messages .msg", has_text="street light")
    light.get_by_role("button", name="Hand over").click()
    expect(modal).to_be_visible()
    modal.locator("select").first.select_option(label="Parks and Recreation")
    _modal_submit(page)
    expect(overlay).to_be_hidden()
    expect(light).to_contain_text("Handed over to Parks and Recreation by @alex")
    _shot(page, "06-handed-over")

    # The comms team adds a rule (a multi-select in the form), edits it, and tests a text.
    _as(page, COMMS)
    _command(page, "/engage rules")
    expect(modal).to_be_visible()
    modal.get_by_role("button", name="Add a rule").click()
    expect(modal.locator("select[multiple]").first).to_be_visible()
    _modal_submit(page)  # nothing filled in: errors shown in each field, no TypeError
    expect(modal.locator(".b-input.has-error").first).to_be_visible()
    modal.locator("input.field").first.fill("benches")
    modal.get_by_label("Department", exact=True).select_option(label="Parks and Recreation")
    modal.get_by_label("Keywords").fill("bench, benches")
    regex = modal.get_by_label("Regular expressions")
    regex.fill(r"\d+(")
    _modal_submit(page)
    expect(modal).to_contain_text(r"Bad regex “\d+(”")  # as typed, backslash not doubled
    regex.fill("")
    _shot(page, "07-rule-form")
    _modal_submit(page)
    rule = modal.locator(".b-section", has_text="#4 benches")
    expect(rule).to_contain_text("keywords: bench, benches")
    _shot(page, "08-rule-added")
    rule.locator("select").select_option(label="Edit")
    expect(modal.get_by_label("Keywords")).to_have_value("bench, benches")
    modal.get_by_label("Keywords").fill("bench, benches, picnic table")
    _modal_submit(page)
    expect(modal.locator(".b-section", has_text="#4 benches")).to_contain_text("picnic table")
    _command_closed(page)
    _command(page, "/engage route-test new benches downtown")
    expect(page.locator("#messages .msg.ephemeral").last).to_contain_text("benches")

    # Each role opens its App Home.
    for who, text in ((ALEX, "alex"), (PW_LEAD, "public-works"), (COMMS, "comms")):
        _as(page, who)
        page.locator("#apps .nav-item").click()
        expect(page.locator("#messages .home")).to_be_visible()
        expect(page.locator("#messages .home .blocks > *").first).to_be_visible()
        _shot(page, f"09-home-{text}")

    # The Public Works lead asks for a summary and posts it: text and chart image.
    _as(page, PW_LEAD)
    _channel(page, "public-works")
    _command(page, "/engage summary")
    answer = page.locator("#messages .msg.ephemeral").last
    expect(answer).to_contain_text("📊")  # emoji codes are drawn, not shown as text
    answer.get_by_role("button", name="Post to channel").click()
    chart = page.locator("#messages .msg .file img").last
    expect(chart).to_be_visible(timeout=15000)
    assert "chart" in (chart.get_attribute("alt") or "").lower() or chart.get_attribute("alt")
    assert chart.evaluate("img => img.naturalWidth") > 100  # the PNG, really drawn
    _shot(page, "10-summary-chart")

    # A day goes by: the digest arrives Monday at 9:00, reminders when each falls due.
    page.click('[data-minutes="1440"]')
    expect(page.locator("#tour-count")).to_contain_text("done", timeout=30000)  # walk finished
    expect(page.locator("#now")).to_contain_text("Mon")
    page.locator("#apps .nav-item").click()
    digest = page.locator("#messages .msg", has_text="summary for last week").first
    expect(digest).to_be_visible(timeout=15000)
    assert _time_of(digest) == "9:00 AM", _time_of(digest)
    _shot(page, "11-digest")
    _channel(page, "public-works")
    reminder = page.locator("#messages .msg", has_text="replied to a thread").first
    expect(reminder).to_be_visible(timeout=15000)
    expect(reminder).to_contain_text("pothole")  # which card it is about
    hour = int(re.match(r"(\d+):", _time_of(reminder)).group(1))  # type: ignore[union-attr]
    assert "AM" in _time_of(reminder) or hour < 6, _time_of(reminder)  # not at 6 PM, the click
    _shot(page, "12-reminders")

    # Narrow windows: the top bar wraps instead of running off the page.
    page.set_viewport_size({"width": 760, "height": 800})
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    bar = page.locator(".topbar").bounding_box()
    assert bar is not None and bar["width"] <= 760
    _shot(page, "13-narrow")


def _command_closed(page: Page) -> None:
    from playwright.sync_api import expect

    page.click("#modal-close")
    expect(page.locator("#overlay")).to_be_hidden()
