"""Every table, registered on ``SQLModel.metadata``: what Alembic compares the migrations with.

The core tables live in :mod:`storage.models`; a domain that owns tables of its own keeps them
in its storage package (``storage/<domain>/tables.py``) and is imported here, so the migration
environment and the migrations-match-the-models check see the whole schema.
"""

from __future__ import annotations

import storage.models  # noqa: F401  (registers the core tables)
import storage.urgent.tables  # noqa: F401  (the urgent lane's tables)
import storage.privacy.tables  # noqa: F401  (privacy's audit and purge logs)
import storage.answering.tables  # noqa: F401  (saved replies and approvals)
