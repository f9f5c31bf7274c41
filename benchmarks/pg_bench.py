"""SQLite vs PostgreSQL (+ pgvector) side by side. One command, prints a table.

    python benchmarks/pg_bench.py [--scale 1 --scale 50] [--vectors-from LIBRARY_DIR]
                                  [--clients 1 --clients 20] [--per-client 10]

1x is the sample archive ingested through the real pipeline into each backend (embed=False,
then random unit vectors, or with --vectors-from the real vectors of a SQLite library of the
same archive). Nx (N > 1) holds N copies of the 1x documents with distinct ids and sentences
shuffled inside each passage, written straight through Store.write_document: it measures the
store's write path (no parsing, which is the same for both backends; the full pipeline is
measured at 1x). Queries are the dev set (eval/sample-archive-dev.jsonl) through Library.search
(the 'hash' embedder encodes queries: latency only), with 1 and 20 client threads sharing one
Library. recall@10 compares HNSW at several ef_search values with exact search on the largest
scale (queries: stored vectors plus noise).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

os.environ["BACKLIST_EMBEDDER"] = "hash"  # before backlist reads it: queries encode in microseconds
os.environ.pop("BACKLIST_DATABASE_URL", None)

from backlist.index.embed import to_blob  # noqa: E402
from backlist.index.evaluate import load_queries  # noqa: E402
from backlist.service import Library  # noqa: E402
from backlist.store import postgres as pg_store  # noqa: E402
from backlist.store.base import DocFilter, Store  # noqa: E402
from backlist.store.migrate import read_vectors, write_vectors  # noqa: E402
from backlist.store.sqlite import SQLiteStore  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the scratch PostgreSQL launcher lives with the tests
from pg_server import PgServer  # noqa: E402

SAMPLE = Path("/work/shared/sample-archive")
DEV = ROOT / "eval" / "sample-archive-dev.jsonl"
DIM = 384
MODEL = "hash-384"
MODES = ("keyword", "semantic", "hybrid")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] * 1000


def unit_rows(rows: list[tuple[int, str, str | None]], rng: np.random.Generator) -> list[tuple[int, bytes]]:
    vecs = rng.standard_normal((len(rows), DIM)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return [(pid, to_blob(v)) for (pid, _, _), v in zip(rows, vecs)]


def fill_vectors(store: Store, seed: int) -> float:
    """Random unit vectors for every passage; returns seconds."""
    rng = np.random.default_rng(seed)
    store.ensure_vectors(DIM, MODEL)
    t = time.perf_counter()
    while rows := store.unembedded(2000):
        store.save_embeddings(unit_rows(rows, rng))
    return time.perf_counter() - t


def real_vectors(store: Store, folder: Path) -> float:
    """The vectors of a SQLite library of the same archive (same documents and passages)."""
    src = SQLiteStore(folder / "library.db", read_only=True)
    store.ensure_vectors(int(src.get_meta("embed_dim") or DIM), src.get_meta("embed_model") or MODEL)
    t = time.perf_counter()
    for batch in read_vectors(src):
        write_vectors(store, batch)
    src.close()
    if store.count_unembedded():
        sys.exit(f"{folder}: its passages differ from this ingest's ({store.count_unembedded()} left)")
    return time.perf_counter() - t


def shuffled(text: str, rng: random.Random) -> str:
    sents = re.split(r"(?<=[.!?]) ", text)
    head, rest = sents[:1], sents[1:]
    rng.shuffle(rest)
    return " ".join(head + rest)


def synthesize(src: Store, dst: Store, scale: int) -> tuple[float, int, int]:
    """scale copies of src's documents written into dst; returns (seconds, docs, passages)."""
    docs = src.get_documents([d.id for d in src.list_documents(DocFilter(include_drafts=True))],
                             with_turns=True)
    plain = {i: src.doc_passages(i) for i in docs}
    n_docs = n_pass = 0
    t = time.perf_counter()
    for copy in range(scale):
        rng = random.Random(copy)
        for doc_id, doc in docs.items():
            new_id = doc_id if copy == 0 else f"{doc_id}~{copy}"
            passages = [type(p)(new_id, p.idx, p.text if copy == 0 else shuffled(p.text, rng), p.start,
                                p.end, p.speaker) for p in plain[doc_id]]
            doc.id = new_id
            dst.write_document(doc, passages)
            n_docs += 1
            n_pass += len(passages)
        dst.record_source(f"synthetic/{copy}", "markdown", "fp", [f"{d}~{copy}" if copy else d for d in docs])
    return time.perf_counter() - t, n_docs, n_pass


