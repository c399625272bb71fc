"""The picture of a department lead's summary: one PNG that reads at a glance in Slack on a phone.

Three stacked panels, each telling one part of the story beside the period before:

1. **Received**: mentions by day (up to two weeks), by week (up to four months) or by month,
   with the period's outcome (answered, still open at the end) in the panel's heading.
2. **Time to answer** (office hours, from arrival): one bar per period, dark up to the median
   and light up to the 90th percentile, against the service level as a dashed line.
3. **Who answered**: how many people answered, and the busiest one's share of the answers.

Only what :class:`~bot.summaries.figures.Figures` holds is drawn, so the picture never says
more than the text. The image is always :data:`WIDTH` x :data:`HEIGHT` pixels at twice the
usual resolution, so Slack scales every summary's preview the same way and the large fonts stay
legible at phone width. Colours come from the Okabe-Ito palette (safe for colour-blind readers)
and every mark is also named in words, so colour is never the only cue. :func:`render_summary_chart`
returns the words for screen readers with the picture (Slack's ``alt_txt``).

Drawn with matplotlib's Agg renderer on a :class:`~matplotlib.figure.Figure` built directly,
not through ``pyplot``: no display is needed, and no global figure registry is shared between
the bot's threads (pyplot's state is not thread-safe). What there is to draw, and the words on
it and in the alt text, come from :mod:`bot.summaries.chart_story`; this module only draws.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.summaries.chart_story import ChartView, alt_text, bucket_labels, buckets, outcome, people
from bot.summaries.figures import Figures
from bot.summaries.text import Comparison, format_duration

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.ticker import Formatter

__all__ = ["HEIGHT", "WIDTH", "Chart", "render_chart", "render_summary_chart"]

WIDTH = 1000
ALT_TEXT_LIMIT = 1000  # what Slack accepts as an image's alt text
HEIGHT = 1200
_DPI = 200  # twice the usual 100, so Slack has sharp pixels to scale down to a phone
# Okabe-Ito: told apart with every common kind of colour blindness, and in grey print.
_BLUE = "#0072B2"
_SKY = "#56B4E9"
_VERMILLION = "#D55E00"
_GREY_DARK = "#7A7A7A"
_GREY_LIGHT = "#CFCFCF"
_MUTED = "#4D4D4D"
_TEXT = 11
_HEADING = 12.5
_TITLE = 15
_BAR = 0.36  # a row's bar height; rows are 1 apart, its label sits on top


@dataclass(frozen=True)
class Chart:
    """A summary's picture, and the same story in words for people who cannot see it."""

    png: bytes
    alt_text: str


def render_summary_chart(
    comparison: Comparison, *, department: str, service_level: timedelta | None = None
) -> Chart:
    """The summary's chart for ``department``, and its alt text.

    ``service_level`` is the line the answer times are held against: the longest an answer may
    take from arrival, in office hours (for a department, its claim plus answer service levels:
    the latest answer that needs no reminder). None draws no line.
    """
    view = ChartView.of(comparison, department=department, service_level=service_level)
    # Slack refuses an upload whose alt text is over 1,000 characters.
    return Chart(png=_draw(view), alt_text=alt_text(view)[:ALT_TEXT_LIMIT])


def render_chart(figures: Figures, *, title: str) -> bytes:
    """The PNG of one period alone, titled ``title``, without a previous period or service level.

    For callers that have only the figures; :func:`render_summary_chart` tells more.
    """
    return _draw(ChartView(title=title, current=figures, now="this period"))


def _draw(view: ChartView) -> bytes:
    # matplotlib costs ~30 MB and ~0.5 s to import: only a process that draws pays for it.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    # Constrained layout makes room for the headings and tick labels whatever their length.
    layout = ConstrainedLayoutEngine(h_pad=0.06, hspace=0.06)
    fig = Figure(figsize=(WIDTH / _DPI, HEIGHT / _DPI), dpi=_DPI, layout=layout)
    FigureCanvasAgg(fig)
    fig.suptitle(
        _plain(_title_lines(view.title)), x=0.015, ha="left", fontsize=_TITLE, fontweight="bold"
    )
    volume, answer, spread = fig.subplots(3, 1, height_ratios=[1.4, 1.1, 1])
    _volume_panel(volume, view)
    _answer_panel(answer, view)
    _spread_panel(spread, view)
    out = io.BytesIO()
    # No "Software" metadata (the matplotlib version): the bytes depend only on the drawing.
    fig.savefig(out, format="png", dpi=_DPI, metadata={"Software": None})
    return out.getvalue()


