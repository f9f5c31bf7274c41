"""Hybrid's shortlist: each ranking's best documents stay at the top of a typed query's list,
ordered among themselves by the hybrid score (deterministic test embedder)."""

from __future__ import annotations

import json

import pytest
from conftest import hash_library
from typer.testing import CliRunner

from backlist.cli import app
from backlist.index import search as search_mod
from backlist.index.search import Searcher

TOPICS = [
    ("Tide pools at dawn", "Anemones close when the tide pool warms; hermit crabs trade shells."),
    ("Why I keep a field notebook", "Pencil survives rain. A notebook of tide pool counts beats memory."),
    ("Counting shorebirds", "Sandpipers and plovers feed at the wrack line when the tide turns."),
    ("The marsh in winter", "Spartina dies back, the marsh browns, and geese graze the mudflats."),
    ("Kelp forests and urchins", "Urchins graze kelp to barrens when otters and sunflower stars vanish."),
    ("A year of beach cleanups", "We logged bottle caps, rope and nurdles along the tide line each month."),
    ("Oyster reefs as breakwaters", "Living reefs break waves and grow with the sea, unlike concrete walls."),
    ("Reading the weather from clouds", "Mackerel skies and mares' tails warn of rain within a day."),
    ("Estuary salinity explained",
     "Fresh river water floats over salt water; the wedge moves with the tide."),
    ("Storm surge maps", "Surge maps show which streets flood when a storm meets a spring tide."),
    ("Whale watching ethics", "Boats keep their distance; whales surface where the krill gather."),
    ("Mangrove nurseries", "Young fish shelter among mangrove roots until they are big enough for reefs."),
]
QUERIES = ["tide pool", "tide", "waves reefs concrete", "rain notebook", "marsh geese winter",
           "storm flood streets", "fish shelter roots", "kelp otters", "birds feeding tide turns",
           "salt water river", "clouds rain warning", "bottle caps rope", "whales krill boats"]


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    files = {f"2024-01-{n + 1:02d}-note.md": f"---\ntitle: {title}\ndate: 2024-01-{n + 1:02d}\n---\n"
             f"{body}\n" for n, (title, body) in enumerate(TOPICS)}
    with hash_library(tmp_path_factory.mktemp("shortlist"), files) as library:
        yield library


def top(lib, query, mode, k=10):
    return [h.doc.id for h in Searcher(lib).search(query, k=k, mode=mode)]


def violations(lib, n_keyword: int, n_semantic: int) -> list[str]:
    """Queries whose keyword top n or semantic top n is missing from hybrid's top group."""
    out = []
    for q in QUERIES:
        group = set(top(lib, q, "keyword")[:n_keyword]) | set(top(lib, q, "semantic")[:n_semantic])
        if not group <= set(top(lib, q, "hybrid")[:len(group)]):
            out.append(q)
    return out


def test_each_rankings_best_lead_the_hybrid_list(lib):
    assert violations(lib, search_mod.SHORTLIST_KEYWORD, search_mod.SHORTLIST_SEMANTIC) == []


def test_a_confident_semantic_ranking_cannot_push_keywords_best_out(lib, monkeypatch):
    """Keyword ranks its best documents 1.0 down to 0.5; semantic is sure of x and y, which keyword
    barely knows. The plain sum puts keyword's last shortlisted document below both; the
    shortlist keeps all of keyword's and the semantic's best on top."""
    m = search_mod.SHORTLIST_KEYWORD
    ids = sorted(doc.id for doc in lib.list())
    kws, (x, y) = ids[:m], ids[m:m + 2]
    kw = {d: (1.0 - 0.5 * i / (m - 1), []) for i, d in enumerate(kws)} | {x: (0.01, [])}
    sem = {x: (0.9, []), y: (0.85, [])} | {d: (0.3, []) for d in kws}
    monkeypatch.setattr(Searcher, "_candidates", lambda self, *args: (kw, sem))
    ranked = [h.doc.id for h in Searcher(lib).search("anything", k=m + 2, mode="hybrid")]
    assert set(ranked[:m + 1]) == set(kws) | {x} and ranked[m + 1] == y
    fused = Searcher(lib)._fuse(kw, sem, "hybrid")
    by_sum = sorted(fused, key=lambda d: -fused[d][0])
    assert by_sum.index(kws[-1]) == m + 1  # what the sum alone would have done


def test_shortlist_is_ordered_by_the_hybrid_score(lib):
    for q in QUERIES:
        hits = Searcher(lib).search(q, k=10, mode="hybrid")
        group = [h for h in hits if h.shortlisted]
        assert hits[:len(group)] == group
        assert [h.score for h in group] == sorted((h.score for h in group), reverse=True)
        rest = hits[len(group):]
        assert [h.score for h in rest] == sorted((h.score for h in rest), reverse=True)


def test_shortlist_marks_where_each_came_from(monkeypatch):
    monkeypatch.setattr(search_mod, "SHORTLIST_KEYWORD", 3)
    monkeypatch.setattr(search_mod, "SHORTLIST_SEMANTIC", 1)
    kw = {"a": (9.0, []), "b": (5.0, []), "c": (4.0, []), "d": (1.0, [])}
    sem = {"d": (0.9, []), "a": (0.5, [])}
    assert Searcher._shortlist(kw, sem) == {"a": "keyword", "b": "keyword", "c": "keyword",
                                            "d": "semantic"}
    assert Searcher._shortlist(kw, {"b": (0.7, [])})["b"] == "keyword and semantic"
    assert Searcher._shortlist({}, {}) == {}


def test_drafts_are_ranked_by_the_sum_alone(lib):
    hits = Searcher(lib).related("Tide pools and reefs: waves, kelp and the marsh in winter. " * 3)
    assert hits and not any(h.shortlisted for h in hits)


def test_explain_json_has_the_parts(lib):
    res = CliRunner().invoke(app, ["--library", str(lib.dir), "search", "tide pool", "--json",
                                   "--explain"])
    assert res.exit_code == 0, res.output
    first = json.loads(res.stdout)[0]["explain"]
    assert set(first) == {"keyword", "semantic", "matched", "passage", "top_group", "text"}
    assert first["matched"] == ["tide", "pool"] and first["top_group"] in (
        "keyword", "semantic", "keyword and semantic")
    assert 0 <= first["keyword"] <= 1 and first["text"].startswith("keyword ")
    res = CliRunner().invoke(app, ["--library", str(lib.dir), "search", "tide pool", "--json"])
    assert "explain" not in json.loads(res.stdout)[0]


def test_explain_adds_up_and_names_the_leading_group(lib):
    import re

    hits = lib.search("tide pool", k=5, explain=True)
    for h in hits:
        nums = re.match(r"keyword ([\d.]+) x ([\d.]+) \+ semantic ([\d.]+) x ([\d.]+)"
                        r"(?: - length prior ([\d.]+))? = ([\d.]+)", h.explain)
        assert nums, h.explain
        k, wk, s, ws, prior, total = (float(x or 0) for x in nums.groups())
        assert abs(k * wk + s * ws - prior - total) < 0.002
        assert ("in the leading group" in h.explain) == bool(h.shortlisted)
    assert any(h.shortlisted for h in hits)
    by_date = lib.search("tide pool", k=5, explain=True, sort="date")
    assert not any(h.shortlisted or "leading group" in h.explain for h in by_date)
