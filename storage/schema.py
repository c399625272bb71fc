"""Every table, registered on ``SQLModel.metadata``: what Alembic compares the migrations with.

The core tables live in :mod:`storage.models`; a domain that owns tables of its own keeps them
in its storage package (``storage/<domain>/tables.py``) and is imported here, so the migration
environment and the migrations-match-the-models check see the whole schema.
"""

from __future__ import annotations

# Importing is the point: each module registers its tables on SQLModel.metadata.
import storage.answering.tables
import storage.claims.click_requests
import storage.models
import storage.privacy.tables
import storage.urgent.tables  # noqa: F401
