"""A small PNG chart for a department lead's summary: daily volume and daily answer time.

Bars show how many mentions arrived each local day; a line on a second axis shows the median
office time to answer of the answers given that day (gaps where nobody answered), so a lead can
see at a glance whether a busy day slowed the team down.

Drawn with matplotlib's Agg renderer on a :class:`~matplotlib.figure.Figure` built directly,
not through ``pyplot``: no display is needed, and no global figure registry is shared between
the bot's threads (pyplot's state is not thread-safe). The image is always 900x450 pixels, so
it looks the same in Slack whatever the period.
"""

from __future__ import annotations

import io
import math
from datetime import date, timedelta

from bot.summaries.figures import Figures

__all__ = ["HEIGHT", "WIDTH", "render_chart"]

WIDTH = 900
HEIGHT = 450
_DPI = 100
_BAR_COLOUR = "#4C78A8"
_LINE_COLOUR = "#E45756"
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def render_chart(figures: Figures, *, title: str) -> bytes:
    """The PNG bytes of the daily chart for ``figures``, titled ``title``.

    An empty period (no days, or no mentions) still gives a chart, with a note instead of bars,
    so the caller never has to special-case it.
    """
    # matplotlib costs ~30 MB and ~0.5 s to import: only a process that draws pays for it.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(WIDTH / _DPI, HEIGHT / _DPI), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    volume = fig.add_subplot()
    # A '$' pair would switch matplotlib to math mode and mangle a title like "$5 fares".
    volume.set_title(title.replace("$", r"\$"), loc="left", fontsize=12)

    days = [day for day, _, _ in figures.daily]
    received = [count for _, count, _ in figures.daily]
    median_hours = [_hours(median) for _, _, median in figures.daily]

    volume.set_ylabel("Mentions received", color=_BAR_COLOUR)
    volume.yaxis.set_major_locator(MaxNLocator(integer=True))
    volume.spines[["top"]].set_visible(False)
    # Days are placed at 0, 1, 2... and labelled by hand: a short period gets every day with its
    # weekday (weeks matter to office work), a long one about ten evenly spaced dates.
    x = list(range(len(days)))
    if days:
        volume.bar(x, received, width=0.8, color=_BAR_COLOUR)
        step = 1 if len(days) <= 14 else math.ceil(len(days) / 10)
        ticks = x[::step]
        volume.set_xticks(ticks, [_day_label(days[i], weekday=step == 1) for i in ticks])
        volume.set_xlim(-0.6, len(days) - 0.4)
    volume.set_ylim(bottom=0, top=max([*received, 1]) * 1.15)

    answer = volume.twinx()
    answer.set_ylabel("Median time to answer (office hours)", color=_LINE_COLOUR)
    answer.spines[["top"]].set_visible(False)
    answered = [h for h in median_hours if not math.isnan(h)]
    if answered:
        # Markers show a day with answers between two without; thinner for long periods,
        # where full-size ones would hide the bars.
        short = len(days) <= 31
        answer.plot(
            x,
            median_hours,
            color=_LINE_COLOUR,
            marker="o",
            markersize=6 if short else 2,
            linewidth=2 if short else 1,
        )
    answer.set_ylim(bottom=0, top=max([*answered, 1.0]) * 1.15)

    if not any(received) and not answered:
        volume.text(
            0.5,
            0.5,
            "No mentions in this period",
            transform=volume.transAxes,
            ha="center",
            va="center",
            color="#666666",
            fontsize=14,
        )
        for axis in (volume, answer):
            axis.set_xticks([])
            axis.set_yticks([])

    out = io.BytesIO()
    # No "Software" metadata (the matplotlib version): the bytes depend only on the drawing.
    fig.savefig(out, format="png", dpi=_DPI, metadata={"Software": None})
    return out.getvalue()


def _hours(value: timedelta | None) -> float:
    """Hours as a float, NaN for a day without answers (matplotlib leaves a gap there)."""
    return math.nan if value is None else value.total_seconds() / 3600


def _day_label(day: date, *, weekday: bool) -> str:
    # Built from numbers and fixed English names, not strftime, so the server's locale cannot
    # change the picture.
    month = _MONTHS[day.month - 1]
    if weekday:
        return f"{_WEEKDAYS[day.weekday()]}\n{month} {day.day}"
    return f"{month} {day.day}"
