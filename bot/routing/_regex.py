"""Regex prefilter for routing: literals that every match of a rule's regex must contain.

CPython's ``re`` tries an alternation branch by branch at every position, so one combined
alternation of 100 rule regexes as a prefilter costs about as much as running them one by one
(measured ~180 us for a 300-character text, against a ~50 us budget). Instead each regex is
parsed once, when the rules are compiled, to extract literals that any match must contain
(``\\bpot\\s*holes?\\b`` needs "hole"), and :mod:`bot.routing._index` runs the rule's regex only
when one of them occurs in the mention's folded text. A regex with no usable literal
(``\\d{5}``) gets ``None`` and runs for every mention.

How: we walk the parse tree of CPython's own regex parser (``re._parser``, private but stable
since 3.11 and what ``re.compile`` itself uses). Each node yields

* exact: the finite set of strings it can match, if small (``None`` = unknown/too many);
* required: a set of strings one of which every match contains (``None`` = nothing known).

Any failure or unknown construct degrades to ``None``, which means "always run this regex": the
prefilter may let too much through, never too little.

Why a literal found this way is safe to look for in the *folded* text: a regex that matches
text T (original or folded) under IGNORECASE matches the literal character by character, each
pair of characters being case-insensitively equal, and such pairs fold to the same string
(:mod:`bot.core.text`); fold works character by character and is idempotent, so fold(literal)
occurs in fold(T). We therefore fold the literals and test ``literal in mention.folded``.

Internal to :mod:`bot.routing`; kept apart because it is the one place that depends on a
private CPython module, and so the one place to look if a Python upgrade slows routing down.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Iterator
from typing import Any

from bot.core.text import fold

__all__ = ["regex_literals"]

_SET_LIMIT = 64  # cap on exact/required set sizes: bounds cross products, keeps checks cheap

try:
    _parser: Any = importlib.import_module("re._parser")
except ImportError:  # pragma: no cover - every supported CPython has it; degrade, don't fail
    _parser = None

_Strings = frozenset[str]
_Info = tuple[_Strings | None, _Strings | None]  # (exact, required)
_EMPTY: _Strings = frozenset({""})


def regex_literals(pattern: str) -> frozenset[str] | None:
    """Folded strings one of which every match of *pattern* contains, or None if unknown."""
    if _parser is None:
        return None
    try:
        exact, required = _sequence(_parser.parse(pattern, re.IGNORECASE))
        best = _better(required, exact)
    except Exception:  # private API: any surprise only costs speed
        return None
    if best is None:
        return None
    literals = {fold(item) for item in best}
    # "hole" already covers "holes": keep only literals that contain no other literal.
    return frozenset(
        item for item in literals if not any(o != item and o in item for o in literals)
    )


def _score(strings: _Strings | None) -> tuple[int, int]:
    """Higher is more selective: longest shortest folded literal, then fewest alternatives."""
    if not strings:
        return (0, 0)
    return (min(len(fold(item)) for item in strings), -len(strings))


def _better(a: _Strings | None, b: _Strings | None) -> _Strings | None:
    best = a if _score(a) >= _score(b) else b
    return best if _score(best)[0] > 0 else None  # "" as a requirement says nothing


def _sequence(items: Iterable[tuple[Any, Any]]) -> _Info:
    best: _Strings | None = None
    run = _EMPTY  # exact strings of the current run of consecutive exact nodes
    all_exact = True
    for op, av in items:
        exact, required = _node(op, av)
        best = _better(best, required)
        if exact is not None and len(run) * len(exact) <= _SET_LIMIT:
            run = frozenset(left + right for left, right in _product(run, exact))
            continue
        all_exact = False
        best = _better(best, run)
        run = exact if exact is not None else _EMPTY
    best = _better(best, run)
    return (run if all_exact else None), best


def _union(sets: Iterable[_Strings]) -> _Strings:
    result: set[str] = set()
    for strings in sets:
        result.update(strings)
    return frozenset(result)


def _product(left: _Strings, right: _Strings) -> Iterator[tuple[str, str]]:
    return ((a, b) for a in left for b in right)


def _node(op: Any, av: Any) -> _Info:
    kind = getattr(op, "name", str(op))
    if kind == "LITERAL":
        return frozenset({chr(av)}), None
    if kind == "IN":
        if len(av) <= 8 and all(getattr(o, "name", "") == "LITERAL" for o, _ in av):
            return frozenset(chr(code) for _, code in av), None
        return None, None
    if kind in ("AT", "ASSERT", "ASSERT_NOT"):
        return _EMPTY, None  # zero-width: contributes "" to whatever surrounds it
    if kind == "SUBPATTERN":
        return _sequence(av[-1])
    if kind == "ATOMIC_GROUP":
        return _sequence(av)
    if kind == "BRANCH":
        infos = [_sequence(alternative) for alternative in av[1]]
        exacts = [exact for exact, _ in infos]
        exact_union: _Strings | None = None
        if all(exact is not None for exact in exacts):
            exact_union = _union(e for e in exacts if e is not None)
            if len(exact_union) > _SET_LIMIT:
                exact_union = None
        needs = [_better(required, exact) for exact, required in infos]
        required_union: _Strings | None = None
        if all(need is not None for need in needs):
            required_union = _union(n for n in needs if n is not None)
            if len(required_union) > _SET_LIMIT:
                required_union = None
        return exact_union, required_union
    if kind in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, high, body = av
        exact, required = _sequence(body)
        if low == 0:
            if high == 0:
                return _EMPTY, None
            if high == 1 and exact is not None:
                return exact | _EMPTY, None
            return None, None
        repeated: _Strings | None = None
        if low == high and exact is not None and len(exact) ** low <= _SET_LIMIT:
            repeated = _EMPTY
            for _ in range(low):
                repeated = frozenset(a + b for a, b in _product(repeated, exact))
        return repeated, _better(required, exact)  # the first repetition is always there
    return None, None  # ANY, NOT_LITERAL, CATEGORY, GROUPREF, conditionals, ...
