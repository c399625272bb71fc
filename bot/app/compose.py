"""The composition root: builds every part from settings and config, starts and stops them.

This is the one module of ``bot`` that imports ``handlers`` (to wire them into Bolt).
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from apscheduler.schedulers.background import BackgroundScheduler
from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy.engine import Engine
from waitress import wasyncore

import handlers
from bot.app import socket_mode, web_processes
from bot.app.answering_wiring import build_answering
from bot.app.digest_wiring import schedule_digests
from bot.app.privacy_wiring import build_privacy, schedule_privacy
from bot.app.slack_gate import SlackGate, on_listener_error
from bot.app.urgent_wiring import build_urgent, danger_words, schedule_urgent
from bot.app.web import Traffic, WebApp
from bot.claims.click_queue import ClickQueue
from bot.claims.service import Claims
from bot.config.comms import CommsTeam
from bot.config.file import EngageConfig, Settings
from bot.config.priority_authors import PriorityAuthors
from bot.core import metrics
from bot.core.adapter import IncomingMention, Replier
from bot.core.clock import Clock, SystemClock
from bot.core.slack_directory import SlackDirectory
from bot.home.service import Home
from bot.intake import registry as sources
from bot.intake.ingest import Ingestor, IngestResult
from bot.intake.polling import Poller, Scheduled, StreamingAdapter
from bot.intake.screening.brigading import Brigading, set_muted
from bot.intake.screening.linking import Linking
from bot.nudges.policy import policies as nudge_policies
from bot.nudges.sweep import Nudger
from bot.outbox.delivery import Delivery
from bot.outbox.replies import Replies
from bot.routing import Match
from bot.rules.admin import RuleAdmin
from bot.rules.docs import doc_of_config
from bot.rules.rulebook import Rulebook, config_departments
from bot.summaries.service import Summaries
from storage import inbox
from storage import outbox as outbox_rows
from storage.db import is_sqlite, make_engine, ping, session_scope, upgrade
from storage.rules import rows as stored

log = logging.getLogger(__name__)


class Engage:
    socket_ping_interval = 10.0  # seconds between the Socket Mode client's pings

    def __init__(
        self,
        settings: Settings,
        config: EngageConfig,
        *,
        clock: Clock | None = None,
        engine: Engine | None = None,
        adapters: Sequence[Scheduled] | None = None,
        repliers: Mapping[str, Replier] | None = None,
        migrate: bool | None = None,
    ) -> None:
        self.settings = settings
        self.config = config
        self.clock = clock or SystemClock()
        self.engine = engine or make_engine(settings.database_url)
        # SQLite is a local file the bot owns: upgrade it. PostgreSQL is shared by replicas:
        # an operator runs `engage db upgrade` (or the container's entrypoint does).
        if migrate if migrate is not None else is_sqlite(self.engine):
            upgrade(self.engine)
        self.client = WebClient(
            token=settings.slack_bot_token,
            base_url=settings.slack_api_url,
            timeout=15,
            retry_handlers=[],  # delivery decides about retries (see bot/outbox/delivery.py)
        )
        self.directory = SlackDirectory(self.client)
        self.comms = CommsTeam(config.comms_team, self.directory)
        areas = config.load_areas()
        author_lists = config.author_members()
        self.rule_admin = RuleAdmin(
            engine=self.engine,
            clock=self.clock,
            comms=self.comms,
            author_lists=author_lists,
            areas=areas,
        )
        self._sync_config()
        self.rulebook = Rulebook(
            triage_channel=config.triage.channel, areas=areas, author_lists=author_lists
        )
        self.ingestor = Ingestor(
            rulebook=self.rulebook,
            clock=self.clock,
            brigading=Brigading(config.brigading, config.adapters),
            linking=Linking(config.linking),
            priority=PriorityAuthors(config.author_lists),
            danger=danger_words(self),
        )
        built = sources.build(config, settings.env)
        self.adapters = list(adapters) if adapters is not None else built.scheduled
        self.replies = Replies(repliers if repliers is not None else built.repliers)
        self.delivery = Delivery(
            engine=self.engine,
            client=self.client,
            clock=self.clock,
            replies=self.replies,
            channel_interval=config.delivery.channel_interval,
            concurrency=config.delivery.concurrency,
            give_up_after=timedelta(minutes=config.delivery.give_up_after),
            alert_channel=config.triage.channel,
        )
        policies = nudge_policies(config)
        self.claims = Claims(
            engine=self.engine,
            clock=self.clock,
            wake=self.delivery.wake,
            replies=self.replies,
            # The hours a claim's office time is measured in: its department's, else triage's.
            office_hours=lambda slug: (policies.get(slug) or policies[None]).hours,
        )
        self.traffic = Traffic()
        self.delivery.yield_to = self.traffic.wait_quiet
        self.click_queue = ClickQueue(
            engine=self.engine,
            claims=self.claims,
            clock=self.clock,
            yield_to=self.traffic.wait_quiet,
        )
        self.nudger = Nudger(
            engine=self.engine,
            clock=self.clock,
            policies=nudge_policies(config),
            directory=self.directory,
            wake=self.delivery.wake,
        )
        self.summaries = Summaries(
            engine=self.engine,
            clock=self.clock,
            config=config,
            policies=nudge_policies(config),
            directory=self.directory,
            wake=self.delivery.wake,
        )
        self.home = Home(
            engine=self.engine,
            clock=self.clock,
            config=config,
            directory=self.directory,
            summaries=self.summaries,
            comms=self.comms,
            rule_admin=self.rule_admin,
            deliveries=self.delivery.failed,
        )
        self.poller = Poller(
            engine=self.engine, ingestor=self.ingestor, clock=self.clock, wake=self.delivery.wake
        )
        self.urgent = build_urgent(self)
        self.answering = build_answering(self)
        self.privacy, self.public_report = build_privacy(self)
        self.slack_ok = False
        self.bolt = self._bolt()
        self.web = WebApp(
            slack=None
            if settings.socket_mode
            else SlackGate(self.bolt, signing_secret=settings.slack_signing_secret or ""),
            ingest=self.ingest_one,
            webhook_secret=settings.webhook_secret,
            health=self.health,
            refresh_metrics=self._refresh_metrics,
            traffic=self.traffic,
        )
        self.scheduler = BackgroundScheduler(timezone="UTC")
        self._server: Any = None
        self._server_thread: threading.Thread | None = None
        self._socket: Any = None
        self._streams_stop = threading.Event()

    # Wiring.
    def _sync_config(self) -> None:
        with session_scope(self.engine) as session:
            if stored.sync_departments(
                session=session, departments=config_departments(self.config)
            ):
                log.info("departments loaded from the config")
        docs = [doc_of_config(r) for r in self.config.rules]
        if self.rule_admin.seed(docs):
            log.info("routing rules seeded from the config", extra={"rules": len(docs)})
        elif docs and self.rule_admin.differs_from(docs):
            # The stored rules are the comms team's (changed in Slack): the file only seeds.
            log.warning(
                "the config's rules differ from the stored ones, which apply; "
                "`engage rules import FILE` replaces the stored rules with a file's"
            )

    def _bolt(self) -> App:
        app = App(
            client=WebClient(
                token=self.settings.slack_bot_token,
                base_url=self.settings.slack_api_url,
                timeout=10,
            ),
            signing_secret=self.settings.slack_signing_secret or "socket-mode-unused",
            token_verification_enabled=False,  # /healthz reports auth; start even if Slack is down
            raise_error_for_unhandled_request=False,
            # Listeners commit their decision and queue the rest in the outbox, so they are
            # fast: running them before the response saves Bolt's ack polling (10 ms steps)
            # and a thread hop per request.
            process_before_response=True,
        )
        handlers.register(
            app,
            handlers.Services(
                claims=self.claims,
                nudger=self.nudger,
                summaries=self.summaries,
                home=self.home,
                route_test=self.route_test,
                mute=self.mute,
                rule_admin=self.rule_admin,
                answering=self.answering,
                urgent=self.urgent,
                privacy=self.privacy,
                click_queue=self.click_queue,
            ),
        )
        app.error(on_listener_error)
        return app

    # Services the edges call.
    def ingest_one(self, item: IncomingMention) -> IngestResult:
        with session_scope(self.engine) as session:
            result = self.ingestor.ingest(session=session, items=[item])[0]
        if not result.duplicate:
            self.delivery.wake()
        return result

    def route_test(self, text: str) -> tuple[Match | None, str]:
        with session_scope(self.engine) as session:
            book = self.rulebook.current(session)
        match = book.route(text, "slack")
        name = book.names.get(match.department, match.department) if match else "triage"
        return match, name

    def mute(self, author: str, by: str, on: bool) -> str:
        with session_scope(self.engine) as session:
            return set_muted(
                session,
                author=author,
                by=by,
                on=on,
                allowed=self.comms.includes(by),
                now=self.clock.now(),
            )

    def health(self) -> tuple[bool, dict[str, Any]]:
        detail: dict[str, Any] = {"slack": self.slack_ok}
        try:
            ping(self.engine)
            detail["database"] = True
        except Exception as exc:
            detail["database"] = False
            detail["database_error"] = type(exc).__name__
        last = self.delivery.last_delivery_at
        detail["last_delivery"] = last.isoformat() if last else None
        return bool(detail["database"] and self.slack_ok), detail

    def _refresh_metrics(self) -> None:
        with session_scope(self.engine) as session:
            depth, age = outbox_rows.stats(session=session, now=self.clock.now())
        metrics.OUTBOX_DEPTH.set(depth)
        metrics.OUTBOX_AGE.set(age)

    def _check_slack(self) -> None:
        self.slack_ok = self.delivery.check_auth()

    def _forget_old_requests(self) -> None:
        # Slack retries within minutes; a week of request keys is plenty. Delivered outbox
        # rows are kept as long, for looking into what happened.
        cutoff = self.clock.now() - timedelta(days=7)
        with session_scope(self.engine) as session:
            inbox.forget_before(session=session, cutoff=cutoff)
            outbox_rows.purge_finished(session=session, before=cutoff)

    # Lifecycle.
    def start(self, *, host: str | None = None, port: int | None = None) -> None:
        self._check_slack()
        self.delivery.start()
        self.click_queue.start()
        jobs: dict[str, Any] = {
            "max_instances": 1,
            "coalesce": True,
            "misfire_grace_time": 60,
            "replace_existing": True,
        }
        self.scheduler.add_job(self._check_slack, "interval", seconds=300, id="slack-auth", **jobs)
        every = self.config.nudges.sweep_every
        self.scheduler.add_job(
            self.nudger.sweep, "interval", seconds=every, id="nudge-sweep", **jobs
        )
        self.scheduler.add_job(
            self._forget_old_requests, "interval", hours=6, id="inbox-gc", **jobs
        )
        schedule_urgent(self, self.urgent, jobs)
        schedule_privacy(self, jobs)
        schedule_digests(self.scheduler, self.config, self.summaries, jobs)
        for item in self.adapters:
            self.scheduler.add_job(
                self.poller.run,
                "interval",
                args=[item],
                seconds=5,
                id=f"adapter:{item.adapter.name}",
                next_run_time=datetime.now(UTC) + timedelta(seconds=1),
                **jobs,
            )
        self.scheduler.start()
        for item in self.adapters:
            if item.stream:
                self.poller.start_stream(cast(StreamingAdapter, item.adapter), self._streams_stop)
        self._server = web_processes.serve(  # and ENGAGE_WEB_PROCESSES - 1 more processes
            self.web,
            self.settings,
            self.config,
            host=host or self.settings.host,
            port=self.settings.port if port is None else port,
            wake=self.click_queue.wake,
        )
        self._server_thread = threading.Thread(
            target=self._server.run, name="engage-http", daemon=True
        )
        self._server_thread.start()
        if self.settings.socket_mode:
            token, ping = self.settings.slack_app_token or "", self.socket_ping_interval
            self._socket = socket_mode.connect(
                self.bolt, token, ping_interval=ping, traffic=self.traffic
            )
        # Everything built so far lives as long as the bot: out of the collector's sight, a full
        # collection takes ~5 ms instead of ~90 ms, which a click arriving then waited for
        # (benchmarks/bench_click_ack.py: gen-2 pauses were its p99).
        gc.freeze()
        log.info(
            "engage started",
            extra={
                "url": self.url,
                "socket_mode": self.settings.socket_mode,
                "adapters": [a.adapter.name for a in self.adapters],
            },
        )

    @property
    def url(self) -> str:
        if self._server is None:
            return ""
        return f"http://{self._server.effective_host}:{self._server.effective_port}"

    def stop(self) -> None:
        """Stop taking work, finish the delivery in flight, then close."""
        self._streams_stop.set()
        if self._socket is not None:
            self._socket.close()
        if self._server is not None:
            # Let requests in flight finish, then close the listener and every connection
            # (idle keep-alive ones included, or waitress's loop would run on). The closing
            # runs in the server's own thread (its trigger): closing sockets under its
            # select() from here would make it fail with a bad file descriptor.
            server = self._server
            server.task_dispatcher.shutdown(cancel_pending=False, timeout=10)
            server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
            web_processes.stop(server)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        self.click_queue.stop()  # every click acked is decided before delivery stops
        self.delivery.stop()
        self.poller.release_all([item.adapter.name for item in self.adapters])
        if self._server_thread is not None:
            self._server_thread.join(5)
        log.info("engage stopped")
