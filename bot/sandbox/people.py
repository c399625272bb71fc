"""Who a sandbox visitor can act as: staff, each department's leads, and the comms team."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config.file import EngageConfig


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    role: str  # staff, lead or comms


def people(config: EngageConfig) -> list[Person]:
    """Three staff, each department's leads and the comms team: enough to try every role."""
    found = [
        Person("U0STAFF001", "alex", "staff"),
        Person("U0STAFF002", "blair", "staff"),
        Person("U0STAFF003", "casey", "staff"),
    ]
    for department in config.departments:
        for n, lead in enumerate(department.leads, 1):
            found.append(Person(lead, f"{department.slug}-lead{'' if n == 1 else n}", "lead"))
    for n, member in enumerate(config.comms_team.users, 1):
        found.append(Person(member, f"comms{'' if n == 1 else n}", "comms"))
    unique: dict[str, Person] = {}
    for person in found:
        unique.setdefault(person.id, person)
    return list(unique.values())
