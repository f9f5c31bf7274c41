"""The `Library` façade: the one object every surface (CLI, MCP, web) calls, so they all give the
same answer. A surface parses its input, calls one method here, and formats the result.

Input checks that every surface needs (empty queries, sizes, kinds, modes, date words) live here
and raise UsageError / NotFoundError, which each surface maps to its own error in one place.
Dates in a DocFilter (and review spans) are what the user typed ("2025-03", "last year"): the
façade parses them (backlist.query_args), so surfaces pass strings through.
"""

from __future__ import annotations

import builtins
import datetime as dt
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from backlist import config
from backlist.config import DB_NAME, library_dir
from backlist.contracts import DOC_KINDS, MODES
from backlist.errors import BacklistError, NotFoundError, UsageError
from backlist.index.embed import DEFAULT_SPEC, Embedder, load_embedder
from backlist.index.search import Hit, Searcher
from backlist.model import Document, Passage
from backlist.pipeline import Ingestor, IngestReport, Progress
from backlist.query_args import parse_date
from backlist.store.base import DocFilter, DocLink, Store
from backlist.store.sqlite import SQLiteStore

__all__ = ["IngestReport", "Library", "Results", "Timeline"]

MAX_QUERY_CHARS = 2_000
MAX_DRAFT_CHARS = 400_000  # about 60,000 words: a long essay, not a book
MAX_ID_CHARS = 64
MAX_K = 100
# "my post on X" resolved by content (Library.references): the writer's own kinds of piece, the
# cosine the agreed piece must reach and its lead in hybrid score over the next. Chosen on the
# twelve hand-written objects of tests/test_mentions.py (seven pieces, one named by its title,
# one too vague to resolve, three subjects the archive lacks, one too broad), not on
# eval/sample-archive-drafts.jsonl.
OWN_KINDS = tuple(k for k in DOC_KINDS if k != "article")
MENTION_COSINE = 0.5
MENTION_MARGIN = 0.15
MAX_CONTENT_MENTIONS = 20


class Results(list[Hit]):
    """Hits, best first, with notes for the reader (e.g. a fallback to keyword search) and the
    words a surface highlights in the snippets."""

    def __init__(self, hits: list[Hit] = (), notes: list[str] | None = None,  # type: ignore[assignment]
                 terms: list[str] | None = None) -> None:
        super().__init__(hits)
        self.notes: list[str] = notes or []
        self.terms: list[str] = terms or []


@dataclass
class Timeline:
    dated: list[Hit]
    undated: list[Hit]
    notes: list[str] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)  # the query's words, to highlight


