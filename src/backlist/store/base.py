"""The Store interface: everything above it speaks Documents and Passages, never SQL."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from backlist.model import Document, Passage

# BM25 counts a word in the title this many times as much as one in the passage text (both
# stores). Chosen on the tune split of eval/ (eval/README.md): 2.0 over 0.5 lifted keyword MRR
# there from 0.797 to 0.818; hybrid was unchanged.
TITLE_WEIGHT = 2.0


@dataclass
class DocFilter:
    kinds: Sequence[str] = ()
    since: str | None = None
    until: str | None = None
    include_drafts: bool = False
    include_duplicates: bool = True
    speaker: str | None = None
    entity: str | None = None  # documents that mention this entity (or a member of its family)
    ids: Sequence[str] | None = None
    topic: str | None = None  # documents tagged with this topic
    author: str | None = None  # documents by this writer: one of their authors, the whole name
    reading: bool | None = None  # True: only the writer's reading; False: leave reading out


@dataclass
class PassageHit:
    passage_id: int
    doc_id: str
    score: float
    rank: int
    speaker: str | None = None


@dataclass(frozen=True)
class KeywordQuery:
    """A keyword query as the library means it; each Store turns it into its own syntax
    (FTS5 MATCH for SQLite, tsquery for PostgreSQL). Words are matched after stemming."""

    terms: tuple[str, ...] = ()  # single words
    phrases: tuple[tuple[str, ...], ...] = ()  # exact word sequences
    prefixes: tuple[str, ...] = ()  # word beginnings: "embed" finds embedding, embeddings
    require_all: bool = False  # every part must occur in the passage (else any part)

    def __bool__(self) -> bool:
        return bool(self.terms or self.phrases or self.prefixes)


@dataclass(frozen=True)
class DocLink:
    """One piece citing another: a link to it, its title quoted, or a phrase naming it."""

    source_id: str
    target_id: str
    how: str  # "link" | "title" | "mention"
    evidence: str


class Store(ABC):
    # sources
    @abstractmethod
    def source_fingerprint(self, path: str) -> str | None: ...
    @abstractmethod
    def record_source(self, path: str, kind: str, fingerprint: str, doc_ids: Sequence[str]) -> list[str]:
        """Remember a source as fully read; drop its documents not in doc_ids. Returns dropped ids."""
    @abstractmethod
    def sources(self) -> list[dict[str, Any]]: ...

    # documents
    @abstractmethod
    def doc_hash(self, doc_id: str) -> str | None: ...
    @abstractmethod
    def write_document(self, doc: Document, passages: Sequence[Passage],
                       entities: Sequence[tuple[str, str, str | None, int, str]] | None = None) -> int:
        """Insert or replace one document with its passages (and entity mentions) atomically.
        Returns how many passages were new."""
    @abstractmethod
    def get_document(self, doc_id: str) -> Document | None: ...
    @abstractmethod
    def get_documents(self, ids: Sequence[str], with_turns: bool = False) -> dict[str, Document]: ...
    @abstractmethod
    def list_documents(self, flt: DocFilter, order: str = "date",
                       with_turns: bool = False) -> list[Document]:
        """Documents matching flt; speaker turns (large for interviews) only if asked."""
    @abstractmethod
    def resolve_id(self, prefix: str) -> list[str]: ...
    @abstractmethod
    def set_copies(self, duplicate_of: dict[str, str | None], urls: dict[str, str]) -> None:
        """Mark linked copies (copy id -> canonical id) and URLs a canonical takes from a copy."""
    @abstractmethod
    def stats(self) -> dict[str, Any]: ...

    # what the library knows beyond the readers, and the writer's corrections
    @abstractmethod
    def reader_fields(self, ids: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
        """{doc id: title, subtitle, date, url, kind, authors as its reader wrote them}."""
    @abstractmethod
    def set_effective(self, doc_id: str, values: Mapping[str, Any], basis: Mapping[str, str]) -> None:
        """Set effective values (title, subtitle, date, url, kind, authors, date_earliest,
        date_latest, aliases, reading) with where each came from; corrected fields are kept;
        the content hash is not changed."""
    @abstractmethod
    def set_correction(self, doc_id: str, field: str, value: Any) -> None:
        """The writer's value for a field (title, subtitle, date, url, kind, authors, reading);
        applied at once and after every re-ingest. Another field: ValueError."""
    @abstractmethod
    def clear_correction(self, doc_id: str, field: str) -> None:
        """Drop a correction; the reader's value comes back."""
    @abstractmethod
    def corrections(self, doc_id: str | None = None) -> dict[str, dict[str, Any]]:
        """{doc id: {field: corrected value}}."""

    # passages and indexes
    @abstractmethod
    def passages(self, ids: Iterable[int]) -> dict[int, Passage]: ...
    @abstractmethod
    def doc_passages(self, doc_id: str) -> list[Passage]: ...
    def passage_counts(self, doc_ids: Iterable[str]) -> dict[str, int]:
        """How many passages each document has (stores override this with one query)."""
        return {d: len(self.doc_passages(d)) for d in doc_ids}

    @abstractmethod
    def unembedded(self, limit: int) -> list[tuple[int, str, str | None]]: ...
    @abstractmethod
    def save_embeddings(self, rows: Sequence[tuple[int, bytes]]) -> None: ...
    @abstractmethod
    def keyword_search(self, query: KeywordQuery, k: int) -> list[PassageHit]:
        """Best k passages by BM25 (higher score is better)."""
    @abstractmethod
    def vector_search(self, vector: bytes, k: int) -> list[PassageHit]: ...
    @abstractmethod
    def canonical_map(self) -> dict[str, str]:
        """{copy id: canonical id} for every linked copy."""
    @abstractmethod
    def passage_count(self) -> int: ...
    @abstractmethod
    def keyword_count(self, query: KeywordQuery) -> int:
        """How many passages match the query."""
    @abstractmethod
    def term_frequencies(self, words: Sequence[str]) -> dict[str, int]:
        """How many passages hold each word (after the index's stemming)."""
    @abstractmethod
    def filtered_ids(self, flt: DocFilter) -> set[str]: ...
    @abstractmethod
    def count_unembedded(self) -> int: ...
    @abstractmethod
    def ensure_vectors(self, dim: int, model: str) -> None: ...
    @abstractmethod
    def reset_index(self, embeddings_only: bool = False) -> None: ...

    # analysis
    @abstractmethod
    def metrics(self, doc_ids: Iterable[str] | None = None) -> dict[str, dict[str, float]]: ...
    @abstractmethod
    def add_metrics(self, doc_id: str, values: dict[str, float], origin: str) -> None: ...
    @abstractmethod
    def doc_vectors(self) -> dict[str, list[bytes]]: ...
    @abstractmethod
    def set_doc_topics(self, doc_id: str, scored: Sequence[tuple[str, float]],
                       manual: bool = False) -> None: ...
    @abstractmethod
    def doc_topics(self) -> dict[str, list[tuple[str, float, bool]]]: ...
    @abstractmethod
    def set_entities(self, doc_id: str, rows: Sequence[tuple[str, str, str | None, int, str]]) -> None: ...
    @abstractmethod
    def entity_rows(self) -> list[dict[str, Any]]: ...
    @abstractmethod
    def set_links(self, links: Sequence[DocLink]) -> None:
        """Replace the citation graph (which piece cites which)."""
    @abstractmethod
    def links(self, doc_id: str | None = None) -> list[DocLink]:
        """Citations from or to doc_id (all when None)."""
    @abstractmethod
    def all_passages(self) -> list[tuple[int, str, str | None]]:
        """(passage id, text, document title) of every passage, for benchmarks and reindexing."""
    @abstractmethod
    def export_vectors(self, batch: int = 2000) -> Iterator[list[tuple[str, int, bytes]]]:
        """Stored vectors in batches of (doc id, passage idx, float32 blob): for migrations."""
    @abstractmethod
    def import_vectors(self, rows: Sequence[tuple[str, int, bytes]]) -> int:
        """Store vectors for passages named by (doc id, idx); returns how many matched."""
    @abstractmethod
    def metric_rows(self) -> list[tuple[str, str, float, str | None]]:
        """Every metric as (doc id, name, value, origin)."""
    @abstractmethod
    def meta_items(self) -> dict[str, str]:
        """Every library setting (embedder, versions)."""
    @abstractmethod
    def integrity_check(self) -> str:
        """'ok' when the database is sound, else what is wrong."""
    @abstractmethod
    def get_meta(self, key: str) -> str | None: ...
    @abstractmethod
    def set_meta(self, key: str, value: str) -> None: ...
    @abstractmethod
    def close(self) -> None: ...
