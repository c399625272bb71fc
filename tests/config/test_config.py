"""Config validation: every mistake is one line naming the key, its line and what is wrong."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config.file import ConfigError, Settings, load_config, parse_config
from tests.conftest import CONFIG


def test_the_embedded_sample_and_the_test_config_are_valid() -> None:
    sample = load_config(None)
    assert [d.slug for d in sample.departments] == ["public-works", "parks", "transportation"]
    assert parse_config(CONFIG).triage.channel == "C0TRIAGE01"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("channel: C0PARKS001", "channel: parks"),
            "line 14: departments[1].channel: 'parks' is not a Slack channel id",
        ),
        (
            ("department: parks\n", "department: roads\n"),
            "rules[1].department: unknown department 'roads' (known: public-works, parks)",
        ),
        (
            ("timezone: America/New_York", "timezone: Mars/Olympus"),
            "departments[0].timezone: unknown time zone 'Mars/Olympus'",
        ),
        (("priority: 20", "priority: high"), "rules[1].priority: Input should be a valid integer"),
        (
            ("keywords: [park, playground]", "keywords: [park]\n    regex: ['(unclosed']"),
            'rules[1]: rule "parks": ',
        ),
        (("  - name: parks\n", "  - name: streets\n"), "rules[1].name: duplicate rule name"),
        (("    priority: 10\n", "    priorty: 10\n"), "rules[0].priorty: unknown key"),
        (("leads: [U0LEADPW1]", "leads: [bob]"), "'bob' is not a Slack user id"),
        (("triage:\n  channel: C0TRIAGE01\n", ""), "triage: Field required"),
        (("slug: parks", "slug: public-works"), "duplicate department 'public-works'"),
        (("rules:", "rules: ["), "not valid YAML"),
    ],
)
def test_mistakes_name_the_key(change: tuple[str, str], expected: str) -> None:
    text = CONFIG.replace(*change)
    assert text != CONFIG
    with pytest.raises(ConfigError) as caught:
        parse_config(text, where="engage.yml")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("engage.yml")
    assert expected in message


def test_delivery_gives_up_after_a_duration_and_ignores_max_attempts() -> None:
    delivery = "  channel_interval: 0\n"
    config = parse_config(CONFIG.replace(delivery, delivery + "  give_up_after: 1h30m\n"))
    assert config.delivery.give_up_after == 90
    assert parse_config(CONFIG).delivery.give_up_after == 360  # 6 hours
    old = parse_config(CONFIG.replace(delivery, delivery + "  max_attempts: 8\n"))
    assert old.delivery.max_attempts == 8  # still loads; `engage config check` says it is unused
    with pytest.raises(ConfigError, match=r"delivery.give_up_after: 'soon' is not a duration"):
        parse_config(CONFIG.replace(delivery, delivery + "  give_up_after: soon\n"))


def test_adapter_settings_are_checked() -> None:
    bad = CONFIG + "adapters:\n  - type: rss\n    name: news\n    url: ftp://x\n"
    with pytest.raises(ConfigError, match=r"adapters\[0\]\.url: .*http"):
        parse_config(bad)
    unknown = CONFIG + "adapters:\n  - type: carrier-pigeon\n    name: x\n"
    with pytest.raises(ConfigError, match=r"adapters\[0\]"):
        parse_config(unknown)


def test_settings_from_environment() -> None:
    settings = Settings.from_env(
        {"SLACK_BOT_TOKEN": "xoxb-1", "PORT": "8080", "SLACK_API_URL": "http://127.0.0.1:9/api"},
        dotenv=False,
    )
    assert settings.port == 8080 and settings.slack_api_url == "http://127.0.0.1:9/api/"
    assert settings.database_url == "sqlite:///engage.db" and not settings.socket_mode
    with pytest.raises(ConfigError, match="PORT"):
        Settings.from_env({"PORT": "eighty"}, dotenv=False)
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET: not set"):
        Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1"}, dotenv=False).require_slack()


def _engage(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
        timeout=60,
    )


def test_cli_config_check_and_rules_test(tmp_path: Path) -> None:
    good = tmp_path / "engage.yml"
    good.write_text(CONFIG)
    result = _engage("config", "check", str(good), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "2 departments, 2 rules" in result.stdout
    assert "needs" not in result.stdout

    with_bsky = tmp_path / "bsky.yml"
    with_bsky.write_text(
        CONFIG + "adapters:\n  - {type: bluesky, name: city-bsky, handle: city.bsky.social}\n"
    )
    result = _engage("config", "check", str(with_bsky), cwd=tmp_path)
    assert result.returncode == 0
    assert "adapter 'city-bsky' needs BLUESKY_APP_PASSWORD set to run" in result.stdout

    bad = tmp_path / "bad.yml"
    bad.write_text(CONFIG.replace("department: parks\n", "department: roads\n"))
    result = _engage("config", "check", str(bad), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "rules[1].department" in result.stderr

    env = {"ENGAGE_CONFIG": str(good)}
    result = _engage("rules", "test", "A POTHOLE near the café", cwd=tmp_path, env=env)
    assert result.returncode == 0
    assert result.stdout.startswith("public-works (Public Works): rule 'streets': ")
    assert "pothole" in result.stdout.lower()
    result = _engage("rules", "test", "trading binance today", cwd=tmp_path, env=env)
    assert result.stdout.startswith("triage (C0TRIAGE01): no rule matched")
    assert "vetoed: rule 'streets'" in result.stdout
    result = _engage("rules", "test", "hello", "--config", str(bad), cwd=tmp_path)
    assert result.returncode == 2 and "unknown department 'roads'" in result.stderr


def test_cli_db_upgrade_and_adapters_status(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    result = _engage("db", "upgrade", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    result = _engage("adapters", "status", cwd=tmp_path, env=env)
    assert result.returncode == 0 and "no adapter configured" in result.stdout


def test_cli_run_without_tokens_says_what_is_missing(tmp_path: Path) -> None:
    result = _engage("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET: not set" in result.stderr


def test_the_readme_config_examples_are_valid() -> None:
    """The README is the user's manual: its YAML examples must load as they are written."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    blocks = [b for b in readme.split("```yaml\n")[1:]]
    assert len(blocks) >= 3
    for block in blocks:
        text = block.split("```")[0]
        if "triage:" not in text:
            text = "triage: {channel: C0TRIAGE01}\n" + text
        if "departments:" not in text:
            text += "departments:\n  - {slug: a, name: A, channel: C0AAAAAA1}\n"
        # Relative files (the areas example's wards.geojson) come from the test fixtures.
        parse_config(
            text, where="README", base=Path(__file__).resolve().parents[1] / "fixtures" / "places"
        )
