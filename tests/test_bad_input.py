"""Bad input: one clear line naming the file and the reason, the rest goes on, exit status 1."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backlist.cli import app
from backlist.service import Library
from backlist.store.base import DocFilter

runner = CliRunner()
GOOD_MD = "---\ntitle: Fine post\ndate: 2025-01-02\n---\nA perfectly good paragraph about tides.\n"


def ingest_with(tmp_path: Path, name: str, data: bytes, **kw) -> tuple[Library, list[str]]:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    (folder / "good.md").write_text(GOOD_MD)
    (folder / name).write_bytes(data)
    lib = Library(tmp_path / "lib")
    report = lib.ingest([str(folder)], embed=False, **kw)
    titles = [d.title for d in lib.list(DocFilter())]
    assert "Fine post" in titles, "the good input must still be read"
    return lib, report.errors


CASES = [
    ("empty.md", b"", "empty file"),
    ("blank.txt", b"   \n\n  ", "empty file"),
    ("binary.txt", b"\x00\x01\x02PNG\x00" * 50, "binary file"),
    ("bad.md", b"---\ntitle: [unclosed\ndate: 2025\n---\nbody\n", "malformed YAML"),
    ("bad.xml", b"<?xml version='1.0'?><rss><channel><item><title>x</item></rss>", "malformed XML"),
    ("undecodable.txt", bytes(range(0x80, 0x100)) * 40, "undecodable bytes"),
    ("page.html", b"just words, no markup at all", "malformed HTML"),
]


@pytest.mark.parametrize(("name", "data", "reason"), CASES, ids=[c[0] for c in CASES])
def test_bad_file_reported_by_name(tmp_path, name, data, reason):
    lib, errors = ingest_with(tmp_path, name, data)
    assert len(errors) == 1, errors
    assert errors[0].startswith(str(tmp_path / "in" / name)) and reason in errors[0]
    assert "\n" not in errors[0]
    lib.close()


def test_entity_bomb_refused(tmp_path):
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rss version="2.0"><channel><title>&lol3;</title><item><title>&lol3;</title></item></channel></rss>"""
    lib, errors = ingest_with(tmp_path, "bomb.xml", bomb)
    assert len(errors) == 1 and "entit" in errors[0] and "bomb.xml" in errors[0]
    lib.close()


def test_size_limit(tmp_path):
    big = ("word " * 300_000).encode()  # 1.5 MB of text
    lib, errors = ingest_with(tmp_path, "huge.txt", big, max_bytes=1024 * 1024)
    assert len(errors) == 1 and "over the 1.0 MB limit" in errors[0]
    lib.close()


def test_wrong_encoding_is_decoded(tmp_path):
    text = ("Caf\u00e9 notes\n\nThe harbor caf\u00e9 re-opened and the \u201cregulars\u201d came back "
            "for chowder and gossip about the dredging plan. ") * 5
    lib, errors = ingest_with(tmp_path, "cp1252.txt", text.encode("cp1252"))
    assert errors == []
    doc = next(d for d in lib.list(DocFilter())
               if d.title.startswith("Caf"))
    assert doc.title == "Caf\u00e9 notes" and "\u201cregulars\u201d" in doc.text
    lib.close()


def _export_zip(path: Path, extra: dict[str, bytes], csv_rows: str | None = None) -> Path:
    rows = csv_rows or ("post_id,post_date,is_published,email_sent_at,inbox_sent_at,type,audience,"
                        "title,subtitle,podcast_url\n"
                        "1.ok,2025-01-01T00:00:00Z,true,,,newsletter,everyone,Ok post,,\n")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("posts.csv", rows)
        zf.writestr("posts/1.ok.html", "<p>Good words about herring.</p>")
        for name, data in extra.items():
            zf.writestr(name, data)
    return path


def test_zip_slip_member_skipped(tmp_path):
    z = _export_zip(tmp_path / "export.zip", {"../../evil.txt": b"owned", "/abs/evil": b"x"})
    lib = Library(tmp_path / "lib")
    report = lib.ingest([str(z)], embed=False)
    assert sum("zip-slip" in e for e in report.errors) == 2
    assert report.documents_new == 1
    assert not (tmp_path.parent / "evil.txt").exists()
    lib.close()


