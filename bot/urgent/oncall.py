"""Who is on call, for ``/engage oncall``, and the swaps made with ``/engage oncall swap``.

The rotation itself (week, holidays, swap precedence) is :mod:`bot.urgent.rotation`, pure; this
reads what it needs (the user group's members, the swap in force) and writes the swaps, each
one also an ``oncall_swapped`` event, so the audit shows who put whom on call.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config.comms import CommsTeam
from bot.config.file import DepartmentConfig, EngageConfig
from bot.core.clock import Clock
from bot.core.mrkdwn import escape
from bot.core.slack_directory import SlackDirectory
from bot.urgent.rotation import OnCallNow, SwapRequest, on_call, parse_swap
from storage import events
from storage.db import session_scope
from storage.models import EventKind
from storage.urgent import rows


class OnCall:
    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        config: EngageConfig,
        directory: SlackDirectory,
        comms: CommsTeam,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.config = config
        self.directory = directory
        self.comms = comms

    def on_call(self, session: Session, department: DepartmentConfig, now: datetime) -> OnCallNow:
        group = department.oncall.usergroup
        members = self.directory.usergroup_members(group) if group else []
        swap = rows.swap_at(session=session, department=department.slug, now=now)
        return on_call(
            department.oncall, members=members, timezone=department.timezone, now=now, swap=swap
        )

    def command(self, *, user_id: str, text: str) -> str:
        verb, _, rest = text.strip().partition(" ")
        if verb == "swap":
            return self.swap(user_id=user_id, text=rest)
        return self.show(text.strip())

    def show(self, which: str) -> str:
        now = self.clock.now()
        if which:
            department = self._find(which)
            if department is None:
                return f"No department {escape(which)!s}. " + self._known()
            chosen = [department]
        else:
            chosen = [d for d in self.config.departments if d.oncall.configured]
            if not chosen:
                return "Nobody is on call: no department has `oncall` in the config."
        lines = []
        with session_scope(self.engine) as session:
            for department in chosen:
                lines.append(self._line(session, department, now))
        minutes = self.config.urgent.ack_minutes
        lines.append(
            f"An urgent mention pages them at once, day or night; each page waits {minutes} "
            "minutes for *Acknowledge* before the next."
        )
        return "\n".join(lines)

    def _line(self, session: Session, department: DepartmentConfig, now: datetime) -> str:
        duty = self.on_call(session, department, now)
        name = f"*{escape(department.name)}*"
        if duty.person is None:
            first = "nobody on call (the leads are paged first)"
        else:
            first = f"on call <@{duty.person}> ({duty.why})"
        then = [f"next <@{duty.next_person}>"] if duty.next_person else []
        if department.leads:
            then.append("then the leads " + ", ".join(f"<@{u}>" for u in department.leads))
        then.append("then the comms team")
        return f"• {name}: {first}; " + "; ".join(then) + "."

    def swap(self, *, user_id: str, text: str) -> str:
        request = parse_swap(text)
        if isinstance(request, str):
            return request
        now = self.clock.now()
        with session_scope(self.engine) as session:
            department = self._department_for(session, user_id, request, now)
            if isinstance(department, str):
                return department
            if not self._may_swap(session, department, user_id, now):
                return (
                    f"Only people on call for {escape(department.name)}, its leads and the "
                    "comms team can swap who is on call."
                )
            tz = ZoneInfo(department.timezone)
            if request.until is None:
                until = self.on_call(session, department, now).week_ends
            elif request.until >= date.max or request.until < now.astimezone(tz).date():
                return "Give a last day from today on, e.g. `until 2026-12-24`."
            else:
                day_after = request.until + timedelta(days=1)
                until = datetime.combine(day_after, datetime.min.time(), tz)
            rows.add_swap(
                session=session,
                department=department.slug,
                user_id=request.user,
                starts=now,
                until=until,
                by=user_id,
                now=now,
            )
            events.record(
                session=session,
                mention_id=None,
                kind=EventKind.ONCALL_SWAPPED,
                actor=user_id,
                at=now,
                data={"department": department.slug, "user": request.user, "until": str(until)},
            )
        last = (until.astimezone(ZoneInfo(department.timezone)) - timedelta(seconds=1)).date()
        return (
            f"<@{request.user}> is on call for *{escape(department.name)}* until "
            f"{last:%A} {last.day} {last:%B %Y} included."
        )

    def _department_for(
        self, session: Session, user_id: str, request: SwapRequest, now: datetime
    ) -> DepartmentConfig | str:
        if request.department:
            found = self._find(request.department)
            return found or f"No department {escape(request.department)}. " + self._known()
        mine = [
            d
            for d in self.config.departments
            if d.oncall.configured and self._in_pool(session, d, user_id, now)
        ]
        if len(mine) == 1:
            return mine[0]
        return "Name the department, e.g. `/engage oncall swap @ana public-works`. " + self._known()

    def _in_pool(
        self, session: Session, department: DepartmentConfig, user_id: str, now: datetime
    ) -> bool:
        group = department.oncall.usergroup
        members = self.directory.usergroup_members(group) if group else []
        duty = self.on_call(session, department, now)
        return user_id in {*department.oncall.rotation, *members, duty.person}

    def _may_swap(
        self, session: Session, department: DepartmentConfig, user_id: str, now: datetime
    ) -> bool:
        return (
            user_id in department.leads
            or self.comms.includes(user_id)
            or self._in_pool(session, department, user_id, now)
        )

    def _find(self, which: str) -> DepartmentConfig | None:
        key = which.strip().lower()
        return next((d for d in self.config.departments if key in (d.slug, d.name.lower())), None)

    def _known(self) -> str:
        return "Known: " + ", ".join(d.slug for d in self.config.departments) + "."
