"""The one service layer every surface (CLI, MCP, web) calls, so they all give the same answer."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backlist.analysis.entities import extract, load_gazetteer
from backlist.config import DB_NAME, library_dir
from backlist.dedup import link_copies
from backlist.errors import BacklistError, IngestError, NotFoundError
from backlist.index.chunking import chunk
from backlist.index.embed import DEFAULT_SPEC, load_embedder, to_blob
from backlist.ingest import Discovery, SourceUnit, discover
from backlist.ingest.base import ReadContext
from backlist.ingest.textio import Limits
from backlist.model import Document, stable_id
from backlist.store.base import DocFilter
from backlist.store.sqlite import SQLiteStore

Progress = Callable[[str, dict[str, Any]], None]


@dataclass
class IngestReport:
    sources_read: int = 0
    sources_unchanged: int = 0
    documents_new: int = 0
    documents_updated: int = 0
    documents_unchanged: int = 0
    documents_removed: int = 0
    passages_added: int = 0
    passages_embedded: int = 0
    seconds_parsing: float = 0.0  # inside the readers
    seconds_indexing: float = 0.0  # chunking, writing documents, keyword index, entities
    seconds_embedding: float = 0.0
    skipped_files: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    vanished: list[dict[str, Any]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.documents_new or self.documents_updated or self.documents_removed)


class Library:
    def __init__(self, path: str | os.PathLike[str] | None = None, read_only: bool = False) -> None:
        self.dir = library_dir(path)
        db = self.dir / DB_NAME
        if read_only and not db.exists():
            raise BacklistError(f"{self.dir}: no library here yet (run `backlist ingest` first)")
        self.store = SQLiteStore(db, read_only=read_only)
        self._embedder = None
        self._gazetteer = None

    def close(self) -> None:
        self.store.close()

    # --- embeddings ---------------------------------------------------------------------
    @property
    def embedder_spec(self) -> str:
        return self.store.get_meta("embedder_spec") or os.environ.get("BACKLIST_EMBEDDER") \
            or DEFAULT_SPEC

    def embedder(self):
        if self._embedder is None:
            self._embedder = load_embedder(self.embedder_spec)
        return self._embedder

    def use_embedder(self, spec: str) -> None:
        if spec != self.embedder_spec or self.store.get_meta("embedder_spec") is None:
            self.store.set_meta("embedder_spec", spec)
            self._embedder = None

    def embed_pending(self, progress: Progress | None = None, batch: int = 1024) -> int:
        todo = self.store.count_unembedded()
        if not todo:
            return 0
        emb = self.embedder()
        self.store.ensure_vectors(emb.dim, emb.name)
        todo = self.store.count_unembedded()
        done = 0
        from backlist.index.chunking import embedding_text

        while rows := self.store.unembedded(batch):
            vecs = emb.encode([embedding_text(title, text) for _, text, title in rows])
            self.store.save_embeddings([(pid, to_blob(v)) for (pid, _, _), v in zip(rows, vecs)])
            done += len(rows)
            if progress:
                progress("embed", {"done": done, "total": todo})
        return done

    # --- ingest -------------------------------------------------------------------------
    def ingest(self, paths: list[str], kind: str | None = None, site: str | None = None,
               max_bytes: int | None = None, embed: bool = True, fetch_remote: bool = False,
               progress: Progress | None = None) -> IngestReport:
        report = IngestReport()
        found: Discovery = discover(paths, kind)
        report.skipped_files = found.skipped
        report.errors += [str(e) for e in found.problems]
        limits = Limits(max_bytes) if max_bytes else Limits()
        if progress:
            progress("start", {"total": len(found.units)})
        for unit in found.units:
            self._ingest_unit(unit, ReadContext(limits=limits, fetch_remote=fetch_remote),
                              site, report)
            if progress:
                progress("source", {"path": unit.path})
        report.vanished = self._vanished(paths)
        if report.changed or self.store.get_meta("links_dirty") == "1":
            self.relink()
        if embed:
            started = time.perf_counter()
            report.passages_embedded = self.embed_pending(progress)
            report.seconds_embedding = time.perf_counter() - started
        return report

    def _ingest_unit(self, unit: SourceUnit, ctx: ReadContext, site: str | None,
                     report: IngestReport) -> None:
        try:
            fingerprint = unit.fingerprint()
        except OSError as exc:
            report.errors.append(f"{unit.path}: cannot read ({exc.strerror or exc})")
            return
        if self.store.source_fingerprint(unit.path) == fingerprint:
            report.sources_unchanged += 1
            return
        ids: list[str] = []
        seen: set[str] = set()
        try:
            docs = unit.read(ctx, site)
            while True:
                started = time.perf_counter()
                doc = next(docs, None)
                report.seconds_parsing += time.perf_counter() - started
                if doc is None:
                    break
                if doc.id in seen:  # the same key twice in one input: keep both, apart
                    doc.id = stable_id(doc.id, doc.position)
                ids.append(doc.id)
                seen.add(doc.id)
                started = time.perf_counter()
                self._write(doc, report)
                report.seconds_indexing += time.perf_counter() - started
        except IngestError as exc:
            report.errors.append(str(exc))
            report.errors += [str(e) for e in ctx.problems]
            return
        except Exception as exc:  # a reader bug must not stop the other inputs
            report.errors.append(f"{unit.path}: could not be read ({type(exc).__name__}: {exc})")
            return
        report.sources_read += 1
        report.errors += [str(e) for e in ctx.problems]
        # With problems, the fingerprint is not kept, so the next run reads it (and says so) again.
        removed = self.store.record_source(unit.path, unit.kind,
                                           "" if ctx.problems else fingerprint, ids)
        report.documents_removed += len(removed)

    def _write(self, doc: Document, report: IngestReport) -> None:
        old = self.store.doc_hash(doc.id)
        if old == doc.content_hash:
            report.documents_unchanged += 1
            return
        if not report.changed:  # once per run, before the first change: relink even after a crash
            self.store.set_meta("links_dirty", "1")
        report.passages_added += self.store.write_document(
            doc, chunk(doc), entities=extract(doc, self._entries(), set(doc.speakers)))
        if old is None:
            report.documents_new += 1
        else:
            report.documents_updated += 1

    def _entries(self):
        if self._gazetteer is None:
            self._gazetteer = load_gazetteer(self.dir)
        return self._gazetteer

    def _vanished(self, roots: list[str]) -> list[dict[str, Any]]:
        """Sources under the given paths whose files are gone: reported, never deleted."""
        out = []
        resolved = [Path(r).expanduser() for r in roots if not r.startswith(("http:", "https:"))]
        for src in self.store.sources():
            p = Path(src["path"])
            if src["path"].startswith(("http:", "https:")) or p.exists():
                continue
            if any(p == r or r in p.parents for r in resolved):
                out.append({"path": src["path"], "documents": src["documents"]})
        return out

    def relink(self) -> None:
        docs = self.store.list_documents(DocFilter(include_drafts=True))
        duplicate_of, urls = link_copies(docs)
        self.store.set_links(duplicate_of, urls)
        self.store.set_meta("links_dirty", "0")

    def reindex(self, embedder: str | None = None, progress: Progress | None = None) -> dict[str, int]:
        if embedder:
            self.use_embedder(embedder)
        self.store.reset_index()
        docs = self.store.list_documents(DocFilter(include_drafts=True), with_turns=True)
        added = 0
        for doc in docs:
            added += self.store.write_document(doc, chunk(doc))
        embedded = self.embed_pending(progress)
        return {"documents": len(docs), "passages": added, "embedded": embedded}

    # --- reading ------------------------------------------------------------------------
    def list(self, flt: DocFilter, order: str = "date") -> list[Document]:
        return self.store.list_documents(flt, order, with_turns=True)

    def get(self, doc_id: str) -> Document:
        doc = self.store.get_document(doc_id)
        if doc is None:
            matches = self.store.resolve_id(doc_id) if len(doc_id) >= 4 else []
            if len(matches) == 1:
                doc = self.store.get_document(matches[0])
            elif len(matches) > 1:
                raise NotFoundError(f"{doc_id}: ambiguous id prefix ({', '.join(matches)})")
        if doc is None:
            raise NotFoundError(f"{doc_id}: no document with this id")
        return doc

    def stats(self) -> dict[str, Any]:
        return self.store.stats()


def doc_summary(doc: Document) -> dict[str, Any]:
    """The `ls` JSON contract."""
    return {"id": doc.id, "title": doc.title, "date": doc.date, "kind": doc.kind, "url": doc.url,
            "words": doc.words, "duplicate_of": doc.duplicate_of}


def doc_full(doc: Document) -> dict[str, Any]:
    """The `get` JSON contract (plus a few documented extras)."""
    return {"id": doc.id, "title": doc.title, "subtitle": doc.subtitle, "date": doc.date,
            "kind": doc.kind, "url": doc.url, "authors": doc.authors, "text": doc.text,
            "comments": doc.comments, "words": doc.words,
            "source": doc.source, "position": doc.position,
            "duplicate_of": doc.duplicate_of,
            "speakers": doc.speakers, "audience": doc.audience, "is_draft": doc.is_draft,
            "content_hash": doc.content_hash, "metrics": doc.metrics, "metadata": doc.metadata}
