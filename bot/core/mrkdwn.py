"""Making citizen text safe for Slack's mrkdwn, and fitting it into Block Kit's limits.

Slack turns ``<!channel>``, ``<@U123>``, ``<!subteam^S1>`` and ``<https://x|label>`` into
pings and hidden links only when they arrive with their angle brackets; escaping ``&``, ``<``
and ``>`` makes them print literally. Plain ``@channel`` pings only with ``link_names=1``,
which Engage never sends, and ``verbatim`` mrkdwn objects stop Slack from auto-linking.
"""

from __future__ import annotations

import re

SECTION_TEXT_LIMIT = 3000
CONTEXT_TEXT_LIMIT = 2000
FALLBACK_LIMIT = 300
URL_LIMIT = 3000
# Whitespace, "|" or an angle bracket would end a link early and let the rest show as text.
_PLAIN_URL = re.compile(r"https?://[^\s<>|]+")


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int, *, suffix: str = "…") -> str:
    """Cut *unescaped* text to at most ``limit`` characters once escaped, ending with ``suffix``.

    Cutting before escaping keeps entities like ``&amp;`` whole.
    """
    if len(escape(text)) <= limit:
        return text
    budget = limit - len(escape(suffix))
    out: list[str] = []
    used = 0
    for ch in text:
        size = len(escape(ch))
        if used + size > budget:
            break
        out.append(ch)
        used += size
    return "".join(out).rstrip() + suffix


def safe(text: str, limit: int) -> str:
    """Escaped and cut to ``limit`` characters: the one way citizen text enters mrkdwn."""
    return escape(cut(text, limit))


def one_line(text: str) -> str:
    return " ".join(text.split())


def link(url: str | None, label: str) -> str:
    """``label`` (mrkdwn, already escaped) linking to ``url`` if it is a plain http(s) URL.

    Only for URLs an adapter took from the platform (a post's permalink): a URL written by a
    citizen is text, and is escaped like the rest.
    """
    if url and len(url) <= URL_LIMIT and _PLAIN_URL.fullmatch(url):
        return f"<{url.replace('&', '&amp;')}|{label}>"
    return label
