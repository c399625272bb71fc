"""Tests for bot.nudges.rotation: who gets nudged about an unclaimed mention.

Each rule is pinned on a small table; then the fairness requirement from the issue is checked
on long runs of the stateful Rotation (100 mentions among 5 members, with and without a member
away for a stretch in the middle).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from bot.nudges.rotation import Candidate, Pick, Rotation, pick

T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def c(
    user_id: str,
    engaged: int | None = None,
    *,
    away: bool = False,
    care_today: int = 0,
    is_bot: bool = False,
    turn: int = 0,
) -> Candidate:
    """A candidate who last engaged ``engaged`` minutes after T0 (None: never)."""
    return Candidate(
        user_id,
        None if engaged is None else at(engaged),
        away=away,
        care_today=care_today,
        is_bot=is_bot,
        turn=turn,
    )


# ------------------------------------------------------------------------------- ordering


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        ([c("U1", 30), c("U2", 10), c("U3", 20)], "U2"),  # least recently engaged
        ([c("U1", 30), c("U2", None), c("U3", 20)], "U2"),  # never engaged beats any time
        ([c("U1", 5), c("U2", 500)], "U1"),
        ([c("U1", 0)], "U1"),
    ],
)
def test_least_recently_engaged_first(candidates: list[Candidate], expected: str) -> None:
    assert pick(candidates, last_picked=None).user_id == expected


def test_naive_timestamps_are_taken_as_utc() -> None:
    # SQLite returns naive datetimes; mixing them with aware ones must not raise.
    naive = Candidate("U1", datetime(2024, 5, 6, 8, 0))
    aware = Candidate("U2", at(0))
    assert pick([aware, naive], last_picked=None).user_id == "U1"


def test_ties_are_deterministic_and_not_alphabetical() -> None:
    members = [f"U{i:02d}" for i in range(20)]
    never = [c(m) for m in members]
    first = pick(never, last_picked=None)
    # Same inputs, same answer, whatever the order they come in.
    assert pick(list(reversed(never)), last_picked=None) == first
    assert "tie" in first.reason
    # The salt (the previous pick) changes who wins ties, so no one id wins every fresh tie.
    winners = {pick(never, last_picked=f"X{i}").user_id for i in range(30)}
    assert len(winners) > 3


def test_equal_timestamps_tie_break_the_same_way() -> None:
    same = [c("UA", 10), c("UB", 10), c("UC", 10)]
    results = {pick(same, last_picked="UZ").user_id for _ in range(5)}
    assert len(results) == 1


def test_same_moment_is_ordered_by_turn() -> None:
    # One sweep named U1, then U2, at one moment (turns 1 and 2); U3 engaged earlier.
    earlier = [c("U1", 5, turn=1), c("U2", 5, turn=2), c("U3", 0)]
    assert pick(earlier, last_picked="U2").user_id == "U3"
    # U3 since named too: U1 has waited longest, though U1 and U2 share a timestamp.
    later = [c("U1", 5, turn=1), c("U2", 5, turn=2), c("U3", 9, turn=3)]
    assert pick(later, last_picked="U3").user_id == "U1"
    assert pick(list(reversed(later)), last_picked="U3").user_id == "U1"
    # A duplicate keeps the later turn of the same moment.
    twice = [c("U1", 5, turn=1), c("U1", 5, turn=4), c("U2", 5, turn=2)]
    assert pick(twice, last_picked=None).user_id == "U2"


# ------------------------------------------------------------------------------- last_picked


def test_not_twice_in_a_row_while_someone_else_is_available() -> None:
    # U1 looks least recent (the caller did not record the nudge), but was picked last time.
    result = pick([c("U1", None), c("U2", 50)], last_picked="U1")
    assert result.user_id == "U2"


def test_last_picked_again_when_only_one_available() -> None:
    result = pick([c("U1", 50), c("U2", away=True), c("B1", is_bot=True)], last_picked="U1")
    assert result.user_id == "U1"
    assert "only one available" in result.reason


def test_last_picked_who_is_away_is_simply_skipped() -> None:
    result = pick([c("U1", 0, away=True), c("U2", 50)], last_picked="U1")
    assert result.user_id == "U2"


# ------------------------------------------------------------------------------- skipping


def test_away_people_are_skipped() -> None:
    result = pick([c("U1", None, away=True), c("U2", 10)], last_picked=None)
    assert result == Pick("U2", result.reason)
    assert "1 away" in result.reason


def test_bots_are_never_picked() -> None:
    # The bot is the least recently engaged, the last human was picked last time: still human.
    candidates = [c("B1", None, is_bot=True), c("U1", 90)]
    assert pick(candidates, last_picked="U1").user_id == "U1"
    assert pick([c("B1", is_bot=True), c("B2", is_bot=True)], last_picked=None).user_id is None


@pytest.mark.parametrize(
    ("care_today", "care_limit", "skipped"),
    [(0, 2, False), (1, 2, False), (2, 2, True), (5, 2, True), (0, 1, False), (1, 1, True)],
)
def test_care_limit(care_today: int, care_limit: int, skipped: bool) -> None:
    candidates = [c("U1", None, care_today=care_today), c("U2", 99)]
    result = pick(candidates, last_picked=None, care=True, care_limit=care_limit)
    assert result.user_id == ("U2" if skipped else "U1")
    assert ("care" in result.reason) is skipped


def test_care_count_ignored_for_ordinary_mentions() -> None:
    candidates = [c("U1", None, care_today=9), c("U2", 99)]
    assert pick(candidates, last_picked=None, care=False).user_id == "U1"


def test_care_limit_can_leave_nobody() -> None:
    candidates = [c("U1", care_today=2), c("U2", care_today=3)]
    result = pick(candidates, last_picked=None, care=True)
    assert result.user_id is None
    assert "2 at today's limit of 2 care mentions" in result.reason


# ------------------------------------------------------------------------------- nobody


@pytest.mark.parametrize(
    ("candidates", "words"),
    [
        ([], "no members"),
        ([c("U1", away=True), c("U2", away=True)], "2 away"),
        ([c("B1", is_bot=True)], "1 bot"),
        ([c("U1", away=True), c("B1", is_bot=True)], "1 away, 1 bot"),
    ],
)
def test_nobody_available(candidates: list[Candidate], words: str) -> None:
    result = pick(candidates, last_picked="U1")
    assert result.user_id is None
    assert result.reason.startswith("nobody available")
    assert words in result.reason


def test_duplicate_candidates_take_the_cautious_view() -> None:
    # A stale duplicate must not make U1 look never-engaged, nor hide that they are away.
    assert pick([c("U1", None), c("U1", 80), c("U2", 40)], last_picked=None).user_id == "U2"
    assert pick([c("U1"), c("U1", away=True), c("U2", 40)], last_picked=None).user_id == "U2"


# ------------------------------------------------------------------------------- fairness


MEMBERS = ["U1", "U2", "U3", "U4", "U5"]


def assert_never_twice_in_a_row(picks: list[str]) -> None:
    repeats = [i for i in range(1, len(picks)) if picks[i] == picks[i - 1]]
    assert not repeats, f"picked twice in a row at {repeats}"


def run(rotation: Rotation, n: int, *, start: int = 0, away: tuple[str, ...] = ()) -> list[str]:
    picks: list[str] = []
    for i in range(start, start + n):
        result = rotation.next(now=at(i), away=away)
        assert result.user_id is not None
        picks.append(result.user_id)
    return picks


def test_fairness_over_100_mentions() -> None:
    picks = run(Rotation(MEMBERS), 100)
    counts = Counter(picks)
    assert set(counts) == set(MEMBERS)
    assert all(18 <= n <= 22 for n in counts.values()), counts
    assert_never_twice_in_a_row(picks)


def test_fairness_with_a_member_away_for_a_stretch() -> None:
    rotation = Rotation(MEMBERS)
    before = run(rotation, 30)
    during = run(rotation, 40, start=30, away=("U3",))
    after = run(rotation, 30, start=70)
    picks = before + during + after
    assert len(picks) == 100
    assert_never_twice_in_a_row(picks)

    assert "U3" not in during
    # The others shared the extra load evenly.
    others = Counter(p for p in picks if p != "U3")
    assert max(others.values()) - min(others.values()) <= 2, others
    assert all(20 <= n <= 24 for n in others.values()), others

    # The returning member is picked soon, but only their share: not handed the backlog.
    assert "U3" in after[:5]
    assert after.count("U3") <= 30 // len(MEMBERS) + 1
    for window in (after[i : i + 5] for i in range(len(after) - 4)):
        assert window.count("U3") <= 1, after


def test_rotation_with_only_one_member_picks_them_every_time() -> None:
    rotation = Rotation(["U1"])
    assert [rotation.next(now=at(i)).user_id for i in range(3)] == ["U1", "U1", "U1"]


def test_rotation_with_everyone_away_records_nothing() -> None:
    rotation = Rotation(["U1", "U2"])
    first = rotation.next(now=at(0))
    result = rotation.next(now=at(1), away={"U1", "U2"})
    assert result.user_id is None
    assert rotation.last_picked == first.user_id
    # Nothing was recorded, so the other member is next.
    assert rotation.next(now=at(2)).user_id not in (None, first.user_id)


def test_rotation_care_counts_and_limit() -> None:
    rotation = Rotation(MEMBERS, care_limit=1)
    counts: Counter[str] = Counter()
    for i in range(len(MEMBERS)):
        result = rotation.next(now=at(i), care=True, care_counts=counts)
        assert result.user_id is not None
        counts[result.user_id] += 1
    # Everyone took one care mention today: the sixth goes to nobody.
    assert set(counts) == set(MEMBERS)
    result = rotation.next(now=at(9), care=True, care_counts=counts)
    assert result.user_id is None
    assert "care" in result.reason
    # An ordinary mention still finds someone.
    assert rotation.next(now=at(10), care_counts=counts).user_id is not None


def test_rotation_ignores_duplicate_members() -> None:
    picks = run(Rotation(["U1", "U2", "U1"]), 10)
    assert Counter(picks) == {"U1": 5, "U2": 5}


def test_one_sweep_names_everyone_in_turn_then_starts_again() -> None:
    # Twelve reminders due at one moment, four people: a grouped message names one person per
    # mention, each in turn (it used to ping-pong between two once everyone had a turn).
    rotation = Rotation(MEMBERS[:4])
    picks = [rotation.next(now=at(0)).user_id for _ in range(12)]
    assert len(set(picks[:4])) == 4
    assert picks[4:8] == picks[8:] == picks[:4]


def test_rotation_carries_on_from_what_is_stored() -> None:
    # U1 and U2 were named in one sweep (U2 first: the lower turn), U3 engaged before that,
    # U4 never: the next four go to whoever has waited longest, in that order.
    engaged = {"U1": (at(10), 7), "U2": (at(10), 5), "U3": (at(3), 0)}
    rotation = Rotation(["U1", "U2", "U3", "U4"], engaged=engaged, last_picked="U1")
    assert [rotation.next(now=at(20)).user_id for _ in range(4)] == ["U4", "U3", "U2", "U1"]
