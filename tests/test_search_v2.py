"""Search v2 on a small library (deterministic test embedder): explain, min-score, sort, recent,
topic/author filters, drafts that cite pieces, related filters, and the citation graph."""

from __future__ import annotations

import json

import pytest
from conftest import hash_library
from typer.testing import CliRunner

from backlist.cli import app
from backlist.store.base import DocFilter

POSTS = {
    "2023-04-02-oyster-reefs.md": ("Oyster reefs are infrastructure", "2023-04-02", "Maren Holt",
                                   "https://tidewater.example.org/p/oyster-reefs-infrastructure",
                                   "Oyster reefs break waves before they reach the marsh. A reef "
                                   "of living shell grows with the sea, unlike a concrete wall."),
    "2024-06-10-kelp.md": ("What a winter of kelp farming taught me", "2024-06-10", "Maren Holt",
                           "https://tidewater.example.org/p/winter-kelp-farming",
                           "Kelp grows in the cold months. Oyster reefs nearby sheltered the "
                           "lines from the worst storms, as I wrote in Oyster reefs are "
                           "infrastructure."),
    "2025-02-01-seawalls.md": ("The trouble with seawalls", "2025-02-01", "Jon Reyes",
                               "https://harbor.example.com/p/trouble-with-seawalls",
                               "Seawalls reflect waves and scour the beach in front of them. "
                               "Oyster reefs and marsh grass absorb the energy instead."),
}


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    files = {name: f"---\ntitle: {title}\ndate: {date}\nauthor: {author}\n"
                   f"canonical_url: {url}\nurl: {url}\n---\n{body}\n"
             for name, (title, date, author, url, body) in POSTS.items()}
    with hash_library(tmp_path_factory.mktemp("v2"), files) as library:
        yield library


def ids(lib, titles):
    by_title = {d.title: d.id for d in lib.list()}
    return [by_title[t] for t in titles]


def test_explain_says_how_a_hit_scored(lib):
    hit = lib.search("oyster reefs waves", k=1, explain=True)[0]
    assert hit.explain.startswith("keyword ") and "semantic" in hit.explain
    assert "matched: oyster, reefs, waves" in hit.explain and "passage 0" in hit.explain


def test_min_score_sort_and_recent(lib):
    every = lib.search("oyster reefs", k=10)
    assert len(every) == 3
    floor = every[1].score
    assert [h.doc.id for h in lib.search("oyster reefs", k=10, min_score=floor)] == \
        [h.doc.id for h in every[:2]]
    by_date = [h.doc.date for h in lib.search("oyster reefs", k=10, sort="date")]
    assert by_date == sorted(by_date, reverse=True)
    recent = lib.search("oyster reefs", k=10, recent=True)
    relevant = [h for h in every if h.score >= every[0].score / 2]
    newest = max(h.doc.date for h in relevant)
    assert len(relevant) >= 2 and recent[0].doc.date == newest != every[0].doc.date


def test_author_and_topic_filters(lib):
    jon = lib.search("oyster reefs", flt=DocFilter(author="Jon Reyes"))
    assert [h.doc.title for h in jon] == ["The trouble with seawalls"]
    kelp = lib.get(ids(lib, ["What a winter of kelp farming taught me"])[0])
    lib.store.set_doc_topics(kelp.id, [("Farms", 1.0)], manual=True)
    assert [h.doc.id for h in lib.search("oyster", flt=DocFilter(topic="farms"))] == [kelp.id]


def test_related_puts_the_pieces_a_draft_cites_first(lib):
    draft = ("Notes for a new piece. Last spring I argued in \"Oyster Reefs Are Infrastructure\" "
             "that shell beats concrete; see also "
             "https://harbor.example.com/p/trouble-with-seawalls?utm_source=x for the other side, "
             "and my post on a winter of kelp farming. Today: eelgrass and marsh grass.")
    hits = lib.related(draft, k=5)
    cited = [h for h in hits if h.reason and h.reason.startswith("cited in the draft")]
    assert {h.doc.title for h in cited} == {"Oyster reefs are infrastructure",
                                             "The trouble with seawalls",
                                             "What a winter of kelp farming taught me"}
    assert hits[:3] == cited
    rest = lib.related(draft, k=5, not_cited=True)
    assert not any(h.reason and h.reason.startswith("cited") for h in rest)
    only_2025 = lib.related(draft, k=5, flt=DocFilter(since="2025-01-01"))
    assert [h.doc.date for h in only_2025] == ["2025-02-01"]
    seawalls = ids(lib, ["The trouble with seawalls"])[0]
    assert seawalls not in [h.doc.id for h in lib.related(draft, k=5, exclude=[seawalls])]


def test_related_encodes_the_draft_once(lib, monkeypatch):
    """The pieces a draft cites get their passages from the same draft vectors as the rest."""
    draft = ("Back to \"Oyster Reefs Are Infrastructure\": shell beats concrete, and kelp lines "
             "shelter behind reefs. " * 4)
    emb = lib.embedder()
    calls: list[tuple[str, ...]] = []
    encode = emb.encode
    monkeypatch.setattr(emb, "encode", lambda texts: calls.append(tuple(texts)) or encode(texts))
    hits = lib.related(draft, k=5)
    assert hits[0].reason.startswith("cited in the draft")
    assert calls and len(calls) == len(set(calls)), calls


def test_citation_graph_in_get_json_and_links(lib):
    runner = CliRunner()
    kelp, reefs = ids(lib, ["What a winter of kelp farming taught me",
                            "Oyster reefs are infrastructure"])
    res = runner.invoke(app, ["--library", str(lib.dir), "get", kelp, "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert [c["id"] for c in doc["cites"]] == [reefs] and doc["cited_by"] == []
    res = runner.invoke(app, ["--library", str(lib.dir), "links", reefs, "--json"])
    assert [c["id"] for c in json.loads(res.stdout)["cited_by"]] == [kelp]


def test_cli_search_options(lib):
    runner = CliRunner()
    res = runner.invoke(app, ["--library", str(lib.dir), "search", "oyster", "--explain",
                              "--sort", "date", "--author", "maren holt"])
    assert res.exit_code == 0, res.output
    assert "explain: keyword" in res.output and "Jon Reyes" not in res.output
    res = runner.invoke(app, ["--library", str(lib.dir), "search", "oyster", "--sort", "size"])
    assert res.exit_code == 1 and "sort 'size'" in res.output