class Library:
    def __init__(self, path: str | os.PathLike[str] | None = None, read_only: bool = False,
                 database: str | None = None) -> None:
        """path: the library folder (topics.yaml, entities.yaml, and the SQLite file unless a
        database is given). database: a postgresql:// URL (or $BACKLIST_DATABASE_URL) for a
        library shared on a PostgreSQL server."""
        self.dir = _checked_dir(library_dir(path), create=not read_only)
        self.store: Store = open_store(self.dir, read_only,
                                       database or os.environ.get("BACKLIST_DATABASE_URL"))
        self._embedder: Embedder | None = None
        self._embedder_lock = threading.Lock()
        self._citations: tuple[str, Any] | None = None
        self._ingestor = Ingestor(self.store, self.dir, self.embedder)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- embeddings -----------------------------------------------------------------------
    @property
    def embedder_spec(self) -> str:
        return self.store.get_meta("embedder_spec") or os.environ.get("BACKLIST_EMBEDDER") \
            or DEFAULT_SPEC

    def embedder(self) -> Embedder:
        with self._embedder_lock:
            if self._embedder is None:
                self._embedder = load_embedder(self.embedder_spec)
            return self._embedder

    def warm_up(self) -> str:
        """Load the embedding model now (servers do it at start, so the first search does not
        wait for it); returns the embedder's spec."""
        self.embedder()
        return self.embedder_spec

    def use_embedder(self, spec: str) -> None:
        load_embedder(spec)  # a bad spec fails here, before anything is saved or wiped
        if spec != self.embedder_spec or self.store.get_meta("embedder_spec") is None:
            self.store.set_meta("embedder_spec", spec)
            self._embedder = None

    # --- ingest ---------------------------------------------------------------------------
    def ingest(self, paths: builtins.list[str], kind: str | None = None, site: str | None = None,
               max_bytes: int | None = None, embed: bool = True, fetch_remote: bool = False,
               max_seconds: float | None = 300.0, progress: Progress | None = None,
               follow_links: bool = False) -> IngestReport:
        check_reader_kind(kind)
        return self._ingestor.run(paths, kind, site, max_bytes, embed, fetch_remote, max_seconds,
                                  progress, follow_links)

    def embed_pending(self, progress: Progress | None = None) -> int:
        return self._ingestor.embed_pending(progress)

    def relink(self) -> None:
        self._ingestor.relink()

    def refresh_entities(self) -> int:
        return self._ingestor.refresh_entities()

    def reindex(self, embedder: str | None = None, progress: Progress | None = None) -> dict[str, int]:
        if embedder:
            self.use_embedder(embedder)
        return self._ingestor.reindex(progress)

    # --- reading ----------------------------------------------------------------------------
    def list(self, flt: DocFilter | None = None, order: str = "date",
             with_turns: bool = False) -> builtins.list[Document]:
        """Documents matching flt, by date (oldest first, undated last), date_desc, or
        metric:NAME (best first, only pieces with the metric). Speaker turns (large for
        interviews) only if asked: `get` returns one document with them."""
        flt = _check_filter(flt)
        if order.startswith("metric:"):
            return [d for d, _ in self.top(order.split(":", 1)[1], k=1000, flt=flt)]
        if order not in ("date", "date_desc", "source"):
            raise UsageError(f"sort {order!r}: choose date, date_desc or metric:NAME")
        return self.store.list_documents(flt, order, with_turns=with_turns)

    def get(self, doc_id: str) -> Document:
        doc_id = _need(doc_id, "document id", MAX_ID_CHARS)
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

    def passages(self, doc_id: str, start: int | None = None,
                 end: int | None = None) -> tuple[Document, builtins.list[Passage]]:
        """A document and its passages start..end (0-based, inclusive; all when both None)."""
        doc = self.get(doc_id)
        passages = self.store.doc_passages(doc.id)
        if start is None and end is None:
            return doc, passages
        a = start or 0
        b = end if end is not None else len(passages) - 1
        if a < 0 or a > b or a >= len(passages):
            raise UsageError(f"passage range {a}-{b} is outside 0-{len(passages) - 1}")
        return doc, passages[a:b + 1]

    def links(self, doc_id: str) -> dict[str, builtins.list[tuple[DocLink, Document]]]:
        """What a piece cites and what cites it, each with the other document."""
        doc = self.get(doc_id)
        rows = self.store.links(doc.id)
        others = self.store.get_documents(
            [lk.target_id if lk.source_id == doc.id else lk.source_id for lk in rows])
        out: dict[str, builtins.list[tuple[DocLink, Document]]] = {"cites": [], "cited_by": []}
        for lk in rows:
            if lk.source_id == doc.id and lk.target_id in others:
                out["cites"].append((lk, others[lk.target_id]))
            elif lk.target_id == doc.id and lk.source_id in others:
                out["cited_by"].append((lk, others[lk.source_id]))
        return out

    def stats(self) -> dict[str, Any]:
        """Counts by kind and year, index status, and the metrics pieces carry (name -> number
        of pieces with it: the names `top` and `insights` take)."""
        data = self.store.stats()
        data["embeddings_missing"] = data["passages"] - data["embedded_passages"]
        data["schema_version"] = getattr(self.store, "schema_version", None)
        data["metrics"] = self._metric_counts()
        return data

    def _metric_counts(self) -> dict[str, int]:
        """Each metric some (non-duplicate) document has -> how many have it, by name."""
        counts: dict[str, int] = {}
        for d in self.list(DocFilter(include_duplicates=False)):
            for name in d.metrics:
                counts[name] = counts.get(name, 0) + 1
        return dict(sorted(counts.items()))

    def migrate(self, to: str) -> dict[str, int]:
        """Copy this library into the empty PostgreSQL database at `to` (documents, passages
        with their vectors, topics, tags, metrics, entities, citations); counts are verified."""
        from backlist.store.migrate import copy_library

        dst = open_store(self.dir, read_only=False, database=to)
        try:
            return copy_library(self.store, dst)
        finally:
            dst.close()

    def sources(self) -> builtins.list[dict[str, Any]]:
        return self.store.sources()

    # --- retrieval ------------------------------------------------------------------------------
    def search(self, query: str, k: int = 10, mode: str = "hybrid", flt: DocFilter | None = None,
               per_doc: int = 3, explain: bool = False, min_score: float | None = None,
               sort: str = "relevance", recent: bool = False) -> Results:
        """Documents for a query, best first. sort="date" orders the relevant ones newest first;
        recent favours newer pieces among relevant ones ("my latest take on X"); explain says
        per hit how keyword and meaning contributed and which words matched."""
        query = _need(query, "query", MAX_QUERY_CHARS)
        _check_k(k)
        flt = _check_filter(flt)
        if sort not in ("relevance", "date"):
            raise UsageError(f"sort {sort!r}: choose relevance or date")
        searcher = Searcher(self)
        mode, notes = self._usable_mode(searcher, _check_mode(mode))
        pool = k * 3 if (recent or sort == "date" or min_score is not None) else k
        hits = [h for h in searcher.search(query, k=pool, mode=mode, flt=flt, per_doc=per_doc)
                if min_score is None or h.score >= min_score]
        if recent:
            hits = favour_recent(hits)
        if sort == "date":
            hits = sorted(hits, key=lambda h: h.doc.date or "", reverse=True)
        hits = hits[:k]
        if recent or sort == "date":
            for h in hits:
                h.shortlisted = None  # reordered: the top group no longer leads
        if explain:
            for h in hits:
                h.matched = matched_terms(h, query)
                h.explain = explanation(h, mode)
        return Results(hits, notes, self.highlight_terms(query))

    def related(self, draft: str, k: int = 10, flt: DocFilter | None = None,
                exclude: Sequence[str] = (), not_cited: bool = False) -> Results:
        """Past pieces for a draft: first the ones it cites (links, quoted titles, "my post on
        …"), marked "cited in the draft", then the ones related by content, each with a reason.
        not_cited leaves out the pieces the draft already cites."""
        draft = _need(draft, "draft", MAX_DRAFT_CHARS)
        _check_k(k)
        flt = _check_filter(flt)
        searcher = Searcher(self)
        _, notes = self._usable_mode(searcher, "hybrid")
        skip = {self.get(x).id for x in exclude}
        cited = [r for r in self.references(draft) if r.doc_id not in skip]
        allowed = self.store.filtered_ids(flt)
        cited = [r for r in cited if r.doc_id in allowed]
        hits = searcher.related(draft, k=k, flt=flt, exclude=skip | {r.doc_id for r in cited})
        if not_cited or not cited:
            return Results(hits, notes)
        return Results((self._cited_hits(searcher, draft, cited) + hits)[:k], notes)

    def references(self, text: str) -> builtins.list[Any]:
        """The library's pieces a text links to or names (see index/citations.py). The index of
        titles and URLs is built once per library version (every ingest that relinks bumps it)."""
        from backlist.index.citations import CitationIndex, references
        from backlist.index.quotes import QuoteIndex

        version = self.store.get_meta("links_version") or "0"
        with self._embedder_lock:
            if self._citations is None or self._citations[0] != version:
                docs = self.store.list_documents(DocFilter(include_duplicates=True))
                self._citations = (version, (CitationIndex(docs), QuoteIndex(docs)))
            index, quotes = self._citations[1]
        canon = self.store.canonical_map()
        out, seen = [], set()
        today = dt.date.today().isoformat()
        found = references(index, text, date=today) + self._quotes(quotes, text)
        found += self._named_by_content(index, text, found)
        for ref in found + self._mentions_by_content(text, found, today):
            ref.doc_id = canon.get(ref.doc_id, ref.doc_id)
            if ref.doc_id not in seen:
                seen.add(ref.doc_id)
                out.append(ref)
        return sorted(out, key=lambda r: (r.start, r.doc_id))

    def _quotes(self, quotes: Any, text: str) -> builtins.list[Any]:
        """The pieces a text quotes word for word (index/quotes.py), with the quoted passage."""
        from backlist.index.citations import Reference

        out = []
        for q in quotes.quotes_in(text):
            para = next((p.idx for p in self.store.doc_passages(q.target_id)
                         if p.start <= q.target_start < p.end), None)
            out.append(Reference(q.target_id, "quote", q.evidence(para), q.source_start,
                                 q.source_end, para))
        return out

    def _named_by_content(self, index: Any, text: str,
                          found: builtins.list[Any]) -> builtins.list[Any]:
        """"In my post <Title>, …" with a title the library does not know, resolved by content
        like "my post on X" (keyword and semantic agree, MENTION_COSINE, MENTION_MARGIN) over the
        title and the rest of its sentence; the evidence is the title as written."""
        from backlist.index.citations import Reference, named_titles

        searcher = Searcher(self)
        if not searcher.has_vectors():
            return []
        itself = searcher._same_as(text)
        out: builtins.list[Any] = []
        for n in named_titles(index, text)[:MAX_CONTENT_MENTIONS]:
            if any(r.start < n.end and n.start < r.end for r in found):
                continue
            doc_id = searcher.resolve_by_content(n.context[:MAX_QUERY_CHARS],
                                                 DocFilter(kinds=OWN_KINDS), MENTION_COSINE,
                                                 MENTION_MARGIN, exclude=itself)
            if doc_id:
                out.append(Reference(doc_id, "named", n.title, n.start, n.end))
        return out

    def _mentions_by_content(self, text: str, found: builtins.list[Any],
                             today: str) -> builtins.list[Any]:
        """"my post on X" whose X names no title, resolved by what the pieces say
        (Searcher.resolve_by_content: keyword and semantic agree, cosine MENTION_COSINE, lead
        MENTION_MARGIN), among the writer's own pieces and the phrase's date window. Drafts only
        (the ingest-time citation graph stays on links, titles and names), only with embeddings,
        never the draft itself, at most MAX_CONTENT_MENTIONS distinct phrases per draft."""
        from backlist.index.citations import Reference, mention_objects

        searcher = Searcher(self)
        if not searcher.has_vectors():
            return []
        itself = searcher._same_as(text)
        out: builtins.list[Any] = []
        tried: set[tuple[str, str | None, str | None]] = set()
        for m in mention_objects(text, today):
            if any(r.start < m.end and m.start < r.end for r in found):
                continue  # already resolved by its title
            key = (m.object.lower(), m.since, m.until)
            if key in tried or len(tried) >= MAX_CONTENT_MENTIONS:
                continue
            tried.add(key)
            flt = DocFilter(kinds=OWN_KINDS, since=m.since, until=m.until)
            doc_id = searcher.resolve_by_content(m.object[:MAX_QUERY_CHARS], flt, MENTION_COSINE,
                                                 MENTION_MARGIN, exclude=itself)
            if doc_id:
                out.append(Reference(doc_id, "mention by content", text[m.start:m.end],
                                     m.start, m.end))
        return out

    def _cited_hits(self, searcher: Searcher, draft: str, cited: builtins.list[Any]) -> builtins.list[Hit]:
        """One hit per cited piece, in the draft's order, with its passages closest to the draft."""
        found = {h.doc.id: h for h in searcher.related(
            draft, k=len(cited), flt=DocFilter(ids=[r.doc_id for r in cited]))}
        docs = self.store.get_documents([r.doc_id for r in cited])
        out = []
        for r in cited:
            hit = found.get(r.doc_id) or Hit(docs[r.doc_id], 0.0) if r.doc_id in docs else None
            if hit is None:
                continue
            hit.score = 1.0
            hit.reason = f"cited in the draft ({r.how}: {r.evidence})"
            if r.how == "quote" and r.paragraph is not None:  # the quoted passage first
                quoted = [p for p in self.store.doc_passages(r.doc_id) if p.idx == r.paragraph]
                hit.passages = [(quoted[0], 1.0)] + [x for x in hit.passages
                                                     if x[0].idx != r.paragraph] if quoted else hit.passages
            out.append(hit)
        return out

    def key_terms(self, text: str) -> builtins.list[str]:
        return Searcher(self).key_terms(text)

    def timeline(self, query: str, flt: DocFilter | None = None) -> Timeline:
        query = _need(query, "query", MAX_QUERY_CHARS)
        searcher = Searcher(self)
        _, notes = self._usable_mode(searcher, "hybrid")
        dated, undated = searcher.timeline(query, flt=_check_filter(flt))
        return Timeline(dated, undated, notes, self.highlight_terms(query))

    def context(self, topic: str | None, draft: str | None = None, budget: int = 4000) -> str:
        from backlist.context_pack import build_context

        if not (topic and topic.strip()) and not (draft and draft.strip()):
            raise UsageError("give a topic or a draft")
        if budget < 200:
            raise UsageError("the budget must be at least 200 tokens")
        if draft:
            about = f"{topic}\n\n{draft}" if topic else draft
            hits: builtins.list[Hit] = self.related(about, k=15)
        else:
            hits = self.search(topic or "", k=15, per_doc=4)
        return build_context(hits, topic or "the draft", budget)

    def _usable_mode(self, searcher: Searcher, mode: str) -> tuple[str, builtins.list[str]]:
        if mode == "keyword" or searcher.has_vectors():
            return mode, []
        if mode == "semantic":
            raise UsageError("this library has no embeddings yet: run `backlist ingest` with "
                             "embedding on, or use --mode keyword")
        return "keyword", ["No embeddings in this library: fell back to keyword search "
                           "(run `backlist ingest` again with embedding on)."]

    # --- analysis ---------------------------------------------------------------------------------
    def entities(self, kind: str | None = None, refresh: bool = False) -> builtins.list[dict[str, Any]]:
        from backlist.analysis.entities import entity_table

        if refresh:
            self.refresh_entities()
        return entity_table(self, kind)

    def topics(self) -> builtins.list[dict[str, Any]]:
        from backlist.analysis.topics import topic_counts

        return topic_counts(self)

    def suggest_topics(self, n: int | None = None, force: bool = False) -> tuple[Path, builtins.list[Any]]:
        from backlist.analysis.topics import save_topics, suggest_topics, topics_path

        topics = suggest_topics(self, n)
        path = topics_path(self)
        if path.exists() and not force:
            path = path.with_name("topics.suggested.yaml")
        save_topics(path, topics)
        return path, topics

    def tag(self, doc_id: str | None = None, topic: str | None = None) -> int:
        """Tag every document (returns how many), or set one document's topic by hand."""
        from backlist.analysis.topics import set_manual_topic, tag_documents

        if doc_id or topic:
            if not (doc_id and topic):
                raise UsageError("give both a document id and a topic, or neither to tag all")
            set_manual_topic(self, doc_id, topic)
            return 1
        return len(tag_documents(self))

    def import_metrics(self, path: Path):
        from backlist.analysis.metrics import import_csv

        return import_csv(self, path)

    def top(self, metric: str, year: str | None = None, topic: str | None = None,
            k: int = 20, flt: DocFilter | None = None) -> builtins.list[tuple[Document, float]]:
        from backlist.analysis.metrics import top

        _check_k(k, limit=1000)
        rows = top(self, metric, year, topic, 1000 if flt else k)
        if flt:
            allowed = self.store.filtered_ids(_check_filter(flt))
            rows = [(d, v) for d, v in rows if d.id in allowed][:k]
        return rows

    def insights(self, metric: str) -> dict[str, Any]:
        from backlist.analysis.metrics import insights

        return insights(self, metric)

    def review(self, since: str, until: str, out: Path):
        """A review of the span (date words as in a DocFilter): Markdown at `out`, charts (PNG
        and SVG) beside it."""
        from backlist.analysis.review import write_review

        start, end = _day(since, "since"), _day(until, "until", end=True)
        if not (start and end):
            raise UsageError("a review needs both since and until (or a year)")
        self.refresh_entities()
        cited: dict[str, int] = {}
        for link in self.store.links():
            cited[link.target_id] = cited.get(link.target_id, 0) + 1
        try:
            return write_review(self, start, end, out, citations=cited or None)
        except OSError as exc:
            raise BacklistError(f"{out}: cannot write the review ({exc.strerror or exc})") from exc

    # --- for the web pages (added by the web helper: surfaces ask the façade, not the store) ---------
    def highlight_terms(self, text: str) -> builtins.list[str]:
        """The words of a query that a surface marks in its snippets (the search's own tokens)."""
        from backlist.index.search import terms

        return terms(text or "")

    def doc_entities(self, doc_id: str) -> builtins.list[dict[str, Any]]:
        """The entities one document mentions: guests first, then by mentions."""
        doc = self.get(doc_id)
        rows = [r for r in self.store.entity_rows() if r["doc_id"] == doc.id]
        rows.sort(key=lambda r: (r["role"] != "guest", -int(r["mentions"] or 0), r["entity"]))
        return rows

    def doc_topics(self, doc_id: str) -> builtins.list[tuple[str, float, bool]]:
        """One document's topics as (name, score, set by hand), hand-set and best first."""
        return self.store.doc_topics().get(self.get(doc_id).id, [])

    def metric_names(self) -> builtins.list[str]:
        """Every metric some (non-duplicate) document has, sorted."""
        return builtins.list(self._metric_counts())


