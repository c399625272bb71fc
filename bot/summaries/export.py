"""``engage export``: everything behind the summary figures, for a spreadsheet or a script.

CSV: one row per mention received in the period, with its timings. JSON: the same mentions,
each with its full event log.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any, TextIO

from bot.config.file import ConfigError
from storage import summaries
from storage.db import make_engine, session_scope

COLUMNS = (
    "id",
    "source",
    "department",
    "received_at",
    "status",
    "first_claimed_at",
    "answered_at",
    "answered_by",
    "handed_over",
    "text",
)


def _day(text: str, name: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
    except ValueError:
        raise ConfigError(f"--{name}: {text!r} is not a date (YYYY-MM-DD)") from None


def export(
    *, database_url: str, start: str, end: str, department: str | None, fmt: str, out: TextIO
) -> None:
    begin, finish = _day(start, "from"), _day(end, "to") + timedelta(days=1)
    if finish <= begin:
        raise ConfigError("--to must not be before --from")
    everywhere = department is None
    slug = None if department in (None, "triage") else department
    with session_scope(make_engine(database_url)) as session:
        rows = summaries.mentions_in(
            session=session, department=slug, start=begin, end=finish, everywhere=everywhere
        )
        log = summaries.events_in(session=session, mention_ids=[r.id for r in rows])
    rows = [r for r in rows if begin <= r.received_at < finish]  # received in the period
    records = [{k: _plain(getattr(r, k)) for k in COLUMNS} for r in rows]
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(records)
        return
    by_mention: dict[int, list[dict[str, Any]]] = {}
    for event in log:
        by_mention.setdefault(event.mention_id or 0, []).append(
            {"kind": event.kind, "actor": event.actor, "at": _plain(event.at), "data": event.data}
        )
    for record in records:
        record["events"] = by_mention.get(int(record["id"]), [])
    json.dump(
        {"from": start, "to": end, "department": department, "mentions": records},
        out,
        indent=2,
        ensure_ascii=False,
    )
    out.write("\n")


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
