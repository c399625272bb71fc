"""Slack in and out: thin listeners that parse a payload, call a service, render a reply.

Importing this package registers nothing; :func:`register` wires every listener into an app.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App

from bot.claims.service import Claims
from bot.home.service import Home
from bot.nudges.sweep import Nudger
from bot.routing import Match
from bot.rules.admin import RuleAdmin
from bot.summaries.service import Summaries
from handlers import actions, commands, events, nudges, rules, views
from handlers import home as home_handlers
from handlers import summaries as summaries_handlers


def register(
    app: App,
    *,
    claims: Claims,
    nudger: Nudger,
    summaries: Summaries,
    home: Home,
    route_test: Callable[[str], tuple[Match | None, str]],
    mute: Callable[[str, str, bool], str],
    rule_admin: RuleAdmin,
) -> None:
    actions.register(app, claims)
    views.register(app, claims)
    events.register(app, claims)
    nudges.register(app, claims, nudger)
    rules_command = rules.register(app, rule_admin, home, route_test)
    commands.register(app, route_test, nudger, summaries, mute, rules_command)
    summaries_handlers.register(app, summaries)
    home_handlers.register(app, home)
