"""The one file-opening path every reader uses (textio.open_input): links resolved and kept
inside the input's root, the size checked with stat before a byte is read, regular files only."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from backlist.errors import IngestError
from backlist.ingest import SourceUnit, discover
from backlist.ingest.base import ReadContext
from backlist.ingest.substack import read_substack
from backlist.ingest.textio import Limits, open_input, read_text
from backlist.service import Library


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "root").mkdir()
    (tmp_path / "outside.txt").write_text("Outside words.\n")
    (tmp_path / "root" / "inside.txt").write_text("Inside words.\n")
    (tmp_path / "root" / "out-link.txt").symlink_to(tmp_path / "outside.txt")
    (tmp_path / "root" / "in-link.txt").symlink_to(tmp_path / "root" / "inside.txt")
    return tmp_path


def test_a_link_out_of_the_root_is_refused_unless_links_are_followed(tree):
    root = str(tree / "root")
    with pytest.raises(IngestError, match="symbolic link out of the folder or export given"):
        read_text(tree / "root" / "out-link.txt", Limits(root=root))
    assert read_text(tree / "root" / "out-link.txt", Limits(root=root, follow_links=True)) == \
        "Outside words.\n"
    assert read_text(tree / "root" / "in-link.txt", Limits(root=root)) == "Inside words.\n"


def test_size_is_refused_from_stat_before_any_read(tmp_path):
    big = tmp_path / "big.txt"
    with big.open("wb") as fh:
        fh.truncate(8 << 30)
    started = time.monotonic()
    with pytest.raises(IngestError, match="over the 1.0 MB limit"):
        open_input(big, Limits(max_bytes=1 << 20))
    with pytest.raises(IngestError, match="over the 1.0 MB limit"):
        SourceUnit(str(big), "text").fingerprint(Limits(max_bytes=1 << 20))
    assert time.monotonic() - started < 1.0


def test_a_fifo_is_never_opened(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with pytest.raises(IngestError, match=r"not a regular file \(FIFO\)"):
        open_input(fifo, Limits())


def test_units_carry_their_root(tree):
    found = discover([str(tree / "root")])
    assert {u.root for u in found.units} == {os.path.realpath(tree / "root")}
    alone = discover([str(tree / "outside.txt")])
    assert [u.root for u in alone.units] == [os.path.realpath(tree)]


def make_export(folder: Path) -> Path:
    (folder / "posts").mkdir(parents=True)
    (folder / "posts.csv").write_text(
        "post_id,post_date,is_published,type,audience,title\n"
        "1.first,2024-01-02,true,newsletter,everyone,First\n")
    (folder / "posts" / "1.first.html").write_text("<p>First words about salt marshes.</p>")
    return folder


def test_export_links_to_folders_and_out_are_skip_lines_and_the_posts_read(tmp_path):
    export = make_export(tmp_path / "export")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x.html").write_text("<p>Elsewhere.</p>")
    (export / "posts" / "linked-folder").symlink_to(tmp_path / "elsewhere")
    (export / "posts" / "2.out.html").symlink_to(tmp_path / "elsewhere" / "x.html")
    ctx = ReadContext(limits=Limits(root=os.path.realpath(export)))
    docs = list(read_substack(export, ctx))
    assert [d.title for d in docs] == ["First"]
    skipped = sorted(ctx.skipped)
    assert len(skipped) == 2, skipped
    assert "2.out.html: symbolic link out of the export" in skipped[0]
    assert "linked-folder: symbolic link out of the export" in skipped[1]


def test_an_unchanged_failed_file_is_one_line_on_rerun_and_read_again_once_fixed(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    bad = folder / "bad.md"
    bad.write_bytes(b"---\ntitle: Bad\n---\n" + b"\x00" * 100)
    lib = Library(tmp_path / "lib")
    try:
        first = lib.ingest([str(folder)], embed=False)
        assert [e for e in first.errors if "bad.md" in e]
        again = lib.ingest([str(folder)], embed=False)
        assert not again.errors
        (line,) = again.skipped_files
        assert line.startswith(f"{bad}: unchanged since it failed (")
        bad.write_text("---\ntitle: Fixed\n---\nNow a good paragraph about herons.\n")
        fixed = lib.ingest([str(folder)], embed=False)
        assert not fixed.errors and not fixed.skipped_files
        assert [d.title for d in lib.list()] == ["Fixed"]
    finally:
        lib.close()


def test_a_new_input_that_fails_part_way_keeps_none_of_its_documents(tmp_path):
    from test_budgets import write_dump

    folder = tmp_path / "in"
    folder.mkdir()
    write_dump(folder / "dump.txt", 300)
    lib = Library(tmp_path / "lib")
    try:
        report = lib.ingest([str(folder)], embed=False, max_seconds=0.5)
        (line,) = report.errors
        assert line.startswith(f"{folder / 'dump.txt'}: took too long to read")
        assert lib.list() == [] and report.documents_new == 0
    finally:
        lib.close()


@pytest.mark.parametrize("swap", ["file", "folder"])
def test_a_link_swapped_in_after_the_check_is_not_followed(tmp_path, monkeypatch, swap):
    """The race: the path is resolved and found inside the root, then (before the open) the file,
    or a folder on its way, is replaced by a link out of the root. Nothing outside is read."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "notes").mkdir(parents=True)
    outside.mkdir()
    (root / "notes" / "tide.txt").write_text("Inside words.\n")
    (outside / "tide.txt").write_text("Outside words.\n")
    target = root / "notes" / "tide.txt"
    resolve = os.path.realpath

    def resolve_then_swap(path, *args, **kw):
        real = resolve(path, *args, **kw)
        if os.fspath(path) == str(target):
            if swap == "file":
                target.unlink()
                target.symlink_to(outside / "tide.txt")
            else:
                (root / "notes").rename(tmp_path / "old-notes")
                (root / "notes").symlink_to(outside)
        return real

    monkeypatch.setattr(os.path, "realpath", resolve_then_swap)
    with pytest.raises(IngestError, match="changed into a symbolic link while being opened"):
        read_text(target, Limits(root=str(root)))
