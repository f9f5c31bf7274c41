"""The shared sample archive (../shared/sample-archive): counts, dates, titles, copies, furniture,
and search quality. CI always has it; these tests do not skip there."""

from __future__ import annotations

from pathlib import Path

from conftest import FEED, PAGE

from backlist.index.evaluate import evaluate, load_queries
from backlist.index.search import Searcher
from backlist.store.base import DocFilter
from backlist.when import has_when, sort_day

DEV_SET = Path(__file__).resolve().parent.parent / "eval" / "sample-archive-dev.jsonl"


def docs_from(lib, name):
    return [d for d in lib.list(DocFilter(include_drafts=True), order="source")
            if Path(d.source).name == name]


def test_counts(sample_lib):
    all_docs = sample_lib.list(DocFilter(include_drafts=True))
    assert len(docs_from(sample_lib, FEED)) == 62
    assert len(docs_from(sample_lib, PAGE)) == 20
    posts = [d for d in all_docs if d.kind == "post"]
    assert sorted((p.title, p.date) for p in posts) == [
        ("2024 Interconnects year in review", "2024-12-31"),
        ("Interconnects year in review: 2023", "2023-12-27")]
    assert len([d for d in all_docs if d.kind == "article"]) == 1
    assert len(all_docs) == 85  # the README is not a document


def test_feed_titles_urls_dates(sample_lib):
    feed = {d.metadata["line"]: d for d in docs_from(sample_lib, FEED)}
    assert feed[47].url == "https://www.interconnects.ai/p/kimi-k2-and-when-deepseek-moments"
    # the slug's title, as the dump gives it; the library takes the one another piece writes out
    assert sample_lib.store.reader_fields([feed[47].id])[feed[47].id]["title"] == \
        "Kimi K2 and when DeepSeek moments"
    assert feed[47].title == "Kimi K2 and when DeepSeek Moments"
    assert feed[47].basis["title"].startswith("title as written in ")
    assert feed[47].text.startswith("The DeepSeek R1 release")
    assert feed[20].title == "Interview with Bryan Catanzaro"
    assert feed[20].speakers == ["Nathan Lambert", "Bryan Catanzaro"]
    # "Last Thursday, February 5th": 2026 is the latest year when Feb 5 is a Thursday
    assert feed[19].date == "2026-02-05" and "Thursday, February 5th" in feed[19].metadata["date_basis"]
    # "Today, the White House released…" gives no date: it stays undated
    assert feed[46].date is None
    dated = [d for d in feed.values() if d.date]
    assert len(dated) == 1
    for d in feed.values():
        assert "This is a public episode" not in d.text
        assert not d.text.startswith("http")


def test_directory_page(sample_lib):
    page = {d.metadata["line"]: d for d in docs_from(sample_lib, PAGE)}
    assert sorted(page) == list(range(15, 35))
    assert page[21].date == "2025-02-24"
    assert page[22].url == "https://www.interconnects.ai/p/grok-3-and-an-accelerating-ai-roadmap"
    assert page[22].text.startswith("xAI launched")
    assert page[30].text.startswith("Chapters") or "Chapters" in page[30].text
    assert all(d.authors == ["Nathan Lambert"] for d in page.values())
    assert page[15].metadata["show"] == "Interconnects"
    for d in page.values():
        assert "Top Podcasts" not in d.text and "Get full access to" not in d.text
        assert "92 Episodes" not in d.text


def test_copies_linked_once(sample_lib):
    feed = {d.metadata["line"]: d for d in docs_from(sample_lib, FEED)}
    page = {d.metadata["line"]: d for d in docs_from(sample_lib, PAGE)}
    assert page[15].duplicate_of == feed[67].id and feed[67].duplicate_of is None
    review = next(d for d in sample_lib.list(DocFilter()) if d.title == "2024 Interconnects year in review")
    assert page[33].duplicate_of == review.id and page[33].words == 0
    assert review.url == "https://www.interconnects.ai/p/2024-interconnects-year-in-review"
    shown = sample_lib.list(DocFilter(include_duplicates=False))
    assert len(shown) == 83


def test_article_comment_separated(sample_lib):
    art = next(d for d in sample_lib.list(DocFilter()) if d.kind == "article")
    assert art.title == "Noteworthy AI Research Papers of 2024 (Part Two)"
    assert art.subtitle == "Six influential AI papers from July to December"
    assert len(art.comments) == 2 and "BitNet" in art.comments[0]
    assert "BitNet" not in art.text and art.date is None


