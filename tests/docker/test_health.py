"""The image's health check asks ``/livez`` (is the process serving?), which stays 200 while
Slack is away; ``/healthz`` keeps its meaning: ready (database and Slack) or 503."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy.engine import Engine

from bot.app.compose import Engage
from bot.config.file import parse_config
from bot.sandbox.fake_slack import FakeSlack
from tests.app.wsgi import call
from tests.conftest import CONFIG, settings_for

ROOT = Path(__file__).parents[2]


def test_livez_is_alive_while_healthz_says_slack_is_not_ready(
    slack: FakeSlack, sqlite: Engine
) -> None:
    # Built, never started: Slack's token has not been accepted yet, as in an outage.
    bot = Engage(settings_for(slack), parse_config(CONFIG), engine=sqlite, migrate=False)
    live = call(bot.web, "/livez", method="GET")
    assert live.status == 200 and json.loads(live.body) == {"ok": True}
    ready = call(bot.web, "/healthz", method="GET")
    assert ready.status == 503
    assert json.loads(ready.body)["slack"] is False and json.loads(ready.body)["database"] is True
    assert call(bot.web, "/livez", method="POST").status == 404


def test_the_image_checks_liveness_only() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    (check,) = re.findall(r"^HEALTHCHECK .*?(?<!\\)$", dockerfile, re.MULTILINE | re.DOTALL)
    assert "/livez" in check and "/healthz" not in check


def test_compose_never_makes_a_folder_of_a_missing_config() -> None:
    import yaml

    engage = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["engage"]
    (mount,) = engage["volumes"]
    assert mount["type"] == "bind" and mount["bind"]["create_host_path"] is False
    assert mount["source"] == "./engage.yml" and mount["read_only"] is True
    assert engage["environment"]["ENGAGE_CONFIG"] == mount["target"]
