"""Slack in and out for answering: ``/engage replies``, the saved replies' screens and the
Answered modal's saved-reply menu options (:mod:`handlers.answering.replies`), and the draft
cards of answers held for approval (:mod:`handlers.answering.approvals`).

The Answered modal itself, and its update when a saved reply is chosen, are
:mod:`handlers.claims`'; this package answers the menu's ``block_suggestion`` requests.
"""

from __future__ import annotations

from slack_bolt import App

from handlers.answering import approvals, replies


def register(app: App) -> None:
    replies.register(app)
    approvals.register(app)
