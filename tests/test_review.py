"""The review a writer would publish, on the demo archive (hash embedder: no model is loaded)."""

from __future__ import annotations

import datetime as dt
import re

import matplotlib.dates as mdates
import pytest
from conftest import DEMO

from backlist.analysis.metrics import import_csv
from backlist.analysis.review import (
    Span,
    collect_review,
    draft_review,
    key_sentence,
    render_review,
    write_review,
)
from backlist.analysis.topics import (
    Topic,
    save_topics,
    set_manual_topic,
    suggest_name,
    suggest_topics,
    topics_path,
)
from backlist.safe import md_text
from backlist.service import Library
from backlist.store.base import DocFilter

TAXONOMY = ["Reefs and shorelines", "Fish and farms"]
HOSTILE = "<script>alert(1)</script> [click](javascript:alert(1)) **bold**"


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BACKLIST_EMBEDDER", "hash")
        lib = Library(tmp_path_factory.mktemp("review-demo"))
        report = lib.ingest([str(DEMO)])
        assert not report.errors, report.errors
        import_csv(lib, DEMO / "metrics" / "dashboard.csv")
        save_topics(topics_path(lib), [Topic(n) for n in TAXONOMY])
        for d in lib.list(DocFilter(include_duplicates=False)):  # the writer tags by hand
            reefs = re.search(r"(?i)oyster|shoreline|reef", d.title or "")
            set_manual_topic(lib, d.id, TAXONOMY[0] if reefs else TAXONOMY[1])
        yield lib
        lib.close()


@pytest.fixture(scope="module")
def review(lib, tmp_path_factory):
    out = tmp_path_factory.mktemp("review-out") / "review-2025.md"
    return write_review(lib, "2025-01-01", "2025-12-31", out)


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def test_review_has_the_writers_sections_and_none_empty(review):
    text = review.path.read_text()
    assert text.startswith("# 2025 in review (draft)\n")
    sections = _sections(text)
    assert {"Themes", "Top pieces by views", "Interviews", "Favourites to pick from"} <= set(sections)
    for name, body in sections.items():
        assert body.strip(), name
    for head in re.findall(r"^#{2,3} .+$", text, flags=re.M):  # every heading has lines under it
        after = text.split(head + "\n", 1)[1].lstrip("\n")
        level = head.split(" ")[0]
        assert after and not re.match(rf"#{{1,{len(level)}}} ", after), head
    # themes are the writer's taxonomy, in which every piece of the year appears once
    themes = re.findall(r"^### (.+) \((\d+) pieces?\)$", sections["Themes"], flags=re.M)
    assert {t for t, _ in themes} <= set(TAXONOMY)
    data = review.data
    assert sum(int(n) for _, n in themes) == len(data.pieces) == data.counts.pieces >= 3
    assert all(d.kind != "article" for d in data.pieces)  # saved readings are not the writer's


def test_opening_compares_with_the_year_before_in_good_grammar(review):
    c, b = review.data.counts, review.data.counts_before
    opening = review.path.read_text().split("\n\n")[1]
    assert f"{c.pieces} pieces in 2025, up from {b.pieces} in 2024" in opening
    assert c.interviews == 1 and f"1 of {c.pieces} pieces was an interview" in opening
    assert f"{c.words:,} words in all, up from {b.words:,}." in opening
    assert "1 pieces" not in opening and "1 of all pieces" not in opening
    assert "saved reading" in opening  # counted apart


def test_one_sentence_per_piece_that_is_not_its_title(review):
    for d in review.data.pieces:
        line = review.data.summaries[d.id]
        assert len(line.split()) >= 5, d.title
        assert line.strip(" .").lower() != (d.title or "").lower()
        assert not line.lower().startswith((d.title or "").lower())
        assert f"— {md_text(line)}" in review.path.read_text()


def test_top_pieces_ranked_by_views_with_the_number(review):
    body = _sections(review.path.read_text())["Top pieces by views"]
    items = re.findall(r"^(\d+)\. (.+)$", body, flags=re.M)
    assert [int(n) for n, _ in items] == list(range(1, len(items) + 1)) and len(items) >= 2
    views = [float(re.search(r": ([\d,]+) views$", line).group(1).replace(",", "")) for _, line in items]
    assert views == sorted(views, reverse=True)
    assert "Oyster reefs are infrastructure" in items[0][1] and views[0] == 2400


