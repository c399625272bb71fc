"""Departments and routing rules as stored, their audit log, and the version replicas watch.

Departments follow the YAML config at every start. Rules are seeded from it once; after that
the stored rules are the truth, changed from Slack or by ``engage rules import``, every change
recorded in :class:`~storage.models.RuleChange` and bumping ``rules_version`` so every replica
recompiles on its next mention.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, cast, delete, text, update
from sqlmodel import Session, col, select

from storage.insert import insert_ignore
from storage.models import Department, Meta, Rule, RuleChange

RULES_VERSION = "rules_version"
RULES_SEEDED = "rules_seeded"
CONFIG_LOCK = 0x456E_6761_6765_0002  # a PostgreSQL advisory lock key: "Enga" "ge", 2


def departments(*, session: Session) -> list[Department]:
    return list(session.exec(select(Department).order_by(col(Department.name))))


def department(*, session: Session, slug: str) -> Department | None:
    return session.get(Department, slug)


def version(*, session: Session) -> int:
    meta = session.get(Meta, RULES_VERSION, populate_existing=True)
    return int(meta.value) if meta else 0


def bump_version(*, session: Session) -> int:
    """Add one to ``rules_version`` in the database itself, not in Python.

    Two replicas changing rules at once must end on different versions, or one replica could
    keep a stale compiled rule set. On PostgreSQL the UPDATE also locks the row until commit,
    so rule changes that start with it run one at a time.
    """
    bumped = session.exec(
        update(Meta)
        .where(col(Meta.key) == RULES_VERSION)
        .values(value=cast(cast(col(Meta.value), Integer) + 1, String))
    )
    if not bumped.rowcount:
        insert_ignore(session, Meta, {"key": RULES_VERSION, "value": "0"})
        return bump_version(session=session)
    return version(session=session)


def lock(*, session: Session) -> None:
    """Hold the config lock until the transaction ends: writers of the config's departments
    and rules take turns, and what this transaction reads next is what the last one committed.

    Replicas started together on a new database all find no departments and no rules; without
    this they would all insert them, and all but one crash on the unique keys. PostgreSQL: a
    transaction-scoped advisory lock. SQLite: a write as the transaction's first statement
    takes the database's write lock (the driver reads outside a transaction until then).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CONFIG_LOCK})
    else:
        session.execute(
            update(Meta).where(col(Meta.key) == RULES_SEEDED).values(value=col(Meta.value))
        )


def sync_departments(*, session: Session, departments: Sequence[dict[str, Any]]) -> bool:
    """Make the stored departments equal to the config's; ``True`` if anything changed."""
    lock(session=session)
    changed = False
    wanted = {d["slug"]: d for d in departments}
    for existing in session.exec(select(Department)):
        if existing.slug not in wanted:
            session.delete(existing)
            changed = True
    for slug, values in wanted.items():
        row = session.get(Department, slug)
        if row is None:
            session.add(Department(**values))
            changed = True
        elif row.model_dump() != values:
            for key, value in values.items():
                setattr(row, key, value)
            session.add(row)
            changed = True
    if changed:
        session.flush()
        bump_version(session=session)
    return changed


def claim_seeding(*, session: Session) -> bool:
    """``True`` once ever: the rules were never seeded, and now count as seeded by this
    transaction (which stores them before it commits). Under the config lock, so of replicas
    starting together exactly one seeds."""
    lock(session=session)
    if session.get(Meta, RULES_SEEDED, populate_existing=True) is not None:
        return False
    mark_seeded(session=session)
    return True


def mark_seeded(*, session: Session) -> None:
    if session.get(Meta, RULES_SEEDED) is None:
        session.add(Meta(key=RULES_SEEDED, value="1"))


def rules_in_order(session: Session) -> list[Rule]:
    """Every rule in routing order: lower priority first, then position."""
    query = select(Rule).order_by(col(Rule.priority), col(Rule.position), col(Rule.id))
    return list(session.exec(query))


def rule(*, session: Session, name: str) -> Rule | None:
    return session.exec(select(Rule).where(col(Rule.name) == name)).first()


def put(*, session: Session, values: dict[str, Any], now: datetime, row: Rule | None) -> Rule:
    """Insert a rule (``row`` None) or overwrite ``row`` with ``values``; keeps its position."""
    if row is None:
        last = session.exec(select(Rule.position).order_by(col(Rule.position).desc())).first()
        row = Rule(**values, position=(last or 0) + 1, updated_at=now)
    else:
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = now
    session.add(row)
    session.flush()
    return row


def remove(*, session: Session, row: Rule) -> None:
    session.delete(row)
    session.flush()


def renumber(*, session: Session, ordered: Sequence[Rule]) -> None:
    """Positions 0..n-1 in the given order (priorities are the caller's)."""
    for position, row in enumerate(ordered):
        if row.position != position:
            row.position = position
            session.add(row)
    session.flush()


def replace_all(*, session: Session, rules: Sequence[dict[str, Any]], now: datetime) -> None:
    """Store exactly these rules, in this order (import, and the first seeding)."""
    session.execute(delete(Rule))
    for position, values in enumerate(rules):
        session.add(Rule(**values, position=position, updated_at=now))
    session.flush()


def record(
    *,
    session: Session,
    rule: str,
    action: str,
    actor: str | None,
    at: datetime,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    session.add(
        RuleChange(rule=rule, action=action, actor=actor, at=at, before=before, after=after)
    )


def history(*, session: Session, rule: str | None = None, limit: int = 20) -> list[RuleChange]:
    """The latest changes, newest first; of one rule if named."""
    query = select(RuleChange).order_by(col(RuleChange.id).desc()).limit(limit)
    if rule is not None:
        query = query.where(col(RuleChange.rule) == rule)
    return list(session.exec(query))
