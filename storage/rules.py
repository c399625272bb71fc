"""Departments and routing rules as stored, and the version that tells replicas to recompile."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from storage.models import Department, Meta, Rule

RULES_VERSION = "rules_version"


def departments(*, session: Session) -> list[Department]:
    return list(session.exec(select(Department).order_by(col(Department.name))))


def department(*, session: Session, slug: str) -> Department | None:
    return session.get(Department, slug)


def version(*, session: Session) -> int:
    meta = session.get(Meta, RULES_VERSION, populate_existing=True)
    return int(meta.value) if meta else 0


def bump_version(*, session: Session) -> int:
    meta = session.get(Meta, RULES_VERSION) or Meta(key=RULES_VERSION, value="0")
    meta.value = str(int(meta.value) + 1)
    session.add(meta)
    return int(meta.value)


def sync(
    *,
    session: Session,
    departments: Sequence[dict[str, Any]],
    rules: Sequence[dict[str, Any]],
    now: datetime,
) -> bool:
    """Make the stored departments and rules equal to the config's; ``True`` if anything changed.

    Rules are compared by content so an unchanged config does not bump the version (and
    every replica does not recompile on each restart).
    """
    changed = False
    wanted_departments = {d["slug"]: d for d in departments}
    for existing in session.exec(select(Department)):
        if existing.slug not in wanted_departments:
            session.delete(existing)
            changed = True
    for slug, values in wanted_departments.items():
        row = session.get(Department, slug)
        if row is None:
            session.add(Department(**values))
            changed = True
        elif row.model_dump() != values:
            for key, value in values.items():
                setattr(row, key, value)
            session.add(row)
            changed = True

    current = [
        {k: v for k, v in r.model_dump().items() if k not in ("id", "updated_at")}
        for r in rules_in_order(session)
    ]
    wanted = [dict(r, position=i) for i, r in enumerate(rules)]
    if current != wanted:
        session.execute(delete(Rule))
        for values in wanted:
            session.add(Rule(**values, updated_at=now))
        changed = True
    if changed:
        session.flush()
        bump_version(session=session)
    return changed


def rules_in_order(session: Session) -> list[Rule]:
    return list(session.exec(select(Rule).order_by(col(Rule.position))))
