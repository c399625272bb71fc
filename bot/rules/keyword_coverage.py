"""Whether a department's rules already match a term: then suggesting it would change nothing.

Decided by the router itself (:mod:`bot.routing`), so the answer follows the matching rules
exactly: "street light" covers the phrase "street light" but not the word "streetlight",
"bin*" covers "bins", and a keyword covers every phrase it is a word of.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from bot.routing import Router, RuleDef, RuleError

__all__ = ["KeywordCoverage"]


class KeywordCoverage:
    """Whether a department's existing keywords already match a term, as routing would."""

    def __init__(self, existing: Mapping[str, Collection[str]]) -> None:
        self._existing = existing
        self._routers: dict[str, Router | None] = {}

    def covers(self, department: str, term: str) -> bool:
        if department not in self._routers:
            self._routers[department] = _router(department, self._existing.get(department, ()))
        router = self._routers[department]
        return router is not None and router.route(term, "") is not None


def _router(department: str, keywords: Collection[str]) -> Router | None:
    def build(usable: Iterable[str]) -> Router:
        rule = RuleDef(name=department, department=department, keywords=tuple(usable))
        return Router([rule])

    try:
        return build(keywords) if keywords else None
    except RuleError:
        pass
    # A keyword routing would refuse (blank, a lone "*") matches nothing: it covers nothing.
    usable = []
    for keyword in keywords:
        try:
            build([keyword])
        except RuleError:
            continue
        usable.append(keyword)
    return build(usable) if usable else None
