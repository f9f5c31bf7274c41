"""A Store on a PostgreSQL server: tsvector + BM25 statistics for keywords, pgvector for vectors.

Several processes (ingests, MCP and web servers, one per writer) share one library database.
What both stores share (filters, documents, corrections, stats...) is store/core.py; this
module keeps connections, the keyword index and vectors; the schema is in postgres_schema.py.
Design notes:
- A psycopg_pool pool of at most POOL_SIZE connections in autocommit mode, opened on first use:
  each store call borrows one for its length (servers answer from worker threads, which come and
  go), and each write is one explicit transaction.
- A lost connection (server restart, network) is dropped and the idle ones are checked (after a
  restart they are all dead); reads are retried once on a fresh connection, writes fail with a
  BacklistError (their transaction was rolled back) and the next call reconnects.
- Writes of one source are serialised across processes by transaction-level advisory locks on
  the source path (record_source, write_document) and on the document id (write_document).
- Vector search is exact (a scan) below EXACT_BELOW embedded passages, HNSW above it, with
  hnsw.ef_search = max(EF_SEARCH, k).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import psycopg
from pgvector import Vector
from pgvector.psycopg import register_vector
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from backlist.errors import BacklistError
from backlist.model import Document, Passage
from backlist.store import postgres_schema as ps
from backlist.store.base import TITLE_WEIGHT, KeywordQuery, PassageHit
from backlist.store.core import Dialect, SqlStore, T, plan_passages, store_call

EF_SEARCH = 100  # HNSW candidate list: recall@10 measured in benchmarks/pg_bench.py
EXACT_BELOW = 1_000  # passages; measured (pg_bench): exact 24 ms at 2k, 56 ms at 6k; HNSW 6-7 ms
CONNECT_TIMEOUT = 10
BULK_FROM = 20_000  # passages left to embed: load without the HNSW index, build it after
POOL_SIZE = 8  # connections per store, whatever the number of threads
POOL_TIMEOUT = 60.0

def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _vec(blob: bytes) -> Vector:
    return Vector(np.frombuffer(blob, dtype=np.float32))


def _blob(value: Any) -> bytes:
    arr = value.to_numpy() if isinstance(value, Vector) else np.asarray(value)
    return arr.astype(np.float32).tobytes()


def _json_dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)


POSTGRES = Dialect(name="postgres", json_param=lambda v: Jsonb(v, dumps=_json_dumps),
                   json_decoded=True, like_ci="ILIKE ? ESCAPE ''", collate_c=' COLLATE "C"',
                   list_param=True)


class PostgresStore(SqlStore):
    """A library in one PostgreSQL database (dsn: a postgresql:// URL or a libpq string)."""

    dialect = POSTGRES

    def __init__(self, dsn: str, read_only: bool = False, pool_size: int = POOL_SIZE) -> None:
        self.dsn = dsn
        self.read_only = read_only
        self._local = threading.local()
        self._pool_size = pool_size
        self._pool_lock = threading.Lock()
        self._pool: ConnectionPool[psycopg.Connection[Any]] | None = None
        try:
            self._prepare()
        except psycopg.Error as exc:
            raise BacklistError(f"PostgreSQL: cannot open the library database "
                                f"({_first_line(exc)})") from exc

    # --- connections ------------------------------------------------------------------------
    @staticmethod
    def _connect_kwargs(read_only: bool) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"autocommit": True, "connect_timeout": CONNECT_TIMEOUT,
                                  "application_name": "backlist"}
        if read_only:
            kwargs["options"] = "-c default_transaction_read_only=on"
        return kwargs

    def _open(self, read_only: bool) -> psycopg.Connection[Any]:
        return psycopg.connect(self.dsn, **self._connect_kwargs(read_only))

    def _prepare(self) -> None:
        """Create or upgrade the schema (writers; readers ask a writer connection once)."""
        with self._open(read_only=False) as conn:
            version = ps.schema_version(conn)
            if self.read_only and version == 0:
                raise BacklistError("PostgreSQL: no library in this database yet "
                                    "(run `backlist ingest` first)")
            if version < ps.SCHEMA_VERSION:
                ps.apply_migrations(conn)
        self._connections().check()  # open one now, so errors surface here

    def _connections(self) -> ConnectionPool[psycopg.Connection[Any]]:
        """The pool, opened on first use (and again after close())."""
        with self._pool_lock:
            if self._pool is None:
                self._pool = ConnectionPool(
                    self.dsn, kwargs=self._connect_kwargs(self.read_only), min_size=1,
                    max_size=self._pool_size, timeout=POOL_TIMEOUT, configure=register_vector,
                    num_workers=1, name="backlist", open=False)
                self._pool.open(wait=True, timeout=CONNECT_TIMEOUT)
            return self._pool

    @contextmanager
    def _checked_out(self) -> Iterator[psycopg.Connection[Any]]:
        pool = self._connections()
        try:
            conn = pool.getconn()
        except PoolTimeout as exc:
            raise BacklistError(f"PostgreSQL: no free connection after {POOL_TIMEOUT:.0f} s") from exc
        self._local.conn = conn
        try:
            yield conn
        finally:
            self._local.conn = None
            pool.putconn(conn)  # the pool drops a broken one and rolls back an open transaction

    @property
    def db(self) -> psycopg.Connection[Any]:
        """The connection of the store call running in this thread."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            raise RuntimeError("PostgresStore.db is only there inside a store method")
        return conn

    # --- the primitives store/core.py builds on ---------------------------------------------------
    def _call(self, fn: Callable[[], T], retry: bool) -> T:
        """Run one store call on a pooled connection (nested calls share it) and turn driver
        errors into BacklistErrors. A lost connection is thrown away with the idle ones (after a
        server restart they are all dead); a read is then tried once more on a fresh one."""
        if getattr(self._local, "conn", None) is not None:  # inside another store call
            return fn()
        attempts = 2 if retry else 1
        for attempt in range(attempts):
            try:
                with self._checked_out():
                    return fn()
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                self._connections().check()  # after a server restart every idle one is dead
                if attempt + 1 < attempts:
                    continue
                raise BacklistError(f"PostgreSQL: lost the connection to the library database "
                                    f"({_first_line(exc)}); try again") from exc
            except psycopg.Error as exc:
                raise BacklistError(f"PostgreSQL: {_first_line(exc)}") from exc
        raise AssertionError("unreachable")

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return self._dicts(sql.replace("?", "%s"), list(params))

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.db.execute(sql.replace("?", "%s"), list(params))

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            with self.db.cursor() as cur:
                cur.executemany(sql.replace("?", "%s"), rows)

    def _transaction(self) -> Any:
        return self.db.transaction()

    def _lock(self, key: str) -> None:
        """A transaction-level advisory lock on a name (a source path, a document id)."""
        self.db.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,))

    def _extra_columns(self, doc: Document) -> dict[str, Any]:
        """The reader's first author and publication (columns for several writers in one
        database; filters use the authors list)."""
        publication = doc.metadata.get("publication") or doc.metadata.get("site")
        return {"author": doc.authors[0] if doc.authors else None,
                "publication": str(publication) if publication else None}

    def _replace_passages(self, doc: Document, passages: Sequence[Passage], title: str) -> int:
        old = self._rows("SELECT id, hash FROM passages WHERE doc_id = %s", (doc.id,))
        kept, new, gone = plan_passages([(r[0], r[1]) for r in old], passages)
        if gone:
            self.db.execute("DELETE FROM passages WHERE id = ANY(%s)", (gone,))
        if kept:
            self.db.execute(
                'UPDATE passages p SET idx = k.idx, start = k.s, "end" = k.e, speaker = k.sp, '
                "title = %s FROM unnest(%s::bigint[], %s::int[], %s::int[], %s::int[], %s::text[]) "
                "AS k(id, idx, s, e, sp) WHERE p.id = k.id",
                (title, [pid for pid, _ in kept], [p.idx for _, p in kept],
                 [p.start for _, p in kept], [p.end for _, p in kept], [p.speaker for _, p in kept]))
        if new:
            self.db.execute(
                'INSERT INTO passages(doc_id, idx, text, start, "end", speaker, hash, title) '
                "SELECT %s, n.idx, n.t, n.s, n.e, n.sp, n.h, %s FROM unnest(%s::int[], %s::text[], "
                "%s::int[], %s::int[], %s::text[], %s::text[]) WITH ORDINALITY AS n(idx, t, s, e, sp, h, o) "
                "ORDER BY n.o",
                (doc.id, title, [p.idx for p, _ in new], [p.text for p, _ in new],
                 [p.start for p, _ in new], [p.end for p, _ in new], [p.speaker for p, _ in new],
                 [h for _, h in new]))
        return len(new)

    def _set_search_title(self, doc_id: str, title: str) -> None:
        self.db.execute("UPDATE passages SET title = %s WHERE doc_id = %s AND title <> %s",
                        (title, doc_id, title))

    def _rows(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        return self.db.execute(sql, params).fetchall()

    def _dicts(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        with self.db.cursor(row_factory=dict_row) as cur:
            return cur.execute(sql, params).fetchall()

    def _one(self, sql: str, params: Any = None) -> Any:
        row = self.db.execute(sql, params).fetchone()
        return row[0] if row else None


    @property
    @store_call(retry=True)
    def schema_version(self) -> int:
        return ps.schema_version(self.db)

    # --- the keyword index and vectors -----------------------------------------------------

    @store_call(retry=False)
    def ensure_vectors(self, dim: int, model: str) -> None:
        """Make the vector column fit this model, or start it afresh if the model changed."""
        if (self.get_meta("embed_model") == model and self.get_meta("embed_dim") == str(int(dim))
                and ps.embedding_dim(self.db) == int(dim)):
            return
        with self.db.transaction():
            ps.set_embedding_dim(self.db, dim)
            self.db.execute("UPDATE passages SET embedding = NULL, embedded = false "
                            "WHERE embedding IS NOT NULL OR embedded")
            self.set_meta("embed_model", model)
            self.set_meta("embed_dim", str(int(dim)))

    @store_call(retry=False)
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
                self._lock("hnsw")
                self.db.execute(f"DROP INDEX IF EXISTS {ps.HNSW_INDEX}")

    def _after_load(self) -> None:
        if not self._has_hnsw() and not self._one("SELECT count(*) FROM passages WHERE NOT embedded"):
            self._build_hnsw()

    def _has_hnsw(self) -> bool:
        return bool(self._one("SELECT to_regclass(%s) IS NOT NULL", (ps.HNSW_INDEX,)))

    def _build_hnsw(self) -> None:
        with self.db.transaction():
            self._lock("hnsw")
            self.db.execute("SET LOCAL maintenance_work_mem = '256MB'")
            self.db.execute(f"CREATE INDEX IF NOT EXISTS {ps.HNSW_INDEX} ON passages "
                            "USING hnsw (embedding vector_cosine_ops)")

    def export_vectors(self, batch: int = 2000) -> Iterator[list[tuple[str, int, bytes]]]:
        """Every stored vector as (doc id, passage idx, float32 blob), in batches (by id)."""
        last = 0
        while rows := self._vector_batch(last, batch):
            last = rows[-1][0]
            yield [(r[1], r[2], r[3]) for r in rows]

    @store_call(retry=True)
    def _vector_batch(self, after: int, limit: int) -> list[tuple[int, str, int, bytes]]:
        return [(r[0], r[1], r[2], _blob(r[3])) for r in self._rows(
            "SELECT id, doc_id, idx, embedding FROM passages WHERE embedding IS NOT NULL AND id > %s "
            "ORDER BY id LIMIT %s", (after, limit))]

    @store_call(retry=False)
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

    @store_call(retry=True)
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

    @store_call(retry=True)
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

    @store_call(retry=True)
    def passage_count(self) -> int:
        return int(self._one("SELECT passages FROM bm25_corpus"))  # kept exact by triggers

    @store_call(retry=True)
    def keyword_count(self, query: KeywordQuery) -> int:
        if not query:
            return 0
        expr, params = ps.tsquery_sql(query.terms, query.phrases, query.prefixes, query.require_all)
        return self._one(f"SELECT count(*) FROM passages WHERE tsv @@ {expr}", params)

    @store_call(retry=True)
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
    @store_call(retry=True)
    def doc_vectors(self) -> dict[str, list[bytes]]:
        """Every document's passage vectors (raw float32 blobs), for topic clustering."""
        out: dict[str, list[bytes]] = {}
        for doc_id, emb in self._rows("SELECT doc_id, embedding FROM passages "
                                      "WHERE embedding IS NOT NULL ORDER BY id"):
            out.setdefault(doc_id, []).append(_blob(emb))
        return out

    @store_call(retry=False)
    def reset_index(self, embeddings_only: bool = False) -> None:
        with self.db.transaction():
            if embeddings_only:
                self.db.execute("UPDATE passages SET embedding = NULL, embedded = false "
                                "WHERE embedding IS NOT NULL OR embedded")
            else:
                self.db.execute("DELETE FROM passages")

    @store_call(retry=True)
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
        """Close the pool's connections (the store opens a new pool if it is used again)."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
