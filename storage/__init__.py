"""Tables, engine and sessions, queries and atomic operations, and the Alembic migrations.

Imports nothing from ``bot`` or ``handlers``, and nothing from Slack.
"""
