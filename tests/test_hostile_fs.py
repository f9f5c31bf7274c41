"""Hostile folders and files at discovery: links, loops, unreadable folders, odd names, FIFOs,
devices, deep trees. Each gives one line naming the path; the other inputs go on."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from backlist import config
from backlist.config import check_library_dir
from backlist.errors import BacklistError
from backlist.ingest import SourceUnit, detect_kind, discover, path_label
from backlist.service import Library
from backlist.store.base import DocFilter

GOOD_MD = "---\ntitle: Fine post\ndate: 2025-01-02\n---\nA perfectly good paragraph about tides.\n"


def md(title: str) -> str:
    return GOOD_MD.replace("Fine post", title)


@contextlib.contextmanager
def no_hang(seconds: int = 20) -> Iterator[None]:
    """Fail instead of blocking forever (opening a FIFO for reading blocks until a writer comes)."""

    def boom(signum, frame):
        raise TimeoutError(f"still running after {seconds} s: something opened a FIFO or looped")

    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def skip_reason(skipped: list[str], path: Path | str) -> str:
    prefix = f"{path}: "
    hits = [s[len(prefix):] for s in skipped if s.startswith(prefix)]
    assert len(hits) == 1, (str(path), skipped)
    return hits[0]


def unit_paths(found) -> list[str]:
    return sorted(u.path for u in found.units)


def ingest(tmp_path: Path, folder: Path, **kw):
    lib = Library(tmp_path / "lib")
    with no_hang():
        report = lib.ingest([str(folder)], embed=False, **kw)
    titles = sorted(d.title for d in lib.list(DocFilter()))
    return lib, report, titles


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    (root / "a" / "b").mkdir(parents=True)
    (root / "good.md").write_text(md("Fine post"))
    (root / "a" / "x.md").write_text(md("Post x"))
    (root / "a" / "b" / "y.md").write_text(md("Post y"))
    return root


# --- symbolic links --------------------------------------------------------------------------------
def test_symlink_loops_visit_each_folder_once(tmp_path, tree):
    (tree / "a" / "b" / "up").symlink_to("..")
    (tree / "a" / "self").symlink_to(".")
    (tree / "loop").symlink_to("loop")  # a link to itself: ELOOP
    with no_hang():
        found = discover([str(tree)])
    assert unit_paths(found) == sorted(str(tree / p) for p in ("good.md", "a/x.md", "a/b/y.md"))
    assert skip_reason(found.skipped, tree / "a" / "self") == "symbolic link to a folder already read"
    assert skip_reason(found.skipped, tree / "a" / "b" / "up") == "symbolic link to a folder already read"
    assert skip_reason(found.skipped, tree / "loop") == "symbolic link loop"
    assert found.problems == []
    lib, report, titles = ingest(tmp_path, tree)
    assert titles == ["Fine post", "Post x", "Post y"]
    assert len(lib.store.sources()) == 3 and report.errors == []
    lib.close()


def test_link_to_parent_is_out_of_the_tree(tmp_path, tree):
    (tree / "up").symlink_to("..")
    found = discover([str(tree)])
    assert skip_reason(found.skipped, tree / "up") == "symbolic link out of the tree"
    assert len(found.units) == 3


def test_links_inside_the_tree_give_one_source_per_real_file(tmp_path, tree):
    (tree / "alias.md").symlink_to(tree / "a" / "x.md")
    (tree / "c").symlink_to("a/b")
    hidden = tree / ".drafts"
    hidden.mkdir()
    (hidden / "z.md").write_text(md("Post z"))
    (tree / "z.md").symlink_to(".drafts/z.md")  # the target is in a hidden folder: read via the link
    found = discover([str(tree)])
    assert unit_paths(found) == sorted(str(tree / p) for p in ("good.md", "a/x.md", "a/b/y.md", "z.md"))
    assert skip_reason(found.skipped, tree / "alias.md") == "symbolic link to a file already read"
    assert skip_reason(found.skipped, tree / "c") == "symbolic link to a folder already read"


def test_links_out_of_the_tree_skipped_unless_asked(tmp_path, tree):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "far.md").write_text(md("Far post"))
    (tree / "far.md").symlink_to(outside / "far.md")
    (tree / "fardir").symlink_to(outside)
    (tree / "broken.md").symlink_to(tmp_path / "nothing-here.md")
    found = discover([str(tree)])
    assert skip_reason(found.skipped, tree / "far.md") == "symbolic link out of the tree"
    assert skip_reason(found.skipped, tree / "fardir") == "symbolic link out of the tree"
    assert skip_reason(found.skipped, tree / "broken.md") == "broken symbolic link"
    assert len(found.units) == 3
    followed = discover([str(tree)], follow_links=True)
    # far.md and fardir/far.md are the same real file: read once, under the first name met.
    assert unit_paths(followed) == sorted(str(tree / p) for p in
                                          ("good.md", "a/x.md", "a/b/y.md", "far.md"))
    assert skip_reason(followed.skipped, tree / "fardir" / "far.md") == f"same file as {tree / 'far.md'}"


def test_same_folder_twice_read_once(tree):
    found = discover([str(tree), str(tree / "a")])
    assert len(found.units) == 3
    assert skip_reason(found.skipped, tree / "a") == "folder already read"


def test_explicit_link_is_followed(tmp_path, tree):
    link = tmp_path / "link.md"
    link.symlink_to(tree / "a" / "x.md")
    found = discover([str(link)])
    assert unit_paths(found) == [str(link)]


# --- unreadable folders, odd names, deep trees ------------------------------------------------------
def test_unreadable_subfolder_is_one_line(tmp_path, tree, monkeypatch):
    locked = tree / "a"
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    lib, report, titles = ingest(tmp_path, tree)
    assert titles == ["Fine post"]
    assert report.errors == [f"{locked}: cannot read folder (Permission denied)"]
    lib.close()


def test_non_utf8_file_name_is_one_printable_line(tmp_path, tree):
    bad = os.fsdecode(os.fsencode(str(tree)) + b"/caf\xe9.md")
    Path(bad).write_text(md("Cafe"))
    baddir = os.fsdecode(os.fsencode(str(tree)) + b"/\xff\xfe")
    os.mkdir(baddir)
    Path(baddir, "inner.md").write_text(md("Inner"))
    lib, report, titles = ingest(tmp_path, tree)
    assert titles == ["Fine post", "Post x", "Post y"]
    assert len(report.errors) == 2, report.errors
    assert report.errors[0] == f"{tree}/caf\\xe9.md: file name is not valid UTF-8 (rename it to read it)"
    assert report.errors[1].startswith(f"{tree}/\\xff\\xfe: ")
    for line in report.errors:
        line.encode("utf-8")  # prints without UnicodeEncodeError
    lib.close()


def test_control_characters_in_names_are_escaped():
    assert path_label("/tmp/a\nb.md") == "/tmp/a\\nb.md"
    assert path_label(os.fsdecode(b"/tmp/caf\xe9")) == "/tmp/caf\\xe9"
    assert path_label("/tmp/café.md") == "/tmp/café.md"


def test_newline_in_name_is_one_line(tmp_path, tree):
    (tree / "two\nlines.md").write_text(md("Two lines"))
    lib, report, titles = ingest(tmp_path, tree)
    assert "Fine post" in titles
    assert [ln for ln in report.errors if "\n" in ln] == []
    assert any(ln.startswith(f"{tree}/two\\nlines.md: ") for ln in report.errors), report.errors
    lib.close()


def test_deep_tree(tmp_path, tree):
    deep = str(tree)
    for _ in range(1100):  # os.makedirs and Path.mkdir(parents=True) recurse: too deep for them
        deep += "/d"
        os.mkdir(deep)
    deep = Path(deep)
    (deep / "bottom.md").write_text(md("Deep post"))
    try:
        lib, report, titles = ingest(tmp_path, tree)
        lib.close()
    finally:
        (deep / "bottom.md").unlink()
        for _ in range(1100):  # shutil.rmtree recurses too: leave no 1,100-deep tree in /tmp
            deep.rmdir()
            deep = deep.parent
    assert report.errors == []
    assert titles == ["Deep post", "Fine post", "Post x", "Post y"]


def test_missing_path_is_one_line(tmp_path, tree):
    found = discover([str(tmp_path / "nope"), str(tree)])
    assert [str(p) for p in found.problems] == [f"{tmp_path / 'nope'}: no such file or folder"]
    assert len(found.units) == 3


# --- FIFOs, sockets, devices ------------------------------------------------------------------------
def test_fifo_and_socket_in_a_folder_are_skipped(tmp_path, tree):
    os.mkfifo(tree / "pipe.md")
    sock_path = tree / "s.sock"
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(sock_path))
        lib, report, titles = ingest(tmp_path, tree)
    finally:
        sock.close()
    assert titles == ["Fine post", "Post x", "Post y"] and report.errors == []
    assert skip_reason(report.skipped_files, tree / "pipe.md") == "not a regular file (FIFO)"
    assert skip_reason(report.skipped_files, sock_path) == "not a regular file (socket)"
    lib.close()


@pytest.mark.parametrize("kind", [None, "markdown"])
def test_explicit_fifo_and_devices_never_opened(tmp_path, kind):
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    with no_hang():
        found = discover([str(fifo), "/dev/zero", "/dev/null"], kind=kind)
    assert found.units == [] and found.problems == []
    assert skip_reason(found.skipped, fifo) == "not a regular file (FIFO)"
    assert skip_reason(found.skipped, "/dev/zero") == "not a regular file (character device)"
    assert skip_reason(found.skipped, "/dev/null") == "not a regular file (character device)"


def test_detect_kind_refuses_fifo(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with no_hang():
        assert detect_kind(fifo) is None


def test_link_to_fifo_or_device_skipped(tmp_path, tree):
    os.mkfifo(tmp_path / "outside-pipe")
    (tree / "pipe.md").symlink_to(tmp_path / "outside-pipe")
    (tree / "zero.txt").symlink_to("/dev/zero")
    with no_hang():
        found = discover([str(tree)], follow_links=True)
    assert skip_reason(found.skipped, tree / "pipe.md") == "not a regular file (FIFO)"
    assert skip_reason(found.skipped, tree / "zero.txt") == "not a regular file (character device)"
    assert len(found.units) == 3


# --- fingerprints -----------------------------------------------------------------------------------
def _export(folder: Path) -> Path:
    (folder / "posts").mkdir(parents=True)
    (folder / "posts.csv").write_text("post_id,post_date,is_published,type,audience,title\n"
                                      "1.ok,2025-01-01,true,newsletter,everyone,Ok post\n")
    (folder / "posts" / "1.ok.html").write_text("<p>Good words about herring.</p>")
    return folder


def test_fingerprint_ignores_loops_and_fifos_and_is_stable(tmp_path):
    export = _export(tmp_path / "export")
    (export / "posts" / "up").symlink_to("..")
    (export / "self").symlink_to(".")
    os.mkfifo(export / "pipe")
    unit = SourceUnit(str(export), "substack")
    with no_hang():
        first = unit.fingerprint()
        assert unit.fingerprint() == first
    (export / "posts" / "1.ok.html").write_text("<p>Other words about herring.</p>")
    assert unit.fingerprint() != first


def test_fingerprint_of_a_fifo_is_an_error_not_a_hang(tmp_path):
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    with no_hang(), pytest.raises(OSError):
        SourceUnit(str(fifo), "markdown").fingerprint()


def test_export_folder_with_loop_ingests_once(tmp_path):
    export = _export(tmp_path / "in" / "export")
    (export / "posts" / "up").symlink_to("..")
    lib, report, titles = ingest(tmp_path, tmp_path / "in")
    assert report.errors == [] and titles == ["Ok post"]
    lib.close()


# --- skip reasons, JSON transcripts, email lists ----------------------------------------------------
def test_skipped_files_say_why(tmp_path, tree):
    (tree / "cover.png").write_bytes(b"\x89PNG")
    (tree / "README.md").write_text("# read me\n")
    (tree / "styles.css").write_text("body{}")
    (tree / "data.json").write_text('{"a": 1}')
    found = discover([str(tree)])
    assert skip_reason(found.skipped, tree / "cover.png") == "not archive material (image)"
    assert skip_reason(found.skipped, tree / "README.md") == "named like a README"
    assert skip_reason(found.skipped, tree / "styles.css").startswith("not archive material")
    assert skip_reason(found.skipped, tree / "data.json") == "not archive material (JSON, not a transcript)"
    assert len(found.units) == 3


def test_email_list_outside_an_export_names_personal_data(tree):
    (tree / "email_list.tidewater.csv").write_text("email,active\nana@example.org,true\n")
    found = discover([str(tree)])
    reason = skip_reason(found.skipped, tree / "email_list.tidewater.csv")
    assert "personal data" in reason and "not read" in reason


def test_json_transcript_detected_through_transcript_module(tmp_path, monkeypatch):
    from backlist.ingest import transcript

    def looks(head: str) -> bool:
        return '"segments"' in head

    monkeypatch.setattr(transcript, "looks_like_json_transcript", looks, raising=False)
    (tmp_path / "ep1.json").write_text(json.dumps({"version": "1.0.0", "segments": []}))
    (tmp_path / "other.json").write_text(json.dumps({"version": "1.0.0"}))
    assert detect_kind(tmp_path / "ep1.json") == "transcript"
    assert detect_kind(tmp_path / "other.json") is None
    found = discover([str(tmp_path)])
    assert [(u.path, u.kind) for u in found.units] == [(str(tmp_path / "ep1.json"), "transcript")]


def test_podcasting_20_json_transcript_is_a_transcript(tmp_path):
    """Needs transcript.looks_like_json_transcript from the transcript helper."""
    doc = {"version": "1.0.0", "segments": [
        {"speaker": "Ana Ruiz", "startTime": 0.5, "endTime": 3.2, "body": "Hello and welcome."}]}
    (tmp_path / "ep1.json").write_text(json.dumps(doc, indent=2))
    assert detect_kind(tmp_path / "ep1.json") == "transcript"


# --- the library folder -----------------------------------------------------------------------------
def test_check_library_dir_file(tmp_path):
    f = tmp_path / "lib"
    f.write_text("x")
    with pytest.raises(BacklistError) as exc:
        check_library_dir(f)
    assert str(exc.value) == f"{f} is a file, not a folder"


def test_check_library_dir_uncreatable(tmp_path, monkeypatch):
    target = tmp_path / "locked" / "lib"

    def mkdir(self, mode=0o777, parents=False, exist_ok=False):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", mkdir)
    with pytest.raises(BacklistError) as exc:
        check_library_dir(target)
    assert str(exc.value) == f"cannot create {target}: Permission denied"


def test_check_library_dir_under_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(BacklistError) as exc:
        check_library_dir(tmp_path / "f" / "lib")
    assert str(exc.value) == f"cannot create {tmp_path / 'f' / 'lib'}: Not a directory"


def test_check_library_dir_creates_and_returns(tmp_path):
    target = tmp_path / "new" / "lib"
    assert check_library_dir(target) == target and target.is_dir()
    assert config.library_dir(str(target)) == target  # library_dir stays pure
