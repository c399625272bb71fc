"""Compiling and validating rules: RuleDef in, CompiledRule out, RuleError on anything wrong.

Internal to :mod:`bot.routing` (which re-exports :class:`RuleError`). Everything a rule will be
compared with is folded or normalised here, once, with the same functions the mention side
uses (:mod:`bot.core.text`, :mod:`bot.routing._criteria`), so that no mention pays for it again and
both sides always agree. Errors name the rule and the offending value, because they surface
when a config is loaded, to whoever wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from bot.core.text import TOKEN_RE, fold, tokenize
from bot.routing._criteria import (
    author_key,
    is_language_key,
    language_key,
    place_variants,
    service_key,
)
from bot.routing._geo import AreaIndex
from bot.routing._rule import CompiledRule, Place, RuleDef, Term

__all__ = ["RuleError", "check_rule_shape", "compile_rule", "source_key"]


class RuleError(ValueError):
    """A rule that cannot be compiled. Raised by :class:`Router` before any routing happens."""

    def __init__(self, rule: str, problem: str) -> None:
        super().__init__(f'rule "{rule}": {problem}')
        self.rule = rule
        self.problem = problem


RuleError.__module__ = "bot.routing"  # where callers import it from, and what they catch

_STRING_LISTS = (
    "keywords",
    "hashtags",
    "regex",
    "sources",
    "exclude",
    "languages",
    "authors",
    "service_codes",
    "places",
    "areas",
    "require",
)


def source_key(source: str) -> str:
    """Sources compare case- and whitespace-insensitively: " RSS" in a config is "rss"."""
    return source.strip().casefold()


def check_rule_shape(rule: RuleDef) -> None:
    """Catch config-loading mistakes that the type hints cannot catch at runtime."""
    name = rule.name
    if not isinstance(name, str) or not name.strip():
        raise RuleError(str(name), "name must be a non-empty string")
    if not isinstance(rule.department, str) or not rule.department.strip():
        raise RuleError(name, "department must be a non-empty string")
    if isinstance(rule.priority, bool) or not isinstance(rule.priority, int):
        raise RuleError(name, f"priority must be an integer, not {rule.priority!r}")
    if not isinstance(rule.enabled, bool):  # the string "false" would be truthy
        raise RuleError(name, f"enabled must be true or false, not {rule.enabled!r}")
    if rule.cc is not None and (not isinstance(rule.cc, str) or not rule.cc.strip()):
        raise RuleError(name, f"cc must be a department slug, not {rule.cc!r}")
    for field in _STRING_LISTS:
        value = getattr(rule, field)
        # A YAML scalar where a list was meant would otherwise be split into characters.
        if isinstance(value, str) or not isinstance(value, Iterable):
            raise RuleError(name, f"{field} must be a list of strings, not {value!r}")
        for item in value:
            if not isinstance(item, str):
                raise RuleError(name, f"{field} must contain strings, not {item!r}")


def compile_rule(rule: RuleDef, rank: int, areas: AreaIndex | None) -> CompiledRule:
    """Fold and compile everything routing compares, so no mention pays for it again."""
    name = rule.name
    return CompiledRule(
        rank=rank,
        name=name,
        department=rule.department,
        sources=_keys(name, "source name", rule.sources, source_key),
        keywords=tuple(_compile_term(name, "keyword", raw) for raw in rule.keywords),
        hashtags=tuple((raw.strip(), _compile_hashtag(name, raw)) for raw in rule.hashtags),
        regexes=tuple(_compile_regex(name, raw) for raw in rule.regex),
        excludes=tuple(_compile_term(name, "exclude", raw) for raw in rule.exclude),
        languages=_languages(name, rule.languages),
        authors=_keys(name, "author", rule.authors, author_key),
        service_codes=_keys(name, "service code", rule.service_codes, service_key),
        places=tuple(_compile_place(name, raw) for raw in rule.places),
        areas=_areas(name, rule.areas, areas),
        requires=tuple(_compile_term(name, "require", raw) for raw in rule.require),
        cc=rule.cc.strip() if rule.cc is not None else None,
    )


def _keys(
    rule: str, kind: str, raws: Iterable[str], normalise: Callable[[str], str | None]
) -> frozenset[str] | None:
    """A set-valued criterion, normalised; ``None`` when the rule does not use it."""
    keys: set[str] = set()
    for raw in raws:
        key = normalise(raw)
        if not key:
            raise RuleError(rule, f"empty {kind}")
        keys.add(key)
    return frozenset(keys) or None


def _languages(rule: str, raws: Iterable[str]) -> frozenset[str] | None:
    """Language keys; a blank or a name ("French") is an error, not a rule that never matches."""
    keys: set[str] = set()
    for raw in raws:
        key = language_key(raw)
        if not raw.strip() or not is_language_key(key):
            raise RuleError(
                rule, f'language "{raw}" is not a language code like "en" (or "unknown")'
            )
        keys.add(key)
    return frozenset(keys) or None


def _areas(rule: str, raws: Iterable[str], index: AreaIndex | None) -> tuple[str, ...]:
    """Area names as spelled in *index*; an unknown name is an error (it could never match)."""
    names: list[str] = []
    for raw in raws:
        if index is None:
            raise RuleError(rule, "areas need boundaries: give the Router an AreaIndex")
        name = index.resolve(raw)
        if name is None:
            known = ", ".join(index.names[:10]) + (", ..." if len(index) > 10 else "")
            raise RuleError(rule, f'unknown area "{raw}" (known: {known or "none"})')
        if name not in names:
            names.append(name)
    return tuple(names)


def _compile_place(rule: str, raw: str) -> Place:
    """A place is a phrase without "*", standing for each of its street suffix variants."""
    if "*" in raw:
        raise RuleError(rule, f'place "{raw}": "*" is not allowed in a place name')
    base = _compile_term(rule, "place", raw)
    variants = tuple(
        Term(raw=base.raw, tokens=tokens, prefix=False, needle=" " + " ".join(tokens) + " ")
        for tokens in place_variants(base.tokens)
    )
    return Place(raw=base.raw, variants=variants)


def _compile_term(rule: str, kind: str, raw: str) -> Term:
    """Fold a keyword or exclusion with the same functions as mentions, so they agree."""
    body = raw.strip()
    prefix = body.endswith("*")
    if prefix:
        body = body[:-1]
    if "*" in body:
        raise RuleError(rule, f'{kind} "{raw}": "*" is only allowed at the end')
    folded = fold(body)
    tokens = tuple(tokenize(folded))
    if not tokens:
        raise RuleError(rule, f'{kind} "{raw}" has no letters or digits')
    if prefix and TOKEN_RE.fullmatch(folded[-1]) is None:
        # "street *": the star must extend a word, not stand on its own.
        raise RuleError(rule, f'{kind} "{raw}": "*" must directly follow a letter or digit')
    needle = " " + " ".join(tokens) + ("" if prefix else " ")
    return Term(raw=raw.strip(), tokens=tokens, prefix=prefix, needle=needle)


def _compile_hashtag(rule: str, raw: str) -> str:
    """A hashtag is one folded word: anything else could never equal a mention's hashtag."""
    tag = fold(raw.strip().removeprefix("#"))
    if not re.fullmatch(r"\w+", tag):
        raise RuleError(
            rule, f'hashtag "{raw}" must be one word of letters, digits or "_", without "#"'
        )
    return tag


def _compile_regex(rule: str, raw: str) -> re.Pattern[str]:
    """Compile case-insensitively, refusing patterns that would swallow every mention."""
    try:
        compiled = re.compile(raw, re.IGNORECASE)
    except (re.error, RecursionError, OverflowError, ValueError) as exc:
        # The pattern as written: repr() would double every backslash the author typed.
        raise RuleError(rule, f"bad regex “{raw}”: {exc}") from exc
    if compiled.search("") is not None:
        raise RuleError(
            rule,
            f"regex “{raw}” matches an empty text, so it would match every mention"
            " (to leave mentions out, use exclude)",
        )
    return compiled
