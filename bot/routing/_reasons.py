"""Human-readable reasons for routing decisions: which word matched, quoted from the original.

Internal to :mod:`bot.routing`. Reasons are built only for returned matches (and, in
:meth:`~bot.routing.Router.explain`, vetoes), never while choosing among candidates, so they
may take their time: re-finding the hit, mapping folded spans back to the original text with
:func:`bot.core.text.original_span`. They are shown on one line in Slack messages and CLI tables.
"""

from __future__ import annotations

from itertools import islice

from bot.core.text import HASHTAG_RE, TOKEN_RE, original_span
from bot.routing._rule import CompiledRule, Mention, Term

__all__ = ["reason", "veto_reason"]


def reason(rule: CompiledRule, mention: Mention, source: str) -> str:
    """Why *rule* matched *mention*: every criterion it has, joined by ", ".

    E.g. ``keyword "pothole" matched "Pothole", area Ward 5, language fr, source is rss``: the
    text criterion that hit (the first, as they are alternatives), each required term, the
    place and area found, then the context values the rule tested, quoted as the caller gave
    them (*source* is not normalised either). A rule with no criteria is a catch-all.
    """
    parts: list[str] = []
    why = _text_reason(rule, mention)
    if why:
        parts.append(why)
    parts.extend(
        f'required "{term.raw}" matched {_quote_term(term, mention)}' for term in rule.requires
    )
    place = next((v for p in rule.places for v in p.variants if v.needle in mention.joined), None)
    if place is not None:
        parts.append(f'place "{place.raw}" matched {_quote_term(place, mention)}')
    area = next((name for name in rule.areas if name in mention.areas), None)
    if area is not None:
        parts.append(f"area {area}")
    context = mention.context
    if rule.languages is not None:
        parts.append(f"language {mention.language}")
    if rule.service_codes is not None:
        parts.append(f"service code {_one_line(context.service_code or '')}")
    if rule.authors is not None:
        parts.append(f"author {_one_line(context.author)}")
    if rule.sources is not None:
        parts.append(f"source is {source}")
    return ", ".join(parts) if parts else "catch-all rule"


def veto_reason(veto: Term, mention: Mention, matched: str) -> str:
    """Why a rule that *matched* (its :func:`reason`) was vetoed by the exclusion *veto*."""
    return f'exclude "{veto.raw}" matched {_quote_term(veto, mention)} ({matched})'


def _text_reason(rule: CompiledRule, mention: Mention) -> str | None:
    for term in rule.keywords:
        if term.needle in mention.joined:
            return f'keyword "{term.raw}" matched {_quote_term(term, mention)}'
    for raw, tag in rule.hashtags:
        if tag in mention.tags:
            for found in HASHTAG_RE.finditer(mention.folded):
                if found.group(1) == tag:
                    quoted = _quote_folded(mention, found.start(), found.end())
                    return f"hashtag #{raw.removeprefix('#')} matched {quoted}"
    for rx in rule.regexes:
        hit = rx.search(mention.text)
        if hit is not None:
            return f"regex {_one_line(rx.pattern)} matched {_quote(hit.group())}"
        if mention.folded != mention.text:
            hit = rx.search(mention.folded)
            if hit is not None:
                quoted = _quote_folded(mention, hit.start(), hit.end())
                return f"regex {_one_line(rx.pattern)} matched {quoted}"
    return None


def _quote_term(term: Term, mention: Mention) -> str:
    """Quote, from the original text, the first occurrence of *term* (which must be there)."""
    joined = mention.joined
    at = joined.find(term.needle)
    first = joined.count(" ", 0, at)  # tokens before the match
    spans = list(islice(TOKEN_RE.finditer(mention.folded), first, first + len(term.tokens)))
    if not spans:  # cannot happen while fold/tokenize agree; never fail a route over a quote
        return '"?"'
    # Whole tokens: for "bin*" this quotes "bins", not just the "bin" the prefix needed.
    return _quote_folded(mention, spans[0].start(), spans[-1].end())


def _quote_folded(mention: Mention, start: int, end: int) -> str:
    """Quote the original text behind the folded span ``[start, end)``."""
    orig_start, orig_end = original_span(mention.text, start, end)
    return _quote(mention.text[orig_start:orig_end])


def _one_line(text: str) -> str:
    """Reasons are shown on one line (Slack messages, CLI tables), verbose regexes included."""
    return " ".join(text.split())


def _quote(found: str, limit: int = 60) -> str:
    """Quote matched text on one line, cut short: a regex like ``.*`` can match kilobytes."""
    flat = _one_line(found)
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return f'"{flat}"'
