"""Every reader on the demo archive, through the service and the CLI."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from typer.testing import CliRunner

from backlist.cli import app
from backlist.service import Library
from backlist.store.base import DocFilter

runner = CliRunner()


def by_title(lib: Library, drafts: bool = True) -> dict[str, object]:
    return {d.title: d for d in lib.list(DocFilter(include_drafts=drafts))}


def test_substack_export_zip(demo_lib):
    docs = by_title(demo_lib)
    reef = docs["Oyster reefs are infrastructure"]
    assert reef.kind == "post" and reef.date == "2025-03-04"
    assert reef.subtitle == "Why the cheapest breakwater in the bay is alive"
    assert reef.metrics["delivered"] == 1200 and reef.metrics["unique_opens"] == 540
    assert reef.metrics["opens"] == 594  # repeat opens counted as events, not readers
    assert reef.metrics["open_rate"] == 0.45
    assert "breakwater" in reef.text and "\n\n" in reef.text
    assert {"text": "county reef report", "url": "https://example.org/reef-report"} in \
        reef.metadata["links"]
    kelp = docs["What a winter of kelp farming taught me"]
    assert kelp.audience == "only_paid" and kelp.metrics["open_rate"] == 0.56


def test_scripts_are_never_kept_as_text(demo_lib):
    for doc in demo_lib.list(DocFilter(include_drafts=True)):
        blob = doc.text + " ".join(doc.comments)
        assert "alert(" not in blob and "steal()" not in blob and "<script" not in blob
        assert "document.cookie" not in blob


def test_drafts_kept_but_hidden_by_default(demo_lib):
    draft = by_title(demo_lib)["Where the marsh goes next (draft)"]
    assert draft.is_draft and draft.date is None
    assert "Where the marsh goes next (draft)" not in by_title(demo_lib, drafts=False)


def test_feed_with_transcript(demo_lib):
    docs = by_title(demo_lib)
    ep = docs["Building living shorelines, with Dr. Ana Ruiz"]
    assert ep.kind == "episode" and ep.date == "2025-05-20"
    assert ep.url == "https://tidewater.example.org/p/living-shorelines-ana-ruiz"
    assert ep.speakers == ["Maren Holt", "Ana Ruiz"]
    turns = demo_lib.get(ep.id).turns  # ls-style listings leave turns out; get has them
    assert [t.speaker for t in turns] == ["Maren Holt", "Ana Ruiz", "Maren Holt", "Ana Ruiz"]
    assert "Ana Ruiz: After the last big storm" in ep.text
    assert ep.metadata["enclosures"][0]["url"].endswith("ep2.mp3")
    assert ep.metadata["duration"] == "00:42:10"
    # the transcript the feed links is read with its episode, not as a document of its own
    assert not [d for d in docs.values() if d.kind == "transcript"]


def test_markdown_frontmatter(demo_lib):
    review = by_title(demo_lib)["Tidewater Notes: 2024 in review"]
    assert review.date == "2024-12-29" and review.audience == "everyone"
    assert review.metadata["post_id"] == "99.2024-in-review"
    assert review.metadata["visibility"] == "public"
    assert "island's dunes" in review.text  # pandoc's \' undone
    assert "<div>" not in review.text and "\\'" not in review.text
    assert review.metadata["images"] == ["images/99.2024-in-review_reef.png"]
    assert review.metadata["links"][0]["url"] == "https://tidewater.example.org/p/dredging-the-harbor"


def test_saved_page_comments_apart(demo_lib):
    art = by_title(demo_lib)["Counting horseshoe crabs by moonlight"]
    assert art.kind == "article" and art.date == "2025-05-28"
    assert art.authors == ["Priya Natarajan"]
    assert art.url == "https://shorebird.example.net/horseshoe-crab-count"
    assert art.comments == ["I counted at Reeds Beach this year. Bring a thermos.",
                            "Great piece on the red knots!"]
    assert "thermos" not in art.text
    assert "Subscribe" not in art.text and "Shorebird Journal" not in art.text


def test_cli_ls_get_stats_json(demo_lib):
    lib = str(demo_lib.dir)
    res = runner.invoke(app, ["--library", lib, "ls", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert len(rows) == 6  # the draft is left out
    assert set(rows[0]) == {"id", "title", "date", "kind", "url", "words", "duplicate_of"}
    assert [r["date"] for r in rows] == sorted(r["date"] for r in rows)
    res = runner.invoke(app, ["--library", lib, "ls", "--json", "--kind", "post", "--since", "2025"])
    assert {r["title"] for r in json.loads(res.stdout)} == {
        "Oyster reefs are infrastructure", "What a winter of kelp farming taught me"}
    doc = json.loads(runner.invoke(app, ["--library", lib, "get", rows[0]["id"], "--json"]).stdout)
    for key in ("id", "title", "subtitle", "date", "kind", "url", "authors", "text", "comments",
                "words", "source", "duplicate_of"):
        assert key in doc
    stats = json.loads(runner.invoke(app, ["--library", lib, "stats", "--json"]).stdout)
    assert stats["by_kind"]["post"]["documents"] == 4 and stats["by_year"]["2025"]["documents"] == 5
    res = runner.invoke(app, ["--library", lib, "get", "nope-not-an-id"])
    assert res.exit_code == 1 and "no document with this id" in res.output


def test_incremental_reingest(tmp_path, demo_copy):
    lib = Library(tmp_path / "lib")
    first = lib.ingest([str(demo_copy)], embed=False)
    assert first.documents_new == 7 and not first.errors
    again = lib.ingest([str(demo_copy)], embed=False)
    assert again.sources_read == 0 and again.sources_unchanged == 4 and not again.changed
    assert again.passages_added == 0
    # a changed file replaces its documents; the others are not read again
    md = demo_copy / "notes" / "2024-year-in-review.md"
    md.write_text(md.read_text().replace("barrier island", "barrier beach"))
    changed = lib.ingest([str(demo_copy)], embed=False)
    assert changed.sources_read == 1 and changed.documents_updated == 1
    assert "barrier beach" in by_title(lib)["Tidewater Notes: 2024 in review"].text
    # a vanished file is reported and its documents stay
    (demo_copy / "reading" / "saved-article.html").unlink()
    gone = lib.ingest([str(demo_copy)], embed=False)
    assert [Path(v["path"]).name for v in gone.vanished] == ["saved-article.html"]
    assert "Counting horseshoe crabs by moonlight" in by_title(lib)
    lib.close()


def test_changed_export_drops_removed_posts(tmp_path):
    from examples_helper import build_export

    lib = Library(tmp_path / "lib")
    zpath = build_export(tmp_path / "export.zip")
    assert lib.ingest([str(zpath)], embed=False).documents_new == 3
    with zipfile.ZipFile(zpath) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    rows = files["posts.csv"].decode().splitlines()
    files["posts.csv"] = "\n".join(r for r in rows if "kelp" not in r).encode()
    with zipfile.ZipFile(zpath, "w") as zf:
        for n, data in files.items():
            zf.writestr(n, data)
    report = lib.ingest([str(zpath)], embed=False)
    assert report.documents_removed == 1
    assert "What a winter of kelp farming taught me" not in by_title(lib)
    lib.close()


def test_wal_mode(demo_lib):
    mode = demo_lib.store.db.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