def open_store(folder: Path, read_only: bool, database: str | None) -> Store:
    if database:
        if not database.startswith(("postgresql://", "postgres://")):
            raise BacklistError(f"{database.split('://')[0]}: only postgresql:// databases are "
                                "supported")
        try:
            from backlist.store.postgres import PostgresStore
        except ImportError as exc:  # psycopg comes with the [postgres] extra
            raise BacklistError(f"PostgreSQL support is not installed ({exc.name} is missing): "
                                "pip install 'backlist[postgres]'") from exc
        return PostgresStore(database, read_only=read_only)
    db = folder / DB_NAME
    if read_only and (not db.exists() or db.stat().st_size == 0):
        raise BacklistError(f"{folder}: no library here yet (run `backlist ingest` first)")
    return SQLiteStore(db, read_only=read_only)


def _checked_dir(path: Path, create: bool) -> Path:
    """Writers create the folder (with one clear line if they cannot); readers only look."""
    if create:
        return config.check_library_dir(path)
    if path.exists() and not path.is_dir():
        raise BacklistError(f"{path} is a file, not a folder")
    return path


def _need(value: str | None, what: str, limit: int) -> str:
    if value is None or not str(value).strip():
        raise UsageError(f"empty {what}")
    if len(value) > limit:
        raise UsageError(f"the {what} is {len(value):,} characters, over the {limit:,} limit")
    return value