# -- the panels -------------------------------------------------------------------------------


def _volume_panel(ax: Axes, view: ChartView) -> None:
    cur = view.current
    unit, bars = buckets(cur.daily)
    compared = f" ({view.previous.received} before)" if view.previous else ""
    note = f"{cur.answered} answered · {outcome(cur)} at the end"
    _heading(ax, f"Received by {unit}: {cur.received}{compared}", note)
    ax.spines[["top", "right", "left"]].set_visible(False)
    x = list(range(len(bars)))
    counts = [b.received for b in bars]
    if not any(counts):
        ax.text(
            0.5,
            0.5,
            "No mentions in this period",
            transform=ax.transAxes,
            ha="center",
            va="center",
            color=_MUTED,
            fontsize=_HEADING,
        )
        ax.set_yticks([])
        if not bars:
            ax.set_xticks([])
            return
    # A partial week or month at an edge is lighter, so its short bar is not read as a lull.
    drawn = ax.bar(x, counts, width=0.75, color=[_SKY if b.partial else _BLUE for b in bars])
    # A day or two alone would make a few very wide bars: room is kept as if there were five.
    room = max(0.0, (5 - len(bars)) / 2)
    ax.set_xlim(-0.6 - room, len(bars) - 0.4 + room)
    ax.set_ylim(0, max([*counts, 1]) * 1.2)
    labels = bucket_labels(unit, bars)
    step = math.ceil(len(bars) / (9 if unit == "week" else 14))
    ax.set_xticks(x[::step], labels[::step], fontsize=_TEXT)
    ax.tick_params(axis="x", length=0)
    if len(bars) <= 16:
        # Counts written on the bars say more than an axis and need no gridlines to read.
        size = _TEXT if len(bars) <= 10 else _TEXT - 1.5  # four digits fit a month's bar
        ax.bar_label(drawn, [str(n) if n else "" for n in counts], fontsize=size, padding=2)
        ax.set_yticks([])
    else:
        from matplotlib.ticker import MaxNLocator

        ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        ax.tick_params(axis="y", labelsize=_TEXT, length=0)
        ax.grid(axis="y", color=_GREY_LIGHT, linewidth=0.6)
        ax.set_axisbelow(True)


def _answer_panel(ax: Axes, view: ChartView) -> None:
    late = f"{view.current.sla_breaches or 'none'} past a service level"
    if view.previous is not None and view.previous.sla_breaches != view.current.sla_breaches:
        late += f" ({view.previous.sla_breaches} before)"
    _heading(ax, "Time to answer, in office hours", late, warn=view.current.sla_breaches > 0)
    rows = view.rows(short=True)
    sla = _hours(view.service_level)
    longest = max([_hours(f.answer_p90) or 0.0 for _, f in rows] + [sla or 0.0]) or 1.0
    ax.set_xlim(0, longest * 1.08)
    _row_axes(ax, len(rows), bottom=-0.85)
    for y, (label, figures) in zip(_row_ys(len(rows)), rows, strict=True):
        median, p90 = _hours(figures.answer_median), _hours(figures.answer_p90)
        dark, light = (_BLUE, _SKY) if figures is view.current else (_GREY_DARK, _GREY_LIGHT)
        if median is None or p90 is None:
            _row_label(ax, y, f"{label}: no answers")
            continue
        ax.barh(y, p90, height=_BAR, color=light)
        ax.barh(y, median, height=_BAR, color=dark)
        _row_label(
            ax,
            y,
            f"{label}: median {format_duration(figures.answer_median or timedelta())}, "
            f"90% within {format_duration(figures.answer_p90 or timedelta())}",
        )
    if sla is not None and view.service_level is not None:
        ax.axvline(sla, color=_VERMILLION, linestyle=(0, (4, 2)), linewidth=2)
        right = sla > ax.get_xlim()[1] * 0.6
        ax.text(
            sla,
            -0.5,
            f"service level {format_duration(view.service_level)} ",
            ha="right" if right else "left",
            va="center",
            color=_VERMILLION,
            fontsize=_TEXT,
            fontweight="bold",
        )
    ax.xaxis.set_major_formatter(_hours_formatter())
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 3, 4, 6, 8, 10]))


