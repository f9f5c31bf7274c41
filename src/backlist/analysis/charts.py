"""The one chart module: every chart backlist draws (the review's PNG and SVG files, the web
app's inline SVG) is a matplotlib figure in one style, written out here.

Charts are built on `matplotlib.figure.Figure` objects, never pyplot's global state, so they are
safe to draw from a web server's threads. The rules: counts get integer ticks, dates sit on a
true time axis, per-piece numbers are bars (no line joins unrelated pieces), a metric shows its
median, colours come from the Okabe-Ito palette (readable with colour-blindness) and each topic
keeps its colour across charts. Every chart is written as SVG and PNG with alt text that says
what it shows.

SVG leaves here inert and CSP-clean: matplotlib's `style="..."` attributes and its `<style>`
element become presentation attributes (fill="…", font-size="…"), which a Content-Security-Policy
without 'unsafe-inline' allows, and the page's stylesheet can still theme (CSS beats them).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import statistics
import xml.etree.ElementTree as ET
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
    """Write the figure as PNG and (inert) SVG under out_dir/stem.{png,svg}."""
    out_dir.mkdir(parents=True, exist_ok=True)
    png, svg = out_dir / f"{stem}.png", out_dir / f"{stem}.svg"
    with matplotlib.rc_context(STYLE):
        fig.savefig(png, dpi=150, metadata={"Software": None})
    svg.write_text(svg_text(fig, title, alt, standalone=True), encoding="utf-8")
    return Chart(title=title, alt=alt, path_png=png, path_svg=svg, key=key, figure=fig)


# --- SVG without inline styles ------------------------------------------------------------------------
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)
_DECLARATION = re.compile(r"\s*([a-z-]+)\s*:\s*([^;]+?)\s*(?:;|$)")
# what matplotlib writes in style="" (all of them SVG presentation attributes)
PRESENTATION = frozenset({
    "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-opacity",
    "stroke-linejoin", "stroke-linecap", "stroke-dasharray", "stroke-dashoffset",
    "stroke-miterlimit", "opacity", "clip-path", "font-size", "font-family", "font-weight",
    "font-style", "text-anchor", "dominant-baseline", "letter-spacing", "display", "visibility",
    "color"})
Marks = Mapping[str, Mapping[str, str]]  # an artist's gid -> attributes (class, data-*) and "title"


def svg_text(fig: Figure, title: str, description: str = "", standalone: bool = False,
             marks: Marks | None = None, element_id: str | None = None) -> str:
    """The figure as SVG markup with no style attribute and no <style> element (see the module
    docstring), titled for screen readers. standalone keeps the XML declaration and the size in
    points (a file); otherwise it is an element to put in a page, sized by the page's CSS.
    marks adds attributes (and a hover <title>) to the groups of artists given that gid."""
    buffer = io.StringIO()
    with matplotlib.rc_context(STYLE):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    root = ET.fromstring(buffer.getvalue())
    _inline_styles_to_attributes(root)
    for element in list(root):
        if element.tag == f"{{{SVG_NS}}}metadata":
            root.remove(element)
    _mark(root, marks or {})
    root.set("role", "img")
    if element_id:
        root.set("id", element_id)
    head = [ET.Element(f"{{{SVG_NS}}}title"), ET.Element(f"{{{SVG_NS}}}desc")]
    head[0].text, head[1].text = title, description or title
    for i, element in enumerate(head):
        root.insert(i, element)
    if not standalone:
        root.attrib.pop("width", None)
        root.attrib.pop("height", None)
    text = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + text + "\n" if standalone else text


def _inline_styles_to_attributes(root: ET.Element) -> None:
    """style="a: b; c: d" -> a="b" c="d"; a <style> element's universal rule -> attributes on the
    root (inherited); any other rule, or a property that is not a presentation attribute, is
    dropped: the SVG must draw the same under a CSP that blocks inline styles."""
    parents = {child: parent for parent in root.iter() for child in parent}
    for style in list(root.iter(f"{{{SVG_NS}}}style")):
        rule = re.fullmatch(r"\s*\*\s*\{([^}]*)\}\s*", style.text or "")
        if rule:
            _apply(root, rule.group(1), overwrite=False)
        parents[style].remove(style)
    for element in root.iter():
        declarations = element.attrib.pop("style", None)
        if declarations:
            _apply(element, declarations, overwrite=True)


def _apply(element: ET.Element, declarations: str, overwrite: bool) -> None:
    for name, value in _DECLARATION.findall(declarations):
        if name in PRESENTATION and (overwrite or name not in element.attrib):
            element.set(name, value)


def _mark(root: ET.Element, marks: Marks) -> None:
    for element in root.iter():
        mark = marks.get(element.get("id", ""))
        if mark is None:
            continue
        for name, value in mark.items():
            if name != "title":
                element.set(name, value)
        if "title" in mark:
            tip = ET.Element(f"{{{SVG_NS}}}title")
            tip.text = mark["title"]
            element.insert(0, tip)


# --- the web's timeline: pieces per month (per year past three years) -----------------------------------
@dataclass
class TimelineChart:
    svg: str  # inline SVG markup (inert: see svg_text)
    unit: str  # "month" | "year"
    counts: list[tuple[str, int]]  # (period label, pieces), every period, empty ones included
    summary: str  # what it shows, in words (alt text)


def timeline_chart(days: Sequence[dt.date], what: str, element_id: str = "timeline-chart",
                   colour: str = OKABE_ITO[0]) -> TimelineChart | None:
    """Pieces per month, every month between the first and the last shown (per year when that
    spans more than three years), empty periods included, so gaps in what was said show."""
    if not days:
        return None
    first, last = min(days), max(days)
    by_year = (last.year - first.year) * 12 + last.month - first.month > 36
    if by_year:
        starts = [dt.date(y, 1, 1) for y in range(first.year, last.year + 1)]
    else:
        starts = month_starts(first, last)
    counts = {s: 0 for s in starts}
    for d in days:
        counts[dt.date(d.year, 1, 1) if by_year else d.replace(day=1)] += 1
    label = (lambda s: str(s.year)) if by_year else (lambda s: s.strftime("%b %Y"))
    unit = "year" if by_year else "month"
    peak = max(counts.values())
    summary = (f"{len(days)} dated pieces from {first.isoformat()} to {last.isoformat()}, "
               f"at most {peak} in one {unit}")
    with matplotlib.rc_context(STYLE):
        fig = new_figure(height=2.4)
        ax = fig.axes[0]
        marks: dict[str, dict[str, str]] = {}
        for i, s in enumerate(starts):
            end = dt.date(s.year + 1, 1, 1) if by_year else next_month(s)
            width = (end - s).days
            (bar,) = ax.bar([s + dt.timedelta(days=width / 2)], [counts[s]],  # type: ignore[arg-type]
                            width=width * 0.8, color=colour)
            bar.set_gid(f"{element_id}-bar-{i}")
            marks[bar.get_gid() or ""] = {"class": "bar", "data-count": str(counts[s]),
                                          "data-period": s.isoformat()[:4 if by_year else 7],
                                          "title": f"{label(s)}: {counts[s]}"}
        if by_year:
            ax.xaxis.set_major_locator(mdates.YearLocator())
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
            ax.set_xlim(mdates.date2num(starts[0]), mdates.date2num(dt.date(last.year + 1, 1, 1)))
        else:
            _month_axis(ax, starts)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        ax.set_ylim(0, peak * 1.1)
        ax.set_ylabel("pieces")
        fig.patch.set_alpha(0)
        ax.set_facecolor("none")
        fig.tight_layout()
    title = f"Pieces about {_short(what, 60)} per {unit}"
    svg = svg_text(fig, title, summary, marks=marks, element_id=element_id)
    return TimelineChart(svg, unit, [(label(s), counts[s]) for s in starts], summary)
