"""Slack in and out for routing rules: the comms team manages them from Slack with
``/engage rules``, its modals, and the App Home's "Manage rules" and hand-over suggestions.

One module per part, each small enough to read at once:

- :mod:`~handlers.rules.command`: ``/engage rules ...`` and ``/engage route-test`` (called by
  the ``/engage`` router in :mod:`handlers.commands`);
- :mod:`~handlers.rules.actions`: listeners for the buttons and menus;
- :mod:`~handlers.rules.submissions`: listeners for the modal submissions;
- :mod:`~handlers.rules.screens`: the screens built from the rule admin's state;
- :mod:`~handlers.rules.listing`, :mod:`~handlers.rules.form`, :mod:`~handlers.rules.history`,
  :mod:`~handlers.rules.dialogs`: the Block Kit of each screen;
  :mod:`~handlers.rules.metadata`: what the screens carry in ``private_metadata``;
- :mod:`~handlers.rules.services`: what the listeners use of the services in Bolt's context.

Importing this package registers nothing; :func:`register` wires the listeners' tables.
"""

from __future__ import annotations

from slack_bolt import App

from handlers.rules import actions, submissions


def register(app: App) -> None:
    actions.register(app)
    submissions.register(app)
