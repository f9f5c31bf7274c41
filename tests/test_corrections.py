"""Reconciliation stored in a real library, and the writer's corrections: `backlist edit`, the web
edit form, surviving re-ingest and `migrate` (SQLite and a scratch PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pg_server import PgServer
from reconcile_fixture import SITE, write_archive
from typer.testing import CliRunner

from backlist.cli import app as cli_app
from backlist.errors import UsageError
from backlist.ingest.base import ReadContext
from backlist.ingest.textdump import read_dump
from backlist.model import Document
from backlist.service import Library
from backlist.store.base import DocFilter
from backlist.store.migrate import copy_library
from backlist.store.postgres import PostgresStore
from backlist.web.app import create_app

runner = CliRunner()


def ingest(lib: Library, folder: Path) -> None:
    """The fixture as a writer would hand it over: the dumps as dumps, the post as Markdown."""
    for sub, kind in (("feeds", "dump"), ("posts", None)):
        report = lib.ingest([str(folder / sub)], kind=kind)
        assert not report.errors, report.errors


def find(lib: Library, position: str, source_end: str) -> Document:
    return next(d for d in lib.list(DocFilter(include_drafts=True))
                if d.position == position and d.source.endswith(source_end))


@pytest.fixture()
def built(tmp_path: Path, monkeypatch) -> Iterator[tuple[Library, Path]]:
    monkeypatch.setenv("BACKLIST_EMBEDDER", "hash")
    folder = write_archive(tmp_path)
    lib = Library(tmp_path / "lib")
    ingest(lib, folder)
    yield lib, folder
    lib.close()


def test_ingest_stores_reconciled_fields_with_their_basis(built) -> None:
    lib, _ = built
    review = next(d for d in lib.list() if d.kind == "post")
    e3 = find(lib, "line 7", "tidewater-feed.txt")
    assert e3.title == "Oyster Reefs 2.0: the Army Corps plan, revisited"
    assert e3.basis["title"] == f"link text in {review.id}"
    assert e3.aliases == ["Oyster Reefs 20 Army Corps plan"]
    assert (e3.date, e3.date_earliest, e3.date_latest) == (None, "2025-01-06", "2025-03-04")
    assert "tidewater-feed.txt order" in e3.basis["date_earliest"]
    e1 = find(lib, "line 5", "tidewater-feed.txt")
    assert e1.url == SITE + "winter-kelp-harvest" and e1.basis["url"].startswith("copy ")
    assert e1.title == "Winter kelp harvest" and e1.basis["title"].startswith("URL slug of copy")
    # the content hash stays the reader's, so re-reading unchanged input rewrites nothing
    fresh = {d.id: d for d in read_dump(Path(e3.source), ReadContext())}
    assert lib.store.doc_hash(e3.id) == fresh[e3.id].content_hash
    # the new title and the old one both find the piece
    for query in ("revisited", '"Reefs 20"'):
        hits = lib.search(query, mode="keyword", k=3)
        assert hits and hits[0].doc.id == e3.id, query


def test_no_stored_date_is_inferred(built) -> None:
    lib, _ = built
    reader = lib.store.reader_fields()
    fixes = lib.store.corrections()
    docs = lib.list(DocFilter(include_drafts=True))
    assert any(d.date_earliest or d.date_latest for d in docs)
    for d in docs:
        stated = {reader[d.id].get("date")} | {reader[c.id].get("date") for c in docs
                                               if c.duplicate_of == d.id}
        if d.date:
            assert d.date in stated or fixes.get(d.id, {}).get("date") == d.date, d.id


def test_corrections_win_and_survive_reingest_and_clear(built) -> None:
    lib, folder = built
    gauge = find(lib, "line 12", "tidewater-directory-page.txt")
    kelp = find(lib, "line 5", "tidewater-feed.txt")
    tables = find(lib, "line 10", "tidewater-directory-page.txt")
    lib.edit(gauge.id, {"title": "Reading the harbor gauge"}, [])
    lib.edit(kelp.id, {"date": "2025-03-10"}, [])
    lib.edit(tables.id, {"reading": True}, [])
    got = lib.get(gauge.id)
    assert got.title == "Reading the harbor gauge" and got.corrected == ["title"]
    assert got.basis["title"] == "corrected by the writer"
    kelp = lib.get(kelp.id)
    assert kelp.date == "2025-03-10" and not (kelp.date_earliest or kelp.date_latest)
    assert tables.id not in {d.id for d in lib.list(DocFilter(reading=False))}
    # the directory page changes: its documents are read again, the corrections stay
    page = folder / "feeds" / "tidewater-directory-page.txt"
    page.write_text(page.read_text(encoding="utf-8").replace(
        "here is how to read it.", "here is how to read it, twice a day."), encoding="utf-8")
    report = lib.ingest([str(folder / "feeds")], kind="dump")
    assert report.documents_updated >= 1 and not report.errors
    got = lib.get(gauge.id)
    assert "twice a day" in got.text and got.title == "Reading the harbor gauge"
    assert lib.get(tables.id).is_reading
    # cleared: the reader's title comes back (and the archive's basis with it)
    lib.edit(gauge.id, {}, ["title"])
    got = lib.get(gauge.id)
    assert got.title == "Tidal gauge data" and got.corrected == [] and got.basis["title"] == "URL slug"


def test_edit_checks_its_input(built) -> None:
    lib, _ = built
    some = lib.list()[0]
    for values, clear in (({"date": "2025-02-30"}, []), ({"date": "March 2025"}, []),
                          ({"url": "javascript:alert(1)"}, []), ({"kind": "novel"}, []),
                          ({"words": 3}, []), ({}, ["speakers"]), ({}, []),
                          ({"title": "x"}, ["title"])):
        with pytest.raises(UsageError):
            lib.edit(some.id, values, clear)
    assert lib.store.corrections() == {}


def test_cli_edit_and_get_json(built) -> None:
    lib, _ = built
    e4 = find(lib, "line 8", "tidewater-feed.txt")
    where = ["--library", str(lib.dir)]
    result = runner.invoke(cli_app, [*where, "edit", e4.id, "--title", "The Corps 2.0 plan, annotated",
                                     "--url", SITE + "corps-notes", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["title"] == "The Corps 2.0 plan, annotated" and data["url"] == SITE + "corps-notes"
    assert sorted(data["corrected"]) == ["title", "url"]
    got = json.loads(runner.invoke(cli_app, [*where, "get", e4.id, "--json"]).stdout)
    assert got["basis"]["title"] == "corrected by the writer"
    assert got["when"] == "between 2025-01-06 and 2025-03-04" and got["date"] is None
    assert got["aliases"]  # the respelt and the slug titles are kept as other names
    bad = runner.invoke(cli_app, [*where, "edit", e4.id, "--date", "2025-13-01"])
    assert bad.exit_code == 1 and "date" in bad.output and len(bad.output.strip().splitlines()) == 1


def test_web_edit_form(built) -> None:
    lib, _ = built
    e3 = find(lib, "line 7", "tidewater-feed.txt")
    with TestClient(create_app(lib.dir), base_url="http://127.0.0.1",
                    raise_server_exceptions=False) as client:
        page = client.get(f"/doc/{e3.id}").text
        assert f'action="/doc/{e3.id}/edit"' in page and "between 2025-01-06 and 2025-03-04" in page
        assert "link text in" in page
        cross = client.post(f"/doc/{e3.id}/edit", data={"title": "Hijacked"},
                            headers={"origin": "http://evil.example"})
        assert cross.status_code == 403
        ok = client.post(f"/doc/{e3.id}/edit", data={"date": "2025-02-14", "reading": ""},
                         headers={"origin": "http://127.0.0.1"}, follow_redirects=False)
        assert ok.status_code == 303 and ok.headers["location"] == f"/doc/{e3.id}"
        bad = client.post(f"/doc/{e3.id}/edit", data={"date": "soon"},
                          headers={"origin": "http://127.0.0.1"})
        assert bad.status_code == 400
    got = lib.get(e3.id)
    assert got.date == "2025-02-14" and got.corrected == ["date"] and got.title != "Hijacked"


@pytest.fixture(scope="module")
def pg() -> Iterator[PgServer]:
    server = PgServer()
    server.start()
    yield server
    server.stop()


def test_corrections_and_bounds_survive_migrate_and_reingest_on_postgres(built, pg) -> None:
    lib, folder = built
    gauge = find(lib, "line 12", "tidewater-directory-page.txt")
    lib.edit(gauge.id, {"title": "Reading the harbor gauge", "date": "2025-06-01"}, [])
    pg.create_database("reconcile_migrated")
    url = pg.url_for("reconcile_migrated")
    dst = PostgresStore(url)
    try:
        copy_library(lib.store, dst)
    finally:
        dst.close()
    with Library(lib.dir / "pg-side", database=url) as remote:
        got = remote.get(gauge.id)
        assert (got.title, got.date, sorted(got.corrected)) == \
            ("Reading the harbor gauge", "2025-06-01", ["date", "title"])
        e3 = remote.get(find(lib, "line 7", "tidewater-feed.txt").id)
        assert (e3.date_earliest, e3.date_latest) == ("2025-01-06", "2025-03-04")
        assert e3.basis == lib.get(e3.id).basis and e3.aliases == lib.get(e3.id).aliases
        # the corrected piece is read again on PostgreSQL: its reader's values are rewritten,
        # the corrections win again
        page = folder / "feeds" / "tidewater-directory-page.txt"
        page.write_text(page.read_text(encoding="utf-8").replace(
            "here is how to read it.", "here is how to read it, at slack water."), encoding="utf-8")
        report = remote.ingest([str(folder / "feeds")], kind="dump")
        assert not report.errors and report.documents_updated >= 1
        got = remote.get(gauge.id)
        assert "slack water" in got.text
        assert (got.title, got.date) == ("Reading the harbor gauge", "2025-06-01")
        assert remote.get(e3.id).title == "Oyster Reefs 2.0: the Army Corps plan, revisited"


def test_reading_is_not_my_post() -> None:
    """"my post on …" resolves only among the writer's own pieces: not one marked as reading."""
    from backlist.index.citations import find_references

    def piece(reading: bool) -> Document:
        return Document("reefs", "post", "posts", "whole file", "Reefs and seawalls compared.",
                        title="Oyster Reefs Beat Seawalls", date="2024-03-10",
                        url=SITE + "oyster-reefs-beat-seawalls", reading=reading)

    text = "As I argued in my post on oyster reefs beating seawalls, the bay needs both."
    own = find_references(text, [piece(False)], date="2025-01-01")
    assert [(r.doc_id, r.how) for r in own] == [("reefs", "mention")]
    assert find_references(text, [piece(True)], date="2025-01-01") == []


def test_the_review_counts_bounded_pieces_inside_the_span_and_lists_the_rest(built) -> None:
    from backlist.analysis.review import collect_review, render_review

    lib, _ = built
    e1, e3, e4 = (find(lib, f"line {n}", "tidewater-feed.txt") for n in (5, 7, 8))
    gauge = find(lib, "line 12", "tidewater-directory-page.txt")
    data = collect_review(lib, "2025-01-01", "2025-12-31")
    counted = {d.id for d in data.pieces}
    assert {e3.id, e4.id} <= counted  # both bounds inside 2025
    assert {e1.id, gauge.id} <= {d.id for d in data.bounded}  # only overlapping: apart
    assert not ({e1.id, gauge.id} & counted)
    text = render_review(data)
    assert "between 2025-01-06 and 2025-03-04" in text
    assert "## Pieces that may fall in the year (not counted)" in text
    assert "no later than 2025-12-30" in text
    earlier = collect_review(lib, "2024-01-01", "2024-12-31")
    assert e3.id not in {d.id for d in earlier.pieces + earlier.bounded}