def latency(lib: Library, queries: list[str], mode: str, clients: int,
            per_client: int) -> tuple[float, float, float]:
    """(p50 ms, p95 ms, queries per second) of Library.search with `clients` threads."""
    lib.search(queries[0], mode=mode)  # warm: connections, caches
    times: list[float] = []
    lock = threading.Lock()

    def run(offset: int) -> None:
        mine = []
        for n in range(per_client if clients > 1 else len(queries)):
            q = queries[(offset + n) % len(queries)]
            t = time.perf_counter()
            lib.search(q, k=10, mode=mode)
            mine.append(time.perf_counter() - t)
        with lock:
            times.extend(mine)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i * 7,)) for i in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    return pct(times, 0.5), pct(times, 0.95), len(times) / wall


def query_rows(row: dict[str, Any], name: str, lib: Library, queries: list[str], clients: list[int],
               per_client: int) -> None:
    for mode in MODES:
        for c in clients:
            p50, p95, qps = latency(lib, queries, mode, c, per_client)
            row[f"{mode} {c} client{'s' if c > 1 else ''} p50/p95 ms (qps)"] = \
                row.get(f"{mode} {c} client{'s' if c > 1 else ''} p50/p95 ms (qps)", {})
            row[f"{mode} {c} client{'s' if c > 1 else ''} p50/p95 ms (qps)"][name] = \
                f"{p50:.1f} / {p95:.1f} ({qps:.0f})"


def vector_method_times(store: pg_store.PostgresStore, probes: list[bytes]) -> dict[str, float]:
    out = {}
    for label, exact in (("exact", True), ("hnsw", False)):
        store.vector_search(probes[0], 10, exact=exact)
        t = time.perf_counter()
        for p in probes:
            store.vector_search(p, 10, exact=exact)
        out[label] = (time.perf_counter() - t) / len(probes) * 1000
    return out


def hnsw_recall(store: pg_store.PostgresStore, n: int = 100,
                noise: float = 0.5) -> dict[int, tuple[float, float]]:
    """{ef_search: (recall@10 vs exact, ms per query)} for queries near stored vectors."""
    rng = np.random.default_rng(7)
    stored = [v for batch in store.export_vectors(5000) for _, _, v in batch]
    picks = rng.choice(len(stored), size=min(n, len(stored)), replace=False)
    probes = []
    for i in picks:
        jitter = rng.standard_normal(DIM).astype(np.float32) * noise / np.sqrt(DIM)
        v = np.frombuffer(stored[i], np.float32) + jitter
        probes.append(to_blob(v / np.linalg.norm(v)))
    truth = [{h.passage_id for h in store.vector_search(p, 10, exact=True)} for p in probes]
    out = {}
    for ef in (40, 100, 200):
        t = time.perf_counter()
        got = [{h.passage_id for h in store.vector_search(p, 10, exact=False, ef_search=ef)} for p in probes]
        ms = (time.perf_counter() - t) / len(probes) * 1000
        out[ef] = (statistics.mean(len(a & b) / 10 for a, b in zip(got, truth)), ms)
    return out


