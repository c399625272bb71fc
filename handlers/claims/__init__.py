"""Slack in and out for claims: the card's buttons, the modals they open and their
submissions, and a reply in a card's thread.

Every listener is a module-level function reading the claims service from Bolt's context
(:mod:`handlers.claims.services`); :func:`register` wires the modules' tables into an app, and
importing this package registers nothing.
"""

from __future__ import annotations

from slack_bolt import App

from handlers.claims import actions, events, saved_replies, views


def register(app: App) -> None:
    actions.register(app)
    views.register(app)
    events.register(app)
    saved_replies.register(app)