def test_posts_cleaned(sample_lib):
    post = next(d for d in sample_lib.list(DocFilter()) if d.date == "2023-12-27")
    assert "\\'" not in post.text and "<div>" not in post.text and "We're wrapping up" in post.text
    assert any(i.startswith("images/") for i in post.metadata["images"])
    assert post.metadata["email_sent_at"].startswith("2023-12-27T14:10")


def test_search_cites_and_shows_copies_once(sample_lib):
    hits = Searcher(sample_lib).search("Gemma 3 and OLMo 2 32B open source", k=5)
    ids = [h.doc.id for h in hits]
    assert len(ids) == len(set(ids))
    top = hits[0]
    assert top.doc.url.endswith("gemma-3-olmo-2-32b-and-the-growing")
    assert top.doc.duplicate_of is None and top.passages


def test_speaker_filter(sample_lib):
    hits = Searcher(sample_lib).search("open models", k=10, flt=DocFilter(speaker="Catanzaro"))
    assert hits and all("Bryan Catanzaro" in h.doc.speakers for h in hits)


def test_entity_filter(sample_lib):
    hits = Searcher(sample_lib).search("open models", k=10, flt=DocFilter(entity="Nemotron"))
    assert len(hits) >= 3 and all("Nemotron" in h.doc.text for h in hits)
    family = Searcher(sample_lib).search("release", k=20, flt=DocFilter(entity="Llama"))
    assert family and all("Llama" in h.doc.text or "LLaMA" in h.doc.text for h in family)


def test_timeline_oldest_first(sample_lib):
    dated, undated = Searcher(sample_lib).timeline("year in review")
    days = [sort_day(h.doc) for h in dated]  # a date, else the earliest bound
    assert days == sorted(days) and "2023-12-27" in days and "2024-12-31" in days
    assert all(h.doc.date is None and not has_when(h.doc) for h in undated)


def test_related_excludes_the_draft_itself(sample_lib):
    review = next(d for d in sample_lib.list(DocFilter()) if d.date == "2023-12-27")
    hits = Searcher(sample_lib).related(review.text, k=5)
    assert review.id not in [h.doc.id for h in hits]
    assert hits and all(h.reason for h in hits)


def test_dev_set_hybrid_beats_bm25(sample_lib):
    queries = load_queries(DEV_SET)
    assert len(queries) >= 30
    report = evaluate(sample_lib, queries)["modes"]
    kw, hy = report["keyword"], report["hybrid"]
    assert hy["mrr"] > kw["mrr"] and hy["ndcg@10"] > kw["ndcg@10"]
    assert hy["recall@5"] >= kw["recall@5"]
    # floors that catch a regression (measured: hybrid MRR 0.876, recall@5 0.886, @10 0.943)
    assert hy["mrr"] >= 0.87 and hy["recall@5"] >= 0.88 and hy["recall@10"] >= 0.93


def test_held_out_hybrid_beats_keyword(sample_lib):
    """Set 5, never tuned on (eval/splits.json): hybrid beats keyword and loses no query's
    top-5 answer to it. Measured: hybrid MRR 0.867, R@5 0.933, R@10 0.973; keyword 0.835,
    0.920, 0.973."""
    from backlist.index.evaluate import load_split

    files = [DEV_SET] + [DEV_SET.with_name(f"sample-archive-set{n}.jsonl") for n in (2, 3, 4, 5)]
    queries = load_split(files, "heldout")
    assert len(queries) == 75 and {q["key"].split("#")[0] for q in queries} == {
        "sample-archive-set5.jsonl"}
    report = evaluate(sample_lib, queries)["modes"]
    kw, hy = report["keyword"], report["hybrid"]
    assert hy["mrr"] > kw["mrr"] and hy["recall@5"] >= kw["recall@5"]
    top5 = {key for key, rank in kw["ranks"].items() if rank and rank <= 5}
    lost = [key for key in top5 if not (hy["ranks"][key] and hy["ranks"][key] <= 5)]
    assert len(lost) <= 1, lost
    assert hy["mrr"] >= 0.84 and hy["recall@5"] >= 0.91 and hy["recall@10"] >= 0.95


