"""Output that cannot hurt a terminal or a page, and the small things a new user hit (issue 9)."""

from __future__ import annotations

import json
import sqlite3

import pytest
from typer.testing import CliRunner

from backlist.cli import app
from backlist.mcp_server import get_document, search
from backlist.service import Library

runner = CliRunner()
HOSTILE = ("---\ntitle: \"Tides\\e[2J\\e]0;pwned\\a <script>alert(1)</script> [x](javascript:alert(3))\"\n"
           "date: 2025-01-02\nurl: \"javascript:alert(2)\"\nauthor: \"Eve\\e[31m\"\n---\n"
           "The tide &lt;script&gt;alert(4)&lt;/script&gt; came in over the marsh.\n")


@pytest.fixture
def hostile_lib(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKLIST_EMBEDDER", "hash")
    src = tmp_path / "in"
    src.mkdir()
    (src / "evil.md").write_text(HOSTILE)
    lib = Library(tmp_path / "lib")
    assert not lib.ingest([str(src)]).errors
    yield lib
    lib.close()


def cli(lib, *args):
    return runner.invoke(app, ["--library", str(lib.dir), *args])


def test_terminal_output_has_no_escape_sequences(hostile_lib):
    doc = hostile_lib.list()[0]
    assert "\x1b" in doc.title  # stored raw: the archive is data
    for args in (["ls"], ["get", doc.id], ["search", "tide", "--mode", "keyword"]):
        res = cli(hostile_lib, *args)
        assert res.exit_code == 0, res.output
        assert "\x1b" not in res.output and "\x07" not in res.output, args
        assert "pwned" not in res.output or "]0;" not in res.output


def test_markdown_outputs_are_inert(hostile_lib):
    doc = hostile_lib.list()[0]
    for out in (search(lambda: hostile_lib, "tide", mode="keyword"),
                get_document(lambda: hostile_lib, doc.id),
                hostile_lib.context("tide marsh")):
        assert "<script>" not in out and "javascript:" not in out.replace("\\(javascript:", "")
        assert "](javascript" not in out and "\x1b" not in out


def test_review_markdown_escapes_titles(hostile_lib, tmp_path):
    result = hostile_lib.review("2025-01-01", "2025-12-31", tmp_path / "r.md")
    text = result.path.read_text()
    assert "<script>" not in text and "](javascript" not in text


@pytest.mark.parametrize(("args", "message"), [
    (["ingest", ".", "--max-file-mb", "nan"], "--max-file-mb nan"),
    (["ingest", ".", "--max-file-mb", "-1"], "--max-file-mb -1.0"),
    (["ingest", ".", "--kind", "bogus"], "--kind bogus"),
    (["search", "x", "-k", "-5"], "k must be between 1 and 100"),
    (["search", "x", "--kind", "bogus"], "kind 'bogus'"),
    (["timeline", ""], "empty query"),
])
def test_bad_arguments_are_one_clear_line(hostile_lib, args, message):
    res = cli(hostile_lib, *args)
    assert res.exit_code == 1 and message in res.output, res.output
    assert "Traceback" not in res.output


def test_version_and_help_texts():
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.startswith("backlist ")
    res = runner.invoke(app, ["search", "--help"], terminal_width=200)
    for option in ("--since", "--until", "--json"):
        line = next(ln for ln in res.output.splitlines() if option in ln)
        assert len(line.split(option, 1)[1].strip("│ ").split()) > 2, line  # it has help text


def test_rerun_after_an_interrupted_embedding_embeds_the_rest(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKLIST_EMBEDDER", "hash")
    src = tmp_path / "in"
    src.mkdir()
    for i in range(3):
        (src / f"p{i}.md").write_text(f"---\ntitle: Post {i}\n---\nText about tides number {i}.\n")
    lib = Library(tmp_path / "lib")
    lib.ingest([str(src)], embed=False)  # as if killed before embedding
    lib.close()
    res = runner.invoke(app, ["--library", str(tmp_path / "lib"), "ingest", str(src)])
    assert res.exit_code == 0 and "Nothing to do" not in res.output
    assert "3 embedded" in res.output


def test_piped_output_is_not_wrapped_at_80_columns(hostile_lib):
    res = cli(hostile_lib, "search", "tide", "--mode", "keyword")
    assert any(len(line) > 80 for line in res.output.splitlines())


def test_a_library_killed_before_its_schema_was_written_is_repaired(tmp_path):
    db = tmp_path / "library.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")  # then the kill
    conn.commit()
    conn.close()
    lib = Library(tmp_path)
    assert lib.stats()["documents"] == 0 and lib.store.integrity_check() == "ok"
    lib.close()
    assert json.loads(json.dumps(Library(tmp_path, read_only=True).stats()))["passages"] == 0


def test_a_library_folder_with_url_characters_opens_read_only(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKLIST_EMBEDDER", "hash")
    folder = tmp_path / "lib#1?x%20"
    lib = Library(folder)
    (tmp_path / "a.md").write_text("---\ntitle: Tides\n---\nThe tide came in.\n")
    lib.ingest([str(tmp_path / "a.md")], embed=False)
    lib.close()
    ro = Library(folder, read_only=True)
    assert [d.title for d in ro.list()] == ["Tides"]
    ro.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md", "lib#1?x%20"]


def test_bad_embedder_spec_is_one_line_and_changes_nothing(hostile_lib):
    from backlist.errors import BacklistError

    with pytest.raises(BacklistError, match="embedder '/no/such/model'"):
        hostile_lib.reindex("/no/such/model")
    assert hostile_lib.embedder_spec == "hash" and hostile_lib.stats()["passages"] > 0


def test_markdown_quotes_cannot_make_links_or_images():
    from backlist.safe import md_quote_text, safe_url

    out = md_quote_text("see ![x](https://evil.example/?d=1) and [y](javascript:alert(1))")
    assert "](" not in out and "![" not in out
    assert safe_url("https://a.example/>[click](https://evil.example)") is None
