"""Settings (secrets, from the environment) and the YAML config (departments, rules, adapters).

Everything here is read once, validated, and passed down: no other module reads
``os.environ``. A mistake in the config raises :class:`ConfigError` whose message is one line
naming the key (and the line in the file) and what is wrong.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import Field, ValidationError, field_validator

from bot.config.adapters import ADAPTER_TYPES, AdapterConfig
from bot.config.answering import AnsweringConfig
from bot.config.base import ConfigError as ConfigError  # re-exported: callers import it here
from bot.config.base import Model as _Model
from bot.config.env import check_slack, load_env_file
from bot.config.retention import ReportConfig, RetentionConfig
from bot.config.service import AuthorListConfig as AuthorListConfig
from bot.config.service import BrigadingConfig as BrigadingConfig
from bot.config.service import DeliveryConfig as DeliveryConfig
from bot.config.service import DigestConfig as DigestConfig
from bot.config.service import EscalationConfig as EscalationConfig
from bot.config.service import LinkingConfig as LinkingConfig
from bot.config.service import NudgeConfig as NudgeConfig
from bot.config.service import OfficeHoursConfig as OfficeHoursConfig
from bot.config.service import SlaConfig as SlaConfig
from bot.config.service import office_hours as office_hours
from bot.config.urgent import OnCallConfig, UrgentConfig
from bot.routing import AreaIndex, Router, RuleDef, RuleError

SLACK_API_URL = "https://slack.com/api/"
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


@dataclass(frozen=True)
class Settings:
    """Secrets and deployment settings from the environment (and ``.env``)."""

    slack_bot_token: str | None
    slack_signing_secret: str | None
    slack_app_token: str | None
    slack_api_url: str
    database_url: str
    config_path: str | None
    port: int
    host: str
    webhook_secret: str | None
    log_level: str
    log_format: str
    # The whole environment, read once: adapters name the variables that hold their secrets.
    env: Mapping[str, str] = field(default_factory=dict)
    web_processes: int = 1  # processes answering HTTP (bot.app.web_processes says why)

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, dotenv: bool = True) -> Settings:
        if env is None:
            if dotenv:
                load_env_file(Path.cwd() / ".env")
            env = os.environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        port_text = get("PORT") or "3000"
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ConfigError(f"PORT: expected a port number, got {port_text!r}")
        api_url = get("SLACK_API_URL") or SLACK_API_URL
        if not api_url.endswith("/"):
            api_url += "/"  # slack_sdk appends the method name to the base URL
        return cls(
            slack_bot_token=get("SLACK_BOT_TOKEN"),
            slack_signing_secret=get("SLACK_SIGNING_SECRET"),
            slack_app_token=get("SLACK_APP_TOKEN"),
            slack_api_url=api_url,
            database_url=get("DATABASE_URL") or "sqlite:///engage.db",
            config_path=get("ENGAGE_CONFIG"),
            port=int(port_text),
            host=get("HOST") or "0.0.0.0",
            webhook_secret=get("ENGAGE_WEBHOOK_SECRET"),
            log_level=(get("LOG_LEVEL") or "INFO").upper(),
            log_format=get("LOG_FORMAT") or "json",
            env=dict(env),
            web_processes=_web_processes(get("ENGAGE_WEB_PROCESSES")),
        )

    def require_slack(self) -> None:
        """Refuse to start on Slack settings that cannot work, in one line naming the fix."""
        check_slack(self.env, socket_mode=self.socket_mode)


def _web_processes(text: str | None) -> int:
    if text is None or text.strip() == "":
        return 1
    if not text.strip().isdigit() or not 1 <= int(text) <= 32:
        raise ConfigError(f"ENGAGE_WEB_PROCESSES: expected a number from 1 to 32, got {text!r}")
    return int(text)


# The YAML config.
class DepartmentConfig(_Model):
    slug: str
    name: str
    channel: str
    leads: tuple[str, ...] = ()
    timezone: str = "UTC"
    office_hours: OfficeHoursConfig = OfficeHoursConfig()
    sla: SlaConfig = SlaConfig()
    escalation: EscalationConfig = EscalationConfig()
    digest: DigestConfig = DigestConfig()
    oncall: OnCallConfig = OnCallConfig()  # who is paged for urgent mentions

    @field_validator("slug")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG.match(v):
            raise ValueError("use lower-case letters, digits and '-' (e.g. public-works)")
        return v

    @field_validator("channel")
    @classmethod
    def _channel(cls, v: str) -> str:
        return _channel_id(v)

    @field_validator("leads")
    @classmethod
    def _leads(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for user in v:
            if not USER_ID.match(user):
                raise ValueError(f"{user!r} is not a Slack user id (like U012AB3CD)")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder like "America"
            raise ValueError(
                f"unknown time zone {v!r} (use an IANA name like Europe/Paris)"
            ) from None
        return v


class RuleConfig(_Model):
    name: str
    department: str
    priority: int = 100
    keywords: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    regex: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    enabled: bool = True
    languages: tuple[str, ...] = ()  # ISO codes, or "unknown"
    authors: tuple[str, ...] = ()  # handles or addresses, or "list:<name>" from author_lists
    service_codes: tuple[str, ...] = ()  # Open311
    places: tuple[str, ...] = ()  # neighbourhoods and streets named in the text
    areas: tuple[str, ...] = ()  # names of areas in the `areas` GeoJSON file
    require: tuple[str, ...] = ()  # words or phrases that must all be there
    cc: str | None = None  # a second department that gets a copy
    urgent: bool = False  # what it matches is urgent: the on-call person is paged at once
    approval: bool = False  # answers sent to its citizens wait for the comms team's approval

    def to_def(self, author_lists: Mapping[str, tuple[str, ...]] | None = None) -> RuleDef:
        values = self.model_dump()
        values.pop("urgent", None)  # the rulebook's concern (Book.urgent), not routing's
        values.pop("approval", None)  # answering's concern (bot/answering), not routing's
        lists = author_lists or {}
        values["authors"] = tuple(
            member
            for entry in self.authors
            for member in (lists.get(entry[5:], ()) if entry.startswith("list:") else (entry,))
        )
        return RuleDef(**values)


class TriageConfig(_Model):
    channel: str

    @field_validator("channel")
    @classmethod
    def _channel(cls, v: str) -> str:
        return _channel_id(v)


class CommsTeamConfig(_Model):
    users: tuple[str, ...] = ()
    usergroup: str | None = None
    digest: DigestConfig = DigestConfig()  # the city-wide summary, to these users


class AreasConfig(_Model):
    """Ward or district boundaries: a GeoJSON FeatureCollection of (Multi)Polygons."""

    file: str  # relative to the config file
    name_property: str = "name"  # the feature property that names each area


class EngageConfig(_Model):
    triage: TriageConfig
    departments: tuple[DepartmentConfig, ...] = Field(min_length=1)
    rules: tuple[RuleConfig, ...] = ()
    adapters: tuple[AdapterConfig, ...] = ()
    comms_team: CommsTeamConfig = CommsTeamConfig()
    delivery: DeliveryConfig = DeliveryConfig()
    nudges: NudgeConfig = NudgeConfig()
    brigading: BrigadingConfig = BrigadingConfig()
    linking: LinkingConfig = LinkingConfig()
    urgent: UrgentConfig = UrgentConfig()
    answering: AnsweringConfig = AnsweringConfig()  # saved replies and approvals
    author_lists: dict[str, AuthorListConfig] = Field(default_factory=dict)  # press, councillors
    areas: AreasConfig | None = None
    retention: RetentionConfig = RetentionConfig()  # how long citizens' data is kept
    report: ReportConfig = ReportConfig()  # the public report
    # Set by the loader, not the file: where relative file names (areas.file) start from.
    config_dir: str | None = None

    def load_areas(self) -> AreaIndex | None:
        if self.areas is None:
            return None
        return load_areas(self.areas, Path(self.config_dir or "."))

    def department(self, slug: str) -> DepartmentConfig | None:
        return next((d for d in self.departments if d.slug == slug), None)

    def author_members(self) -> dict[str, tuple[str, ...]]:
        """Each author list's members by name: what ``list:<name>`` in a rule stands for."""
        return {name: entry.members for name, entry in self.author_lists.items()}

    def rule_defs(self) -> list[RuleDef]:
        return [r.to_def(self.author_members()) for r in self.rules]


