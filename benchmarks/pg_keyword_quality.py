"""Keyword retrieval in PostgreSQL vs SQLite FTS5, on the sample archive's dev queries.

Builds the sample library without embeddings, copies its passages into a scratch PostgreSQL
(tests/pg_server.py, schema from backlist.store.postgres_schema) and ranks every query of
eval/sample-archive-dev.jsonl with
  - ts_rank_cd and ts_rank (PostgreSQL's built-in, no collection statistics; also with
    length normalisation 1 = divide by 1 + log(length)),
  - BM25 in SQL over the bm25_* term-statistics tables (postgres_schema.BM25_SQL),
  - SQLite FTS5 BM25 through the project's own Searcher (mode="keyword").
Every method gets the same query (the project's parse_query, with the same too-common words
dropped) and is ranked per document by its best passage, as the project does; metrics as in
backlist.index.evaluate. Prints MRR, R@1, R@5, R@10 and per-query latency p50/p95.

    python benchmarks/pg_keyword_quality.py [--archive DIR] [--queries FILE]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from backlist.index.evaluate import load_queries, resolver
from backlist.index.search import CANDIDATES, COMMON_SHARE, STOPWORDS, Searcher, parse_query
from backlist.service import Library
from backlist.store import postgres_schema as ps
from backlist.store.base import TITLE_WEIGHT, DocFilter, KeywordQuery, PassageHit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the scratch PostgreSQL launcher lives with the tests
from pg_server import PgServer  # noqa: E402

ARCHIVE = Path("/work/shared/sample-archive")
QUERIES = ROOT / "eval" / "sample-archive-dev.jsonl"


def keyword_query(lib: Library, query: str) -> KeywordQuery:
    """The KeywordQuery the project's Searcher._keyword would send to its store."""
    words = [w for w in re.findall(r"\w+", query.lower()) if w not in STOPWORDS]
    total = lib.store.passage_count() or 1
    dfs = lib.store.term_frequencies(words)
    common = {w for w, df in dfs.items() if df / total > COMMON_SHARE}
    return parse_query(query, common)


def copy_library(lib: Library, conn: psycopg.Connection) -> tuple[int, float]:
    """Documents (the columns needed) and passages into PostgreSQL; returns (passages, seconds)."""
    t0 = time.perf_counter()
    docs = lib.store.db.execute(
        "SELECT id, kind, source, title, words, content_hash, is_draft, duplicate_of, ingested_at "
        "FROM documents").fetchall()
    rows = lib.store.db.execute(
        "SELECT p.id, p.doc_id, p.text, d.title, p.idx, p.start, p.end, p.hash FROM passages p "
        "JOIN documents d ON d.id = p.doc_id").fetchall()
    with conn.transaction(), conn.cursor() as cur:
        with cur.copy("COPY documents(id, kind, source, title, text, words, content_hash, is_draft, "
                      "duplicate_of, ingested_at) FROM STDIN") as cp:
            for d in docs:
                cp.write_row((d[0], d[1], d[2], d[3], "", d[4], d[5], bool(d[6]), d[7], d[8]))
        with cur.copy('COPY passages(id, doc_id, text, title, idx, start, "end", hash) FROM STDIN') as cp:
            for r in rows:
                cp.write_row((r[0], r[1], r[2], r[3] or "", r[4], r[5], r[6], r[7]))
        ps.sync_passage_ids(conn)
    conn.execute("ANALYZE")
    return len(rows), time.perf_counter() - t0


def pg_ranker(conn: psycopg.Connection, method: str) -> Callable[[str], list[PassageHit]]:
    """Passage hits (best first) for one tsquery text, by one PostgreSQL method."""
    rank_sql = {
        "ts_rank_cd": "ts_rank_cd(p.tsv, q.query)",
        "ts_rank_cd/1": "ts_rank_cd(p.tsv, q.query, 1)",
        "ts_rank": "ts_rank(p.tsv, q.query)",
        "ts_rank/1": "ts_rank(p.tsv, q.query, 1)",
    }

    def run(tsq: str) -> list[PassageHit]:
        if not tsq:
            return []
        if method == "bm25_sql":
            params = ps.bm25_params(tsq, CANDIDATES, title_weight=TITLE_WEIGHT)
            rows = conn.execute(ps.BM25_SQL, params).fetchall()
            pid_doc = dict(conn.execute("SELECT id, doc_id FROM passages WHERE id = ANY(%s)",
                                        ([r[0] for r in rows],)).fetchall())
            return [PassageHit(r[0], pid_doc[r[0]], float(r[1]), i, None) for i, r in enumerate(rows)]
        rows = conn.execute(
            f"SELECT p.id, p.doc_id, {rank_sql[method]} AS s FROM passages p, "
            "(SELECT %s::tsquery AS query) q WHERE p.tsv @@ q.query ORDER BY s DESC, p.id LIMIT %s",
            (tsq, CANDIDATES)).fetchall()
        return [PassageHit(r[0], r[1], float(r[2]), i, None) for i, r in enumerate(rows)]

    return run


