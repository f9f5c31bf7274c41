"""`backlist relink`: the citation links an ingest could not rebuild within its per-input budget
are rebuilt with no time limit, and the budget's warning names the command."""

from __future__ import annotations

import time

from typer.testing import CliRunner

from backlist.cli import app as cli_app
from backlist.pipeline import IngestReport, _within_budget
from backlist.service import Library

runner = CliRunner()


def test_the_budget_warning_names_relink():
    report = IngestReport()
    assert not _within_budget(lambda: time.sleep(2), 0.2, report)
    (line,) = report.warnings
    assert "not rebuilt within the 0.2 s budget" in line and "`backlist relink`" in line


def test_relink_rebuilds_links_left_out_of_date(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKLIST_EMBEDDER", "hash")
    posts, folder = tmp_path / "posts", tmp_path / "lib"
    posts.mkdir()
    (posts / "reefs.md").write_text(
        "---\ntitle: Why oyster reefs matter\ndate: 2024-01-02\n"
        "url: https://tides.example/p/oyster-reefs\n---\nReefs filter the bay's water.\n")
    (posts / "later.md").write_text(
        "---\ntitle: Shorelines again\ndate: 2024-06-01\nurl: https://tides.example/p/shorelines\n"
        "---\nAs I wrote in [the reef post](https://tides.example/p/oyster-reefs), they filter.\n")
    with Library(folder) as lib:
        assert not lib.ingest([str(posts)], embed=False).errors
        built = sorted((lk.source_id, lk.target_id) for lk in lib.store.links())
        assert built  # the later piece cites the reef post
        lib.store.set_links([])  # as an ingest that ran out of time leaves them
        lib.store.set_meta("links_dirty", "1")
    result = runner.invoke(cli_app, ["--library", str(folder), "relink"])
    assert result.exit_code == 0, result.output
    assert "Citation links rebuilt" in result.output
    with Library(folder) as lib:
        assert sorted((lk.source_id, lk.target_id) for lk in lib.store.links()) == built
        assert lib.store.get_meta("links_dirty") == "0"
