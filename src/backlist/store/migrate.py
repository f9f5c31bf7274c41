"""Copy a whole library from one Store to another (SQLite -> PostgreSQL, or back), vectors included.

Nothing is re-read or re-embedded: documents (with speaker turns), their passages and passage
vectors, metrics (with their origin), topics (manual ones stay manual), entity mentions, the
citation graph, copies, sources and meta move as they are; so do the writer's corrections and
what the library knows beyond the readers (effective titles and dates, date bounds, other
titles, where each value came from, the reading flag), with the readers' own values kept apart.
The counts and every document's content hash are compared at the end and a mismatch raises a
BacklistError.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from backlist.errors import BacklistError
from backlist.model import Document
from backlist.store.base import DocFilter, Store
from backlist.store.core import READER_FIELDS

BATCH = 200  # documents per read
VECTOR_BATCH = 2000
_SKIP_META = {"schema_version"}  # each store keeps its own
Progress = Callable[[str, int, int], None]


def copy_library(src: Store, dst: Store, progress: Progress | None = None) -> dict[str, int]:
    """Copy everything in src into dst (which must be empty) and verify; returns the counts."""
    if dst.stats()["documents"] or dst.passage_count():
        raise BacklistError("the destination library is not empty: copy into a new one")
    meta = _meta_items(src)
    if meta.get("embed_model") and meta.get("embed_dim"):
        dst.ensure_vectors(int(meta["embed_dim"]), meta["embed_model"])
    ids = sorted(d.id for d in src.list_documents(DocFilter(include_drafts=True)))
    for doc_id, fields in src.corrections().items():  # first: each write applies its own
        for field, value in fields.items():
            dst.set_correction(doc_id, field, value)
    copies, linked = _copy_documents(src, dst, ids, progress)
    vectors = _copy_vectors(src, dst)
    _copy_sources(src, dst)
    dst.set_copies(copies, linked)
    _copy_metrics(src, dst)
    _copy_topics(src, dst)
    dst.set_links(src.links())
    for key, value in meta.items():
        if key not in _SKIP_META:
            dst.set_meta(key, value)
    counts = _verify(src, dst, ids)
    counts["vectors"] = vectors
    return counts


def _copy_documents(src: Store, dst: Store, ids: list[str],
                    progress: Progress | None) -> tuple[dict[str, str | None], dict[str, str]]:
    """Documents with passages and entity mentions; returns (copy -> canonical, linked URLs)."""
    entities: dict[str, list[tuple[str, str, str | None, int, str]]] = {}
    for r in src.entity_rows():
        entities.setdefault(r["doc_id"], []).append(
            (r["entity"], r["kind"], r["parent"], r["mentions"], r["role"]))
    copies: dict[str, str | None] = {}
    linked: dict[str, str] = {}
    for start in range(0, len(ids), BATCH):
        docs = src.get_documents(ids[start:start + BATCH], with_turns=True)
        readers = src.reader_fields(ids[start:start + BATCH])
        for doc_id in ids[start:start + BATCH]:
            doc = docs[doc_id]
            url = _own_url(doc)
            if url is not None:
                linked[doc.id] = url
            copies[doc.id] = doc.duplicate_of
            doc.metrics = {}  # copied with their origins afterwards
            effective = _as_read(doc, readers.get(doc_id, {}))
            dst.write_document(doc, src.doc_passages(doc.id), entities.get(doc.id, []))
            if effective:
                dst.set_effective(doc.id, effective, {})
        if progress:
            progress("documents", min(start + BATCH, len(ids)), len(ids))
    return copies, linked


def _own_url(doc: Document) -> str | None:
    """A store shows a URL taken from a linked copy as the document's own; put it back apart
    (returns it) so the document, and so its content hash, is as it was read."""
    if doc.metadata.get("url_basis") != "from a linked copy":
        return None
    doc.metadata.pop("url_basis")
    url, doc.url = doc.url, None
    return url


def _as_read(doc: Document, reader: dict[str, Any]) -> dict[str, Any]:
    """Put the reader's values back into doc (so it, and its content hash, is as it was read);
    returns the effective values that differ from them and are not the writer's corrections
    (those come back from the copied corrections)."""
    effective: dict[str, Any] = {}
    for field in READER_FIELDS:
        if field not in reader:
            continue
        value = getattr(doc, field)
        if value != reader[field] and field not in doc.corrected:
            effective[field] = value
        setattr(doc, field, list(reader[field] or []) if field == "authors" else reader[field])
    return effective


def _copy_vectors(src: Store, dst: Store) -> int:
    total = 0
    for batch in read_vectors(src):
        total += write_vectors(dst, batch)
    return total


def read_vectors(src: Store) -> Iterator[list[tuple[str, int, bytes]]]:
    """Stored vectors as batches of (doc id, passage idx, float32 blob)."""
    yield from src.export_vectors(VECTOR_BATCH)


def write_vectors(dst: Store, rows: list[tuple[str, int, bytes]]) -> int:
    """Store vectors for passages named by (doc id, idx); returns how many matched."""
    return int(dst.import_vectors(rows))


def _copy_sources(src: Store, dst: Store) -> None:
    by_source: dict[str, list[str]] = {}
    for d in src.list_documents(DocFilter(include_drafts=True)):
        by_source.setdefault(d.source, []).append(d.id)
    for s in src.sources():
        dst.record_source(s["path"], s["kind"], s["fingerprint"], by_source.get(s["path"], []))


def _copy_metrics(src: Store, dst: Store) -> None:
    grouped: dict[tuple[str, str], dict[str, float]] = {}
    for doc_id, name, value, origin in _metric_rows(src):
        grouped.setdefault((doc_id, origin or "source"), {})[name] = value
    for (doc_id, origin), values in grouped.items():
        dst.add_metrics(doc_id, values, origin)


def _metric_rows(src: Store) -> list[tuple[str, str, float, str | None]]:
    return list(src.metric_rows())


def _copy_topics(src: Store, dst: Store) -> None:
    for doc_id, topics in src.doc_topics().items():
        auto = [(t, s) for t, s, manual in topics if not manual]
        hand = [(t, s) for t, s, manual in topics if manual]
        if auto:
            dst.set_doc_topics(doc_id, auto)
        if hand:
            dst.set_doc_topics(doc_id, hand, manual=True)


def _meta_items(src: Store) -> dict[str, str]:
    return dict(src.meta_items())


def _verify(src: Store, dst: Store, ids: list[str]) -> dict[str, int]:
    a, b = _counts(src), _counts(dst)
    wrong = [f"{k}: {a[k]} in the source, {b[k]} copied" for k in a if a[k] != b[k]]
    hashes = [i for i in ids if src.doc_hash(i) != dst.doc_hash(i)]
    if hashes:
        wrong.append(f"{len(hashes)} documents differ (e.g. {hashes[0]})")
    if wrong:
        raise BacklistError("the copy is incomplete: " + "; ".join(wrong))
    return b


def _counts(store: Store) -> dict[str, int]:
    stats: dict[str, Any] = store.stats()
    topics = store.doc_topics()
    return {"documents": stats["documents"], "passages": stats["passages"],
            "embedded_passages": stats["embedded_passages"], "sources": stats["sources"],
            "duplicates": stats["duplicates"], "words": stats["words"],
            "metrics": sum(len(v) for v in store.metrics().values()),
            "topics": sum(len(v) for v in topics.values()),
            "manual_topics": sum(1 for v in topics.values() for t in v if t[2]),
            "entities": len(store.entity_rows()), "links": len(store.links()),
            "corrections": sum(len(v) for v in store.corrections().values())}