def score(ranked_per_query: list[list[str]], relevant: list[set[str]]) -> dict[str, float]:
    sums = {"MRR": 0.0, "R@1": 0.0, "R@5": 0.0, "R@10": 0.0}
    for ranked, rel in zip(ranked_per_query, relevant):
        first = next((i for i, d in enumerate(ranked) if d in rel), None)
        sums["MRR"] += 1.0 / (first + 1) if first is not None else 0.0
        for cut in (1, 5, 10):
            sums[f"R@{cut}"] += len(rel & set(ranked[:cut])) / len(rel)
    return {k: v / len(relevant) for k, v in sums.items()}


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archive", type=Path, default=ARCHIVE)
    ap.add_argument("--queries", type=Path, default=QUERIES)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per query (median kept)")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="backlist-pgbench-") as tmp:
        t0 = time.perf_counter()
        lib = Library(Path(tmp) / "lib")
        lib.ingest([str(args.archive)], embed=False)
        print(f"sample library: {lib.store.passage_count()} passages, "
              f"built in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        queries = load_queries(args.queries)
        names = resolver(lib)
        relevant = [{names[str(r).lower()] for r in q["relevant"]} for q in queries]
        searcher = Searcher(lib)
        allowed = lib.store.filtered_ids(DocFilter(include_duplicates=True))
        canon = lib.store.canonical_map()

        server = PgServer()
        server.start()
        print(f"postgres started in {server.startup_seconds:.2f}s", file=sys.stderr)
        try:
            with psycopg.connect(server.create_database("bench"), autocommit=True) as conn:
                ps.apply_migrations(conn)
                n, secs = copy_library(lib, conn)
                print(f"copied {n} passages (tsvector + BM25 statistics) in {secs:.2f}s",
                      file=sys.stderr)
                kq = [keyword_query(lib, q["q"]) for q in queries]
                tsq = [ps.tsquery_text(conn, k.terms, k.phrases, k.prefixes, k.require_all) for k in kq]

                results: dict[str, tuple[dict[str, float], list[float]]] = {}
                for method in ("ts_rank_cd", "ts_rank_cd/1", "ts_rank", "ts_rank/1", "bm25_sql"):
                    run = pg_ranker(conn, method)
                    ranked, lat = [], []
                    for i in range(len(queries)):
                        times = []
                        for _ in range(args.repeat):
                            t = time.perf_counter()
                            # The tsquery is built per query too, as a backend would.
                            ps.tsquery_text(conn, kq[i].terms, kq[i].phrases, kq[i].prefixes,
                                            kq[i].require_all)
                            hits = run(tsq[i])
                            times.append(time.perf_counter() - t)
                        lat.append(statistics.median(times))
                        per_doc = Searcher._per_doc(hits, allowed, canon, None)
                        ranked.append([d for d, _ in sorted(per_doc.items(), key=lambda kv: -kv[1][0])][:10])
                    results["pg " + method] = (score(ranked, relevant), lat)
        finally:
            server.stop()

        ranked, lat = [], []
        for q in queries:
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                hits = searcher.search(q["q"], k=10, mode="keyword", per_doc=1)
                times.append(time.perf_counter() - t)
            lat.append(statistics.median(times))
            ranked.append([h.doc.id for h in hits])
        results["sqlite fts5 bm25 (Searcher)"] = (score(ranked, relevant), lat)
        lib.close()

    print(f"\n{len(queries)} queries from {args.queries.name}; rank per document = best passage\n")
    head = f"{'method':30} {'MRR':>6} {'R@1':>6} {'R@5':>6} {'R@10':>6} {'p50 ms':>7} {'p95 ms':>7}"
    print(head)
    print("-" * len(head))
    for name, (m, lat) in results.items():
        print(f"{name:30} {m['MRR']:6.3f} {m['R@1']:6.3f} {m['R@5']:6.3f} {m['R@10']:6.3f} "
              f"{pct(lat, 0.5) * 1000:7.2f} {pct(lat, 0.95) * 1000:7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
