"""The default Store: one SQLite file in WAL mode, FTS5 for keywords, sqlite-vec for vectors.

What both stores share (filters, documents, corrections, stats...) is store/core.py; this
module keeps connections, the schema, the keyword index and vectors."""

from __future__ import annotations

import contextlib
import re
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import sqlite_vec

from backlist.errors import BacklistError
from backlist.model import Document, Passage
from backlist.store.base import TITLE_WEIGHT, KeywordQuery, PassageHit
from backlist.store.core import SQLITE, SqlStore, T, plan_passages
from backlist.store.sqlite_driver import sqlite3

SCAN_FROM = 20_000  # passages; from here on, vector search is a matrix product in memory
_V1 = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS sources (
  path TEXT PRIMARY KEY, kind TEXT NOT NULL, fingerprint TEXT NOT NULL,
  ingested_at TEXT NOT NULL, documents INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, source TEXT NOT NULL, position TEXT,
  title TEXT, subtitle TEXT, date TEXT, url TEXT, authors TEXT, speakers TEXT, audience TEXT,
  text TEXT NOT NULL, comments TEXT, turns TEXT, metadata TEXT, words INTEGER NOT NULL,
  content_hash TEXT NOT NULL, is_draft INTEGER NOT NULL DEFAULT 0, duplicate_of TEXT,
  linked_url TEXT, ingested_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS documents_source ON documents(source);
CREATE INDEX IF NOT EXISTS documents_date ON documents(date);
CREATE INDEX IF NOT EXISTS documents_filter ON documents(is_draft, kind, date, id);
CREATE INDEX IF NOT EXISTS documents_copies ON documents(duplicate_of, id)
  WHERE duplicate_of IS NOT NULL;
CREATE TABLE IF NOT EXISTS metrics (
  doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE, name TEXT NOT NULL,
  value REAL NOT NULL, origin TEXT, PRIMARY KEY (doc_id, name));
CREATE TABLE IF NOT EXISTS passages (
  id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL, text TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
  speaker TEXT, hash TEXT NOT NULL, embedded INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS passages_doc ON passages(doc_id);
CREATE INDEX IF NOT EXISTS passages_unembedded ON passages(embedded) WHERE embedded = 0;
CREATE TABLE IF NOT EXISTS doc_topics (
  doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE, topic TEXT NOT NULL,
  score REAL NOT NULL, manual INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (doc_id, topic));
CREATE TABLE IF NOT EXISTS entity_mentions (
  doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE, entity TEXT NOT NULL,
  kind TEXT NOT NULL, parent TEXT, mentions INTEGER NOT NULL, role TEXT NOT NULL DEFAULT 'mention',
  PRIMARY KEY (doc_id, entity, role));
CREATE VIRTUAL TABLE IF NOT EXISTS passages_fts USING fts5(
  text, title, tokenize = 'porter unicode61 remove_diacritics 2', prefix = '2 3');
"""
_V2 = """
CREATE TABLE IF NOT EXISTS doc_links (
  source_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  target_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  how TEXT NOT NULL, evidence TEXT NOT NULL, PRIMARY KEY (source_id, target_id));
CREATE INDEX IF NOT EXISTS doc_links_target ON doc_links(target_id);
CREATE INDEX IF NOT EXISTS passages_speaker ON passages(speaker) WHERE speaker IS NOT NULL;
"""
# What the library knows beyond the readers (store/core.py): date bounds, other titles, where
# each value came from, the reading flag, the readers' own values; and the writer's corrections,
# with no foreign key: re-ingest deletes and rewrites documents, a correction outlives that.
_V3 = """
ALTER TABLE documents ADD COLUMN date_earliest TEXT;
ALTER TABLE documents ADD COLUMN date_latest TEXT;
ALTER TABLE documents ADD COLUMN aliases TEXT;
ALTER TABLE documents ADD COLUMN basis TEXT;
ALTER TABLE documents ADD COLUMN reading INTEGER NOT NULL DEFAULT 0;
ALTER TABLE documents ADD COLUMN reader_fields TEXT;
UPDATE documents SET reader_fields = json_object('title', title, 'subtitle', subtitle,
  'date', date, 'url', url, 'kind', kind, 'authors', json(coalesce(authors, '[]')))
  WHERE reader_fields IS NULL;
CREATE TABLE IF NOT EXISTS corrections (
  doc_id TEXT NOT NULL, field TEXT NOT NULL, value TEXT, at TEXT NOT NULL,
  PRIMARY KEY (doc_id, field));
"""
# Ordered schema steps; a library at user_version N runs the steps after N, each in one
# transaction, so an old library is upgraded in place and a half-created one is completed.
MIGRATIONS: list[tuple[int, str]] = [(1, _V1), (2, _V2), (3, _V3)]
SCHEMA_VERSION = MIGRATIONS[-1][0]


def fts_match(q: KeywordQuery) -> str:
    """A KeywordQuery in FTS5 syntax: every word quoted, so no user text is read as syntax."""
    def word(w: str) -> str:
        return '"' + w.replace('"', " ") + '"'

    parts = [word(t) for t in q.terms]
    parts += ['"' + " ".join(w.replace('"', " ") for w in ph) + '"' for ph in q.phrases if ph]
    parts += [word(p) + "*" for p in q.prefixes]
    return (" AND " if q.require_all else " OR ").join(dict.fromkeys(parts))


class SQLiteStore(SqlStore):
    """One connection per thread (sqlite3 connections must not be shared by threads that run
    statements at once: MCP and web servers answer tool calls in worker threads)."""

    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._local = threading.local()
        self._conns: list[tuple[weakref.ref[threading.Thread], Any]] = []
        self._conns_lock = threading.Lock()
        self._matrix = None
        self._matrix_lock = threading.Lock()
        if read_only:
            self._upgrade_if_needed()
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db  # noqa: B018 - open (and for writers migrate) now, so errors surface here

    @property
    def db(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect(self.read_only)
            self._local.conn = conn
            with self._conns_lock:
                self._close_dead_threads()
                self._conns.append((weakref.ref(threading.current_thread()), conn))
        return conn

    def _close_dead_threads(self) -> None:
        """Servers' worker threads come and go: close the connections of finished ones."""
        alive = []
        for ref, conn in self._conns:
            thread = ref()
            if thread is not None and thread.is_alive():
                alive.append((ref, conn))
            else:
                with contextlib.suppress(sqlite3.ProgrammingError):
                    conn.close()
        self._conns = alive

    def _connect(self, read_only: bool):
        try:
            if read_only:
                conn = sqlite3.connect(_ro_uri(self.path), uri=True,
                                       check_same_thread=False, timeout=30)
            else:
                conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
            conn.row_factory = sqlite3.Row
            conn.enable_load_extension(True)
            sqlite_vec.load(conn)
            conn.enable_load_extension(False)
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA busy_timeout = 30000")
            if not read_only:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                migrate(conn)
        except sqlite3.DatabaseError as exc:
            raise BacklistError(f"{self.path}: not a usable backlist library ({exc})") from exc
        return conn

    def _upgrade_if_needed(self) -> None:
        """Readers cannot migrate; an older library is upgraded once by a writing connection."""
        try:
            conn = sqlite3.connect(_ro_uri(self.path), uri=True, timeout=30)
            version = _schema_version(conn)
            conn.close()
        except sqlite3.DatabaseError as exc:
            raise BacklistError(f"{self.path}: not a usable backlist library ({exc})") from exc
        if version < SCHEMA_VERSION:
            try:
                self._connect(read_only=False).close()
            except (BacklistError, sqlite3.DatabaseError) as exc:
                raise BacklistError(f"{self.path}: written by an older backlist and cannot be "
                                    f"upgraded here ({exc})") from exc

    @property
    def schema_version(self) -> int:
        return _schema_version(self.db)

    # --- the primitives store/core.py builds on -------------------------------------------------
    dialect = SQLITE

    def _call(self, fn: Callable[[], T], retry: bool) -> T:
        return fn()

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.execute(sql, params)]

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.db.execute(sql, params)

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.db.executemany(sql, rows)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One transaction; a nested one joins the outer one (sqlite3's own context manager
        would commit at the inner exit)."""
        if getattr(self._local, "in_tx", False):
            yield
            return
        self._local.in_tx = True
        try:
            with self.db:
                yield
        finally:
            self._local.in_tx = False

    def _replace_passages(self, doc: Document, passages: Sequence[Passage], title: str) -> int:
        old = [(r["id"], r["hash"]) for r in self.db.execute(
            "SELECT id, hash FROM passages WHERE doc_id = ?", (doc.id,))]
        kept, new, gone = plan_passages(old, passages)
        for pid, p in kept:
            self.db.execute("UPDATE passages SET idx=?, start=?, end=?, speaker=? WHERE id=?",
                            (p.idx, p.start, p.end, p.speaker, pid))
            self.db.execute("UPDATE passages_fts SET title = ? WHERE rowid = ?", (title, pid))
        for p, h in new:
            cur = self.db.execute(
                "INSERT INTO passages(doc_id, idx, text, start, end, speaker, hash) "
                "VALUES (?,?,?,?,?,?,?)", (doc.id, p.idx, p.text, p.start, p.end, p.speaker, h))
            self.db.execute("INSERT INTO passages_fts(rowid, text, title) VALUES (?,?,?)",
                            (cur.lastrowid, p.text, title))
        for pid in gone:
            self._delete_passage(pid)
        return len(new)

    def _set_search_title(self, doc_id: str, title: str) -> None:
        self.db.execute("UPDATE passages_fts SET title = ? WHERE rowid IN "
                        "(SELECT id FROM passages WHERE doc_id = ?)", (title, doc_id))

    def _forget_passages(self, doc_ids: Sequence[str]) -> None:
        for doc_id in doc_ids:
            for (pid,) in self.db.execute("SELECT id FROM passages WHERE doc_id = ?",
                                          (doc_id,)).fetchall():
                self._delete_passage(pid)

    def _delete_passage(self, pid: int) -> None:
        self.db.execute("DELETE FROM passages_fts WHERE rowid = ?", (pid,))
        if self._has_vec():
            self.db.execute("DELETE FROM passages_vec WHERE rowid = ?", (pid,))
        self.db.execute("DELETE FROM passages WHERE id = ?", (pid,))
        self._matrix = None

    # --- the keyword index and vectors -----------------------------------------------------

    def _has_vec(self) -> bool:
        return self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'passages_vec'"
                               ).fetchone() is not None

    def ensure_vectors(self, dim: int, model: str) -> None:
        """Create the vector table for this model, or start it afresh if the model changed."""
        if self.get_meta("embed_model") == model and self._has_vec():
            return
        with self.db:
            self.db.execute("DROP TABLE IF EXISTS passages_vec")
            self.db.execute(f"CREATE VIRTUAL TABLE passages_vec USING vec0("
                            f"embedding float[{int(dim)}] distance_metric=cosine)")
            self.db.execute("UPDATE passages SET embedded = 0")
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('embed_model', ?)", (model,))
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('embed_dim', ?)", (str(dim),))

    def save_embeddings(self, rows: Sequence[tuple[int, bytes]]) -> None:
        with self.db:
            for pid, vec in rows:
                if self.db.execute("SELECT 1 FROM passages WHERE id = ?", (pid,)).fetchone() is None:
                    continue  # the passage went away while it was being embedded
                self.db.execute("DELETE FROM passages_vec WHERE rowid = ?", (pid,))
                self.db.execute("INSERT INTO passages_vec(rowid, embedding) VALUES (?, ?)",
                                (pid, vec))
                self.db.execute("UPDATE passages SET embedded = 1 WHERE id = ?", (pid,))
        self._matrix = None

    def keyword_search(self, query: KeywordQuery, k: int) -> list[PassageHit]:
        if not query:
            return []
        # Rank inside FTS5 first, join afterwards: the join then touches only k rows.
        rows = self.db.execute(
            "SELECT f.rowid, p.doc_id, f.s, p.speaker FROM (SELECT rowid, "
            f"bm25(passages_fts, 1.0, {TITLE_WEIGHT}) AS s FROM passages_fts WHERE passages_fts MATCH ? "
            "ORDER BY s LIMIT ?) f JOIN passages p ON p.id = f.rowid ORDER BY f.s",
            (fts_match(query), k)).fetchall()
        return [PassageHit(r[0], r[1], -r[2], i, r[3]) for i, r in enumerate(rows)]

    def vector_search(self, vector: bytes, k: int) -> list[PassageHit]:
        """Exact cosine KNN. Small libraries ask sqlite-vec; from SCAN_FROM passages up, one
        matrix product over the vectors held in memory is an order of magnitude faster than
        sqlite-vec's row-by-row scan (the vectors still live in, and load from, sqlite-vec)."""
        if not self._has_vec():
            return []
        if self.passage_count() < SCAN_FROM:
            rows = self.db.execute(
                "SELECT v.rowid, p.doc_id, v.distance, p.speaker FROM passages_vec v "
                "JOIN passages p ON p.id = v.rowid WHERE v.embedding MATCH ? AND k = ? "
                "ORDER BY v.distance", (vector, k)).fetchall()
            return [PassageHit(r[0], r[1], 1.0 - r[2], i, r[3]) for i, r in enumerate(rows)
                    if r[2] is not None]  # a zero query vector has no cosine distance
        ids, docs, speakers, mat = self._vector_matrix()
        if not len(ids):
            return []
        scores = mat @ np.frombuffer(vector, dtype=np.float32)
        k = min(k, len(ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [PassageHit(int(ids[i]), docs[i], float(scores[i]), n, speakers[i])
                for n, i in enumerate(top)]

    def _vector_matrix(self):
        """All vectors as one matrix, shared read-only by every thread, reloaded when the
        library has changed since (the count of passages and the largest id and embedded
        flag tell, across connections and processes)."""
        stamp = tuple(self.db.execute(
            "SELECT COUNT(*), COALESCE(MAX(id), 0), COALESCE(SUM(embedded), 0) FROM passages"
        ).fetchone())
        with self._matrix_lock:
            if self._matrix is None or self._matrix[0] != stamp:
                rows = self.db.execute(
                    "SELECT v.rowid, p.doc_id, p.speaker, v.embedding FROM passages_vec v "
                    "JOIN passages p ON p.id = v.rowid").fetchall()
                dim = int(self.get_meta("embed_dim") or 384)
                mat = np.frombuffer(b"".join(r[3] for r in rows), dtype=np.float32).reshape(-1, dim)
                mat.setflags(write=False)
                self._matrix = (stamp, np.array([r[0] for r in rows]), [r[1] for r in rows],
                                [r[2] for r in rows], mat)
            return self._matrix[1:]

    def passage_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM passages").fetchone()[0]

    def keyword_count(self, query: KeywordQuery) -> int:
        if not query:
            return 0
        return self.db.execute("SELECT COUNT(*) FROM passages_fts WHERE passages_fts MATCH ?",
                               (fts_match(query),)).fetchone()[0]

    def term_frequencies(self, words: Sequence[str]) -> dict[str, int]:
        """How many passages hold each word, after the index's own stemming (FTS5 porter).

        The words are run through a scratch FTS5 table with the same tokenizer, so the stems
        are exactly the index's; their counts come from an fts5vocab view of the index."""
        if not words:
            return {}
        if not getattr(self._local, "vocab_ready", False):  # temp tables are per connection
            self.db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.term_df "
                            "USING fts5vocab(main, passages_fts, row)")
            self.db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.stem_probe USING fts5("
                            "t, tokenize = 'porter unicode61 remove_diacritics 2')")
            self.db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.stem_probe_v "
                            "USING fts5vocab(temp, stem_probe, instance)")
            self._local.vocab_ready = True
        out: dict[str, int] = {}
        with self.db:
            for word in dict.fromkeys(words):
                self.db.execute("INSERT INTO temp.stem_probe(rowid, t) VALUES (1, ?)", (word,))
                stems = [r[0] for r in self.db.execute("SELECT term FROM temp.stem_probe_v")]
                self.db.execute("DELETE FROM temp.stem_probe")
                counts = [(self.db.execute("SELECT doc FROM temp.term_df WHERE term = ?",
                                           (st,)).fetchone() or (0,))[0] for st in stems]
                out[word] = max(counts, default=0)
        return out

    # --- analysis tables ----------------------------------------------------------------
    def doc_vectors(self) -> dict[str, list[bytes]]:
        """Every document's passage vectors (raw float32 blobs), for topic clustering."""
        if not self._has_vec():
            return {}
        out: dict[str, list[bytes]] = {}
        for doc_id, blob in self.db.execute(
                "SELECT p.doc_id, v.embedding FROM passages p JOIN passages_vec v ON v.rowid = p.id"):
            out.setdefault(doc_id, []).append(blob)
        return out

    def reset_index(self, embeddings_only: bool = False) -> None:
        with self.db:
            if self._has_vec():
                self.db.execute("DELETE FROM passages_vec")
            self._matrix = None
            self.db.execute("UPDATE passages SET embedded = 0")
            if not embeddings_only:
                self.db.execute("DELETE FROM passages_fts")
                self.db.execute("DELETE FROM passages")

    def export_vectors(self, batch: int = 2000) -> Iterator[list[tuple[str, int, bytes]]]:
        if not self._has_vec():
            return
        last = 0
        while rows := self.db.execute(
                "SELECT v.rowid, p.doc_id, p.idx, v.embedding FROM passages_vec v "
                "JOIN passages p ON p.id = v.rowid WHERE v.rowid > ? ORDER BY v.rowid LIMIT ?",
                (last, batch)).fetchall():
            last = rows[-1][0]
            yield [(r[1], r[2], bytes(r[3])) for r in rows]

    def import_vectors(self, rows: Sequence[tuple[str, int, bytes]]) -> int:
        keys = {(r[0], r[1]): r[2] for r in rows}
        doc_ids = sorted({k[0] for k in keys})
        if not doc_ids:
            return 0
        found = [(pid, keys[(doc_id, idx)]) for pid, doc_id, idx in self.db.execute(
            f"SELECT id, doc_id, idx FROM passages WHERE doc_id IN ({','.join('?' * len(doc_ids))})",
            doc_ids) if (doc_id, idx) in keys]
        self.save_embeddings(found)
        return len(found)

    def integrity_check(self) -> str:
        rows = [r[0] for r in self.db.execute("PRAGMA integrity_check")]
        return "ok" if rows == ["ok"] else "; ".join(rows)

    def close(self) -> None:
        with self._conns_lock:
            conns, self._conns = [c for _, c in self._conns], []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.ProgrammingError:
                pass
        self._local = threading.local()


def _ro_uri(path: Path) -> str:
    """A read-only SQLite URI; the path is percent-encoded so '#', '?' or '%' in a folder name
    cannot cut it short (and open, or create, another file)."""
    return "file:" + quote(str(path.resolve())) + "?mode=ro"


def _schema_version(conn) -> int:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == 0:  # libraries from before migrations kept their version in meta
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.OperationalError:
            row = None
        version = int(row[0]) if row and str(row[0]).isdigit() else 0
    return version


def migrate(conn) -> int:
    """Run the schema steps this library has not had yet; returns the version reached."""
    current = _schema_version(conn)
    for version, script in MIGRATIONS:
        if version <= current:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(script):
                if not _adds_existing_column(conn, statement):
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)",
                         (str(version),))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        current = version
    if conn.execute("PRAGMA user_version").fetchone()[0] != current:
        conn.execute(f"PRAGMA user_version = {current}")
    return current


_ADD_COLUMN = re.compile(r"ALTER TABLE (\w+) ADD COLUMN (\w+)", re.IGNORECASE)


def _adds_existing_column(conn, statement: str) -> bool:
    """SQLite has no ADD COLUMN IF NOT EXISTS: a step re-run on a library that has the column
    (its version was lost or set back) skips the statement, so every step is idempotent."""
    m = _ADD_COLUMN.match(statement)
    if m is None:
        return False
    return any(r[1] == m.group(2) for r in conn.execute(f"PRAGMA table_info({m.group(1)})"))


def _statements(script: str) -> list[str]:
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    return [s for s in out if s]

