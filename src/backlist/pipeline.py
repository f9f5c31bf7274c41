"""The ingest pipeline: discover inputs, read each into Documents, write each in its own
transaction with its passages and entities, link copies, embed what is new.

Only the Library façade calls this; it knows the Store interface, never SQL.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backlist.analysis.entities import Entry, extract, load_gazetteer
from backlist.dedup import link_copies
from backlist.errors import IngestError
from backlist.index.chunking import CHUNKER_VERSION, chunk, embedding_text
from backlist.index.embed import Embedder, to_blob
from backlist.ingest import Discovery, SourceUnit, discover
from backlist.ingest.base import ReadContext
from backlist.ingest.textio import DEFAULT_MAX_BYTES, Limits
from backlist.model import Document, stable_id
from backlist.store.base import DocFilter, Store

Progress = Callable[[str, dict[str, Any]], None]
DEFAULT_SECONDS_PER_FILE = 300.0
FAILED_INPUT = "failed_input:"  # meta key prefix: an input's stat fingerprint when it last failed
TOO_LONG = "took too long to read (over the per-file time budget; raise it with --max-seconds)"
EMBED_BATCH = 64  # small batches, so progress shows from the first one


@dataclass
class SourceReport:
    """What one input gave: documents, drafts, metrics, transcripts not fetched, skips."""

    path: str
    kind: str
    documents: int = 0
    counts: dict[str, int] = field(default_factory=dict)


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
    skipped_files: list[str] = field(default_factory=list)  # "path: reason"
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    vanished: list[dict[str, Any]] = field(default_factory=list)
    sources: list[SourceReport] = field(default_factory=list)
    totals: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return bool(self.documents_new or self.documents_updated or self.documents_removed)

    @property
    def did_nothing(self) -> bool:
        return not (self.sources_read or self.passages_embedded or self.errors)


class Ingestor:
    def __init__(self, store: Store, library_dir: Path, embedder: Callable[[], Embedder]) -> None:
        self.store = store
        self.dir = library_dir
        self._embedder = embedder
        self._gazetteer: list[Entry] | None = None

    # --- reading and writing -------------------------------------------------------------
    def run(self, paths: list[str], kind: str | None = None, site: str | None = None,
            max_bytes: int | None = None, embed: bool = True, fetch_remote: bool = False,
            max_seconds: float | None = DEFAULT_SECONDS_PER_FILE,
            progress: Progress | None = None, follow_links: bool = False) -> IngestReport:
        report = IngestReport()
        if self.store.get_meta("chunker_version") is None and not self.store.passage_count():
            self.store.set_meta("chunker_version", CHUNKER_VERSION)  # a new library: current
        found: Discovery = discover(paths, kind, follow_links=follow_links)
        report.skipped_files = list(found.skipped)
        report.errors += [str(e) for e in found.problems]
        if progress:
            progress("start", {"total": len(found.units)})
        for unit in found.units:
            limits = Limits(max_bytes or DEFAULT_MAX_BYTES, unit.root, follow_links)
            ctx = ReadContext(limits=limits, fetch_remote=fetch_remote)
            if max_seconds:
                ctx.seconds = max_seconds
                ctx.deadline = time.monotonic() + max_seconds
            ctx.budget_memory()
            with _time_limit(max_seconds, unit.path):
                self._ingest_unit(unit, ctx, site, report)
            if progress:
                progress("source", {"path": unit.path})
        report.vanished = self._vanished(paths)
        report.warnings += orphaned_corrections(self.store)
        report.passages_added += self.rechunk_if_outdated()
        if report.changed or self.store.get_meta("links_dirty") == "1":
            _within_budget(self.relink, max_seconds, report)
        if embed:
            started = time.perf_counter()
            report.passages_embedded = self.embed_pending(progress)
            report.seconds_embedding = time.perf_counter() - started
            if report.passages_embedded and not _within_budget(self.link_named, max_seconds, report):
                self.store.set_meta("links_dirty", "1")
        return report

    def _ingest_unit(self, unit: SourceUnit, ctx: ReadContext, site: str | None,
                     report: IngestReport) -> None:
        cheap = unit.stat_fingerprint(ctx.limits)
        if cheap and ctx.seconds:  # a larger --max-seconds reads it again
            cheap += f":{ctx.seconds:g}s"
        failed_key = FAILED_INPUT + unit.path
        failed = self.store.get_meta(failed_key) if cheap else None
        if failed and failed.split("\t", 1)[0] == cheap:
            report.skipped_files.append(f"{unit.path}: unchanged since it failed "
                                        f"({failed.split(chr(9), 1)[-1]}); not read again")
            return
        try:
            fingerprint = unit.fingerprint(ctx.limits)
        except IngestError as exc:
            report.errors.append(str(exc))
            self._remember_failure(failed_key, cheap, exc.reason)
            return
        except OSError as exc:
            report.errors.append(f"{unit.path}: cannot read ({exc.strerror or exc})")
            return
        previous = self.store.source_fingerprint(unit.path)
        if previous == fingerprint:
            report.sources_unchanged += 1
            return
        written = report.documents_new
        try:
            ids = self._read_and_write(unit, ctx, site, report)
            # With problems the fingerprint is not kept, so the next run reads it (and says so)
            # again. Inside the try: the time limit may still strike here.
            removed = self.store.record_source(unit.path, unit.kind,
                                               "" if ctx.problems else fingerprint, ids)
        except (IngestError, _Timeout, MemoryError) as exc:
            if isinstance(exc, IngestError):
                report.errors.append(str(exc))
                report.errors += [str(e) for e in ctx.problems]
                reason = exc.reason
            elif isinstance(exc, _Timeout):
                report.errors.append(f"{unit.path}: {TOO_LONG}")
                reason = "took too long to read"
            else:
                report.errors.append(f"{unit.path}: ran out of memory while reading, not stored")
                reason = "ran out of memory"
            if previous is None and report.documents_new > written:
                # A new input that failed part way keeps none of its documents: all or nothing.
                report.documents_new = written
                self.store.record_source(unit.path, unit.kind, "", [])
            self._remember_failure(failed_key, cheap, reason)
            return
        except Exception as exc:  # a reader bug must not stop the other inputs
            report.errors.append(f"{unit.path}: could not be read ({type(exc).__name__}: {exc})")
            return
        if failed:
            self.store.set_meta(failed_key, "")
        report.sources_read += 1
        report.errors += [str(e) for e in ctx.problems]
        report.warnings += ctx.warnings
        report.skipped_files += ctx.skipped
        counts = {k: v for k, v in ctx.counts.items() if v}
        report.totals.update(counts)
        report.sources.append(SourceReport(unit.path, unit.kind, len(ids), counts))
        report.documents_removed += len(removed)

    def _remember_failure(self, key: str, cheap: str | None, reason: str) -> None:
        """Keep a failed input's stat fingerprint, so an unchanged bad file is skipped next time
        (a 20 GiB file is never hashed again). Any change to the file, or to the reader version
        or size limit, reads it again."""
        if cheap:
            self.store.set_meta(key, f"{cheap}\t{reason}")

    def _read_and_write(self, unit: SourceUnit, ctx: ReadContext, site: str | None,
                        report: IngestReport) -> list[str]:
        ids: list[str] = []
        seen: set[str] = set()
        for doc in _timed(unit.read(ctx, site), report):
            if doc.id in seen:  # the same key twice in one input: keep both, apart
                doc.id = stable_id(doc.id, doc.position)
            ids.append(doc.id)
            seen.add(doc.id)
            ctx.check_time(unit.path)  # the budgets hold between documents, whatever the reader
            started = time.perf_counter()
            self.write(doc, report)
            report.seconds_indexing += time.perf_counter() - started
        return ids

    def write(self, doc: Document, report: IngestReport) -> None:
        old = self.store.doc_hash(doc.id)
        if old == doc.content_hash:
            report.documents_unchanged += 1
            return
        if not report.changed:  # once per run, before the first change: relink even after a crash
            self.store.set_meta("links_dirty", "1")
        report.passages_added += self.store.write_document(
            doc, chunk(doc), entities=self.entities_of(doc))
        if old is None:
            report.documents_new += 1
        else:
            report.documents_updated += 1

    # --- entities: the one extraction path ----------------------------------------------
    def gazetteer(self) -> list[Entry]:
        if self._gazetteer is None:
            self._gazetteer = load_gazetteer(self.dir)
        return self._gazetteer

    def entities_of(self, doc: Document) -> list[tuple[str, str, str | None, int, str]]:
        """Entity rows for one document. People matched as mentions are the gazetteer's people
        and the document's own speakers, the same at ingest and on refresh, so `search --entity`
        never depends on when `backlist entities` last ran."""
        entries = self.gazetteer()
        return extract(doc, entries, set(doc.speakers))

    def refresh_entities(self) -> int:
        self._gazetteer = None
        docs = self.store.list_documents(DocFilter(include_drafts=True))
        for d in docs:
            self.store.set_entities(d.id, self.entities_of(d))
        return len(docs)

    # --- links, embeddings, reindex --------------------------------------------------------
    def relink(self) -> None:
        """Link copies to their canonical piece, then rebuild the citation graph (which pieces
        link to or name which earlier pieces) over the canonical ones."""
        from backlist.index.citations import citation_graph
        from backlist.index.quotes import paragraph_finder

        docs = self.store.list_documents(DocFilter(include_drafts=True))
        duplicate_of, urls = link_copies(docs)
        self.store.set_copies(duplicate_of, urls)
        for d in docs:
            d.duplicate_of = duplicate_of.get(d.id)
            d.url = d.url or urls.get(d.id)
        self.store.set_links(citation_graph(docs, paragraph_finder(self.store.doc_passages)))
        self.link_named()  # named titles, then reconciliation over the whole graph
        self.store.set_meta("links_dirty", "0")

    def link_named(self) -> None:
        """Add "In my post <Title>" links resolved by content (index/named.py), then reconcile
        each piece's fields over the whole graph (index/reconcile.py). Named links need
        embeddings, so this runs again after embedding."""
        from backlist.index.named import add_named_links
        from backlist.index.reconcile import reconcile_store

        add_named_links(self.store, self._embedder)
        reconcile_store(self.store)  # fields from copies and references, date bounds (with bases)
        self.store.set_meta("links_version", str(int(self.store.get_meta("links_version") or 0) + 1))

    def embed_pending(self, progress: Progress | None = None, batch: int = EMBED_BATCH) -> int:
        todo = self.store.count_unembedded()
        if not todo:
            return 0
        emb = self._embedder()
        self.store.ensure_vectors(emb.dim, emb.name)
        todo = self.store.count_unembedded()
        done = 0
        if progress:
            progress("embed", {"done": 0, "total": todo})
        while rows := self.store.unembedded(batch):
            vecs = emb.encode([embedding_text(title, text) for _, text, title in rows])
            self.store.save_embeddings([(pid, to_blob(v)) for (pid, _, _), v in zip(rows, vecs)])
            done += len(rows)
            if progress:
                progress("embed", {"done": done, "total": todo})
        return done

    def rechunk_if_outdated(self) -> int:
        """After the chunker changed, cut every stored document again; passages whose text is
        unchanged keep their vectors, so only what moved is embedded again."""
        if self.store.get_meta("chunker_version") == CHUNKER_VERSION:
            return 0
        added = 0
        if self.store.passage_count():
            docs = self.store.list_documents(DocFilter(include_drafts=True), with_turns=True)
            added = sum(self.store.write_document(doc, chunk(doc)) for doc in docs)
        self.store.set_meta("chunker_version", CHUNKER_VERSION)
        return added

    def reindex(self, progress: Progress | None = None) -> dict[str, int]:
        self.store.reset_index()
        docs = self.store.list_documents(DocFilter(include_drafts=True), with_turns=True)
        added = sum(self.store.write_document(doc, chunk(doc)) for doc in docs)
        self.store.set_meta("chunker_version", CHUNKER_VERSION)
        embedded = self.embed_pending(progress)
        return {"documents": len(docs), "passages": added, "embedded": embedded}

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


def orphaned_corrections(store: Store) -> list[str]:
    """One line per document id the writer corrected that no stored document has now (its id
    changed when its title or text did). The corrections are kept: they apply again if it returns."""
    fixes = store.corrections()
    present = store.get_documents(sorted(fixes)) if fixes else {}
    return [f"corrections for {doc_id} ({', '.join(sorted(fields))}) match no document now; "
            "`backlist edit` the new piece, or they come back if the old one does"
            for doc_id, fields in fixes.items() if doc_id not in present]


def _within_budget(work: Callable[[], None], seconds: float | None, report: IngestReport) -> bool:
    """Link work after the reads, under the same budget as one input: past it the links stay
    marked out of date (links_dirty, set before the first write), the documents are kept, and
    the next ingest tries again."""
    try:
        with _time_limit(seconds, "links"):
            work()
        return True
    except _Timeout:
        report.warnings.append(
            f"citation links: not rebuilt within the {seconds:g} s budget; the documents are "
            "stored; run `backlist relink` (no time limit) to rebuild them now, or the next "
            "ingest tries again (raise it with --max-seconds)")
        return False


def _timed(docs: Iterator[Document], report: IngestReport) -> Iterator[Document]:
    """The reader's documents, with the time spent inside the reader counted as parsing."""
    while True:
        started = time.perf_counter()
        doc = next(docs, None)
        report.seconds_parsing += time.perf_counter() - started
        if doc is None:
            return
        yield doc


class _Timeout(Exception):
    pass


@contextmanager
def _time_limit(seconds: float | None, label: str):
    """A hard stop for one input (readers also check ctx.deadline between steps). SIGALRM only
    works in the main thread of the main interpreter; elsewhere only the cooperative check runs."""
    usable = seconds and hasattr(signal, "SIGALRM") and \
        threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def expire(signum, frame):
        raise _Timeout(label)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, float(seconds or 0))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
