"""The chart style module: integer counts, a true time axis, bars for pieces, one colour per topic."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import matplotlib.dates as mdates
from matplotlib.colors import to_hex
from matplotlib.ticker import MaxNLocator

from backlist.analysis import charts as ch


def _month_fig():
    counts = {dt.date(2025, 3, 1): {"Reefs": 1, "Fish": 2}, dt.date(2025, 5, 1): {"Reefs": 3},
              dt.date(2025, 11, 1): {"Fish": 1}}
    colours = ch.topic_colours(["Reefs", "Fish", "Unused"])
    return ch.monthly_counts_figure(counts, dt.date(2025, 1, 1), dt.date(2025, 12, 31), colours,
                                    "Pieces per month, 2025"), colours


def test_topic_colours_are_okabe_ito_and_stable():
    one = ch.topic_colours(["Open models", "RL", "Policy"])
    two = ch.topic_colours(["Open models", "RL", "Policy", "Hardware"])
    assert one["Open models"] == two["Open models"] == "#0072B2"
    assert [one[t] for t in ("RL", "Policy")] == [two[t] for t in ("RL", "Policy")]
    assert set(one.values()) - {ch.OTHER_COLOUR} <= set(ch.OKABE_ITO)
    assert one[ch.OTHER] == ch.OTHER_COLOUR
    many = ch.topic_colours([f"t{i}" for i in range(12)])
    assert many["t11"] == ch.OTHER_COLOUR and len({many[f"t{i}"] for i in range(8)}) == 8


def test_month_chart_has_integer_counts_on_a_time_axis():
    fig, colours = _month_fig()
    ax = fig.axes[0]
    fig.canvas.draw()
    assert isinstance(ax.yaxis.get_major_locator(), MaxNLocator)
    ticks = [t for t in ax.get_yticks() if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks)
    conv = ax.xaxis.get_converter()
    assert conv is not None and type(conv).__module__ == "matplotlib.dates"
    assert isinstance(ax.xaxis.get_major_locator(), mdates.MonthLocator)
    labels = [t.get_text().split("\n")[0] for t in ax.xaxis.get_ticklabels(which="minor")]
    assert labels[:3] == ["Jan", "Feb", "Mar"] and labels[-1] == "Dec" and len(labels) == 12
    lo, hi = (mdates.num2date(x).date() for x in ax.get_xlim())
    assert (lo, hi) == (dt.date(2025, 1, 1), dt.date(2026, 1, 1))
    # bars stand at their months on the time axis, stacked, coloured by topic
    bars = [p for p in ax.patches if p.get_height() > 0]
    months = sorted({mdates.num2date(p.get_x() + p.get_width() / 2).month for p in bars})
    assert months == [3, 5, 11]
    tops: dict[int, float] = {}
    for p in bars:  # the top of each month's stack, whatever order the bars were drawn in
        month = mdates.num2date(p.get_x()).month
        tops[month] = max(tops.get(month, 0), p.get_y() + p.get_height())
    assert tops == {3: 3, 5: 3, 11: 1}
    reef = [p for p in bars if to_hex(p.get_facecolor()).lower() == colours["Reefs"].lower()]
    assert len(reef) == 2 and {mdates.num2date(p.get_x()).month for p in reef} == {3, 5}
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Reefs", "Fish"]


def test_metric_bars_are_not_joined_and_show_the_median():
    bars = [ch.Bar("A long title about oyster reefs and the county budget this spring", 2400, "Reefs"),
            ch.Bar("Kelp", 1800, "Fish"), ch.Bar("Shorelines", 950, "Reefs")]
    fig = ch.metric_bars_figure(bars, "views", ch.topic_colours(["Reefs", "Fish"]), "Views per piece")
    ax = fig.axes[0]
    assert len(ax.patches) == 3
    assert [round(p.get_width()) for p in ax.patches] == [950, 1800, 2400]  # largest on top
    assert all(len(line.get_xdata()) <= 2 for line in ax.lines)  # no line through the pieces
    medians = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert len(medians) == 1 and list(medians[0].get_xdata()) == [1800, 1800]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "Shorelines" and labels[-1].endswith("…") and len(labels[-1]) <= 48
    assert "2,400" in [t.get_text() for t in ax.texts]


def test_save_writes_svg_and_png(tmp_path):
    fig, _ = _month_fig()
    chart = ch.save(fig, tmp_path / "c", "per-month", "Pieces per month", "Most came in May.",
                    key="per-month")
    assert chart.path_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    root = ET.parse(chart.path_svg).getroot()
    assert root.tag.endswith("svg")
    assert "Pieces per month, 2025" in chart.path_svg.read_text()  # text kept as text
    assert chart.figure is fig and chart.alt == "Most came in May." and chart.key == "per-month"


def test_numbers():
    assert ch.number(2400.0) == "2,400"
    assert ch.number(0.456) == "0.456"
    assert ch.number(12.5) == "12.5"
    assert [d.month for d in ch.month_starts(dt.date(2024, 11, 5), dt.date(2025, 2, 1))] == [11, 12, 1, 2]


def test_svg_has_presentation_attributes_not_inline_styles():
    fig, _ = _month_fig()
    svg = ch.svg_text(fig, "Pieces per month", "Most came in May.")
    root = ET.fromstring(svg)
    assert not [el for el in root.iter() if "style" in el.attrib or el.tag.endswith("}style")]
    assert root.get("width") is None and root.get("viewBox")  # sized by the page
    assert root.get("stroke-linejoin") == "round"  # matplotlib's <style> rule, kept as an attribute
    assert root[0].tag.endswith("title") and root[0].text == "Pieces per month"
    texts = [el for el in root.iter() if el.tag.endswith("}text")]
    assert texts and all(el.get("font-size") for el in texts)


def test_timeline_chart_by_month_then_by_year():
    days = [dt.date(2024, 11, 3), dt.date(2024, 11, 20), dt.date(2025, 2, 1)]
    short = ch.timeline_chart(days, "reefs")
    assert short.unit == "month"
    assert short.counts == [("Nov 2024", 2), ("Dec 2024", 0), ("Jan 2025", 0), ("Feb 2025", 1)]
    long = ch.timeline_chart([dt.date(2019, 5, 1), dt.date(2019, 6, 1), dt.date(2025, 1, 1)], "reefs")
    assert long.unit == "year" and [c for _, c in long.counts] == [2, 0, 0, 0, 0, 0, 1]
    root = ET.fromstring(long.svg)
    bars = [el for el in root.iter() if el.get("class") == "bar"]
    assert [b.get("data-period") for b in bars] == [str(y) for y in range(2019, 2026)]
    assert bars[0].find("{http://www.w3.org/2000/svg}title").text == "2019: 2"
    assert ch.timeline_chart([], "x") is None
