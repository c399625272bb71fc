"""Danger words in several languages, the weekly rotation with its overrides and swaps, and the
parsers of the urgent lane's outside input (the config, ``/engage oncall swap``), as tables and
properties: no database, no Slack."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config.file import ConfigError, parse_config
from bot.config.urgent import DEFAULT_DANGER_WORDS, OnCallConfig, UrgentConfig
from bot.urgent.detect import DangerWords, urgency
from bot.urgent.rotation import SwapRequest, on_call, parse_swap
from tests.properties import bounded

WORDS = DangerWords.default()


@pytest.mark.parametrize(
    ("text", "language", "found"),
    [
        ("Downed  power line on Elm St!", "en", "downed power line"),
        ("There's a GAS LEAK at the school", "en", "gas leak"),
        ("Fuga de gas en la calle Mayor", "es", "fuga de gas"),
        ("Inundacion en el sótano", "es", "inundación"),  # accents do not matter
        ("Au feu ! L'immeuble brûle", "fr", "au feu"),
        ("Le pont s'est effondré ce matin", "fr", "effondré"),
        ("Gasgeruch im Treppenhaus", "de", "gasgeruch"),
        ("Das Haus ist eingestürzt", "de", "eingestürzt"),
        ("Vazamento de gás na rua", "pt", "vazamento de gás"),
        ("Incêndio no prédio", "pt", "incêndio"),
        ("Incendio en el mercado", None, "incendio"),  # unknown language: every list
    ],
)
def test_danger_words_are_found_in_each_language(
    text: str, language: str | None, found: str
) -> None:
    assert WORDS.find(text, language) == found


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("The fireworks on Sunday were lovely", "en"),  # whole words only
        ("New brand of bins, thanks!", "en"),  # "Brand" is German for fire, not English
        ("Pothole on Elm St", "en"),
        ("", None),
    ],
)
def test_ordinary_text_is_not_urgent(text: str, language: str | None) -> None:
    assert WORDS.find(text, language) is None


def test_a_rule_marked_urgent_or_the_configs_words() -> None:
    assert urgency("meter", language="en", rule="gas", urgent_rules=frozenset({"gas"})) == (
        "rule gas is marked urgent"
    )
    edited = DangerWords.of(UrgentConfig(danger_words={"en": ["tree down"]}).words())
    assert edited.find("A tree down on 5th", "en") == "tree down"
    assert edited.find("Fire!", "en") is None  # the config's English list replaced the built-in
    assert edited.find("Incendio", "es") == "incendio"  # other languages keep theirs
    assert set(DEFAULT_DANGER_WORDS) >= {"en", "es", "fr", "de", "pt"}


@given(st.text(max_size=300), st.sampled_from(["en", "es", "fr", "de", "pt", "xx", None]))
@bounded(100)
def test_detection_never_fails(text: str, language: str | None) -> None:
    hit = WORDS.find(text, language)
    assert hit is None or hit.strip() == hit


def _at(day: int, hour: int = 2, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


ROTA = OnCallConfig(
    rotation=("U0A", "U0B", "U0C"),
    starts=date(2026, 11, 2),
    overrides=({"from": date(2026, 12, 24), "until": date(2026, 12, 26), "user": "U0C"},),
)


@pytest.mark.parametrize(
    ("now", "person", "why", "following"),
    [
        (_at(2), "U0A", "rotation", "U0B"),
        (_at(8), "U0A", "rotation", "U0B"),  # Sunday: still the week that began on the 2nd
        (_at(9), "U0B", "rotation", "U0C"),
        (_at(16), "U0C", "rotation", "U0A"),
        (_at(23), "U0A", "rotation", "U0B"),
        # The week of Dec 21 is U0B's: on the holiday U0C stands in, and U0B is next.
        (_at(25, month=12), "U0C", "holiday override", "U0B"),
        (_at(27, month=12), "U0B", "rotation", "U0C"),
    ],
)
def test_the_weekly_turn_and_the_holidays(
    now: datetime, person: str, why: str, following: str
) -> None:
    duty = on_call(ROTA, members=(), timezone="UTC", now=now)
    assert (duty.person, duty.why, duty.next_person) == (person, why, following)


def test_a_swap_beats_the_override_and_a_user_group_is_a_rotation() -> None:
    duty = on_call(ROTA, members=(), timezone="UTC", now=_at(25, month=12), swap="U0Z")
    assert (duty.person, duty.why, duty.next_person) == ("U0Z", "swap", "U0B")
    group = OnCallConfig(usergroup="S0ONCALL", starts=date(2026, 11, 2))
    duty = on_call(group, members=["U0X", "U0Y"], timezone="UTC", now=_at(9))
    assert (duty.person, duty.next_person) == ("U0Y", "U0X")
    empty = on_call(OnCallConfig(), members=(), timezone="UTC", now=_at(9))
    assert (empty.person, empty.next_person) == (None, None)


def test_the_week_turns_at_local_midnight() -> None:
    # Monday 9 Nov, 03:00 UTC is still Sunday evening in New York: U0A's week there.
    late = datetime(2026, 11, 9, 3, tzinfo=UTC)
    assert on_call(ROTA, members=(), timezone="America/New_York", now=late).person == "U0A"
    assert on_call(ROTA, members=(), timezone="UTC", now=late).person == "U0B"


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("<@U0CARL|carl>", SwapRequest("U0CARL", None, None)),
        ("<@U0CARL> until 2026-12-24", SwapRequest("U0CARL", None, date(2026, 12, 24))),
        ("<@U0CARL> parks until 2026-12-24", SwapRequest("U0CARL", "parks", date(2026, 12, 24))),
        ("@carl", "Pick the person with @"),
        ("", "Say who takes over"),
        ("<@U0CARL> until 24/12", "Give the last day"),
        ("<@U0CARL> until 2026-02-30", "2026-02-30 is not a date."),
        ("<@U0CARL> parks roads", "Name at most one department"),
    ],
)
def test_the_swap_command(text: str, parsed: SwapRequest | str) -> None:
    result = parse_swap(text)
    if isinstance(parsed, str):
        assert isinstance(result, str) and result.startswith(parsed)
    else:
        assert result == parsed


@given(st.text(max_size=120))
@bounded(300)
def test_the_swap_command_never_fails(text: str) -> None:
    result = parse_swap(text)
    assert isinstance(result, str | SwapRequest)
    if isinstance(result, SwapRequest):
        assert result.user[:1] in "UW"


BASE = """
triage: {channel: C0TRIAGE01}
departments:
  - slug: roads
    name: Roads
    channel: C0ROADS01