def _check_k(k: int, limit: int = MAX_K) -> None:
    if not 1 <= int(k) <= limit:
        raise UsageError(f"k must be between 1 and {limit}, not {k}")


def _check_mode(mode: str) -> str:
    if mode not in MODES:
        raise UsageError(f"mode {mode!r}: choose from {', '.join(MODES)}")
    return mode


def _check_filter(flt: DocFilter | None) -> DocFilter:
    """The filter with its date words parsed (a year or month as `until` runs to its end) and
    its kinds checked."""
    flt = flt or DocFilter()
    bad = [k for k in flt.kinds if k not in DOC_KINDS]
    if bad:
        raise UsageError(f"kind {bad[0]!r}: choose from {', '.join(DOC_KINDS)}")
    since, until = _day(flt.since, "since"), _day(flt.until, "until", end=True)
    if since and until and since > until:
        raise UsageError(f"since ({since}) is after until ({until})")
    if (since, until) != (flt.since, flt.until):
        flt = replace(flt, since=since, until=until)
    return flt


def _day(value: str | None, name: str, end: bool = False) -> str | None:
    """A date word as an ISO day (None for nothing given); UsageError naming the option."""
    if value is None or not str(value).strip():
        return None
    if len(value) > 40:
        raise UsageError(f"{name}: {value[:40]!r}… is not a date")
    try:
        return parse_date(value, end=end)
    except ValueError as exc:
        raise UsageError(f"{name}: {exc}") from exc


