"""Finding what a path holds and which reader takes it. Readers yield Documents, nothing more."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from backlist.errors import IngestError
from backlist.ingest.article import read_saved_page, read_text_article
from backlist.ingest.base import ReadContext
from backlist.ingest.feed import looks_like_feed, read_feed
from backlist.ingest.markdown import read_markdown
from backlist.ingest.substack import is_substack_export, read_substack
from backlist.ingest.textdump import looks_like_dump, read_dump
from backlist.ingest.transcript import looks_like_transcript, read_transcript_file
from backlist.model import Document, Source

_TRANSCRIPT_REF = re.compile(r"<podcast:transcript[^>]*\burl=[\"']([^\"']+)")
READER_VERSION = "2"  # bump when a reader changes what it yields, so inputs are read again
KINDS = ("substack", "markdown", "feed", "transcript", "page", "text", "dump")
_SKIP_NAMES = {"readme", "readme.md", "readme.txt", "license", "license.md", "changelog.md",
               ".ds_store", "thumbs.db"}
_SKIP_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".mp3", ".m4a", ".wav",
                  ".mp4", ".pdf", ".json", ".css", ".js", ".ico", ".csv", ".tsv", ".yaml", ".yml"}


class SourceUnit(Source):
    """A Source that knows how to read itself and fingerprint its bytes."""

    def read(self, ctx: ReadContext, site: str | None = None) -> Iterator[Document]:
        return READERS[self.kind](self, ctx, site)

    def fingerprint(self) -> str:
        h = hashlib.sha256(f"{READER_VERSION}:{self.kind}".encode())
        p = Path(self.path)
        if self.path.startswith(("http://", "https://")):
            # Remote input is always fetched again; unchanged documents are then skipped by
            # their content hash, so only the download is repeated.
            return f"remote:{uuid.uuid4().hex}"
        elif p.is_dir():
            for f in sorted(x for x in p.rglob("*") if x.is_file()):
                h.update(f.relative_to(p).as_posix().encode())
                h.update(_file_digest(f))
        else:
            h.update(_file_digest(p))
        return h.hexdigest()


def _file_digest(path: Path) -> bytes:
    d = hashlib.sha256()
    with path.open("rb") as fh:
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
    skipped: list[str]
    problems: list[IngestError]


def discover(paths: list[str], kind: str | None = None) -> Discovery:
    found = Discovery([], [], [])
    for raw in paths:
        if raw.startswith(("http://", "https://")):
            found.units.append(SourceUnit(raw, kind or "feed"))
            continue
        path = Path(raw).expanduser()
        if not path.exists():
            found.problems.append(IngestError(raw, "no such file or folder"))
            continue
        if path.is_dir() and (kind == "substack" or is_substack_export(path)):
            found.units.append(SourceUnit(str(path), "substack"))
        elif path.is_dir():
            _walk(path, kind, found)
        else:
            _add_file(path, kind, found, explicit=True)
    _drop_attached_transcripts(found)
    return found


def _drop_attached_transcripts(found: Discovery) -> None:
    """A transcript a feed links to is read with its episode, not again on its own."""
    attached: set[Path] = set()
    for unit in found.units:
        if unit.kind != "feed" or unit.path.startswith(("http://", "https://")):
            continue
        base = Path(unit.path).parent
        for ref in _TRANSCRIPT_REF.findall(_head(Path(unit.path), 1 << 24)):
            if "://" not in ref:
                attached.add((base / ref).resolve())
    if attached:
        found.units = [u for u in found.units if not (
            u.kind == "transcript" and Path(u.path).resolve() in attached)]


def _walk(folder: Path, kind: str | None, found: Discovery) -> None:
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            if is_substack_export(entry):
                found.units.append(SourceUnit(str(entry), "substack"))
            else:
                _walk(entry, kind, found)
        elif entry.is_file():
            _add_file(entry, kind, found, explicit=False)


def _add_file(path: Path, kind: str | None, found: Discovery, explicit: bool) -> None:
    if kind:
        found.units.append(SourceUnit(str(path), kind))
        return
    if not explicit and (path.name.lower() in _SKIP_NAMES or path.suffix.lower() in _SKIP_SUFFIXES):
        found.skipped.append(str(path))
        return
    try:
        detected = detect_kind(path)
    except IngestError as exc:
        found.problems.append(exc)
        return
    if detected is None:
        found.skipped.append(str(path))
    else:
        found.units.append(SourceUnit(str(path), detected))


def detect_kind(path: Path) -> str | None:
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
        with path.open("rb") as fh:
            data = fh.read(size)
    except OSError as exc:
        raise IngestError(str(path), f"cannot read: {exc.strerror or exc}") from exc
    return data.decode("utf-8", errors="replace")