"""


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("    oncall: {rotation: [bob]}\n", "departments[0].oncall.rotation"),
        ("    oncall: {usergroup: U0BOB}\n", "is not a Slack user group id"),
        ("    oncall: {starts: 2026-11-03}\n", "is not a Monday"),
        ("    oncall: {rotation: [U0A1, U0A1]}\n", "a person is listed twice"),
        (
            "    oncall: {overrides: [{from: 2026-12-26, until: 2026-12-24, user: U0A1}]}\n",
            "until is before from",
        ),
        ("urgent: {ack_minutes: 0}\n", "urgent.ack_minutes"),
        ("urgent: {danger_words: {english: [fire]}}\n", "is not a language code"),
        ("urgent: {danger_words: {en: ['  ']}}\n", "an empty danger word"),
        ("urgent: {pager: true}\n", "unknown key"),
    ],
)
def test_config_mistakes_are_one_line(extra: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(BASE + extra)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_the_config_keys() -> None:
    config = parse_config(
        BASE
        + "    oncall: {rotation: [U0A1, U0B1], usergroup: S0ROADS, starts: 2026-11-02,\n"
        + "             overrides: [{from: 2026-12-25, user: U0B1}]}\n"
        + "urgent: {ack_minutes: 5, danger_words: {en: [tree down]}}\n"
    )
    oncall = config.departments[0].oncall
    assert oncall.rotation == ("U0A1", "U0B1") and oncall.usergroup == "S0ROADS"
    assert oncall.overrides[0].covers(date(2026, 12, 25))
    assert not oncall.overrides[0].covers(date(2026, 12, 26))
    assert config.urgent.ack_minutes == 5 and config.urgent.words()["en"] == ("tree down",)


@given(
    st.dictionaries(
        st.text(max_size=5),
        st.lists(st.text(max_size=20), max_size=3),
        max_size=3,
    ),
    st.integers(min_value=-5, max_value=2000),
)
@bounded(60)
def test_urgent_config_parsing_is_an_answer_or_one_line(
    words: dict[str, list[str]], minutes: int
) -> None:
    import json

    text = BASE + "urgent: " + json.dumps({"ack_minutes": minutes, "danger_words": words}) + "\n"
    try:
        config = parse_config(text)
    except ConfigError as exc:
        assert "\n" not in str(exc)
        return
    assert 1 <= config.urgent.ack_minutes <= 1440
    DangerWords.of(config.urgent.words())  # whatever was accepted compiles