def check_reader_kind(kind: str | None) -> None:
    """A reader kind must be one of backlist.ingest.KINDS (the one registry)."""
    from backlist.ingest import KINDS

    if kind is not None and kind not in KINDS:
        raise UsageError(f"kind {kind}: unknown kind (choose from {', '.join(KINDS)})")


def missing_inputs(paths: Sequence[str]) -> builtins.list[str]:
    """The paths (not URLs) that do not exist: checked before a library is created for them."""
    return [p for p in paths if "://" not in p and not os.path.lexists(p)]


RELEVANT_SHARE = 0.5  # with --recent, hits scoring at least half the best count as relevant


def favour_recent(hits: builtins.list[Hit]) -> builtins.list[Hit]:
    """The relevant hits (at least RELEVANT_SHARE of the best score) newest first, undated ones
    after them in search order, then the rest in search order: "my latest take on X"."""
    if not hits:
        return hits
    floor = RELEVANT_SHARE * max(h.score for h in hits)
    relevant = [h for h in hits if h.score >= floor]
    dated = sorted((h for h in relevant if h.doc.date), key=lambda h: h.doc.date or "", reverse=True)
    undated = [h for h in relevant if not h.doc.date]
    return dated + undated + [h for h in hits if h.score < floor]


def matched_terms(hit: Hit, query: str) -> builtins.list[str]:
    """The query's words that the hit's best passage holds."""
    from backlist.index.search import terms

    text = " ".join(p.text.lower() for p, _ in hit.passages[:1])
    return [t for t in dict.fromkeys(terms(query)) if t in text]


