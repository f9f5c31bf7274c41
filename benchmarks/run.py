"""Ingest, index and query benchmark with bm25s as the reference. One command, prints a table.

    python benchmarks/run.py [--scale 1 --scale 50]

Scale N copies the sample archive's documents N times with distinct ids (the 50x archive).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT.parent / "shared" / "sample-archive"
DEV = ROOT / "eval" / "sample-archive-dev.jsonl"


def _p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] * 1000


def bench(scale: int) -> dict:
    from backlist.index.chunking import embedding_text
    from backlist.index.embed import load_embedder
    from backlist.index.evaluate import evaluate, load_queries
    from backlist.index.search import Searcher
    from backlist.ingest import discover
    from backlist.ingest.base import ReadContext
    from backlist.service import Library

    tmp = Path(tempfile.mkdtemp(prefix=f"backlist-bench-{scale}x-"))
    row: dict = {"scale": f"{scale}x"}
    t = time.perf_counter()
    docs = [d for u in discover([str(SAMPLE)]).units for d in u.read(ReadContext())]
    row["parse_s"] = time.perf_counter() - t
    lib = Library(tmp / "lib")
    from backlist.index.chunking import chunk

    t = time.perf_counter()
    n_pass = 0
    for i in range(scale):
        for d in docs:
            if scale > 1:
                d = __import__("dataclasses").replace(d, id=f"{d.id}-{i}", source=f"{d.source}#{i}")
            n_pass += lib.store.write_document(d, chunk(d))
    lib.relink()
    row["keyword_index_s"] = time.perf_counter() - t
    row["passages"] = n_pass
    emb = load_embedder()
    t = time.perf_counter()
    lib.embed_pending()
    row["embed_s"] = time.perf_counter() - t
    row["passages_per_s"] = n_pass / row["embed_s"]
    texts = [embedding_text(title, text) for _, text, title in
             lib.store.db.execute("SELECT p.id, p.text, d.title FROM passages p "
                                  "JOIN documents d ON d.id = p.doc_id").fetchall()]
    t = time.perf_counter()
    emb.encode(texts)
    row["raw_encoder_s"] = time.perf_counter() - t
    row["index_vs_raw"] = (row["keyword_index_s"] + row["embed_s"]) / row["raw_encoder_s"]
    lib.close()
    # re-ingest of an unchanged archive (1x only: the real ingest path)
    if scale == 1:
        lib = Library(tmp / "lib2")
        lib.ingest([str(SAMPLE)])
        t = time.perf_counter()
        lib.ingest([str(SAMPLE)])
        row["reingest_unchanged_s"] = time.perf_counter() - t
        lib.close()
    lib = Library(tmp / "lib", read_only=True)
    searcher = Searcher(lib)
    queries = [q["q"] for q in load_queries(DEV)]
    for mode in ("keyword", "semantic", "hybrid"):
        searcher.search(queries[0], mode=mode)
        times = []
        for q in queries:
            t = time.perf_counter()
            searcher.search(q, k=10, mode=mode)
            times.append(time.perf_counter() - t)
        row[f"{mode}_p50_ms"], row[f"{mode}_p95_ms"] = _p(times, 0.5), _p(times, 0.95)
    if scale == 1:
        report = evaluate(lib, load_queries(DEV))["modes"]
        for mode in ("keyword", "semantic", "hybrid"):
            row[f"{mode}_recall@5"] = report[mode]["recall@5"]
            row[f"{mode}_mrr"] = report[mode]["mrr"]
        row.update(bm25s_reference(lib, DEV))
    lib.close()
    row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return row


def bm25s_reference(lib, dev: Path) -> dict:
    """bm25s over the very same passages, ranked per document by best passage."""
    import bm25s

    from backlist.index.evaluate import load_queries, resolver

    rows = lib.store.db.execute(
        "SELECT p.doc_id, p.text, d.title, d.duplicate_of FROM passages p "
        "JOIN documents d ON d.id = p.doc_id WHERE d.is_draft = 0").fetchall()
    corpus = [f"{r[2] or ''} {r[1]}" for r in rows]
    owner = [r[3] or r[0] for r in rows]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(corpus, stopwords="en", show_progress=False), show_progress=False)
    names = resolver(lib)
    recall5, rr, times = 0.0, 0.0, []
    queries = load_queries(dev)
    for q in queries:
        t = time.perf_counter()
        res, _ = retriever.retrieve(bm25s.tokenize([q["q"]], stopwords="en", show_progress=False),
                                    k=100, show_progress=False)
        ranked = list(dict.fromkeys(owner[i] for i in res[0]))[:10]
        times.append(time.perf_counter() - t)
        relevant = {names[r.lower()] for r in q["relevant"]}
        first = next((i for i, d in enumerate(ranked) if d in relevant), None)
        recall5 += len(relevant & set(ranked[:5])) / len(relevant)
        rr += 1 / (first + 1) if first is not None else 0
    return {"bm25s_recall@5": recall5 / len(queries), "bm25s_mrr": rr / len(queries),
            "bm25s_p50_ms": _p(times, 0.5)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, action="append")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not SAMPLE.is_dir():
        sys.exit(f"{SAMPLE}: the shared sample archive is needed beside the checkout")
    rows = [bench(s) for s in (args.scale or [1, 50])]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="backlist benchmark (bm25s = reference)")
    table.add_column("measure")
    for r in rows:
        table.add_column(r["scale"], justify="right")
    keys = [k for k in rows[0] if k != "scale"]
    for k in keys:
        table.add_row(k, *(f"{r[k]:.3f}" if isinstance(r.get(k), float) else str(r.get(k, "-"))
                           for r in rows))
    Console().print(table)
    r = rows[0]
    print(f"hybrid vs bm25s: MRR {r.get('hybrid_mrr', 0):.3f} vs {r.get('bm25s_mrr', 0):.3f}; "
          f"full index / raw encoder = {r['index_vs_raw']:.2f}x")


if __name__ == "__main__":
    main()
