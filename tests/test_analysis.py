"""Topics, entities, metrics, insights and the year in review."""

from __future__ import annotations

import json
import re

import yaml
from conftest import DEMO
from typer.testing import CliRunner

from backlist.analysis.entities import entity_table, extract_all
from backlist.analysis.metrics import import_csv, insights, top
from backlist.analysis.review import draft_review
from backlist.analysis.topics import (
    load_topics,
    save_topics,
    set_manual_topic,
    suggest_topics,
    tag_documents,
    topic_counts,
    topics_path,
)
from backlist.cli import app
from backlist.service import Library
from backlist.store.base import DocFilter

runner = CliRunner()


def test_metrics_csv_top_and_insights(tmp_path):
    lib = Library(tmp_path / "lib")
    lib.ingest([str(DEMO)])
    result = import_csv(lib, DEMO / "metrics" / "dashboard.csv")
    assert result.matched == 4 and result.columns == ["new_subscribers", "views"]
    assert result.unmatched == ["line 6: post_id=404.no-such-post, url="]
    ranked = [(d.title, v) for d, v in top(lib, "views")]
    assert ranked == [("Tidewater Notes: 2024 in review", 3100.0),
                      ("Oyster reefs are infrastructure", 2400.0),
                      ("What a winter of kelp farming taught me", 1800.0),
                      ("Building living shorelines, with Dr. Ana Ruiz", 950.0)]
    assert [d.title for d, _ in top(lib, "views", year="2025")][0] == \
        "Oyster reefs are infrastructure"
    # the Substack export's own numbers: 540/1200 and 700/1250 unique opens per delivery
    assert [(d.title, v) for d, v in top(lib, "open_rate")] == [
        ("What a winter of kelp farming taught me", 0.56),
        ("Oyster reefs are infrastructure", 0.45)]
    report = insights(lib, "views")
    assert report["overall"]["n"] == 4 and report["overall"]["median"] == 2100.0
    fmt = {r["group"]: r for r in report["groups"]["format"]}
    assert fmt["essay"]["n"] == 3 and fmt["essay"]["median"] == 2400.0
    assert fmt["interview"]["n"] == 1 and fmt["interview"]["median"] == 950.0
    assert all("too few" in r["verdict"] for rows in report["groups"].values() for r in rows)
    weekday = {r["group"] for r in report["groups"]["weekday"]}
    assert weekday == {"Tuesday", "Sunday"}
    res = runner.invoke(app, ["--library", str(lib.dir), "top", "--by", "views", "--json"])
    assert json.loads(res.stdout)[0]["views"] == 3100.0
    res = runner.invoke(app, ["--library", str(lib.dir), "top", "--by", "nonsense"])
    assert res.exit_code == 1 and "no document has the metric" in res.output
    lib.close()


def test_topics_on_sample(sample_lib):
    topics = suggest_topics(sample_lib)
    assert 4 <= len(topics) <= 12
    words = " ".join(k for t in topics for k in t.keywords).lower()
    # themes the archive keeps coming back to are named by their own words
    for theme in ("open", "rl", "chin", "distillation", "claude"):
        assert theme in words, theme
    # named as a reader would say it, keywords kept apart in their own field
    names = [t.name for t in topics]
    assert len(set(names)) == len(names)
    assert all("/" not in n and n[:1].isupper() and len(n.split()) <= 6 for n in names), names
    path = topics_path(sample_lib)
    save_topics(path, topics)
    assert [t.name for t in load_topics(sample_lib)] == [t.name for t in topics]
    tagged = tag_documents(sample_lib)
    shown = sample_lib.list(DocFilter(include_duplicates=False))
    assert len(shown) == 83 and all(d.words > 0 for d in shown)
    assert set(tagged) == {d.id for d in shown}  # every document shown once gets its topics
    assert all(1 <= len(v) <= 3 for v in tagged.values())
    # a manual assignment survives re-tagging
    doc = shown[0]
    manual = topics[-1].name
    set_manual_topic(sample_lib, doc.id, manual)
    tag_documents(sample_lib)
    assert (manual, 1.0, True) in sample_lib.store.doc_topics()[doc.id]
    counts = {r["name"]: r for r in topic_counts(sample_lib)}
    assert sum(r["documents"] for r in counts.values()) >= len(shown)
    data = yaml.safe_load(path.read_text())
    assert data["topics"][0]["examples"]


def test_entities_on_sample(sample_lib):
    extract_all(sample_lib)
    rows = {(r["entity"], r["kind"]): r for r in entity_table(sample_lib)}
    for lab in ("OpenAI", "Anthropic", "Google", "Meta", "Nvidia", "Ai2"):
        assert rows[(lab, "org")]["documents"] >= 5, lab
    for model in ("Llama", "DeepSeek", "Qwen", "Claude", "GPT", "OLMo"):
        assert rows[(model, "model")]["documents"] >= 5, model
    assert rows[("Llama 3", "model")]["parent"] == "Llama"
    assert rows[("DeepSeek R1", "model")]["parent"] == "DeepSeek"
    guest = rows[("Bryan Catanzaro", "person")]
    assert guest["guest_in"] == 1
    assert rows[("arXiv:2410.16144", "paper")]["documents"] == 1


def test_review_2025_on_sample(sample_lib, tmp_path):
    out = draft_review(sample_lib, "2025", tmp_path / "review" / "review-2025.md")
    text = out.read_text()
    assert text.startswith("# 2025 in review (draft)")
    assert "2025-02-24" in text and "Undated pieces (not counted in the year)" in text
    # other years stay out: 2024-12-31 only as the bound of a piece that may fall in 2025
    before = text.split("## Undated")[0]
    assert "between 2024-12-31 and 2025-02-24" in before
    assert before.count("2024-12-31") == before.count("between 2024-12-31 and 2025-02-24")
    # the sample has one dated piece in each of 2024 and 2025: compared all the same
    assert re.search(r"^[\d,]+ pieces? in 2025, (up from [\d,]+|down from [\d,]+|the same as) in 2024\.",
                     text, flags=re.M)
    assert "1 pieces" not in text and "of all pieces" not in text
    for head in re.findall(r"^## .+$", text, flags=re.M):  # no empty section
        assert not text.split(head + "\n", 1)[1].lstrip("\n").startswith("## "), head
    charts = sorted(p.name for p in out.parent.glob("*.png"))
    assert charts == ["review-2025-per-month.png"]
    assert (out.parent / "review-2025-per-month.svg").exists()
    assert re.search(r"^!\[Bar chart of pieces per month, 2025[^\]]*\]\(review-2025-per-month\.png\)$",
                     text, flags=re.M)
    assert (out.parent / charts[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_review_on_demo_has_metric_chart(tmp_path):
    lib = Library(tmp_path / "lib")
    lib.ingest([str(DEMO)])
    import_csv(lib, DEMO / "metrics" / "dashboard.csv")
    out = draft_review(lib, "2025", tmp_path / "r" / "review-2025.md")
    text = out.read_text()
    assert "## Top pieces by views" in text
    assert text.index("Oyster reefs are infrastructure") < text.index("Building living shorelines")
    assert (tmp_path / "r" / "review-2025-views.png").exists()
    assert "Building living shorelines, with Dr. Ana Ruiz" in text.split("## Interviews")[1]
    assert "Ana Ruiz" in text.split("## Interviews")[1]
    lib.close()