def explanation(hit: Hit, mode: str) -> str:
    """How a hit scored: the keyword and semantic parts (and the length prior), the query words
    its passage holds (hit.matched), why that passage was shown and, for hybrid, whether it was
    one of the rankings' best that lead the list."""
    from backlist.index.search import KEYWORD_WEIGHT, SHORTLIST_KEYWORD

    if mode == "hybrid":
        mixed = KEYWORD_WEIGHT * hit.keyword + (1 - KEYWORD_WEIGHT) * hit.semantic
        prior = f" - length prior {mixed - hit.score:.3f}" if mixed - hit.score >= 0.0005 else ""
        parts = (f"keyword {hit.keyword:.3f} x {KEYWORD_WEIGHT:g} + semantic {hit.semantic:.3f} x "
                 f"{1 - KEYWORD_WEIGHT:g}{prior} = {hit.score:.3f}")
    else:
        parts = f"{mode} {hit.score:.3f}"
    passage = (f"passage {hit.passages[0][0].idx} scored best ({hit.passages[0][1]:.2f})"
               if hit.passages else "no passage")
    out = f"{parts}; matched: {', '.join(hit.matched or []) or 'none (meaning only)'}; {passage}"
    if hit.shortlisted:
        group = {"keyword": f"one of the keyword ranking's {SHORTLIST_KEYWORD} best",
                 "semantic": "the semantic ranking's best",
                 "keyword and semantic": f"the semantic ranking's best and one of the keyword "
                                         f"ranking's {SHORTLIST_KEYWORD} best"}[hit.shortlisted]
        out += f"; in the leading group as {group}"
    return out
