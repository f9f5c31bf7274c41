"""Finding what a path holds and which reader takes it. Readers yield Documents, nothing more."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from backlist.errors import IngestError
from backlist.ingest.article import read_saved_page, read_text_article
from backlist.ingest.base import ReadContext
from backlist.ingest.feed import looks_like_feed, read_feed
from backlist.ingest.markdown import read_markdown
from backlist.ingest.substack import is_substack_export, read_substack
from backlist.ingest.textdump import looks_like_dump, read_dump
from backlist.ingest.textio import MAX_FOLDER_DEPTH, Limits, file_type, inside, open_regular, over_limit
from backlist.ingest.transcript import looks_like_transcript, read_transcript_file
from backlist.model import Document, Source

_TRANSCRIPT_REF = re.compile(r"<podcast:transcript[^>]*\burl=[\"']([^\"']+)")
READER_VERSION = "4"  # bump when a reader changes what it yields, so inputs are read again
KINDS = ("substack", "markdown", "feed", "transcript", "page", "text", "dump")
_SKIP_NAMES = {"readme": "named like a README", "readme.md": "named like a README",
               "readme.txt": "named like a README", "license": "named like a licence",
               "license.md": "named like a licence", "changelog.md": "named like a changelog",
               "thumbs.db": "a system file"}
_SKIP_SUFFIXES = {
    **dict.fromkeys((".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".ico"), "image"),
    **dict.fromkeys((".mp3", ".m4a", ".wav"), "audio"), ".mp4": "video", ".pdf": "PDF",
    **dict.fromkeys((".css", ".js"), "web page asset"),
    **dict.fromkeys((".csv", ".tsv", ".yaml", ".yml"), "data file")}
# Control characters, line separators and the surrogates a non-UTF-8 file name decodes to.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def path_label(path: str | os.PathLike[str] | bytes) -> str:
    """A path as one printable line: undecodable bytes and control characters backslash-escaped."""
    text = os.fsdecode(path)
    if not _UNPRINTABLE.search(text):
        return text
    raw = text.encode("utf-8", "surrogateescape" if _only_escapes(text) else "backslashreplace")
    text = raw.decode("utf-8", "backslashreplace")
    return _UNPRINTABLE.sub(lambda m: m[0].encode("unicode_escape").decode("ascii"), text)


def _only_escapes(text: str) -> bool:
    return all(not 0xD800 <= ord(c) <= 0xDFFF or 0xDC80 <= ord(c) <= 0xDCFF for c in text)


@dataclass
class SourceUnit(Source):
    """A Source that knows how to read itself and fingerprint its bytes. root: the real path of
    the folder it was found in (an export: itself); what it opens must lie inside."""

    root: str | None = None

    def read(self, ctx: ReadContext, site: str | None = None) -> Iterator[Document]:
        return READERS[self.kind](self, ctx, site)

    def fingerprint(self, limits: Limits | None = None) -> str:
        """A digest of the input's bytes. Folders: every regular file under it, by relative path,
        without following folder links (no loops) and without opening FIFOs or devices. A file
        over the size limit is never hashed: alone it is refused (IngestError), inside a folder
        it counts by its stat (the reader refuses it)."""
        limits = limits or Limits()
        h = hashlib.sha256(f"{READER_VERSION}:{self.kind}".encode())
        if self.path.startswith(("http://", "https://")):
            # Remote input is always fetched again; unchanged documents are then skipped by
            # their content hash, so only the download is repeated.
            return f"remote:{uuid.uuid4().hex}"
        st = os.stat(self.path)
        if stat.S_ISDIR(st.st_mode):
            for rel, full in _tree_files(self.path):
                h.update(os.fsencode("/".join(rel)))
                h.update(_file_digest(full, limits, quiet=True))
        else:
            h.update(_file_digest(self.path, limits, quiet=False))
        return h.hexdigest()

    def stat_fingerprint(self, limits: Limits | None = None) -> str | None:
        """A cheap fingerprint (no content read): size, modification time and inode, with the
        reader version and size limit. Kept for an input that failed, so an unchanged bad file
        is not read (or hashed) again."""
        if self.path.startswith(("http://", "https://")):
            return None
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None  # a folder's own stat does not change with the files inside it
        limit = (limits or Limits()).max_bytes
        return (f"stat:{READER_VERSION}:{self.kind}:{st.st_size}:{st.st_mtime_ns}:{st.st_dev}:"
                f"{st.st_ino}:{limit}")


def _tree_files(top: str) -> list[tuple[tuple[str, ...], str]]:
    """Regular files under top (file links followed, folder links not), sorted by relative path.
    Iterative; a folder that cannot be listed or lies too deep only changes the digest."""
    out: list[tuple[tuple[str, ...], str]] = []
    stack: list[tuple[tuple[str, ...], str]] = [((), top)]
    while stack:
        rel, folder = stack.pop()
        if len(rel) > MAX_FOLDER_DEPTH:
            continue
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(((*rel, entry.name), entry.path))
                    elif entry.is_file(follow_symlinks=True):
                        out.append(((*rel, entry.name), entry.path))
        except OSError as exc:
            out.append(((*rel, f"\0unreadable {exc.errno}"), ""))
    return sorted(out)


def _file_digest(path: str, limits: Limits, quiet: bool) -> bytes:
    if not path:
        return b""
    st = os.stat(path)
    if reason := over_limit(st.st_size, limits):
        if not quiet:
            raise IngestError(path_label(path), reason)
        return f"over:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}".encode()
    d = hashlib.sha256()
    with open_regular(path) as fh:
        while chunk := fh.read(1 << 20):
            d.update(chunk)
    return d.digest()


READERS: dict[str, Callable[[SourceUnit, ReadContext, str | None], Iterator[Document]]] = {
    "substack": lambda u, ctx, site: read_substack(Path(u.path), ctx, site),
    "markdown": lambda u, ctx, site: read_markdown(Path(u.path), ctx),
    "feed": lambda u, ctx, site: read_feed(u.path, ctx),
    "transcript": lambda u, ctx, site: read_transcript_file(Path(u.path), ctx),
    "page": lambda u, ctx, site: read_saved_page(Path(u.path), ctx),
    "text": lambda u, ctx, site: read_text_article(Path(u.path), ctx),
    "dump": lambda u, ctx, site: read_dump(Path(u.path), ctx),
}


@dataclass
class Discovery:
    units: list[SourceUnit]
    skipped: list[str]  # "path: reason", one line each
    problems: list[IngestError]


def discover(paths: list[str], kind: str | None = None, follow_links: bool = False) -> Discovery:
    """The inputs under the given paths. Each real file and folder is visited once; links that
    lead out of the folder given are skipped unless follow_links; FIFOs and devices are never
    opened. Whatever cannot be read is one line in problems (or skipped), the rest goes on."""
    found = Discovery([], [], [])
    walker = _Walker(found, kind, follow_links)
    for raw in paths:
        if raw.startswith(("http://", "https://")):
            found.units.append(SourceUnit(raw, kind or "feed"))
        else:
            walker.root(raw)
    _drop_attached_transcripts(found)
    return found


def _drop_attached_transcripts(found: Discovery) -> None:
    """A transcript a feed links to is read with its episode, not again on its own."""
    attached: set[Path] = set()
    for unit in found.units:
        if unit.kind != "feed" or unit.path.startswith(("http://", "https://")):
            continue
        base = Path(unit.path).parent
        try:
            head = _head(Path(unit.path), 1 << 24)
        except IngestError:
            continue  # the reader says so when it reads the feed
        for ref in _TRANSCRIPT_REF.findall(head):
            if "://" not in ref and "\x00" not in ref:  # a NUL is no path (the reader says so)
                attached.add((base / ref).resolve())
    if attached:
        found.units = [u for u in found.units if not (
            u.kind == "transcript" and Path(u.path).resolve() in attached)]


# A folder being walked: the path it is read as, its real path, its entries still to visit.
_Frame = tuple[str, str, Iterator[os.DirEntry[str]]]


@dataclass
class _Walker:
    """One discovery: what was visited, by (device, inode), so nothing is read twice."""

    found: Discovery
    kind: str | None
    follow_links: bool
    dirs: set[tuple[int, int]] = field(default_factory=set)
    files: dict[tuple[int, int], str] = field(default_factory=dict)  # -> the path it is read as
    exports: list[str] = field(default_factory=list)  # real paths of export folders read whole
    top: str | None = None  # the real path of the folder being walked (None: a file given alone)

    def skip(self, path: str, reason: str) -> None:
        self.found.skipped.append(f"{path_label(path)}: {reason}")

    def problem(self, path: str, reason: str) -> None:
        self.found.problems.append(IngestError(path_label(path), reason))

    def unit(self, path: str, kind: str, key: tuple[int, int] | None = None) -> None:
        if key is not None:
            self.files[key] = path
        if kind == "substack" and os.path.isdir(path):
            root = os.path.realpath(path)  # an export reads nothing outside itself
        else:
            root = self.top or os.path.dirname(os.path.realpath(path))
        self.found.units.append(SourceUnit(path, kind, root))

    def root(self, raw: str) -> None:
        path = str(Path(raw).expanduser())
        if _UNPRINTABLE.search(path):
            self.problem(raw, f"path {_name_problem(path)}")
            return
        try:
            st = os.stat(path)
        except OSError as exc:
            self.problem(raw, "no such file or folder" if exc.errno == errno.ENOENT
                         else _os_reason(exc))
            return
        if stat.S_ISDIR(st.st_mode):
            self.top = os.path.realpath(path)
            self.folder(path, st)
        else:
            self.top = None
            self.file(path, st, explicit=True)

    def folder(self, path: str, st: os.stat_result) -> None:
        if (st.st_dev, st.st_ino) in self.dirs:
            self.skip(path, "folder already read")
        elif self.kind == "substack":
            self.dirs.add((st.st_dev, st.st_ino))
            self.exports.append(os.path.realpath(path))
            self.unit(path, "substack")
        else:
            real = os.path.realpath(path)
            links: list[str] = []
            self.walk(self.enter(path, real, st), links)
            done = 0
            while done < len(links):  # grows while followed links lead to more links
                self.link(links[done], real, links)
                done += 1

    def enter(self, path: str, real: str, st: os.stat_result) -> _Frame | None:
        """Mark a folder visited; an export is one unit; else its entries, sorted, to walk."""
        self.dirs.add((st.st_dev, st.st_ino))
        try:
            if is_substack_export(Path(path)):
                self.exports.append(real)
                self.unit(path, "substack")
                return None
            with os.scandir(path) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            self.problem(path, f"cannot read folder ({exc.strerror or exc})")
            return None
        return path, real, iter(entries)

    def walk(self, frame: _Frame | None, links: list[str]) -> None:
        """Depth first, in name order, without recursion: any depth is fine. Links are set aside
        in links, to follow once the tree itself is read (its real files come first)."""
        stack = [frame] if frame else []
        while stack:
            parent, real, entries = stack[-1]
            entry = next(entries, None)
            if entry is None:
                stack.pop()
            elif child := self.entry(entry, parent, real, links):
                stack.append(child)

    def entry(self, entry: os.DirEntry[str], parent: str, parent_real: str,
              links: list[str]) -> _Frame | None:
        # Joined as pathlib does ("./x" is "x"), so the paths sources are known by stay the same.
        path = entry.name if parent == "." else os.path.join(parent, entry.name)
        if entry.name.startswith("."):
            return None
        if _UNPRINTABLE.search(entry.name):
            what = "folder" if entry.is_dir(follow_symlinks=False) else "file"
            self.problem(path, f"{what} name {_name_problem(entry.name)}")
            return None
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError as exc:
            self.problem(path, _os_reason(exc))
            return None
        if stat.S_ISLNK(st.st_mode):
            links.append(path)
        elif stat.S_ISDIR(st.st_mode):
            if (st.st_dev, st.st_ino) in self.dirs:
                self.skip(path, "folder already read")
                return None
            return self.enter(path, os.path.join(parent_real, entry.name), st)
        else:
            self.file(path, st, explicit=False)
        return None

    def link(self, path: str, root_real: str, links: list[str]) -> None:
        try:
            target = os.path.realpath(path, strict=True)
            st = os.stat(target)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                self.skip(path, "broken symbolic link")
            elif exc.errno == errno.ELOOP:
                self.skip(path, "symbolic link loop")
            else:
                self.problem(path, f"cannot follow symbolic link ({exc.strerror or exc})")
            return
        if not self.follow_links and not inside(target, root_real):
            self.skip(path, "symbolic link out of the tree")
        elif stat.S_ISDIR(st.st_mode):
            if (st.st_dev, st.st_ino) in self.dirs or self.in_export(target):
                self.skip(path, "symbolic link to a folder already read")
            else:
                self.walk(self.enter(path, target, st), links)
        elif (st.st_dev, st.st_ino) in self.files or self.in_export(target):
            self.skip(path, "symbolic link to a file already read")
        else:
            self.file(path, st, explicit=False)

    def in_export(self, real: str) -> bool:
        return any(inside(real, export) for export in self.exports)

    def file(self, path: str, st: os.stat_result, explicit: bool) -> None:
        key = (st.st_dev, st.st_ino)
        if not stat.S_ISREG(st.st_mode):
            self.skip(path, f"not a regular file ({file_type(st.st_mode)})")
        elif key in self.files:
            self.skip(path, f"same file as {path_label(self.files[key])}")
        elif self.kind:
            self.unit(path, self.kind, key)
        elif not explicit and (reason := _skip_reason(Path(path).name)):
            self.skip(path, reason)
        else:
            try:
                detected = detect_kind(Path(path))
            except IngestError as exc:
                self.found.problems.append(exc)
                return
            if detected is None:
                self.skip(path, _unknown_reason(path))
            else:
                self.unit(path, detected, key)


def _name_problem(name: str) -> str:
    if _only_escapes(name) and any(0xDC80 <= ord(c) <= 0xDCFF for c in name):
        return "is not valid UTF-8 (rename it to read it)"
    return "holds control characters (rename it to read it)"


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    return f"cannot read ({exc.strerror or exc})"


def _skip_reason(name: str) -> str | None:
    lower = name.lower()
    suffix = Path(lower).suffix
    if lower.startswith("email_list") and suffix == ".csv":
        return ("a Substack subscriber list: it holds personal data (email addresses), "
                "not read outside its export")
    if lower in _SKIP_NAMES:
        return _SKIP_NAMES[lower]
    if suffix in _SKIP_SUFFIXES:
        return f"not archive material ({_SKIP_SUFFIXES[suffix]})"
    return None


def _unknown_reason(path: str) -> str:
    if path.lower().endswith(".json"):
        return "not archive material (JSON, not a transcript)"
    return "not archive material (not text, and no reader knows it)"


def _looks_like_json_transcript(head: str) -> bool:
    """Asks the transcript reader (which knows the Podcasting 2.0 JSON layout), if it can tell."""
    from backlist.ingest import transcript

    check = getattr(transcript, "looks_like_json_transcript", None)
    return bool(check and check(head))


def detect_kind(path: Path) -> str | None:
    """The reader for one file, from its name and first bytes; None if no reader takes it.
    Only regular files are looked into: a FIFO, socket or device is None, never opened."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise IngestError(path_label(path), _os_reason(exc)) from exc
    if not stat.S_ISREG(mode):
        return None
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return "substack"
    if suffix in (".md", ".markdown", ".mdx"):
        return "markdown"
    if suffix in (".vtt", ".srt"):
        return "transcript"
    if suffix in (".rss", ".atom"):
        return "feed"
    head = _head(path)
    if suffix == ".json":
        return "transcript" if _looks_like_json_transcript(head) else None
    if suffix in (".html", ".htm"):
        return "markdown" if head.lstrip().startswith("---") else "page"
    if suffix == ".xml" or looks_like_feed(head):
        return "feed"
    if suffix in (".txt", ".text", "") or head.isprintable() or "\n" in head:
        if looks_like_dump(head):
            return "dump"
        if looks_like_transcript(head):
            return "transcript"
        if head.lstrip().startswith("---\n"):
            return "markdown"
        return "text"
    return None


def _head(path: Path, size: int = 65536) -> str:
    try:
        with open_regular(path) as fh:
            data = fh.read(size)
    except OSError as exc:
        raise IngestError(path_label(path), f"cannot read: {exc.strerror or exc}") from exc
    return data.decode("utf-8", errors="replace")
