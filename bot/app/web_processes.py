"""The HTTP server, and the extra processes that serve it beside the bot when asked.

``ENGAGE_WEB_PROCESSES`` (default 1) is how many processes answer HTTP (``/slack/events``, the
webhook, health). With 1, the bot's own process serves it on a waitress thread pool, as
always. With N > 1, the bot starts N - 1 more processes that accept on the same listening
socket, each with its own interpreter: clicks are then decided on several cores at once, and
not behind the bot's delivery, polling and scheduled jobs, which stay in the bot's process.

Why (issue 15): a click's ack costs about 1.5 ms of CPU after the click path was made lean
(``bot.claims.clicks``), so 50 clicks at once queue for about 75 ms on one interpreter, more
while delivery renders and sends the cards those clicks changed. The decision is in the
database, so the processes are interchangeable (the README's replicas rely on the same): the
inbox key makes a retry harmless whichever process it reaches, and the conditional UPDATE
lets one click of a race win wherever each one lands. What a worker queues in the outbox is
sent by the bot's delivery, which looks for work every half second (a worker cannot wake it).
A worker keeps claim and release clicks (:mod:`bot.claims.click_queue`) and tells the bot over
a pipe; the bot's click worker decides them all, in the order they were kept.
Each extra process holds its own copy of the app (about 100 MB): worth it on a machine with
cores to spare and PostgreSQL; on SQLite the processes also take turns at the file's one
writer lock, which the database's busy timeout handles.

A worker gets the bot's settings and config over a pipe (never on the command line, where
``ps`` would show the secrets) and serves until the pipe closes or it is told to stop: it
never outlives the bot.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from waitress import wasyncore
from waitress.server import create_server

from bot.config.file import EngageConfig, Settings

log = logging.getLogger(__name__)
HTTP_THREADS = 16
_workers: dict[int, list[subprocess.Popen[bytes]]] = {}  # by id(server)


def serve(
    app: Any,
    settings: Settings,
    config: EngageConfig,
    *,
    host: str,
    port: int,
    wake: Callable[[], None] = lambda: None,
) -> Any:
    """The bot's own waitress server (not yet running), and its extra processes, started.

    ``wake`` is called when a worker has kept clicks for the bot's click worker to decide.
    """
    server: Any = create_server(app, host=host, port=port, threads=HTTP_THREADS, ident="engage")
    extra = settings.web_processes - 1
    if extra > 0:
        fd = server.socket.fileno()
        blob = json.dumps({"settings": asdict(settings), "config": config.model_dump(mode="json")})
        workers = []
        for _ in range(extra):
            told, tell = os.pipe()
            worker = subprocess.Popen(
                [sys.executable, "-m", "bot.app.web_worker", str(fd), str(tell)],
                stdin=subprocess.PIPE,
                pass_fds=(fd, tell),
            )
            os.close(tell)
            _listen(told, wake)
            assert worker.stdin is not None
            worker.stdin.write(blob.encode() + b"\n")
            worker.stdin.flush()  # kept open: the worker stops when it closes
            workers.append(worker)
        _workers[id(server)] = workers
        log.info("web processes started", extra={"processes": settings.web_processes})
    return server


def _listen(fd: int, wake: Callable[[], None]) -> None:
    """Call ``wake`` for each message a worker writes on its pipe, until it closes."""

    def read() -> None:
        with os.fdopen(fd, "rb", buffering=0) as pipe:
            while pipe.read(4096):
                wake()

    threading.Thread(target=read, name="engage-web-told", daemon=True).start()


def teller(fd: int) -> Callable[[], None]:
    """In a worker: what tells the bot's process that clicks were kept (a byte on the pipe)."""

    def tell() -> None:
        with contextlib.suppress(OSError):  # the bot is gone: its next start applies them
            os.write(fd, b".")

    return tell


def stop(server: Any) -> None:
    """Stop the extra processes of ``server`` (letting their requests in flight finish)."""
    workers = _workers.pop(id(server), [])
    for worker in workers:
        if worker.stdin is not None:
            worker.stdin.close()  # the worker finishes what it has, then exits
    for worker in workers:
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def read_start(stream: Any) -> tuple[Settings, EngageConfig]:
    """What :func:`serve` wrote to a worker: the bot's settings and config."""
    data = json.loads(stream.readline())
    return Settings(**data["settings"]), EngageConfig.model_validate(data["config"])


def run_until_closed(server: Any, stream: Any) -> None:
    """Serve until ``stream`` (the pipe from the bot) closes, then finish and return."""

    def watch() -> None:
        stream.read()  # returns at end of file: the bot closed the pipe, or died
        server.task_dispatcher.shutdown(cancel_pending=False, timeout=10)
        # Closed in the server's own thread (its trigger), as the bot's stop() does: closing
        # sockets under its select() from here would fail it with a bad file descriptor.
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))

    threading.Thread(target=watch, name="engage-web-watch", daemon=True).start()
    server.run()  # returns once every socket is closed
