"""One style for every chart backlist draws (the review now, the web app later).

Charts are built on `matplotlib.figure.Figure` objects, never pyplot's global state, so they are
safe to draw from a web server's threads. The rules: counts get integer ticks, dates sit on a
true time axis, per-piece numbers are bars (no line joins unrelated pieces), a metric shows its
median, colours come from the Okabe-Ito palette (readable with colour-blindness) and each topic
keeps its colour across charts. Every chart is written as SVG and PNG with alt text that says
what it shows.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter  # noqa: E402

# Okabe & Ito (2008), "Color Universal Design"; yellow last, as it is faint on white.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
             "#000000")
OTHER_COLOUR = "#999999"
OTHER = "Other"
STYLE: Any = {  # an rcParams dict (Any: matplotlib types its keys as literals)
    "font.size": 9, "axes.titlesize": 11, "axes.titleweight": "bold", "axes.titlelocation": "left",
    "axes.spines.top": False, "axes.spines.right": False, "axes.edgecolor": "#555555",
    "axes.grid": True, "axes.grid.axis": "y", "grid.color": "#dddddd", "grid.linewidth": 0.6,
    "axes.axisbelow": True, "legend.frameon": False, "legend.fontsize": 8,
    "svg.fonttype": "none", "savefig.bbox": "tight", "figure.dpi": 100,
}


@dataclass
class Chart:
    title: str
    alt: str  # what the chart shows, in a sentence or two, for the Markdown alt text
    path_png: Path
    path_svg: Path
    key: str = ""  # what it charts, e.g. "per-month", "metric": where the Markdown places it
    figure: Figure | None = field(default=None, repr=False)  # kept so tests can read the axes


@dataclass
class Bar:
    """One piece's number in a per-piece chart."""

    label: str
    value: float
    group: str = OTHER  # the topic, for its colour


def topic_colours(names: Sequence[str]) -> dict[str, str]:
    """A colour per topic in the order given (the taxonomy's), the same in every chart;
    "Other" (and topics beyond the palette) in grey."""
    out = {}
    for i, name in enumerate(n for n in names if n != OTHER):
        out[name] = OKABE_ITO[i] if i < len(OKABE_ITO) else OTHER_COLOUR
    out[OTHER] = OTHER_COLOUR
    return out


def new_figure(width: float = 7.5, height: float = 3.6) -> Figure:
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(width, height))
        fig.add_subplot(1, 1, 1)
    return fig


