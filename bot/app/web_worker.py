"""One extra process serving the bot's HTTP beside it: ``python -m bot.app.web_worker FD``.

Started by :mod:`bot.app.web_processes` (which says when and why), with the listening socket's
file descriptor as its argument and the bot's settings and config on its standard input. It
builds the same app as the bot (every listener, every service) but starts nothing of the bot's
own work: no delivery, no polling, no scheduled jobs.
"""

from __future__ import annotations

import gc
import socket
import sys

from waitress.server import create_server

from bot.app import web_processes
from bot.app.compose import Engage
from bot.core import logs


def main() -> None:
    fd, tell = int(sys.argv[1]), int(sys.argv[2])
    settings, config = web_processes.read_start(sys.stdin.buffer)
    logs.setup(settings.log_level, settings.log_format)
    engage = Engage(settings, config, adapters=[], migrate=False)
    # /healthz answers the same from any process: this one asks Slack once, like the bot.
    engage.slack_ok = engage.delivery.check_auth()
    listener = socket.socket(fileno=fd)
    server = create_server(
        engage.web, sockets=[listener], threads=web_processes.HTTP_THREADS, ident="engage"
    )
    # This process keeps clicks; the bot's process decides them (see bot.claims.click_queue).
    engage.click_queue.notify = web_processes.teller(tell)
    engage.click_queue.start(apply=False)
    gc.freeze()  # as the bot does once started (see Engage.start): no ~90 ms full collections
    web_processes.run_until_closed(server, sys.stdin.buffer)
    engage.click_queue.stop()


if __name__ == "__main__":
    main()