def test_zip_bomb_member_refused(tmp_path):
    rows = ("post_id,post_date,is_published,email_sent_at,inbox_sent_at,type,audience,title,"
            "subtitle,podcast_url\n1.ok,2025-01-01,true,,,newsletter,everyone,Ok post,,\n"
            "2.bomb,2025-01-02,true,,,newsletter,everyone,Bomb,,\n")
    z = _export_zip(tmp_path / "export.zip", {"posts/2.bomb.html": b"<p>" + b"a" * 30_000_000},
                    rows)
    lib = Library(tmp_path / "lib")
    report = lib.ingest([str(z)], embed=False)
    assert len(report.errors) == 1 and "zip bomb" in report.errors[0]
    assert "2.bomb.html" in report.errors[0]
    assert report.documents_new == 1
    lib.close()


def test_malformed_posts_csv(tmp_path):
    rows = "post_id,title\n1.ok,Ok post\n2.bad,Too,many,fields\n"
    z = _export_zip(tmp_path / "export.zip", {}, rows)
    lib = Library(tmp_path / "lib")
    report = lib.ingest([str(z)], embed=False)
    assert len(report.errors) == 1 and "malformed CSV at line 3" in report.errors[0]
    assert "posts.csv" in report.errors[0]
    lib.close()


def test_not_a_zip(tmp_path):
    bad = tmp_path / "export.zip"
    bad.write_bytes(b"PK\x03\x04 truncated garbage")
    lib = Library(tmp_path / "lib")
    report = lib.ingest([str(bad)], embed=False)
    assert len(report.errors) == 1 and "not a readable zip" in report.errors[0]
    lib.close()


def test_cli_exit_status_and_one_line_errors(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.md").write_text(GOOD_MD)
    (folder / "empty.md").write_bytes(b"")
    (folder / "missing-posts.zip").write_bytes(b"")
    res = runner.invoke(app, ["--library", str(tmp_path / "lib"), "ingest", str(folder),
                              "--no-embed"])
    assert res.exit_code == 1
    lines = [ln for ln in res.output.splitlines() if ln.startswith("error:")]
    assert len(lines) == 2 and all(str(folder) in ln for ln in lines)
    assert "Read 1 input: 1 new document" in res.output


def test_interrupted_ingest_leaves_usable_library_and_rerun_completes(tmp_path, monkeypatch):
    from backlist import pipeline

    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        (folder / f"p{i}.md").write_text(GOOD_MD.replace("Fine post", f"Post {i}"))
    lib = Library(tmp_path / "lib")
    real = pipeline.Ingestor.write
    calls = {"n": 0}

    def crash_on_second(self, doc, report):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(self, doc, report)

    monkeypatch.setattr(pipeline.Ingestor, "write", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        lib.ingest([str(folder)], embed=False)
    monkeypatch.setattr(pipeline.Ingestor, "write", real)
    lib.close()
    lib = Library(tmp_path / "lib")  # the library opens and holds only whole documents
    assert [d.title for d in lib.list(DocFilter())] \
        == ["Post 0"]
    report = lib.ingest([str(folder)], embed=False)
    assert report.documents_new == 2 and report.documents_unchanged == 0
    assert report.sources_unchanged == 1
    lib.close()


def test_library_that_is_a_file_is_one_line(tmp_path):
    target = tmp_path / "lib"
    target.write_text("not a library")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.md").write_text(GOOD_MD)
    res = runner.invoke(app, ["--library", str(target), "ingest", str(folder), "--no-embed"])
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit)
    assert res.output == f"error: {target} is a file, not a folder\n"


def test_fifo_given_explicitly_is_skipped_not_opened(tmp_path):
    import os
    import signal

    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)

    def boom(signum, frame):
        raise TimeoutError("ingest opened the FIFO")

    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(20)
    try:
        report = Library(tmp_path / "lib").ingest([str(fifo)], embed=False)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert report.errors == [] and report.skipped_files == [f"{fifo}: not a regular file (FIFO)"]