def _channel_id(v: str) -> str:
    if not CHANNEL_ID.match(v):
        raise ValueError(
            f"{v!r} is not a Slack channel id (like C012AB3CD; in Slack: channel details, "
            "bottom of the About tab)"
        )
    return v


def load_config(path: str | Path | None) -> EngageConfig:
    """Load and validate the config; ``None`` loads the embedded sample config."""
    if path is None:
        text = resources.files("bot").joinpath("sample/engage.yml").read_text("utf-8")
        where = "embedded sample config"
    else:
        try:
            text = Path(path).read_text("utf-8")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read config: {exc.strerror}") from None
        where = str(path)
    return parse_config(text, where=where, base=Path(path).parent if path is not None else None)


def parse_config(text: str, *, where: str = "config", base: Path | None = None) -> EngageConfig:
    """Validate a config; ``base`` is where relative file names in it start from."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}{line}: not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping with triage, departments, rules")
    try:
        config = EngageConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = _clean(tuple(err["loc"]))
        raise ConfigError(_where(where, root, loc) + f": {_message(err)}") from None
    _cross_check(config, where, root, base or Path.cwd())
    config = config.model_copy(update={"config_dir": str(base or Path.cwd())})
    return config


def _message(err: Mapping[str, Any]) -> str:
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err["type"] == "extra_forbidden":
        return "unknown key (check its spelling)"
    return msg


def _cross_check(config: EngageConfig, where: str, root: Any, base: Path) -> None:
    def fail(loc: tuple[Any, ...], msg: str) -> None:
        raise ConfigError(_where(where, root, loc) + f": {msg}")

    slugs = [d.slug for d in config.departments]
    for i, slug in enumerate(slugs):
        if slug in slugs[:i]:
            fail(("departments", i, "slug"), f"duplicate department {slug!r}")
    areas = None
    if config.areas is not None:
        try:
            areas = load_areas(config.areas, base)
        except (OSError, ValueError) as exc:
            fail(("areas", "file"), f"cannot load boundaries: {exc}")
    names: set[str] = set()
    for i, rule in enumerate(config.rules):
        if rule.name in names:
            fail(("rules", i, "name"), f"duplicate rule name {rule.name!r}")
        names.add(rule.name)
        if rule.department not in slugs:
            fail(
                ("rules", i, "department"),
                f"unknown department {rule.department!r} (known: {', '.join(slugs)})",
            )
        for entry in rule.authors:
            if entry.startswith("list:") and entry[5:] not in config.author_lists:
                fail(("rules", i, "authors"), f"no author list {entry[5:]!r} in author_lists")
        if rule.cc is not None and rule.cc not in slugs:
            fail(("rules", i, "cc"), f"unknown department {rule.cc!r}")
        try:
            Router([rule.to_def(config.author_members())], areas=areas)
        except RuleError as exc:
            fail(("rules", i), str(exc))
    for i, department in enumerate(config.departments):
        try:
            office_hours(department.timezone, department.office_hours)
        except ValueError as exc:
            fail(("departments", i, "office_hours"), str(exc))
    try:
        office_hours(config.nudges.timezone, config.nudges.office_hours)
    except ValueError as exc:
        fail(("nudges", "office_hours"), str(exc))
    adapter_names: set[str] = set()
    for i, adapter in enumerate(config.adapters):
        if adapter.name in adapter_names:
            fail(("adapters", i, "name"), f"duplicate adapter name {adapter.name!r}")
        adapter_names.add(adapter.name)


def _clean(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop the parts pydantic adds for unions (``adapters.0.rss.url`` -> ``adapters.0.url``)."""
    out: list[Any] = []
    for part in loc:
        if isinstance(part, str) and out and isinstance(out[-1], int) and part in ADAPTER_TYPES:
            continue
        out.append(part)
    return tuple(out)


def _where(where: str, root: Any, loc: tuple[Any, ...]) -> str:
    """``file line 12: rules[2].department`` from a pydantic location and the YAML node tree."""
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        elif not part[:1].isupper():  # pydantic adds model names for unions; skip them
            key += f".{part}" if key else str(part)
    line = _line_of(root, loc)
    return f"{where}{f' line {line}' if line else ''}: {key}"


def _line_of(node: Any, loc: tuple[Any, ...]) -> int | None:
    found = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = [v for k, v in node.value if k.value == part]
            if not match:
                break
            node = match[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
        else:
            continue
        found = node.start_mark.line + 1
    return found


def load_areas(config: AreasConfig, base: Path) -> AreaIndex:
    path = Path(config.file)
    data = json.loads((path if path.is_absolute() else base / path).read_text("utf-8"))
    return AreaIndex.from_geojson(data, config.name_property)
