"""The scratch PostgreSQL server, the PostgreSQL schema, HNSW cosine search and full-text search,
against a real server this module starts (scripts/setup-postgres.sh installs one)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import psycopg
import pytest
from pg_server import PgServer
from pgvector.psycopg import register_vector

from backlist.store import postgres_schema as ps

DIM = 384

DOCS = [
    ("essay-1", "On Writing Daily", "Ann Author", "The Daily"),
    ("essay-2", "Gardens and Machines", "Ben Writer", "Field Notes"),
]
PASSAGES = [  # (doc_id, idx, text)
    ("essay-1", 0, "I write every morning before the house wakes up, a habit I kept for ten years."),
    ("essay-1", 1, "Revision is where the real writing happens; the first draft only finds the shape."),
    ("essay-2", 0, "Machine learning models learn patterns from data, much as a gardener learns soil."),
    ("essay-2", 1, "The tomato plants grew wild this summer, climbing over the old fence."),
    ("essay-2", 2, "Large language models are trained on text scraped from the open web."),
]


def unit(i: int, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """A unit vector near basis vector i."""
    rng = np.random.default_rng(seed)
    v = rng.normal(0, noise, DIM).astype(np.float32) if noise else np.zeros(DIM, np.float32)
    v[i] += 1.0
    return v / np.linalg.norm(v)


@pytest.fixture(scope="module")
def server():
    srv = PgServer()
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def conn(server: PgServer):
    with psycopg.connect(server.create_database("lib"), autocommit=True) as c:
        assert ps.apply_migrations(c) == ps.SCHEMA_VERSION
        register_vector(c)
        for doc_id, title, author, pub in DOCS:
            c.execute("INSERT INTO documents(id, kind, source, title, author, publication, text, "
                      "words, content_hash, ingested_at, authors) "
                      "VALUES (%s, 'post', 'archive', %s, %s, %s, '', 0, 'h', 'now', %s)",
                      (doc_id, title, author, pub, psycopg.types.json.Jsonb([author])))
        title_of = {d[0]: d[1] for d in DOCS}
        with c.cursor() as cur:
            cur.executemany(
                'INSERT INTO passages(doc_id, idx, text, start, "end", hash, title, embedding, embedded) '
                "VALUES (%s, %s, %s, 0, %s, %s, %s, %s, true)",
                [(d, i, t, len(t), f"h{n}", title_of[d], unit(n, 0.01, seed=n))
                 for n, (d, i, t) in enumerate(PASSAGES)])
        yield c


def ids_for(conn, sql: str, params=()) -> list[tuple[str, int]]:
    return [(r[0], r[1]) for r in conn.execute(sql, params).fetchall()]


def test_server_started_fast_with_pgvector_and_test_settings(server: PgServer, conn) -> None:
    assert server.running
    assert server.startup_seconds is not None and server.startup_seconds < 30
    assert conn.execute("SHOW fsync").fetchone()[0] == "off"
    assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
    if os.geteuid() == 0:  # initdb refuses root: the cluster must belong to another user
        assert server.datadir.stat().st_uid != 0
        assert conn.execute("SELECT current_setting('data_directory')").fetchone()[0] == str(server.datadir)


def test_migrations_are_recorded_and_idempotent(conn) -> None:
    versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")]
    assert versions == [v for v, _ in ps.MIGRATIONS]
    assert ps.apply_migrations(conn) == ps.SCHEMA_VERSION
    assert conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == len(ps.MIGRATIONS)
    assert ps.embedding_dim(conn) == DIM
    cols = {r[0] for r in conn.execute("SELECT column_name FROM information_schema.columns "
                                       "WHERE table_name = 'documents'")}
    assert {"author", "publication", "duplicate_of", "linked_url"} <= cols
    tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"documents", "passages", "metrics", "doc_topics", "entity_mentions", "sources", "meta",
            "doc_links", "schema_version", "bm25_terms", "bm25_passages", "bm25_corpus"} <= tables


def test_hnsw_cosine_query_uses_the_index_and_finds_the_nearest(conn) -> None:
    query = unit(2, 0.01, seed=99)  # near passage 2 ("Machine learning models ...")
    sql = ("SELECT p.doc_id, p.idx, 1 - (p.embedding <=> %s) AS sim FROM passages p "
           "WHERE p.embedding IS NOT NULL ORDER BY p.embedding <=> %s LIMIT 3")
    with conn.transaction():
        conn.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + sql, (query, query)))
        rows = conn.execute(sql, (query, query)).fetchall()
    assert ps.HNSW_INDEX in plan
    assert (rows[0][0], rows[0][1]) == ("essay-2", 0)
    assert rows[0][2] > 0.9 and rows[1][2] < 0.5


def test_prefix_and_phrase_tsqueries(conn) -> None:
    base = "SELECT doc_id, idx FROM passages WHERE tsv @@ to_tsquery('english', %s) ORDER BY id"
    # Prefix: 'revis':* matches "Revision"; 'garden':* matches the title "Gardens and Machines".
    assert ids_for(conn, base, ("revis:*",)) == [("essay-1", 1)]
    assert {d for d, _ in ids_for(conn, base, ("garden:*",))} == {"essay-2"}
    # Phrase: adjacent words only.
    assert ids_for(conn, base, ("language <-> models",)) == [("essay-2", 2)]
    assert ids_for(conn, base, ("models <-> language",)) == []
    # Both, through the helper that keeps user text out of the tsquery syntax.
    expr, params = ps.tsquery_sql(phrases=[("first", "draft")], prefixes=["tomat"])
    got = ids_for(conn, f"SELECT doc_id, idx FROM passages WHERE tsv @@ {expr} ORDER BY id", params)
    assert got == [("essay-1", 1), ("essay-2", 1)]
    expr, params = ps.tsquery_sql(terms=["it's", "o'reilly & | !"], require_all=True)
    assert ids_for(conn, f"SELECT doc_id, idx FROM passages WHERE tsv @@ {expr}", params) == []


def test_websearch_to_tsquery(conn) -> None:
    sql = ("SELECT doc_id, idx FROM passages WHERE tsv @@ websearch_to_tsquery('english', %s) "
           "ORDER BY ts_rank_cd(tsv, websearch_to_tsquery('english', %s)) DESC, id")
    got = ids_for(conn, sql, ('"language models" -tomato', '"language models" -tomato'))
    assert got == [("essay-2", 2)]
    got = ids_for(conn, sql, ("tomato or revision", "tomato or revision"))
    assert set(got) == {("essay-1", 1), ("essay-2", 1)}


def test_title_weight_a_ranks_title_matches_higher(conn) -> None:
    rows = conn.execute(
        "SELECT idx, ts_rank(tsv, q) FROM passages, to_tsquery('english', 'daily') q "
        "WHERE doc_id = 'essay-1' AND tsv @@ q ORDER BY idx").fetchall()
    assert [r[0] for r in rows] == [0, 1]  # the title is on every passage of the document
    weights = conn.execute("SELECT DISTINCT unnest(weights) FROM passages, unnest(tsv) "
                           "WHERE lexeme = 'daili'").fetchall()
    assert weights == [("A",)]


def test_bm25_statistics_follow_inserts_updates_and_deletes(conn) -> None:
    n, terms = conn.execute("SELECT passages, terms FROM bm25_corpus").fetchone()
    assert n == len(PASSAGES)
    assert terms == conn.execute("SELECT sum(n_terms) FROM bm25_passages").fetchone()[0]
    q = ps.tsquery_text(conn, terms=["models"])
    top = conn.execute(ps.BM25_SQL, ps.bm25_params(q, 5)).fetchall()
    hits = [conn.execute("SELECT doc_id, idx FROM passages WHERE id = %s", (pid,)).fetchone()
            for pid, _ in top]
    assert {tuple(h) for h in hits} == {("essay-2", 0), ("essay-2", 2)}
    assert all(score > 0 for _, score in top)
    q = ps.tsquery_text(conn, phrases=[("first", "draft")])
    assert len(conn.execute(ps.BM25_SQL, ps.bm25_params(q, 5, filter=True)).fetchall()) == 1
    with conn.transaction():
        conn.execute("UPDATE passages SET text = 'nothing about gardening' WHERE doc_id = 'essay-2' "
                     "AND idx = 2")
        assert conn.execute("SELECT count(*) FROM bm25_terms WHERE lexeme = 'languag'").fetchone()[0] == 0
        conn.execute("DELETE FROM documents WHERE id = 'essay-2'")
        assert conn.execute("SELECT passages FROM bm25_corpus").fetchone()[0] == 2
        assert conn.execute("SELECT count(*) FROM bm25_terms t LEFT JOIN passages p "
                            "ON p.id = t.passage_id WHERE p.id IS NULL").fetchone()[0] == 0
        raise psycopg.Rollback()
    assert conn.execute("SELECT passages FROM bm25_corpus").fetchone()[0] == len(PASSAGES)


def test_other_dimension(server: PgServer) -> None:
    with psycopg.connect(server.create_database(), autocommit=True) as c:
        ps.apply_migrations(c, dim=8)
        assert ps.embedding_dim(c) == 8
        ps.set_embedding_dim(c, 16)
        assert ps.embedding_dim(c) == 16
        idx = c.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s",
                        (ps.HNSW_INDEX,)).fetchone()[0]
        assert "hnsw" in idx and "vector_cosine_ops" in idx
    with pytest.raises(ValueError):
        ps.migrations(dim=4096)


def test_stop_removes_the_cluster() -> None:
    srv = PgServer(tcp=True)
    dsn = srv.start()
    assert "127.0.0.1" in dsn
    with psycopg.connect(dsn) as c:
        assert c.execute("SELECT 1").fetchone()[0] == 1
    root = Path(srv.root or "")
    srv.stop()
    assert not root.exists() and not srv.running
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(dsn, connect_timeout=2)
    srv.stop()  # a second stop is harmless
