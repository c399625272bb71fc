"""Reading JSON that comes from outside, strictly: the webhook's bodies and Slack's payloads.

Python's :func:`json.loads` accepts inputs that crash the reader or the code after it:

- nesting 5,000 levels deep raises ``RecursionError``;
- an integer of more than 4,300 digits raises ``ValueError`` (Python's limit on int parsing);
- ``NaN`` and ``Infinity`` are not JSON, yet are accepted (and PostgreSQL's ``json`` refuses
  them when the value is stored);
- ``"\\u0000"`` decodes to a NUL, which PostgreSQL cannot store in text, and ``"\\ud800"`` to a
  lone surrogate, which cannot be encoded as UTF-8 at all (not for the database, not for Slack);
- a key given twice keeps the last value silently.

:func:`loads` refuses nesting past a depth and duplicate keys with a :class:`JSONError`, before
or while parsing. Numbers it cannot keep (too long, not finite) and the bare ``NaN`` or
``Infinity`` come back as :class:`Unreadable` placeholders instead of failing at once, so
:func:`first_problem` can name *where* they are ("extra.lat"), as it names the place of a NUL or
a lone surrogate in any string. The webhook turns that into a 422 naming the field; the Slack
gate into a 400.

Lives in ``bot.intake`` (the webhook's package) because ``bot.core`` is at its size limit;
``bot.app``'s Slack gate, above intake in the layers, imports it from here.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

MAX_DEPTH = 32
MAX_NUMBER_LENGTH = 40  # characters of one number literal, sign and exponent included

# A JSON string, as the decoder reads it: from a quote to the next quote not escaped.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_SURROGATE = re.compile("[\ud800-\udfff]")


class JSONError(ValueError):
    """The text cannot be read as JSON safely; the message says why, for the sender."""


@dataclass(frozen=True)
class Unreadable:
    """A number JSON allows but nothing here can keep, or a ``NaN``/``Infinity`` it does not."""

    literal: str
    why: str


def loads(text: str, *, max_depth: int = MAX_DEPTH) -> Any:
    """``text`` parsed; raises :class:`JSONError` (never ``RecursionError`` or another)."""
    deepest = depth(text)
    if deepest > max_depth:
        raise JSONError(f"nested {deepest} levels deep (at most {max_depth})")
    try:
        return json.loads(
            text,
            parse_int=_int,
            parse_float=_float,
            parse_constant=_constant,
            object_pairs_hook=_object,
        )
    except JSONError:
        raise
    except json.JSONDecodeError as exc:
        raise JSONError(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except (ValueError, RecursionError) as exc:  # the depth check makes these unreachable
        raise JSONError(str(exc) or type(exc).__name__) from None


def depth(text: str) -> int:
    """How deep arrays and objects nest in ``text``, counted without recursion.

    Brackets inside strings do not count. On malformed text the count may be too high, never
    too low before the point where the decoder would stop, so the decoder never nests deeper.
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def first_problem(value: Any, path: str = "") -> tuple[str, str] | None:
    """The first place (``"extra.lat"``, ``"actions[0]"``; ``""`` for the top) where ``value``
    holds something that cannot be kept, and what it is; ``None`` when all is well."""
    for where, item in _walk(value, path):
        if isinstance(item, Unreadable):
            return where, item.why
        if isinstance(item, str):
            problem = string_problem(item)
            if problem:
                return where, problem
    return None


def string_problem(text: str) -> str | None:
    """What in ``text`` cannot be stored or sent on, if anything."""
    if "\x00" in text:
        return "contains a NUL character (U+0000), which cannot be stored"
    found = _SURROGATE.search(text)
    if found:
        code = f"U+{ord(found.group()):04X}"
        return f"contains a lone surrogate ({code}), which is not a Unicode character"
    return None


def _walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    # Iterative, so a structure as deep as MAX_DEPTH allows costs no recursion either.
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        yield where, item
        if isinstance(item, dict):
            for key, child in reversed(item.items()):
                here = f"{where}.{label(key)}" if where else label(key)
                yield here, key
                stack.append((here, child))
        elif isinstance(item, list):
            stack.extend((f"{where}[{i}]", child) for i, child in reversed(list(enumerate(item))))


def label(key: str) -> str:
    """A key as a path or a message names it: short, and printable whatever it holds."""
    return "".join(c if c.isprintable() else "?" for c in key[:40])


def _int(literal: str) -> int | Unreadable:
    if len(literal) > MAX_NUMBER_LENGTH:
        return Unreadable(literal[:20] + "…", f"is a number longer than {MAX_NUMBER_LENGTH} digits")
    return int(literal)


def _float(literal: str) -> float | Unreadable:
    if len(literal) > MAX_NUMBER_LENGTH:
        return Unreadable(literal[:20] + "…", f"is a number longer than {MAX_NUMBER_LENGTH} digits")
    number = float(literal)
    if not math.isfinite(number):
        return Unreadable(literal, "is a number too large to keep")
    return number


def _constant(literal: str) -> Unreadable:
    return Unreadable(literal, f"is {literal}, which is not a JSON value")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise JSONError(f"key {key[:60]!r} appears twice in one object")
        found[key] = value
    return found