def number(value: float) -> str:
    """2400 -> "2,400"; 0.456 -> "0.456"; 12.5 -> "12.5"."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.3g}" if abs(value) < 1 else f"{value:,.1f}"


def next_month(d: dt.date) -> dt.date:
    return (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def month_starts(since: dt.date, until: dt.date) -> list[dt.date]:
    """The first day of every month from since's month to until's month."""
    out, d = [], since.replace(day=1)
    while d <= until:
        out.append(d)
        d = next_month(d)
    return out


def monthly_counts_figure(counts: Mapping[dt.date, Mapping[str, int]], since: dt.date, until: dt.date,
                          colours: dict[str, str], title: str) -> Figure:
    """Stacked bars of pieces per month on a true time axis, one colour per topic, integer
    count ticks; empty months stay on the axis as gaps."""
    months = month_starts(since, until)
    with matplotlib.rc_context(STYLE):
        fig = new_figure()
        ax = fig.axes[0]
        bottom = [0] * len(months)
        topics = [t for t in colours if any(counts.get(m, {}).get(t) for m in months)]
        for topic in topics:
            vals = [counts.get(m, {}).get(topic, 0) for m in months]
            centres = [m + dt.timedelta(days=14) for m in months]
            ax.bar(centres, vals, width=24, bottom=bottom,  # type: ignore[arg-type]  # dates are x
                   color=colours[topic], label=topic, edgecolor="white", linewidth=0.5)
            bottom = [a + b for a, b in zip(bottom, vals)]
        _month_axis(ax, months)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        ax.set_ylim(0, max(max(bottom, default=0), 1) * 1.1)
        ax.set_ylabel("pieces")
        ax.set_title(title)
        _legend(ax, topics, colours)
        fig.tight_layout()
    return fig


def _month_axis(ax, months: list[dt.date]) -> None:
    """A time axis by month: boundaries as unlabelled ticks, each month named at its middle
    (every second or third month on long spans), with the year under January and the first."""
    step = 1 if len(months) <= 12 else 2 if len(months) <= 24 else 3
    ax.xaxis.set_major_locator(mdates.MonthLocator())
    ax.xaxis.set_major_formatter(NullFormatter())
    ax.xaxis.set_minor_locator(mdates.MonthLocator(bymonthday=15, interval=step))

    def label(x: float, _pos: int | None) -> str:
        d = mdates.num2date(x).date()
        first = d.year == months[0].year and d.month == months[0].month
        year = f"\n{d.year}" if d.month == 1 or first else ""
        return d.strftime("%b") + year

    ax.xaxis.set_minor_formatter(FuncFormatter(label))
    ax.tick_params(axis="x", which="minor", length=0)
    ax.set_xlim(months[0], next_month(months[-1]))


def _legend(ax, groups: Sequence[str], colours: dict[str, str]) -> None:
    """A legend of topic colours beside the axes, unless all is one unnamed group."""
    from matplotlib.patches import Patch

    if not groups or list(groups) == [OTHER]:
        return
    ax.legend(handles=[Patch(color=colours.get(g, OTHER_COLOUR), label=_short(g, 30)) for g in groups],
              loc="upper left", bbox_to_anchor=(1.0, 1.0))


def _short(label: str, n: int = 48) -> str:
    label = " ".join(label.split())
    return label if len(label) <= n else label[: n - 1].rstrip() + "…"


def metric_bars_figure(bars: Sequence[Bar], metric: str, colours: dict[str, str],
                       title: str) -> Figure:
    """Horizontal bars, one per piece, largest on top, coloured by topic, each with its number,
    and a dashed line at the median: pieces are compared, not joined into a trend."""
    ranked = sorted(bars, key=lambda b: b.value)
    with matplotlib.rc_context({**STYLE, "axes.grid.axis": "x"}):
        fig = new_figure(height=max(2.2, 0.9 + 0.38 * len(ranked)))
        ax = fig.axes[0]
        ys = range(len(ranked))
        ax.barh(list(ys), [b.value for b in ranked], height=0.6,
                color=[colours.get(b.group, OTHER_COLOUR) for b in ranked])
        ax.set_yticks(list(ys), [_short(b.label) for b in ranked])
        top = max((b.value for b in ranked), default=0) or 1
        for y, b in zip(ys, ranked):
            ax.text(b.value + top * 0.01, y, number(b.value), va="center", fontsize=8)
        if ranked:
            med = statistics.median(b.value for b in ranked)
            ax.axvline(med, color="#333333", linestyle="--", linewidth=1)
            ax.text(med, len(ranked) - 0.45, f" median {number(med)}", fontsize=8, color="#333333")
        ax.set_xlim(0, top * 1.15)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: number(v)))
        ax.set_xlabel(metric.replace("_", " "))
        ax.set_ylim(-0.6, len(ranked) - 0.1)
        ax.set_title(title)
        _legend(ax, [g for g in colours if any(b.group == g for b in ranked)], colours)
        fig.tight_layout()
    return fig


def save(fig: Figure, out_dir: Path, stem: str, title: str, alt: str, key: str = "") -> Chart:
    """Write the figure as SVG and PNG under out_dir/stem.{svg,png}."""
    out_dir.mkdir(parents=True, exist_ok=True)
    png, svg = out_dir / f"{stem}.png", out_dir / f"{stem}.svg"
    with matplotlib.rc_context(STYLE):
        fig.savefig(png, dpi=150, metadata={"Software": None})
        fig.savefig(svg, metadata={"Date": None})
    return Chart(title=title, alt=alt, path_png=png, path_svg=svg, key=key, figure=fig)