def test_interviews_name_their_guests(review):
    body = _sections(review.path.read_text())["Interviews"]
    assert re.search(r"^- with Ana Ruiz: .*living-shorelines-ana-ruiz", body, flags=re.M)


def test_new_this_year_and_favourites(lib, review):
    new = {(e.name, e.kind) for e in review.data.new_entities}
    assert ("Ana Ruiz", "person") in new
    assert not {n for n, k in new if k == "person"} & {"Maren Holt"}  # the writer is not news
    favs = _sections(review.path.read_text())["Favourites to pick from"]
    assert "most views: 2,400" in favs and "longest:" in favs and "cited" not in favs
    oyster = next(d for d in review.data.pieces if d.title == "Oyster reefs are infrastructure")
    cited = collect_review(lib, "2025", "2025", citations={oyster.id: 3})
    reasons = next(f.reasons for f in cited.favourites if f.doc.id == oyster.id)
    assert "cited by 3 later pieces" in reasons


def test_charts_are_svg_and_png_with_alt_text(review):
    text = review.path.read_text()
    keys = {c.key: c for c in review.charts}
    assert set(keys) == {"per-month", "metric"}
    for chart in review.charts:
        assert chart.path_png.read_bytes()[:4] == b"\x89PNG" and chart.path_svg.exists()
        assert chart.path_png.parent == review.path.parent
        assert f"![{md_text(chart.alt)}]({chart.path_png.name})" in text
    per_month = keys["per-month"]
    counts = {}
    for d in review.data.pieces:
        counts[d.date[5:7]] = counts.get(d.date[5:7], 0) + 1
    best = max(counts.values())
    peaks = [m for m, n in counts.items() if n == best]
    if len(peaks) == 1:
        name = dt.date(2025, int(peaks[0]), 1).strftime("%B")
        assert f"Most pieces came in {name}: {best} of {len(review.data.pieces)}" in per_month.alt
    elif len(peaks) == len(counts):
        names = [dt.date(2025, int(m), 1).strftime("%B") for m in sorted(peaks)]
        assert f"{best} piece{'s' if best > 1 else ''} in each of {', '.join(names[:-1])} and " \
            f"{names[-1]}" in per_month.alt
    assert f"none in the other {12 - len(counts)} months" in per_month.alt
    assert "Oyster reefs are infrastructure had the most, 2,400; the median was 1,800" in keys["metric"].alt


def test_chart_axes_read_from_the_figures(review):
    keys = {c.key: c for c in review.charts}
    ax = keys["per-month"].figure.axes[0]
    ticks = [t for t in ax.get_yticks() if 0 <= t <= ax.get_ylim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks)
    assert type(ax.xaxis.get_converter()).__module__ == "matplotlib.dates"
    assert isinstance(ax.xaxis.get_major_locator(), mdates.MonthLocator)
    bar_months = sorted({mdates.num2date(p.get_x() + p.get_width() / 2).strftime("%Y-%m")
                         for p in ax.patches if p.get_height() > 0})
    assert bar_months == sorted({d.date[:7] for d in review.data.pieces})
    metric_ax = keys["metric"].figure.axes[0]
    assert len(metric_ax.patches) == len(review.data.top)
    assert all(len(line.get_xdata()) <= 2 for line in metric_ax.lines)
    # a topic keeps its colour from one chart to the other
    legend = {t.get_text(): h.get_facecolor() for t, h in
              zip(ax.get_legend().get_texts(), ax.get_legend().legend_handles)}
    legend2 = {t.get_text(): h.get_facecolor() for t, h in
               zip(metric_ax.get_legend().get_texts(), metric_ax.get_legend().legend_handles)}
    assert legend and all(legend2[t] == legend[t] for t in legend2.keys() & legend.keys())


