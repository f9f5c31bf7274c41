"""A Store on a PostgreSQL server: tsvector + BM25 statistics for keywords, pgvector for vectors.

Several processes (ingests, MCP and web servers, one per writer) share one library database.
Same semantics as SQLiteStore; the schema is in postgres_schema.py. Design notes:
- A small pool of connections (POOL_SIZE) in autocommit mode: each store call borrows one
  (servers answer from worker threads); each write is one explicit transaction.
- A lost connection (server restart, network) is dropped; reads are retried once on a fresh
  connection, writes fail with a BacklistError (their transaction was rolled back) and the next
  call reconnects.
- Writes of one source are serialised across processes by transaction-level advisory locks on
  the source path (record_source, write_document) and on the document id (write_document).
- Vector search is exact (a scan) below EXACT_BELOW embedded passages, HNSW above it, with
  hnsw.ef_search = max(EF_SEARCH, k).
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np
import psycopg
from pgvector import Vector
from pgvector.psycopg import register_vector
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from backlist.errors import BacklistError
from backlist.model import Document, Passage, Turn
from backlist.store import postgres_schema as ps
from backlist.store.base import TITLE_WEIGHT, DocFilter, DocLink, KeywordQuery, PassageHit, Store
from backlist.store.sqlite import passage_hash

EF_SEARCH = 100  # HNSW candidate list: recall@10 measured in benchmarks/pg_bench.py
EXACT_BELOW = 1_000  # passages; measured (pg_bench): exact 24 ms at 2k, 56 ms at 6k; HNSW 6-7 ms
CONNECT_TIMEOUT = 10
BULK_FROM = 20_000  # passages left to embed: load without the HNSW index, build it after
POOL_SIZE = 8  # connections per store, whatever the number of threads
POOL_TIMEOUT = 60.0
T = TypeVar("T")

_DOC_COLS = ("id, kind, source, position, title, subtitle, date, url, authors, speakers, audience, "
             "text, comments, metadata, is_draft, duplicate_of, linked_url")
_ORDERS = {
    "date": 'd.date IS NULL, d.date COLLATE "C", d.source COLLATE "C", d.position COLLATE "C" NULLS FIRST',
    "date_desc": 'd.date IS NULL, d.date COLLATE "C" DESC, d.source COLLATE "C", '
                 'd.position COLLATE "C" NULLS FIRST',
    "source": 'd.source COLLATE "C", CASE WHEN d.position IS NULL THEN NULL ELSE coalesce(substring('
              "substr(d.position, 6) from '^\\s*([+-]?[0-9]+)')::numeric, 0) END NULLS FIRST, "
              'd.position COLLATE "C" NULLS FIRST',
}


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _db_call(retry: bool) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Run a store method on a pooled connection (nested calls share it) and turn driver errors
    into BacklistErrors. A lost connection is thrown away with the idle ones (after a server
    restart they are all dead); a read is then tried once more on a fresh connection."""

    def wrap(fn: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(fn)
        def call(self: PostgresStore, *args: Any, **kwargs: Any) -> T:
            if getattr(self._local, "conn", None) is not None:  # inside another store call
                return fn(self, *args, **kwargs)
            attempts = 2 if retry else 1
            for attempt in range(attempts):
                try:
                    with self._checked_out():
                        return fn(self, *args, **kwargs)
                except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                    if attempt + 1 < attempts:
                        continue
                    raise BacklistError(f"PostgreSQL: lost the connection to the library database "
                                        f"({_first_line(exc)}); try again") from exc
                except psycopg.Error as exc:
                    raise BacklistError(f"PostgreSQL: {_first_line(exc)}") from exc
            raise AssertionError("unreachable")

        return call

    return wrap


class _Pool:
    """At most `size` connections, shared by any number of threads: a thread holds one only for
    the length of one store call, so threads that come and go (servers, benchmarks) cannot
    exhaust the server's connection slots."""

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]], size: int) -> None:
        self._connect = connect
        self._free = threading.BoundedSemaphore(size)
        self._idle: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()

    def get(self) -> psycopg.Connection[Any]:
        if not self._free.acquire(timeout=POOL_TIMEOUT):
            raise BacklistError(f"PostgreSQL: no free connection after {POOL_TIMEOUT:.0f} s")
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None or conn.closed:
            try:
                conn = self._connect()
            except BaseException:
                self._free.release()
                raise
        return conn

    def put(self, conn: psycopg.Connection[Any], broken: bool) -> None:
        try:
            if broken or conn.closed or conn.info.transaction_status != TransactionStatus.IDLE:
                conn.close()
                if broken:
                    self.clear()
            else:
                with self._lock:
                    self._idle.append(conn)
        finally:
            self._free.release()

    def clear(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            try:
                conn.close()
            except psycopg.Error:
                pass


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _vec(blob: bytes) -> Vector:
    return Vector(np.frombuffer(blob, dtype=np.float32))


def _blob(value: Any) -> bytes:
    arr = value.to_numpy() if isinstance(value, Vector) else np.asarray(value)
    return arr.astype(np.float32).tobytes()


class PostgresStore(Store):
    """A library in one PostgreSQL database (dsn: a postgresql:// URL or a libpq string)."""

    def __init__(self, dsn: str, read_only: bool = False, pool_size: int = POOL_SIZE) -> None:
        self.dsn = dsn
        self.read_only = read_only
        self._local = threading.local()
        self._pool = _Pool(self._connect, pool_size)
        try:
            self._prepare()
        except psycopg.Error as exc:
            raise BacklistError(f"PostgreSQL: cannot open the library database "
                                f"({_first_line(exc)})") from exc

    # --- connections ------------------------------------------------------------------------
    def _open(self, read_only: bool) -> psycopg.Connection[Any]:
        kwargs: dict[str, Any] = {"autocommit": True, "connect_timeout": CONNECT_TIMEOUT,
                                  "application_name": "backlist"}
        if read_only:
            kwargs["options"] = "-c default_transaction_read_only=on"
        return psycopg.connect(self.dsn, **kwargs)

    def _prepare(self) -> None:
        """Create or upgrade the schema (writers; readers ask a writer connection once)."""
        with self._open(read_only=False) as conn:
            version = ps.schema_version(conn)
            if self.read_only and version == 0:
                raise BacklistError("PostgreSQL: no library in this database yet "
                                    "(run `backlist ingest` first)")
            if version < ps.SCHEMA_VERSION:
                ps.apply_migrations(conn)
        self._pool.put(self._pool.get(), broken=False)  # open one now, so errors surface here

    def _connect(self) -> psycopg.Connection[Any]:
        conn = self._open(self.read_only)
        register_vector(conn)
        return conn

    @contextmanager
    def _checked_out(self) -> Iterator[psycopg.Connection[Any]]:
        conn = self._pool.get()
        self._local.conn = conn
        broken = True
        try:
            yield conn
            broken = False
        except (psycopg.OperationalError, psycopg.InterfaceError):
            raise
        except BaseException:
            broken = False
            raise
        finally:
            self._local.conn = None
            self._pool.put(conn, broken)

    @property
    def db(self) -> psycopg.Connection[Any]:
        """The connection of the store call running in this thread."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            raise RuntimeError("PostgresStore.db is only there inside a store method")
        return conn

    def _rows(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        return self.db.execute(sql, params).fetchall()

    def _dicts(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        with self.db.cursor(row_factory=dict_row) as cur:
            return cur.execute(sql, params).fetchall()

    def _one(self, sql: str, params: Any = None) -> Any:
        row = self.db.execute(sql, params).fetchone()
        return row[0] if row else None

    def _xlock(self, key: str) -> None:
        """A transaction-level advisory lock on a name (a source path, a document id)."""
        self.db.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,))

    @property
    @_db_call(retry=True)
    def schema_version(self) -> int:
        return ps.schema_version(self.db)

    # --- meta -----------------------------------------------------------------------------------
    @_db_call(retry=True)
    def get_meta(self, key: str) -> str | None:
        return self._one("SELECT value FROM meta WHERE key = %s", (key,))

    @_db_call(retry=False)
    def set_meta(self, key: str, value: str) -> None:
        self._set_meta(key, value)

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO meta(key, value) VALUES (%s, %s) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    @_db_call(retry=True)
    def meta_items(self) -> dict[str, str]:
        """Every meta key and value (for copying a library)."""
        return {r[0]: r[1] for r in self._rows("SELECT key, value FROM meta ORDER BY key")}

    # --- sources --------------------------------------------------------------------------------
    @_db_call(retry=True)
    def source_fingerprint(self, path: str) -> str | None:
        return self._one("SELECT fingerprint FROM sources WHERE path = %s", (path,))

    @_db_call(retry=False)
    def record_source(self, path: str, kind: str, fingerprint: str,
                      doc_ids: Sequence[str]) -> list[str]:
        keep = set(doc_ids)
        with self.db.transaction():
            self._xlock(f"source:{path}")
            stale = [r[0] for r in self._rows("SELECT id FROM documents WHERE source = %s ORDER BY id",
                                              (path,)) if r[0] not in keep]
            self._delete_docs(stale)
            self.db.execute(
                "INSERT INTO sources(path, kind, fingerprint, ingested_at, documents) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (path) DO UPDATE SET kind = excluded.kind, "
                "fingerprint = excluded.fingerprint, ingested_at = excluded.ingested_at, "
                "documents = excluded.documents", (path, kind, fingerprint, _now(), len(keep)))
        return stale

    @_db_call(retry=True)
    def sources(self) -> list[dict[str, Any]]:
        return self._dicts('SELECT path, kind, fingerprint, ingested_at, documents FROM sources '
                           'ORDER BY path COLLATE "C"')

    def _delete_docs(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        self.db.execute("UPDATE documents SET duplicate_of = NULL WHERE duplicate_of = ANY(%s)",
                        (list(ids),))
        self.db.execute("DELETE FROM documents WHERE id = ANY(%s)", (list(ids),))  # passages cascade

    # --- documents ------------------------------------------------------------------------------
    @_db_call(retry=True)
    def doc_hash(self, doc_id: str) -> str | None:
        return self._one("SELECT content_hash FROM documents WHERE id = %s", (doc_id,))

    @_db_call(retry=False)
    def write_document(self, doc: Document, passages: Sequence[Passage],
                       entities: Sequence[tuple[str, str, str | None, int, str]] | None = None) -> int:
        with self.db.transaction():
            self._xlock(f"source:{doc.source}")
            self._xlock(f"doc:{doc.id}")
            self._upsert_document(doc)
            self.db.execute("DELETE FROM metrics WHERE doc_id = %s AND origin = 'source'", (doc.id,))
            self._upsert_metrics(doc.id, doc.metrics, "source")
            if entities is not None:
                self._write_entities(doc.id, entities)
            return self._replace_passages(doc, passages)

    def _upsert_document(self, doc: Document) -> None:
        publication = doc.metadata.get("publication") or doc.metadata.get("site")
        self.db.execute(
            "INSERT INTO documents(id, kind, source, position, title, subtitle, date, url, author, "
            "publication, authors, speakers, audience, text, comments, turns, metadata, words, "
            "content_hash, is_draft, ingested_at) VALUES "
            "(%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) "
            "ON CONFLICT (id) DO UPDATE SET kind=excluded.kind, source=excluded.source, "
            "position=excluded.position, title=excluded.title, subtitle=excluded.subtitle, "
            "date=excluded.date, url=excluded.url, author=excluded.author, "
            "publication=excluded.publication, authors=excluded.authors, "
            "speakers=excluded.speakers, audience=excluded.audience, text=excluded.text, "
            "comments=excluded.comments, turns=excluded.turns, metadata=excluded.metadata, "
            "words=excluded.words, content_hash=excluded.content_hash, "
            "is_draft=excluded.is_draft, ingested_at=excluded.ingested_at",
            (doc.id, doc.kind, doc.source, doc.position, doc.title, doc.subtitle, doc.date, doc.url,
             doc.authors[0] if doc.authors else None,
             str(publication) if publication else None,
             Jsonb(doc.authors), Jsonb(doc.speakers), doc.audience, doc.text, Jsonb(doc.comments),
             Jsonb([t.__dict__ for t in doc.turns]),
             Jsonb(doc.metadata, dumps=_json_dumps), doc.words, doc.content_hash, doc.is_draft,
             _now()))

    def _replace_passages(self, doc: Document, passages: Sequence[Passage]) -> int:
        """Keep passages whose text is unchanged (and so their embeddings); add the rest."""
        old: dict[str, list[int]] = {}
        for pid, h in self._rows("SELECT id, hash FROM passages WHERE doc_id = %s ORDER BY id",
                                 (doc.id,)):
            old.setdefault(h, []).append(pid)
        kept: list[tuple[int, Passage]] = []
        new: list[tuple[Passage, str]] = []
        for p in passages:
            h = passage_hash(p)
            if old.get(h):
                kept.append((old[h].pop(), p))
            else:
                new.append((p, h))
        gone = [pid for ids in old.values() for pid in ids]
        if gone:
            self.db.execute("DELETE FROM passages WHERE id = ANY(%s)", (gone,))
        if kept:
            self.db.execute(
                'UPDATE passages p SET idx = k.idx, start = k.s, "end" = k.e, speaker = k.sp, '
                "title = %s FROM unnest(%s::bigint[], %s::int[], %s::int[], %s::int[], %s::text[]) "
                "AS k(id, idx, s, e, sp) WHERE p.id = k.id",
                (doc.title or "", [pid for pid, _ in kept], [p.idx for _, p in kept],
                 [p.start for _, p in kept], [p.end for _, p in kept], [p.speaker for _, p in kept]))
        if new:
            self.db.execute(
                'INSERT INTO passages(doc_id, idx, text, start, "end", speaker, hash, title) '
                "SELECT %s, n.idx, n.t, n.s, n.e, n.sp, n.h, %s FROM unnest(%s::int[], %s::text[], "
                "%s::int[], %s::int[], %s::text[], %s::text[]) WITH ORDINALITY AS n(idx, t, s, e, sp, h, o) "
                "ORDER BY n.o",
                (doc.id, doc.title or "", [p.idx for p, _ in new], [p.text for p, _ in new],
                 [p.start for p, _ in new], [p.end for p, _ in new], [p.speaker for p, _ in new],
                 [h for _, h in new]))
        return len(new)

    @_db_call(retry=True)
    def get_document(self, doc_id: str) -> Document | None:
        return self._get_documents([doc_id], True).get(doc_id)

    @_db_call(retry=True)
    def get_documents(self, ids: Sequence[str], with_turns: bool = False) -> dict[str, Document]:
        """Several documents in one query; speaker turns (large for interviews) only if asked."""
        return self._get_documents(ids, with_turns)

    def _get_documents(self, ids: Sequence[str], with_turns: bool) -> dict[str, Document]:
        if not ids:
            return {}
        cols = _DOC_COLS + (", turns" if with_turns else "")
        rows = self._dicts(f"SELECT {cols} FROM documents WHERE id = ANY(%s)", (list(ids),))
        return {d.id: d for d in self._docs(rows)}

    @_db_call(retry=True)
    def resolve_id(self, prefix: str) -> list[str]:
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return [r[0] for r in self._rows(
            'SELECT id FROM documents WHERE id LIKE %s ORDER BY id COLLATE "C" LIMIT 5', (pattern,))]

    @_db_call(retry=True)
    def list_documents(self, flt: DocFilter, order: str = "date",
                       with_turns: bool = False) -> list[Document]:
        where, args = self._where(flt)
        cols = ", ".join(f"d.{c.strip()}" for c in _DOC_COLS.split(","))
        cols += ", d.turns" if with_turns else ""
        sql = f"SELECT {cols} FROM documents d {where} ORDER BY {_ORDERS.get(order, _ORDERS['date'])}"
        return self._docs(self._dicts(sql, args))

    def _where(self, flt: DocFilter) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if flt.kinds:
            clauses.append("d.kind = ANY(%s)")
            args.append(list(flt.kinds))
        if flt.since:
            clauses.append("d.date >= %s")
            args.append(flt.since)
        if flt.until:
            clauses.append("d.date <= %s")
            args.append(flt.until)
        if not flt.include_drafts:
            clauses.append("NOT d.is_draft")
        if not flt.include_duplicates:
            clauses.append("d.duplicate_of IS NULL")
        if flt.speaker:  # like SQLite's LIKE: case-insensitive, % and _ are wildcards
            clauses.append("EXISTS (SELECT 1 FROM jsonb_array_elements_text(d.speakers) s "
                           "WHERE s ILIKE %s ESCAPE '')")
            args.append(f"%{flt.speaker}%")
        if flt.entity:
            clauses.append("EXISTS (SELECT 1 FROM entity_mentions e WHERE e.doc_id = d.id AND "
                           "(lower(e.entity) = lower(%s) OR lower(e.parent) = lower(%s)))")
            args += [flt.entity, flt.entity]
        author = flt.author
        if author:  # any of the document's authors, case-insensitive
            clauses.append("(lower(d.author) = lower(%s) OR EXISTS (SELECT 1 FROM "
                           "jsonb_array_elements_text(d.authors) a WHERE lower(a) = lower(%s)))")
            args += [author, author]
        if flt.ids is not None:
            clauses.append("d.id = ANY(%s)")
            args.append(list(flt.ids))
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", args

    @_db_call(retry=True)
    def filtered_ids(self, flt: DocFilter) -> set[str]:
        where, args = self._where(flt)
        return {r[0] for r in self._rows(f"SELECT d.id FROM documents d {where}", args)}

    @_db_call(retry=False)
    def set_copies(self, duplicate_of: dict[str, str | None], urls: dict[str, str]) -> None:
        copies = [(k, v) for k, v in duplicate_of.items() if v]
        with self.db.transaction():
            self.db.execute("UPDATE documents SET duplicate_of = NULL, linked_url = NULL "
                            "WHERE duplicate_of IS NOT NULL OR linked_url IS NOT NULL")
            self.db.execute("UPDATE documents d SET duplicate_of = c.canon FROM unnest(%s::text[], "
                            "%s::text[]) AS c(id, canon) WHERE d.id = c.id",
                            ([k for k, _ in copies], [v for _, v in copies]))
            self.db.execute("UPDATE documents d SET linked_url = c.url FROM unnest(%s::text[], "
                            "%s::text[]) AS c(id, url) WHERE d.id = c.id",
                            (list(urls), list(urls.values())))

    @_db_call(retry=True)
    def metrics(self, doc_ids: Iterable[str] | None = None) -> dict[str, dict[str, float]]:
        if doc_ids is None:
            rows = self._rows("SELECT doc_id, name, value FROM metrics")
        else:
            rows = self._rows("SELECT doc_id, name, value FROM metrics WHERE doc_id = ANY(%s)",
                              (list(doc_ids),))
        out: dict[str, dict[str, float]] = {}
        for doc_id, name, value in rows:
            out.setdefault(doc_id, {})[name] = value
        return out

    @_db_call(retry=True)
    def metric_rows(self) -> list[tuple[str, str, float, str | None]]:
        """(doc id, metric, value, origin) of every metric (for copying a library)."""
        return [tuple(r) for r in self._rows(  # type: ignore[misc]
            "SELECT doc_id, name, value, origin FROM metrics ORDER BY doc_id, name")]

    @_db_call(retry=True)
    def stats(self) -> dict[str, Any]:
        by_kind = {r[0]: {"documents": r[1], "words": int(r[2] or 0)} for r in self._rows(
            'SELECT kind, count(*), sum(words) FROM documents GROUP BY kind ORDER BY kind COLLATE "C"')}
        by_year = {(r[0] or "undated"): {"documents": r[1], "words": int(r[2] or 0)} for r in self._rows(
            "SELECT substr(date, 1, 4), count(*), sum(words) FROM documents GROUP BY 1 "
            'ORDER BY substr(date, 1, 4) IS NULL, substr(date, 1, 4) COLLATE "C"')}
        total = self.db.execute(
            "SELECT count(*), coalesce(sum(words), 0), count(*) FILTER (WHERE duplicate_of IS NOT NULL), "
            "count(*) FILTER (WHERE is_draft), count(*) FILTER (WHERE date IS NULL) FROM documents"
        ).fetchone()
        passages = self.db.execute(
            "SELECT count(*), count(*) FILTER (WHERE embedded) FROM passages").fetchone()
        assert total is not None and passages is not None
        return {"documents": total[0], "words": int(total[1]), "duplicates": total[2],
                "drafts": total[3], "undated": total[4],
                "passages": passages[0], "embedded_passages": passages[1],
                "sources": self._one("SELECT count(*) FROM sources"),
                "by_kind": by_kind, "by_year": by_year}

    def _docs(self, rows: list[dict[str, Any]]) -> list[Document]:
        metrics: dict[str, dict[str, float]] = {}
        if rows:
            for doc_id, name, value in self._rows(
                    "SELECT doc_id, name, value FROM metrics WHERE doc_id = ANY(%s)",
                    ([r["id"] for r in rows],)):
                metrics.setdefault(doc_id, {})[name] = value
        return [_document(r, metrics.get(r["id"], {})) for r in rows]

    # --- passages & indexes ---------------------------------------------------------------------
    @_db_call(retry=True)
    def passages(self, ids: Iterable[int]) -> dict[int, Passage]:
        ids = list(ids)
        if not ids:
            return {}
        rows = self._rows('SELECT id, doc_id, idx, text, start, "end", speaker FROM passages '
                          "WHERE id = ANY(%s)", (ids,))
        return {r[0]: Passage(*r[1:]) for r in rows}

    @_db_call(retry=True)
    def doc_passages(self, doc_id: str) -> list[Passage]:
        return [Passage(*r) for r in self._rows(
            'SELECT doc_id, idx, text, start, "end", speaker FROM passages WHERE doc_id = %s '
            "ORDER BY idx, id", (doc_id,))]

    @_db_call(retry=True)
    def unembedded(self, limit: int) -> list[tuple[int, str, str | None]]:
        return [(r[0], r[1], r[2]) for r in self._rows(
            "SELECT p.id, p.text, d.title FROM passages p JOIN documents d ON d.id = p.doc_id "
            "WHERE NOT p.embedded ORDER BY p.id LIMIT %s", (limit,))]

    @_db_call(retry=True)
    def all_passages(self) -> list[tuple[int, str, str | None]]:
        return [(r[0], r[1], r[2]) for r in self._rows(
            "SELECT p.id, p.text, d.title FROM passages p JOIN documents d ON d.id = p.doc_id "
            "ORDER BY p.id")]

    @_db_call(retry=True)
    def count_unembedded(self) -> int:
        return self._one("SELECT count(*) FROM passages WHERE NOT embedded")

    @_db_call(retry=False)
    def ensure_vectors(self, dim: int, model: str) -> None:
        """Make the vector column fit this model, or start it afresh if the model changed."""
        if (self.get_meta("embed_model") == model and self.get_meta("embed_dim") == str(int(dim))
                and ps.embedding_dim(self.db) == int(dim)):
            return
        with self.db.transaction():
            ps.set_embedding_dim(self.db, dim)
            self.db.execute("UPDATE passages SET embedding = NULL, embedded = false "
                            "WHERE embedding IS NOT NULL OR embedded")
            self._set_meta("embed_model", model)
            self._set_meta("embed_dim", str(int(dim)))

    @_db_call(retry=False)
    def save_embeddings(self, rows: Sequence[tuple[int, bytes]]) -> None:
        """Store vectors. A large load (BULK_FROM passages or more still to embed) drops the HNSW
        index first and builds it once when the last vector is in: inserting into HNSW one
        vector at a time is an order of magnitude slower. Meanwhile searches are exact."""
        if not rows:
            return
        self._before_load()
        with self.db.transaction():  # passages that went away meanwhile simply match no row
            self.db.execute("UPDATE passages p SET embedding = v.e, embedded = true "
                            "FROM unnest(%s::bigint[], %s::vector[]) AS v(id, e) WHERE p.id = v.id",
                            ([pid for pid, _ in rows], [_vec(b) for _, b in rows]))
        self._after_load()

    def _before_load(self) -> None:
        if self._has_hnsw() and self._one("SELECT count(*) FROM passages WHERE NOT embedded") >= BULK_FROM:
            with self.db.transaction():
                self._xlock("hnsw")
                self.db.execute(f"DROP INDEX IF EXISTS {ps.HNSW_INDEX}")

    def _after_load(self) -> None:
        if not self._has_hnsw() and not self._one("SELECT count(*) FROM passages WHERE NOT embedded"):
            self._build_hnsw()

    def _has_hnsw(self) -> bool:
        return bool(self._one("SELECT to_regclass(%s) IS NOT NULL", (ps.HNSW_INDEX,)))

    def _build_hnsw(self) -> None:
        with self.db.transaction():
            self._xlock("hnsw")
            self.db.execute("SET LOCAL maintenance_work_mem = '256MB'")
            self.db.execute(f"CREATE INDEX IF NOT EXISTS {ps.HNSW_INDEX} ON passages "
                            "USING hnsw (embedding vector_cosine_ops)")

    def export_vectors(self, batch: int = 2000) -> Iterator[list[tuple[str, int, bytes]]]:
        """Every stored vector as (doc id, passage idx, float32 blob), in batches (by id)."""
        last = 0
        while rows := self._vector_batch(last, batch):
            last = rows[-1][0]
            yield [(r[1], r[2], r[3]) for r in rows]

    @_db_call(retry=True)
    def _vector_batch(self, after: int, limit: int) -> list[tuple[int, str, int, bytes]]:
        return [(r[0], r[1], r[2], _blob(r[3])) for r in self._rows(
            "SELECT id, doc_id, idx, embedding FROM passages WHERE embedding IS NOT NULL AND id > %s "
            "ORDER BY id LIMIT %s", (after, limit))]

    @_db_call(retry=False)
    def import_vectors(self, rows: Sequence[tuple[str, int, bytes]]) -> int:
        """Store vectors for passages named by (doc id, idx); returns how many passages matched."""
        if not rows:
            return 0
        self._before_load()
        with self.db.transaction():
            cur = self.db.execute(
                "UPDATE passages p SET embedding = v.e, embedded = true FROM unnest(%s::text[], "
                "%s::int[], %s::vector[]) AS v(doc_id, idx, e) WHERE p.doc_id = v.doc_id AND p.idx = v.idx",
                ([r[0] for r in rows], [r[1] for r in rows], [_vec(r[2]) for r in rows]))
        self._after_load()
        return cur.rowcount

    @_db_call(retry=True)
    def keyword_search(self, query: KeywordQuery, k: int) -> list[PassageHit]:
        if not query:
            return []
        tsq = self._tsquery(query)
        if not tsq:
            return []
        params = ps.bm25_params(tsq, k, filter=bool(query.phrases) or query.require_all,
                                title_weight=TITLE_WEIGHT)
        rows = self._rows(f"SELECT b.passage_id, p.doc_id, b.score, p.speaker FROM ({ps.BM25_SQL}) b "
                          "JOIN passages p ON p.id = b.passage_id ORDER BY b.score DESC, b.passage_id",
                          params)
        return [PassageHit(r[0], r[1], float(r[2]), i, r[3]) for i, r in enumerate(rows)]

    def _tsquery(self, query: KeywordQuery) -> str:
        return ps.tsquery_text(self.db, query.terms, query.phrases, query.prefixes, query.require_all)

    @_db_call(retry=True)
    def vector_search(self, vector: bytes, k: int, exact: bool | None = None,
                      ef_search: int = EF_SEARCH) -> list[PassageHit]:
        """Cosine similarity (1 - cosine distance), best first: exact below EXACT_BELOW
        passages, else the HNSW index (approximate; see benchmarks/pg_bench.py for recall).
        exact / ef_search force a method or a candidate list (for benchmarks)."""
        if exact is None:
            exact = self._embedded_count() < EXACT_BELOW or not self._has_hnsw()
        q = _vec(vector)
        sql = ("SELECT id, doc_id, 1 - (embedding <=> %s), speaker FROM passages "
               "WHERE embedding IS NOT NULL ORDER BY embedding <=> %s{} LIMIT %s")
        with self.db.transaction():
            if exact:  # a scan and a top-k sort; ties go to the older passage, as in SQLite
                self.db.execute("SET LOCAL enable_indexscan = off")
                rows = self._rows(sql.format(", id"), (q, q, k))
            else:
                self.db.execute(f"SET LOCAL hnsw.ef_search = {max(int(ef_search), min(int(k), 1000))}")
                rows = sorted(self._rows(sql.format(""), (q, q, k)), key=lambda r: (-r[2], r[0]))
        return [PassageHit(r[0], r[1], float(r[2]), i, r[3]) for i, r in enumerate(rows)]

    def _embedded_count(self) -> int:
        """How many passages there are (an upper bound of the embedded ones), without a scan."""
        return int(self._one("SELECT passages FROM bm25_corpus"))

    @_db_call(retry=True)
    def canonical_map(self) -> dict[str, str]:
        return {r[0]: r[1] for r in self._rows(
            "SELECT id, duplicate_of FROM documents WHERE duplicate_of IS NOT NULL")}

    @_db_call(retry=True)
    def passage_count(self) -> int:
        return int(self._one("SELECT passages FROM bm25_corpus"))  # kept exact by triggers

    @_db_call(retry=True)
    def keyword_count(self, query: KeywordQuery) -> int:
        if not query:
            return 0
        expr, params = ps.tsquery_sql(query.terms, query.phrases, query.prefixes, query.require_all)
        return self._one(f"SELECT count(*) FROM passages WHERE tsv @@ {expr}", params)

    @_db_call(retry=True)
    def term_frequencies(self, words: Sequence[str]) -> dict[str, int]:
        """How many passages hold each word after the index's stemming ('english': stop words
        have no stem and count 0); a word that splits into several lexemes counts its commonest."""
        if not words:
            return {}
        uniq = list(dict.fromkeys(words))
        rows = self._rows(
            "SELECT w.word, coalesce(max((SELECT count(*) FROM bm25_terms t WHERE t.lexeme = u.lexeme)), 0) "
            "FROM unnest(%s::text[]) AS w(word) "
            f"LEFT JOIN LATERAL unnest(to_tsvector('{ps.TS_CONFIG}', w.word)) u ON true "
            "GROUP BY w.word", (uniq,))
        counts = {r[0]: int(r[1]) for r in rows}
        return {w: counts.get(w, 0) for w in uniq}

    # --- analysis tables ------------------------------------------------------------------------
    @_db_call(retry=True)
    def doc_vectors(self) -> dict[str, list[bytes]]:
        """Every document's passage vectors (raw float32 blobs), for topic clustering."""
        out: dict[str, list[bytes]] = {}
        for doc_id, emb in self._rows("SELECT doc_id, embedding FROM passages "
                                      "WHERE embedding IS NOT NULL ORDER BY id"):
            out.setdefault(doc_id, []).append(_blob(emb))
        return out

    @_db_call(retry=False)
    def set_doc_topics(self, doc_id: str, scored: Sequence[tuple[str, float]],
                       manual: bool = False) -> None:
        with self.db.transaction(), self.db.cursor() as cur:
            if manual:
                cur.executemany(
                    "INSERT INTO doc_topics(doc_id, topic, score, manual) VALUES (%s, %s, %s, true) "
                    "ON CONFLICT (doc_id, topic) DO UPDATE SET score = excluded.score, manual = true",
                    [(doc_id, t, float(s)) for t, s in scored])
                return
            cur.execute("DELETE FROM doc_topics WHERE doc_id = %s AND NOT manual", (doc_id,))
            cur.executemany(
                "INSERT INTO doc_topics(doc_id, topic, score, manual) VALUES (%s, %s, %s, false) "
                "ON CONFLICT DO NOTHING", [(doc_id, t, float(s)) for t, s in scored])

    @_db_call(retry=True)
    def doc_topics(self) -> dict[str, list[tuple[str, float, bool]]]:
        out: dict[str, list[tuple[str, float, bool]]] = {}
        for doc_id, topic, score, manual in self._rows(
                "SELECT doc_id, topic, score, manual FROM doc_topics "
                'ORDER BY manual DESC, score DESC, topic COLLATE "C"'):
            out.setdefault(doc_id, []).append((topic, score, bool(manual)))
        return out

    @_db_call(retry=False)
    def set_entities(self, doc_id: str, rows: Sequence[tuple[str, str, str | None, int, str]]) -> None:
        with self.db.transaction():
            self._write_entities(doc_id, rows)

    def _write_entities(self, doc_id: str, rows: Sequence[tuple[str, str, str | None, int, str]]) -> None:
        self.db.execute("DELETE FROM entity_mentions WHERE doc_id = %s", (doc_id,))
        with self.db.cursor() as cur:  # a repeated (entity, role): the last one wins, as in SQLite
            cur.executemany(
                "INSERT INTO entity_mentions(doc_id, entity, kind, parent, mentions, role) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (doc_id, entity, role) DO UPDATE SET "
                "kind = excluded.kind, parent = excluded.parent, mentions = excluded.mentions",
                [(doc_id, *r) for r in rows])

    @_db_call(retry=True)
    def entity_rows(self) -> list[dict[str, Any]]:
        return self._dicts(
            "SELECT e.doc_id, e.entity, e.kind, e.parent, e.mentions, e.role, d.date, d.duplicate_of "
            "FROM entity_mentions e JOIN documents d ON d.id = e.doc_id")

    @_db_call(retry=False)
    def add_metrics(self, doc_id: str, values: dict[str, float], origin: str) -> None:
        with self.db.transaction():
            self._upsert_metrics(doc_id, values, origin)

    def _upsert_metrics(self, doc_id: str, values: dict[str, float], origin: str) -> None:
        if not values:
            return
        self.db.execute(
            "INSERT INTO metrics(doc_id, name, value, origin) SELECT %s, m.name, m.value, %s "
            "FROM unnest(%s::text[], %s::float8[]) AS m(name, value) "
            "ON CONFLICT (doc_id, name) DO UPDATE SET value = excluded.value, origin = excluded.origin",
            (doc_id, origin, list(values), [float(v) for v in values.values()]))

    @_db_call(retry=False)
    def reset_index(self, embeddings_only: bool = False) -> None:
        with self.db.transaction():
            if embeddings_only:
                self.db.execute("UPDATE passages SET embedding = NULL, embedded = false "
                                "WHERE embedding IS NOT NULL OR embedded")
            else:
                self.db.execute("DELETE FROM passages")

    @_db_call(retry=False)
    def set_links(self, links: Sequence[DocLink]) -> None:
        with self.db.transaction():
            self.db.execute("DELETE FROM doc_links")
            self.db.execute(
                "INSERT INTO doc_links(source_id, target_id, how, evidence) SELECT * FROM "
                "unnest(%s::text[], %s::text[], %s::text[], %s::text[]) ON CONFLICT DO NOTHING",
                ([lk.source_id for lk in links], [lk.target_id for lk in links],
                 [lk.how for lk in links], [lk.evidence for lk in links]))

    @_db_call(retry=True)
    def links(self, doc_id: str | None = None) -> list[DocLink]:
        sql = "SELECT source_id, target_id, how, evidence FROM doc_links"
        order = ' ORDER BY source_id COLLATE "C", target_id COLLATE "C"'
        if doc_id is None:
            rows = self._rows(sql + order)
        else:
            rows = self._rows(sql + " WHERE source_id = %s OR target_id = %s" + order, (doc_id, doc_id))
        return [DocLink(*r) for r in rows]

    @_db_call(retry=True)
    def integrity_check(self) -> str:
        """'ok' when the keyword statistics agree with the passages and the embedded flags with
        the vectors; else what disagrees."""
        r = self.db.execute(
            "SELECT (SELECT count(*) FROM passages), (SELECT passages FROM bm25_corpus), "
            "(SELECT count(*) FROM bm25_passages), (SELECT terms FROM bm25_corpus), "
            "(SELECT coalesce(sum(n_terms), 0) FROM bm25_passages), "
            "(SELECT count(*) FROM passages WHERE embedded <> (embedding IS NOT NULL)), "
            "(SELECT count(*) FROM bm25_passages b LEFT JOIN passages p ON p.id = b.passage_id "
            " WHERE p.id IS NULL)").fetchone()
        assert r is not None
        problems = []
        if not r[0] == r[1] == r[2]:
            problems.append(f"passages {r[0]}, keyword statistics {r[1]}/{r[2]}")
        if r[3] != r[4]:
            problems.append(f"term total {r[3]} but passages hold {r[4]}")
        if r[5]:
            problems.append(f"{r[5]} passages with a wrong embedded flag")
        if r[6]:
            problems.append(f"{r[6]} keyword statistics rows without a passage")
        return "; ".join(problems) or "ok"

    def close(self) -> None:
        """Close the idle connections (a call still running closes its own when it ends)."""
        self._pool.clear()


def _json_dumps(obj: Any) -> str:
    import json

    return json.dumps(obj, ensure_ascii=False, default=str)


def _document(r: dict[str, Any], metrics: dict[str, float]) -> Document:
    turns = r.get("turns") or []
    doc = Document(
        id=r["id"], kind=r["kind"], source=r["source"], position=r["position"] or "",
        text=r["text"], title=r["title"], subtitle=r["subtitle"], date=r["date"],
        url=r["url"] or r["linked_url"], authors=list(r["authors"] or []),
        speakers=list(r["speakers"] or []), audience=r["audience"],
        comments=list(r["comments"] or []), turns=[Turn(**t) for t in turns],
        metadata=dict(r["metadata"] or {}), is_draft=bool(r["is_draft"]),
        duplicate_of=r["duplicate_of"])
    if r["linked_url"] and not r["url"]:
        doc.metadata["url_basis"] = "from a linked copy"
    doc.metrics = metrics
    return doc
