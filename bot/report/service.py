"""Build the public report for a month and write it to a folder: ``index.html``,
``report.csv`` and ``report.json``. ``engage report`` and the monthly job call :meth:`build`.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from bot.config.file import EngageConfig
from bot.core.clock import Clock
from bot.nudges.policy import Policy
from bot.report import html
from bot.report.figures import Scope, ScopeMonth, last_full_month, scopes
from storage.db import session_scope

log = logging.getLogger(__name__)
FILES = ("index.html", "report.csv", "report.json")


@dataclass(frozen=True)
class Built:
    month: str
    scopes: list[Scope]
    paths: list[Path]


def _minutes(value: Any) -> float | None:
    return None if value is None else round(value.total_seconds() / 60, 1)


def _row(scope: Scope, m: ScopeMonth) -> dict[str, Any]:
    return {
        "month": m.month,
        "department": scope.slug or "city",
        "name": scope.name,
        "received": m.received.data,
        "answered": m.answered.data,
        "share_answered": None if m.share_answered is None else round(m.share_answered, 4),
        "answer_median_minutes": _minutes(m.answer_median),
        "answer_p90_minutes": _minutes(m.answer_p90),
        "staff_answering": m.staff.data,
        "received_by_source": {s: c.data for s, c in m.by_source.items()},
    }


class PublicReport:
    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        config: EngageConfig,
        policies: Mapping[str | None, Policy],
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.config = config
        self.policies = policies

    def figures(self, month: str) -> list[Scope]:
        now = self.clock.now()
        with session_scope(self.engine) as session:
            return scopes(
                session,
                month=month,
                now=now,
                policies=self.policies,
                departments=[(d.slug, d.name) for d in self.config.departments],
                months=self.config.report.months,
                threshold=self.config.report.min_count,
            )

    def build(self, month: str, out: str | Path) -> Built:
        """Write the report of ``month`` (YYYY-MM) into the folder ``out``."""
        found = self.figures(month)
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        threshold = self.config.report.min_count
        page = html.render(
            title=self.config.report.title,
            month=month,
            scopes=found,
            threshold=threshold,
            built=self.clock.now(),
        )
        rows = [_row(scope, m) for scope in found for m in scope.months]
        data = {
            "title": self.config.report.title,
            "month": month,
            "suppressed_below": threshold,
            "times": "office hours, arrival to answer, in minutes",
            "rows": rows,
        }
        paths = [folder / name for name in FILES]
        paths[0].write_text(page, encoding="utf-8")
        paths[1].write_text(_csv(rows), encoding="utf-8")
        paths[2].write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        log.info("public report written", extra={"month": month, "out": str(folder)})
        return Built(month=month, scopes=found, paths=paths)

    def build_scheduled(self) -> None:
        """The monthly job: last month's report, into the configured folder."""
        out = self.config.report.out
        if out:
            self.build(last_full_month(self.clock.now()), out)


def _csv(rows: list[dict[str, Any]]) -> str:
    sources = sorted({s for row in rows for s in row["received_by_source"]})
    fields = [k for k in rows[0] if k != "received_by_source"] if rows else []
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*fields, *(f"received_{s}" for s in sources)])
    for row in rows:
        by_source = row["received_by_source"]
        writer.writerow(
            [
                *("" if row[f] is None else row[f] for f in fields),
                *(by_source.get(s, 0) for s in sources),
            ]
        )
    return buffer.getvalue()
