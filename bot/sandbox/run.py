"""``engage sandbox``: the whole bot on one machine, with a local stand-in for Slack.

The bot runs exactly as in production (HTTP mode, SQLite, its scheduler and outbox); only
``SLACK_API_URL`` points at the fake Slack here, and clicks reach it as signed requests. The
sandbox adds what a visitor needs around it: people to act as, sample mentions, a citizen
who can post, and a clock to move forward, on which the bot's scheduled jobs run at their own
times (see ``clock``). Posts are not paced per channel here (Slack's one a second): a walk of
the clock delivers each reminder before the next job runs. A temporary database is removed
when the sandbox stops, or at the latest when the process exits.
"""

from __future__ import annotations

import atexit
import secrets
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, select

from bot.app.compose import Engage
from bot.config.file import EngageConfig, Settings, office_hours
from bot.core.adapter import IncomingMention
from bot.sandbox.clock import JobWalker, MovableClock
from bot.sandbox.fake_slack import FakeSlack
from bot.sandbox.people import people
from storage.models import Outbox

SAMPLE_MENTIONS = [
    (
        "mastodon",
        "@rosa@mastodon.social",
        "There's a pothole the size of a bathtub on Elm St "
        "near the school. Someone will break an axle. #potholes",
    ),
    (
        "bluesky",
        "@sam.bsky.social",
        "The playground swings at Riverside Park have been broken for two weeks now.",
    ),
    ("webhook", "Ana (web form)", "The street light outside 42 Oak Avenue flickers all night."),
    (
        "reddit",
        "u/commuter_joe",
        "Bus route 12 skipped my stop again this morning, third time this week.",
    ),
    (
        "email",
        "Jo Smith <jo@example.org>",
        "When is the next council meeting about the library hours?",
    ),
]


def working_hours_offset(config: EngageConfig) -> timedelta:
    """Start the sandbox's clock inside office hours (the first department's), so reminders
    show as soon as the visitor moves time forward, whatever the hour of the visit."""
    department = config.departments[0]
    hours = office_hours(department.timezone, department.office_hours)
    now = datetime.now(UTC)
    if hours.is_open(now):
        return timedelta()
    return hours.next_open(now) + timedelta(hours=1) - now


class Sandbox:
    def __init__(
        self,
        config: EngageConfig,
        *,
        host: str = "127.0.0.1",
        port: int = 8080,
        database: Path | None = None,
        seed: bool = True,
        start_at: datetime | None = None,
    ) -> None:
        delivery = config.delivery.model_copy(update={"channel_interval": 0.0})
        self.config = config.model_copy(update={"delivery": delivery})
        self.host, self.port, self.seed = host, port, seed
        self._temporary: Path | None = None
        if database is None:
            self._temporary = Path(tempfile.mkdtemp(prefix="engage-sandbox-"))
            atexit.register(shutil.rmtree, self._temporary, ignore_errors=True)
            database = self._temporary / "db.sqlite"
        self.database = database
        # ``start_at``: the sandbox's "now" when it starts (tests pin it to a working day).
        offset = (
            start_at - datetime.now(UTC) if start_at is not None else working_hours_offset(config)
        )
        self.clock = MovableClock(offset)
        self.slack = FakeSlack(signing_secret=secrets.token_hex(16))
        self.people = people(config)
        self.bot: Engage | None = None
        self.walker: JobWalker | None = None
        self.ui: object | None = None

    def start(self) -> str:
        from bot.sandbox.ui import SandboxUI

        self.slack.start()
        members = [p.id for p in self.people]
        for person in self.people:
            self.slack.add_user(person.id, person.name, real_name=person.name.title())
        self.slack.add_channel(self.config.triage.channel, "triage", members)
        for department in self.config.departments:
            self.slack.add_channel(department.channel, department.slug, members)
        settings = Settings(
            slack_bot_token=self.slack.bot_token,
            slack_signing_secret=self.slack.signing_secret,
            slack_app_token=None,
            slack_api_url=self.slack.api_url,
            database_url=f"sqlite:///{self.database}",
            config_path=None,
            port=0,
            host="127.0.0.1",
            webhook_secret=secrets.token_hex(16),
            log_level="WARNING",
            log_format="text",
        )
        self.bot = Engage(settings, self.config, clock=self.clock, adapters=[])
        self.bot.start(host="127.0.0.1", port=0)
        # A click is acked before it is decided: the page shows the card once it is.
        self.slack.after_interaction.append(self.bot.click_queue.settle)
        self.walker = JobWalker(
            self.bot.scheduler, self.clock, self.bot.delivery, queued=self._newest_outbox_row
        )
        self.walker.start()
        if self.seed:
            for source, author, text in SAMPLE_MENTIONS:
                self.post_mention(source=source, author=author, text=text)
        ui = SandboxUI(
            slack=self.slack,
            bot_events_url=f"{self.bot.url}/slack/events",
            people=self.people,
            channels=[(self.config.triage.channel, "triage")]
            + [(d.channel, d.slug) for d in self.config.departments],
            post_mention=self.post_mention,
            advance_clock=self.advance_clock,
            now=self.clock.now,
            sandbox_time=self.clock.sandbox_time,
        )
        self.ui = ui
        return ui.start(self.host, self.port)

    def post_mention(
        self, *, source: str, author: str, text: str, title: str | None = None
    ) -> None:
        """A citizen writes: the mention enters the bot as an adapter would bring it."""
        assert self.bot is not None
        self.bot.ingest_one(
            IncomingMention(
                source=source,
                external_id=f"sandbox-{secrets.token_hex(8)}",
                text=text,
                author=author,
                title=title,
                created_at=self.clock.now(),
            )
        )

    def advance_clock(self, by: timedelta) -> list[tuple[datetime, str]]:
        """Move time forward, running each scheduled job at its own times on the way (in order,
        each with the clock at that time); return when each job ran."""
        assert self.bot is not None and self.walker is not None
        ran = self.walker.advance(by)
        self.bot.delivery.wake()
        return ran

    def _newest_outbox_row(self) -> int | None:
        assert self.bot is not None
        with Session(self.bot.engine) as session:
            return session.exec(select(func.max(Outbox.id))).one()

    def stop(self) -> None:
        stop = getattr(self.ui, "stop", None)
        if stop is not None:
            stop()
        if self.walker is not None:
            self.walker.stop()
        if self.bot is not None:
            self.bot.stop()
        self.slack.stop()
        if self._temporary is not None:
            shutil.rmtree(self._temporary, ignore_errors=True)
