"""Managing the routing rules: the comms team adds, edits, reorders, enables, disables and
retires them; every change is checked, recorded with who, when, before and after, and bumps
``rules_version`` so every replica routes by it from its next mention on.

Slack-free: the handlers (modals, the App Home) and the CLI (export, import) call this.
Permission is checked on every change, not only when a modal opens, since a stale modal or a
forged payload reaches the same code. A change arrives with its Slack request key, kept in the
same transaction, so Slack's retry of a "move up" does not move the rule twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config.comms import CommsTeam
from bot.core.clock import Clock
from bot.routing import AreaIndex
from bot.rules.docs import Problem, doc_of_row, problems, row_values
from bot.rules.learning import RuleStats, Suggestion, handover_suggestions, misroute_rates
from storage import inbox
from storage.db import session_scope
from storage.models import Rule, RuleChange
from storage.rules import rows as stored

REFUSAL = (
    "Only the comms team can change routing rules. Ask them, or use "
    "`/engage route-test <text>` to see where a text would go."
)
SEED_ACTOR = "config"
LEARNING_DAYS = 30  # misroute rates and hand-over suggestions look this far back


@dataclass(frozen=True)
class Change:
    """What became of a change, in words for the person who asked."""

    ok: bool
    message: str
    problems: tuple[Problem, ...] = ()
    changed: bool = True  # False: nothing to record (and the version stays as it was)


@dataclass(frozen=True)
class RuleLine:
    id: int
    rank: int  # 1-based place in routing order
    doc: dict[str, Any]
    token: str  # changes whenever the rule does: a form opened before a change is refused


@dataclass(frozen=True)
class ImportReport:
    added: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.edited or self.moved or self.retired)


class RuleAdmin:
    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        comms: CommsTeam,
        author_lists: Mapping[str, Sequence[str]],
        areas: AreaIndex | None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.comms = comms
        self.author_lists = author_lists
        self.areas = areas

    def may_manage(self, user: str) -> bool:
        return self.comms.includes(user)

    # Reads.
    def rules(self) -> list[RuleLine]:
        with session_scope(self.engine) as session:
            return [_line(row, i) for i, row in enumerate(stored.rules_in_order(session))]

    def rule(self, rule_id: int) -> RuleLine | None:
        return next((line for line in self.rules() if line.id == rule_id), None)

    def departments(self) -> list[tuple[str, str]]:
        with session_scope(self.engine) as session:
            return [(d.slug, d.name) for d in stored.departments(session=session)]

    def history(self, *, rule: str | None = None, limit: int = 20) -> list[RuleChange]:
        with session_scope(self.engine) as session:
            return stored.history(session=session, rule=rule, limit=limit)

    def export(self) -> list[dict[str, Any]]:
        """Every rule as the comms team writes it, in routing order."""
        return [line.doc for line in self.rules()]

    def stats(self, *, days: int = LEARNING_DAYS) -> dict[str, RuleStats]:
        """Each rule's misroute rate: the share of its mentions handed over elsewhere."""
        with session_scope(self.engine) as session:
            return misroute_rates(session, since=self.clock.now() - timedelta(days=days))

    def suggestions(
        self, *, days: int = LEARNING_DAYS, limit: int = 5
    ) -> list[tuple[Suggestion, RuleLine | None]]:
        """Terms that recur in hand-overs from A to B, each with the rule of B to add it to
        (B's first enabled rule with keywords; None when B has no rule yet)."""
        lines = self.rules()
        existing: dict[str, set[str]] = {}
        for line in lines:
            existing.setdefault(line.doc["department"], set()).update(line.doc.get("keywords", []))
        with session_scope(self.engine) as session:
            found = handover_suggestions(
                session,
                since=self.clock.now() - timedelta(days=days),
                existing_keywords=existing,
                limit=limit,
            )

        def target(department: str) -> RuleLine | None:
            mine = [line for line in lines if line.doc["department"] == department]
            usable = [
                line for line in mine if line.doc.get("enabled", True) and line.doc.get("keywords")
            ]
            return (usable or mine)[0] if (usable or mine) else None

        return [(s, target(s.to_department)) for s in found]

    # Changes from Slack.
    def save(
        self,
        *,
        user: str,
        doc: dict[str, Any],
        rule_id: int | None,
        token: str | None,
        request_key: str,
    ) -> Change:
        """Add a rule (``rule_id`` None) or replace one, refusing an edit of a stale form."""

        def act(session: Session, rows: list[Rule]) -> Change:
            row = next((r for r in rows if r.id == rule_id), None) if rule_id else None
            if rule_id is not None and row is None:
                return Change(False, "This rule was retired meanwhile.")
            if row is not None and token != _token(row):
                return Change(
                    False,
                    "Someone changed this rule while you were editing: close this form and "
                    "open the rule again to see their change.",
                )
            taken = {r.name for r in rows if r is not row}
            found = self._problems(session, doc, taken)
            if found:
                return Change(False, found[0].message, tuple(found))
            before = _audit(row, rows) if row is not None else None
            saved = stored.put(
                session=session, values=row_values(doc), now=self.clock.now(), row=row
            )
            after = _audit(saved, stored.rules_in_order(session))
            if before is not None and _same_rule(before, after):
                return Change(True, "Nothing changed.", changed=False)
            self._record(
                session, saved.name, "added" if row is None else "edited", user, before, after
            )
            return Change(True, f"Saved rule *{saved.name}*.")

        return self._change(user, request_key, act)

    def move(self, *, user: str, rule_id: int, steps: int, request_key: str) -> Change:
        """Move a rule up (negative steps) or down in routing order.

        Order is priority, then position; a rule moved past a neighbour of another priority
        takes that neighbour's priority, so the order shown is the order that routes.
        """

        def act(session: Session, rows: list[Rule]) -> Change:
            index = next((i for i, r in enumerate(rows) if r.id == rule_id), None)
            if index is None:
                return Change(False, "This rule was retired meanwhile.")
            target = max(0, min(len(rows) - 1, index + steps))
            if target == index:
                return Change(True, "It is there already.", changed=False)
            row = rows[index]
            before = _audit(row, rows)
            row.priority = rows[target].priority
            rows.insert(target, rows.pop(index))
            stored.renumber(session=session, ordered=rows)
            row.updated_at = self.clock.now()
            session.add(row)
            after = _audit(row, rows)
            self._record(session, row.name, "moved", user, before, after)
            return Change(True, f"Moved *{row.name}* to #{target + 1}.")

        return self._change(user, request_key, act)

    def set_enabled(self, *, user: str, rule_id: int, on: bool, request_key: str) -> Change:
        def act(session: Session, rows: list[Rule]) -> Change:
            row = next((r for r in rows if r.id == rule_id), None)
            if row is None:
                return Change(False, "This rule was retired meanwhile.")
            if row.enabled == on:
                state = "enabled" if on else "disabled"
                return Change(True, f"*{row.name}* was {state} already.", changed=False)
            before = _audit(row, rows)
            row.enabled = on
            row.updated_at = self.clock.now()
            session.add(row)
            after = _audit(row, rows)
            action = "enabled" if on else "disabled"
            self._record(session, row.name, action, user, before, after)
            return Change(True, f"*{row.name}* is {action}.")

        return self._change(user, request_key, act)

    def retire(self, *, user: str, rule_id: int, request_key: str) -> Change:
        def act(session: Session, rows: list[Rule]) -> Change:
            row = next((r for r in rows if r.id == rule_id), None)
            if row is None:
                return Change(True, "This rule was retired already.", changed=False)
            before = _audit(row, rows)
            stored.remove(session=session, row=row)
            self._record(session, row.name, "retired", user, before, None)
            return Change(
                True, f"Retired *{row.name}*: its history stays in `/engage rules history`."
            )

        return self._change(user, request_key, act)

    def add_keyword(self, *, user: str, rule_id: int, term: str, request_key: str) -> Change:
        """One click from a hand-over suggestion: the term becomes one of the rule's keywords."""
        line = self.rule(rule_id)
        if line is None:
            return Change(False, "This rule was retired meanwhile.")
        keywords = list(line.doc.get("keywords", []))
        if term in keywords:
            return Change(True, f"*{line.doc['name']}* has the keyword {term!r} already.")
        doc = {**line.doc, "keywords": [*keywords, term]}
        return self.save(
            user=user, doc=doc, rule_id=rule_id, token=line.token, request_key=request_key
        )

    # Whole rule sets: the first start, and `engage rules import`.
    def seed(self, docs: Sequence[dict[str, Any]]) -> bool:
        """Store the config's rules, once: afterwards the stored rules are the truth."""
        with session_scope(self.engine) as session:
            if not stored.claim_seeding(session=session):  # one replica of many seeds
                return False
            self._replace(session, docs, actor=SEED_ACTOR, action="seeded")
            return True

    def differs_from(self, docs: Sequence[dict[str, Any]]) -> bool:
        return [dict(d) for d in docs] != self.export()

    def import_docs(self, docs: Sequence[dict[str, Any]], *, actor: str) -> ImportReport:
        """Make the stored rules exactly ``docs`` (validated first: all or nothing)."""
        with session_scope(self.engine) as session:
            stored.lock(session=session)  # not while a starting replica seeds
            departments = {d.slug for d in stored.departments(session=session)}
            for doc in docs:
                found = self._problems(session, doc, (), departments=departments)
                if found:
                    raise ValueError(
                        f"rule {doc.get('name')!r}: {found[0].field}: {found[0].message}"
                    )
            report = self._replace(session, docs, actor=actor, action=None)
            stored.mark_seeded(session=session)
            return report

    # Internals.
    def _change(
        self, user: str, request_key: str, act: Callable[[Session, list[Rule]], Change]
    ) -> Change:
        if not self.may_manage(user):
            return Change(False, REFUSAL)

        def decide(session: Session) -> Change:
            stored.bump_version(session=session)  # first: it serialises rule changes
            return act(session, stored.rules_in_order(session))

        # A refused change, or one that changes nothing, leaves no trace: no version bump, no
        # request key (the fixed form is judged again).
        return inbox.once(
            engine=self.engine,
            key=request_key,
            now=self.clock.now(),
            duplicate=Change(True, "Done already."),
            act=decide,
            kept=lambda change: change.ok and change.changed,
        )

    def _problems(
        self,
        session: Session,
        doc: Mapping[str, Any],
        taken: Sequence[str] | set[str],
        *,
        departments: set[str] | None = None,
    ) -> list[Problem]:
        known = departments or {d.slug for d in stored.departments(session=session)}
        return problems(
            doc, departments=known, author_lists=self.author_lists, areas=self.areas, taken=taken
        )

    def _replace(
        self, session: Session, docs: Sequence[dict[str, Any]], *, actor: str, action: str | None
    ) -> ImportReport:
        now = self.clock.now()
        old_rows = stored.rules_in_order(session)
        old = {r.name: _audit(r, old_rows) for r in old_rows}
        routing = sorted(
            enumerate(docs), key=lambda pair: (int(pair[1].get("priority", 100)), pair[0])
        )
        new = {d["name"]: {"rank": rank + 1, **d} for rank, (_, d) in enumerate(routing)}
        # Moved: its place among the rules kept changed (not merely shifted by an addition).
        kept = [n for n in new if n in old]
        old_kept = sorted(kept, key=lambda n: old[n]["rank"])
        new_kept = sorted(kept, key=lambda n: new[n]["rank"])
        report = ImportReport()
        for name, after in new.items():
            before = old.get(name)
            if before is None:
                report.added.append(name)
            elif not _same_rule(before, after):
                report.edited.append(name)
            elif old_kept.index(name) != new_kept.index(name):
                report.moved.append(name)
            else:
                continue
            kind = action or (
                "added" if before is None else "edited" if name in report.edited else "moved"
            )
            self._record(session, name, kind, actor, before, after)
        for name, before in old.items():
            if name not in new:
                report.retired.append(name)
                self._record(session, name, action or "retired", actor, before, None)
        if report.changed:
            stored.replace_all(session=session, rules=[row_values(d) for d in docs], now=now)
            stored.bump_version(session=session)
        return report

    def _record(
        self,
        session: Session,
        rule: str,
        action: str,
        actor: str | None,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        stored.record(
            session=session,
            rule=rule,
            action=action,
            actor=actor,
            at=self.clock.now(),
            before=before,
            after=after,
        )


def _token(row: Rule) -> str:
    return f"{row.id}:{row.updated_at.isoformat()}"


def _line(row: Rule, index: int) -> RuleLine:
    assert row.id is not None
    return RuleLine(id=row.id, rank=index + 1, doc=doc_of_row(row), token=_token(row))


def _audit(row: Rule, ordered: Sequence[Rule]) -> dict[str, Any]:
    """The rule as written, plus its place in routing order when it was recorded."""
    rank = next((i + 1 for i, r in enumerate(ordered) if r is row or r.id == row.id), 0)
    return {"rank": rank, **doc_of_row(row)}


def _same_rule(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return {k: v for k, v in a.items() if k != "rank"} == {
        k: v for k, v in b.items() if k != "rank"
    }
