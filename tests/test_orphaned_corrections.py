"""A corrected piece whose id changes on re-ingest (its title is part of it): the ingest names the
corrections that now match no document, in one line each, and keeps them."""

from __future__ import annotations

from typer.testing import CliRunner

from backlist.cli import app as cli_app
from backlist.service import Library

runner = CliRunner()


def test_ingest_warns_of_corrections_left_without_their_piece(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKLIST_EMBEDDER", "hash")
    posts, folder = tmp_path / "posts", tmp_path / "lib"
    posts.mkdir()
    post = posts / "estuary.md"
    post.write_text("# Estuary notes\n\nA note on brackish water and the tide line.\n")
    where = ["--library", str(folder)]
    assert runner.invoke(cli_app, [*where, "ingest", str(posts)]).exit_code == 0
    with Library(folder) as lib:
        (old,) = lib.list()
        lib.edit(old.id, set={"date": "2024-04-02", "subtitle": "Fixed by hand"})
    first = runner.invoke(cli_app, [*where, "ingest", str(posts)])
    assert "match no document" not in first.output  # the piece is still there: nothing to say

    post.write_text("# Estuary notes, revised\n\nA note on brackish water and the tide line.\n")
    result = runner.invoke(cli_app, [*where, "ingest", str(posts)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "match no document" in line]
    assert len(lines) == 1, result.output
    assert f"corrections for {old.id} (date, subtitle) match no document now" in lines[0]
    assert "backlist edit" in lines[0]
    with Library(folder) as lib:
        (new,) = lib.list()
        assert new.id != old.id and new.subtitle is None
        assert lib.store.corrections() == {old.id: {"date": "2024-04-02", "subtitle": "Fixed by hand"}}