def _spread_panel(ax: Axes, view: ChartView) -> None:
    _heading(ax, "Who answered", "dark: the busiest person's share of the answers")
    rows = view.rows(short=True)
    ax.set_xlim(0, 1)
    _row_axes(ax, len(rows), bottom=-0.4)
    ax.set_xticks([])
    ax.spines["bottom"].set_visible(False)
    for y, (label, figures) in zip(_row_ys(len(rows)), rows, strict=True):
        share = figures.busiest_share
        if not figures.answerers or share is None:
            _row_label(ax, y, f"{label}: nobody answered")
            continue
        dark, light = (_BLUE, _SKY) if figures is view.current else (_GREY_DARK, _GREY_LIGHT)
        ax.barh(y, 1, height=_BAR, color=light)
        ax.barh(y, share, height=_BAR, color=dark)
        # A thin slice has no room for its number: it goes just after it, on the light part.
        inside = share >= 0.12
        ax.text(
            share / 2 if inside else share + 0.01,
            y,
            f"{round(share * 100)}%",
            ha="center" if inside else "left",
            va="center",
            color="white" if inside else "black",
            fontsize=_TEXT,
            fontweight="bold",
        )
        _row_label(ax, y, f"{label}: {people(figures)}")


# -- pieces -----------------------------------------------------------------------------------


def _heading(ax: Axes, title: str, note: str, *, warn: bool = False) -> None:
    """A bold heading with a quieter line under it, both left-aligned over the panel.

    A note that calls for action (``warn``) is in the service level's colour and bold, so it
    stands out by weight as well as by colour.
    """
    ax.set_title(_plain(title), loc="left", fontsize=_HEADING, fontweight="bold", pad=20)
    ax.text(
        0,
        1.03,
        _plain(note),
        transform=ax.transAxes,
        fontsize=_TEXT,
        color=_VERMILLION if warn else _MUTED,
        fontweight="bold" if warn else "normal",
        in_layout=False,
    )


def _row_ys(count: int) -> list[float]:
    return [float(count - 1 - i) for i in range(count)]


def _row_axes(ax: Axes, count: int, *, bottom: float) -> None:
    """Rows of bars named by text above each bar, not by tick labels that would eat width."""
    ax.set_ylim(bottom, count - 0.1)
    ax.set_yticks([])
    ax.spines[["top", "right", "left"]].set_visible(False)
    ax.tick_params(axis="x", labelsize=_TEXT, length=0)


def _row_label(ax: Axes, y: float, text: str) -> None:
    from matplotlib.transforms import blended_transform_factory

    across = blended_transform_factory(ax.transAxes, ax.transData)
    # On white, so that the service level's line passes behind the words, not through them.
    ax.text(
        0,
        y + _BAR / 2 + 0.06,
        _plain(text),
        transform=across,
        va="bottom",
        fontsize=_TEXT,
        zorder=3,
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
        in_layout=False,
    )


def _title_lines(title: str) -> str:
    """The title on one line, or split after the department's name when too wide for a phone."""
    if len(title) <= 34:
        return title
    return "\n".join(_cut(line, 36) for line in title.split(": ", 1))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _hours(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds() / 3600


def _hours_formatter() -> Formatter:
    from matplotlib.ticker import FuncFormatter

    def label(hours: float, _: int | None = None) -> str:
        return format_duration(timedelta(hours=hours)) if hours else "0"

    return FuncFormatter(label)


def _plain(text: str) -> str:
    # A '$' pair would switch matplotlib to math mode and mangle a name like "$5 fares".
    return text.replace("$", r"\$")
