"""Search, related and timeline on the demo archive, through the CLI's JSON contract."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from backlist.cli import app
from backlist.index.search import parse_query
from backlist.store.base import KeywordQuery
from backlist.store.sqlite import fts_match

runner = CliRunner()


def run(lib, *args):
    res = runner.invoke(app, ["--library", str(lib.dir), *args])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_search_json_contract(demo_lib):
    hits = run(demo_lib, "search", "growing seaweed through the cold months", "--json")
    assert hits[0]["title"] == "What a winter of kelp farming taught me"
    assert set(hits[0]) >= {"doc_id", "title", "date", "kind", "url", "score", "text", "passages"}
    p = hits[0]["passages"][0]
    assert set(p) == {"text", "start", "end", "score", "speaker"} and p["end"] > p["start"]
    assert hits[0]["text"] == p["text"]


def test_modes_and_filters(demo_lib):
    kw = run(demo_lib, "search", "oyster", "--mode", "keyword", "--json")
    assert kw and all("oyster" in (h["text"] + h["title"]).lower() for h in kw)
    eps = run(demo_lib, "search", "oyster", "--kind", "episode", "--json")
    assert eps and {h["kind"] for h in eps} == {"episode"}
    recent = run(demo_lib, "search", "oyster", "--since", "2025-05-01", "--json")
    assert all(h["date"] >= "2025-05-01" for h in recent)
    ruiz = run(demo_lib, "search", "storm", "--speaker", "Ruiz", "--json")
    assert [h["title"] for h in ruiz] == ["Building living shorelines, with Dr. Ana Ruiz"]


def test_drafts_stay_out_of_search(demo_lib):
    hits = run(demo_lib, "search", "salt marsh moving inland as the sea rises", "--json")
    assert "Where the marsh goes next (draft)" not in [h["title"] for h in hits]


def test_related_to_a_draft(demo_lib, tmp_path):
    draft = tmp_path / "draft.md"
    draft.write_text("I want to write about oyster shell and marsh grass as a storm defence for "
                     "waterfront homes, instead of building another concrete seawall.")
    hits = run(demo_lib, "related", str(draft), "-k", "3", "--json")
    titles = [h["title"] for h in hits]
    assert "Building living shorelines, with Dr. Ana Ruiz" in titles[:2]
    assert all(h["reason"] for h in hits)


def test_timeline(demo_lib):
    data = run(demo_lib, "timeline", "oyster reefs", "--json")
    dates = [h["date"] for h in data["dated"]]
    assert dates == sorted(dates) and len(dates) >= 2


def test_query_keeps_phrases_and_prefixes():
    q = parse_query('"living shoreline" oyst*')
    assert q == KeywordQuery(phrases=(("living", "shoreline"),), prefixes=("oyst",))
    assert fts_match(q) == '"living shoreline" OR "oyst"*'
    assert parse_query("how I write") == KeywordQuery(terms=("how", "i", "write"))
    # user text can never become FTS5 syntax
    assert fts_match(KeywordQuery(terms=('a"b', "NEAR"))) == '"a b" OR "NEAR"'


def test_bad_arguments(demo_lib):
    res = runner.invoke(app, ["--library", str(demo_lib.dir), "search", "x", "--mode", "nope"])
    assert res.exit_code == 1 and "mode 'nope'" in res.output
    res = runner.invoke(app, ["--library", str(demo_lib.dir), "ls", "--since", "not a date"])
    assert res.exit_code == 1 and "--since" in res.output
