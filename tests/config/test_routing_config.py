"""Richer rules through the config and ingest: language, authors lists, 311 services, areas, cc."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.app.compose import Engage
from bot.config.file import ConfigError, load_config
from bot.core.adapter import IncomingMention
from bot.sandbox.fake_slack import FakeSlack, wait_until

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "places"
CONFIG = """
triage: {channel: C0TRIAGE01}
departments:
  - {slug: public-works, name: Public Works, channel: C0PUBWORKS}
  - {slug: parks, name: Parks, channel: C0PARKS001}
  - {slug: press-office, name: Press Office, channel: C0PRESS001}
  - {slug: francais, name: Services en français, channel: C0FRANCAIS}
author_lists:
  press: ["@reporter@news.social", "desk@gazette.example"]
areas: {file: wards.geojson, name_property: name}
rules:
  - {name: press, department: press-office, priority: 1, authors: ["list:press"]}
  - {name: french, department: francais, priority: 2, languages: [fr]}
  - {name: vehicles, department: public-works, priority: 3, service_codes: ["ABNDVHCL"]}
  - name: ward-5-trees
    department: parks
    priority: 4
    keywords: [tree]
    areas: ["Ward 5"]
    cc: public-works
delivery: {channel_interval: 0}
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    shutil.copy(FIXTURES / "wards.geojson", tmp_path / "wards.geojson")
    path = tmp_path / "engage.yml"
    path.write_text(CONFIG)
    return path


def test_rules_with_context_route_and_copy(
    make_bot: Callable[..., Engage], slack: FakeSlack, config_file: Path
) -> None:
    config = load_config(config_file)
    assert config.rule_defs()[0].authors == ("@reporter@news.social", "desk@gazette.example")

    engage = make_bot(config)

    def post(n: int, text: str, **kw: object) -> None:
        engage.ingest_one(IncomingMention(source="open311", external_id=f"m{n}", text=text, **kw))  # type: ignore[arg-type]

    post(1, "Question about the budget", author="Desk <desk@gazette.example>")
    post(2, "Il y a un arbre tombé sur la route près de chez moi, merci de venir")
    post(3, "Car abandoned for weeks", extra={"service_code": "ABNDVHCL"})
    post(4, "A tree fell on the path", extra={"lat": 42.385, "long": -71.125})
    post(5, "A tree fell on the path too", extra={"lat": 42.32, "long": -71.02})
    wait_until(lambda: len(slack.messages("C0PUBWORKS")) >= 2 and slack.messages("C0TRIAGE01"))
    assert "budget" in slack.messages("C0PRESS001")[0]["text"]
    assert "arbre" in slack.messages("C0FRANCAIS")[0]["text"]
    assert "tree fell on the path" in slack.messages("C0PARKS001")[0]["text"]
    public_works = [m["text"] for m in slack.messages("C0PUBWORKS")]
    assert any("Car abandoned" in t for t in public_works)
    assert any("For your information" in t and "Parks" in t for t in public_works)  # the cc
    assert "too" in slack.messages("C0TRIAGE01")[0]["text"]  # outside Ward 5: no rule


def test_unknown_author_list_and_missing_boundaries_are_config_errors(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "wards.geojson", tmp_path / "wards.geojson")
    bad = tmp_path / "engage.yml"
    bad.write_text(CONFIG.replace('"list:press"', '"list:councillors"'))
    with pytest.raises(ConfigError, match=r"rules\[0\]\.authors: no author list 'councillors'"):
        load_config(bad)
    (tmp_path / "wards.geojson").unlink()
    bad.write_text(CONFIG)  # wards.geojson is not beside it any more
    with pytest.raises(ConfigError, match=r"areas\.file: cannot load boundaries"):
        load_config(bad)