def test_topic_names_are_names_not_keyword_triples(lib):
    topics = suggest_topics(lib, n_topics=2)
    for t in topics:
        assert "/" not in t.name and t.name[:1].isupper() and t.keywords
        assert t.name.lower() != " / ".join(t.keywords[:3])
    assert len({t.name for t in topics}) == len(topics)
    name = suggest_name(["Why open models matter", "The state of open models", "Llama 4 is out"],
                        ["open models are here", "open models and closed ones", "Llama is open"],
                        ["open models", "llama", "closed"])
    assert name == "Open models"
    assert suggest_name(["RL for reasoning", "Scaling RL"], ["RL is hot", "More RL"], ["rl", "hot"]) \
        .startswith("RL")
    assert suggest_name(["A", "B"], ["x", "y"], ["open models"], taken={"Open models"}) != "Open models"


def test_any_span_compares_with_the_same_span_before(lib, tmp_path):
    span = Span(dt.date(2025, 3, 1), dt.date(2025, 6, 30))
    assert span.label == "March–June 2025"
    assert span.previous() == Span(dt.date(2024, 11, 1), dt.date(2025, 2, 28))
    assert Span(dt.date(2025, 1, 1), dt.date(2025, 12, 31)).previous().label == "2024"
    assert Span(dt.date(2025, 3, 4), dt.date(2025, 3, 13)).previous() == \
        Span(dt.date(2025, 2, 22), dt.date(2025, 3, 3))
    res = write_review(lib, "2025-05", "2025-05", tmp_path / "may.md")
    text = res.path.read_text()
    assert text.startswith("# May 2025 in review (draft)")
    assert "1 piece in May 2025, the same as in April 2025." in text  # the striped bass episode
    assert "It was an interview" in text
    assert not res.charts  # one month is not a chart
    empty = write_review(lib, "2019", "2019", tmp_path / "r2019.md")
    assert "No dated pieces in 2019." in empty.path.read_text() and not empty.charts
    assert "## Themes" not in empty.path.read_text() and "## Top pieces" not in empty.path.read_text()


def test_draft_review_still_works_for_the_cli(lib, tmp_path):
    path = draft_review(lib, "2025", tmp_path / "out" / "review-2025.md")
    assert path.exists() and (tmp_path / "out" / "review-2025-per-month.png").exists()
    assert (tmp_path / "out" / "review-2025-views.svg").exists()


def test_hostile_archive_text_is_escaped_and_undated_kept_apart(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKLIST_EMBEDDER", "hash")
    src = tmp_path / "archive"
    src.mkdir()
    body = "The county finally counted what the marsh does for the town in a storm surge year."
    (src / "hostile.md").write_text(
        f"---\ntitle: '{HOSTILE}'\ndate: 2025-07-01\nurl: 'javascript:alert(1)'\n---\n{body}\n")
    (src / "undated.md").write_text("---\ntitle: 'Notes with no date [x](javascript:alert(2))'\n---\n"
                                    "Some notes about the harbor that nobody dated at the time.\n")
    lib = Library(tmp_path / "lib")
    assert not lib.ingest([str(src)]).errors
    res = write_review(lib, "2025-01-01", "2025-12-31", tmp_path / "out" / "review.md")
    text = res.path.read_text()
    assert "<script>" not in text and not re.search(r"(?<!\\)\]\(<?javascript:", text)
    assert not re.search(r"(?<!\\)\(<?javascript:", text)  # no unescaped link target
    assert "\\<script\\>alert\\(1\\)\\</script\\>" in text and "\\*\\*bold\\*\\*" in text
    assert "1 piece in 2025." in text and "1 further piece carries no date; it is listed" in text
    undated = _sections(text)["Undated pieces (not counted in the year)"]
    assert "Notes with no date" in undated and "javascript" in undated and "](" not in undated
    assert "Notes with no date" not in text.split("## Undated")[0].split("\n\n", 2)[2]
    assert render_review(res.data, res.charts) == text
    lib.close()


def test_key_sentence_skips_a_leading_title_and_speaker_turns(lib):
    docs = {d.title: d for d in lib.list(DocFilter(include_duplicates=False))}
    crabs = next(d for t, d in docs.items() if t and "horseshoe" in t.lower())
    assert not key_sentence(crabs).lower().startswith("counting horseshoe crabs")
    for d in docs.values():
        assert not re.match(r"^[A-Z]\w+ [A-Z]\w+: ", key_sentence(d))
