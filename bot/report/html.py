"""The public report as one static, accessible HTML page.

One file with its styles inline, readable without scripts: a ``lang``, headings in order, every
table with a caption and header cells, and each chart an inline SVG with ``role="img"``, a
title and a description, followed by the table holding the same numbers (the text alternative
a screen reader or a printout can use). Everything shown is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from html import escape

from bot.core.sources import source_label
from bot.report.figures import Count, Scope, ScopeMonth

_BAR = "#1f5f99"  # 7:1 contrast on white
_BAR2 = "#b35900"


def duration(value: timedelta | None) -> str:
    if value is None:
        return "not shown"
    minutes = round(value.total_seconds() / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def share(value: float | None) -> str:
    return "not shown" if value is None else f"{value:.0%}"


def render(
    *, title: str, month: str, scopes: Sequence[Scope], threshold: int, built: datetime
) -> str:
    city = scopes[0]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}: {escape(month)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{escape(title)}</h1>",
        f"<p class=lead>Messages from citizens in <strong>{escape(month)}</strong>: how many "
        "the city received, how many it answered, and how fast. Times count office hours "
        "only, from a message's arrival to its answer.</p>",
        f"<p>To protect privacy, no message, name or account is shown, and a number under "
        f"{threshold} is shown as &ldquo;fewer than {threshold}&rdquo;.</p>",
        "<h2>The whole city</h2>",
        _headline(city.current),
        _sources_table(city, "Messages received in the month, by where they were sent"),
        "<h2>By department</h2>",
        _departments_table(scopes[1:], month),
        "<h2>The trend</h2>",
        _trend_chart(city),
        _trend_table(city),
    ]
    for scope in scopes[1:]:
        parts += [f"<h3>{escape(scope.name)}</h3>", _sources_table(scope, "By source")]
    parts += [
        "<h2>How these figures are made</h2>",
        "<p>A message is <em>answered</em> when a member of staff records an answer to it; "
        "the share answered counts, of the month's messages, those answered by the time the "
        "report was made. Copies of one post and reports of the same issue on several "
        "platforms are answered together. The median is the time half the answers took at "
        "most; 90&nbsp;% of answers took at most the 90th percentile. "
        "&ldquo;Staff who answered&rdquo; counts people, never names them.</p>",
        f"<p class=small>Made {escape(built.strftime('%Y-%m-%d %H:%M UTC'))}. "
        "The same figures are in <a href=report.csv>report.csv</a> and "
        "<a href=report.json>report.json</a>.</p>",
        "</main>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _headline(m: ScopeMonth) -> str:
    items = [
        ("Messages received", m.received.shown),
        ("Answers given", m.answered.shown),
        ("Share answered", share(m.share_answered)),
        ("Median time to answer", duration(m.answer_median)),
        ("90th percentile", duration(m.answer_p90)),
        ("Staff who answered", m.staff.shown),
    ]
    rows = "".join(f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>" for k, v in items)
    return f"<dl class=figures>{rows}</dl>"


def _sources_table(scope: Scope, caption: str) -> str:
    m = scope.current
    if not m.by_source:
        return "<p>No messages in the month.</p>"
    rows = "".join(
        f"<tr><th scope=row>{escape(source_label(source))}</th><td>{escape(count.shown)}</td></tr>"
        for source, count in m.by_source.items()
    )
    return (
        f"<table><caption>{escape(caption)}</caption>"
        "<thead><tr><th scope=col>Source</th><th scope=col>Messages</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _departments_table(scopes: Sequence[Scope], month: str) -> str:
    head = (
        "<tr><th scope=col>Department</th><th scope=col>Received</th>"
        "<th scope=col>Answers given</th><th scope=col>Share answered</th>"
        "<th scope=col>Median time to answer</th><th scope=col>90th percentile</th>"
        "<th scope=col>Staff who answered</th></tr>"
    )
    rows = "".join(
        f"<tr><th scope=row>{escape(s.name)}</th>"
        f"<td>{escape(s.current.received.shown)}</td>"
        f"<td>{escape(s.current.answered.shown)}</td>"
        f"<td>{escape(share(s.current.share_answered))}</td>"
        f"<td>{escape(duration(s.current.answer_median))}</td>"
        f"<td>{escape(duration(s.current.answer_p90))}</td>"
        f"<td>{escape(s.current.staff.shown)}</td></tr>"
        for s in scopes
    )
    return (
        f"<table><caption>Each department in {escape(month)}</caption>"
        f"<thead>{head}</thead><tbody>{rows}</tbody></table>"
    )


def _trend_table(scope: Scope) -> str:
    rows = "".join(
        f"<tr><th scope=row>{escape(m.month)}</th><td>{escape(m.received.shown)}</td>"
        f"<td>{escape(m.answered.shown)}</td><td>{escape(share(m.share_answered))}</td>"
        f"<td>{escape(duration(m.answer_median))}</td></tr>"
        for m in scope.months
    )
    return (
        "<table><caption>The whole city, month by month (the numbers of the chart)</caption>"
        "<thead><tr><th scope=col>Month</th><th scope=col>Received</th>"
        "<th scope=col>Answers given</th><th scope=col>Share answered</th>"
        "<th scope=col>Median time to answer</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _value(count: Count) -> int:
    return count.value or 0


def _trend_chart(scope: Scope) -> str:
    """Received and answered per month, as grouped bars (a suppressed count draws no bar)."""
    months = scope.months
    width, height, pad, base = 640, 260, 40, 220
    top = max([_value(m.received) for m in months] + [_value(m.answered) for m in months] + [1])
    slot = (width - 2 * pad) / max(len(months), 1)
    bar = slot * 0.35
    shapes: list[str] = []
    for i, m in enumerate(months):
        x = pad + i * slot + slot * 0.1
        for j, (count, colour) in enumerate(((m.received, _BAR), (m.answered, _BAR2))):
            h = (base - 20) * _value(count) / top
            shapes.append(
                f'<rect x="{x + j * bar:.1f}" y="{base - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{colour}"/>'
            )
        shapes.append(
            f'<text x="{x + bar:.1f}" y="{base + 16}" text-anchor="middle" '
            f'font-size="12">{escape(m.month)}</text>'
        )
    described = "; ".join(
        f"{m.month}: {m.received.shown} received, {m.answered.shown} answered" for m in months
    )
    legend = (
        f'<rect x="{pad}" y="4" width="12" height="12" fill="{_BAR}"/>'
        f'<text x="{pad + 16}" y="15" font-size="12">Received</text>'
        f'<rect x="{pad + 100}" y="4" width="12" height="12" fill="{_BAR2}"/>'
        f'<text x="{pad + 116}" y="15" font-size="12">Answers given</text>'
    )
    return (
        f'<figure><svg role="img" aria-labelledby="trend-title trend-desc" '
        f'viewBox="0 0 {width} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="trend-title">Messages received and answered by the city, month by month'
        f'</title><desc id="trend-desc">{escape(described)}</desc>'
        f'<line x1="{pad}" y1="{base}" x2="{width - pad}" y2="{base}" stroke="#333"/>'
        f"{legend}{''.join(shapes)}</svg>"
        "<figcaption>Received and answered, month by month; the table below has the same "
        "numbers.</figcaption></figure>"
    )


_CSS = (
    "body{font-family:system-ui,sans-serif;color:#1a1a1a;background:#fff;margin:0}"
    "main{max-width:60rem;margin:0 auto;padding:1rem 1.5rem}"
    "table{border-collapse:collapse;margin:1rem 0;min-width:50%}"
    "caption{text-align:left;font-weight:600;padding:.3rem 0}"
    "th,td{border:1px solid #999;padding:.3rem .6rem;text-align:left}"
    "td{text-align:right}"
    ".figures{display:flex;flex-wrap:wrap;gap:1rem;padding:0}"
    ".figures div{border:1px solid #999;padding:.5rem 1rem;min-width:10rem}"
    ".figures dt{font-size:.9rem}.figures dd{margin:0;font-size:1.5rem;font-weight:600}"
    ".small{font-size:.9rem}figure{margin:1rem 0}"
)
