"""``INSERT ... ON CONFLICT DO NOTHING`` for SQLite and PostgreSQL.

Uniqueness is decided by the database in one statement, so two replicas (or a retry racing
the original) can never both insert, and neither has to read first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel


def insert_ignore(session: Session, model: type[SQLModel], values: dict[str, Any]) -> Any | None:
    """Insert a row; return its primary key, or ``None`` when a unique key already exists."""
    table = model.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    build = postgresql.insert if dialect == "postgresql" else sqlite.insert
    pk = next(iter(table.primary_key.columns))
    stmt = build(table).values(**values).on_conflict_do_nothing().returning(pk)
    return session.execute(stmt).scalar_one_or_none()