def bench_scale(scale: int, server: PgServer, base: dict[str, Any], args: argparse.Namespace,
                queries: list[str], log: Callable[[str], None]) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix=f"pg-bench-{scale}x-"))
    db = f"bench_{scale}x"
    server.create_database(db)
    libs = {"sqlite": Library(tmp / "sqlite"), "postgres": Library(tmp / "pg", database=server.url_for(db))}
    row: dict[str, Any] = {"scale": f"{scale}x"}

    def put(key: str, name: str, value: str) -> None:
        row.setdefault(key, {})[name] = value

    for name, lib in libs.items():
        log(f"{scale}x {name}: writing")
        if scale == 1:
            t = time.perf_counter()
            rep = lib.ingest([str(SAMPLE)], embed=False)
            secs, n_docs, n_pass = time.perf_counter() - t, rep.documents_new, rep.passages_added
            put("ingest (pipeline) docs/s | passages/s", name, f"{n_docs / secs:.1f} | {n_pass / secs:.0f}")
        else:
            secs, n_docs, n_pass = synthesize(base[name].store, lib.store, scale)
            put("store writes docs/s | passages/s", name, f"{n_docs / secs:.1f} | {n_pass / secs:.0f}")
        put("documents | passages", name, f"{n_docs} | {n_pass}")
        log(f"{scale}x {name}: vectors")
        if scale == 1 and args.vectors_from:
            vsecs = real_vectors(lib.store, Path(args.vectors_from))
        else:
            vsecs = fill_vectors(lib.store, seed=scale)
        put("store vectors s (passages/s)", name, f"{vsecs:.1f} ({n_pass / vsecs:.0f})")
    for name, lib in libs.items():
        log(f"{scale}x {name}: queries")
        query_rows(row, name, lib, queries, args.clients, args.per_client)
    pg = libs["postgres"].store
    assert isinstance(pg, pg_store.PostgresStore)
    probes = [v for _, _, v in next(pg.export_vectors(20))]
    times = vector_method_times(pg, probes)
    put("vector top-10 ms: exact | hnsw (pg)", "postgres", f"{times['exact']:.2f} | {times['hnsw']:.2f}")
    put("integrity", "postgres", pg.integrity_check())
    base.setdefault("stores", {})[scale] = libs
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=int, action="append")
    ap.add_argument("--clients", type=int, action="append")
    ap.add_argument("--per-client", type=int, default=10)
    ap.add_argument("--vectors-from", help="a SQLite library folder of the sample archive, with embeddings")
    args = ap.parse_args()
    args.clients = args.clients or [1, 20]
    scales = sorted(set(args.scale or [1, 50]) | {1})
    if not SAMPLE.is_dir():
        sys.exit(f"{SAMPLE}: the sample archive is needed")
    queries = [q["q"] for q in load_queries(DEV)]
    t0 = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - t0:6.0f}s] {msg}", file=sys.stderr, flush=True)

    server = PgServer()
    server.start()
    try:
        rows, base = [], {}
        for scale in scales:
            rows.append(bench_scale(scale, server, base, args, queries, log))
            if scale == 1:
                base.update({n: lib for n, lib in base["stores"][1].items()})
        largest = base["stores"][scales[-1]]["postgres"].store
        log(f"recall on {scales[-1]}x")
        recall = hnsw_recall(largest)
        for stores in base["stores"].values():
            for lib in stores.values():
                lib.close()
    finally:
        server.stop()
    print_table(rows, recall, scales[-1], time.perf_counter() - t0)


def print_table(rows: list[dict[str, Any]], recall: dict[int, tuple[float, float]], largest: int,
                seconds: float) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"SQLite vs PostgreSQL (2 cores; {seconds:.0f} s in all)")
    table.add_column("measure")
    for r in rows:
        table.add_column(f"{r['scale']} SQLite", justify="right")
        table.add_column(f"{r['scale']} PostgreSQL", justify="right")
    keys = list(dict.fromkeys(k for r in rows for k in r if k != "scale"))
    for k in keys:
        cells = []
        for r in rows:
            cells += [r.get(k, {}).get("sqlite", "-"), r.get(k, {}).get("postgres", "-")]
        table.add_row(k, *cells)
    console = Console()
    console.print(table)
    rec = Table(title=f"HNSW vs exact on {largest}x (queries = stored vectors + noise)")
    for col in ("ef_search", "recall@10", "ms / query"):
        rec.add_column(col, justify="right")
    for ef, (r, ms) in recall.items():
        rec.add_row(f"{ef}{' (chosen)' if ef == pg_store.EF_SEARCH else ''}", f"{r:.3f}", f"{ms:.2f}")
    console.print(rec)


if __name__ == "__main__":
    main()
