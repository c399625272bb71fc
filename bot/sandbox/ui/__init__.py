"""The sandbox's web page: a local stand-in for the Slack client, drawn over the fake Slack.

The page (``bot/sandbox/static/``: plain HTML, CSS and JavaScript, no build step, nothing
fetched from the network) polls ``GET /api/state`` and renders what the fake Slack holds:
channels, the cards from the Block Kit the bot sent, threads, ephemerals, the App Home and the
open modal. What the visitor does goes to ``POST /api/*`` and reaches the bot as Slack's own
signed requests through ``FakeSlack`` (clicks, submissions, slash commands, messages), so the
bot cannot tell the sandbox from Slack. Two things are not Slack: a citizen who posts a
mention, and a clock that moves forward; the sandbox hands those in as callables.

Each module owns one thing:

- ``server``: :class:`SandboxUI`, the HTTP side: static files, the JSON API's routes, request
  limits and framing, and the thread it serves on;
- ``screen``: what the page shows one person, read from the fake Slack, and who and where a
  visitor may be (the checks every request starts with);
- ``actions``: what a visitor does (clicks, submissions, commands, messages, a citizen's post,
  the clock), turned into Slack's signed requests.

Import :class:`SandboxUI` from here.
"""

from bot.sandbox.ui.server import SandboxUI

__all__ = ["SandboxUI"]
