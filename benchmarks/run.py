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


def synthesize(scale: int, dest: Path) -> list[str]:
    """N copies of the sample archive with sentences shuffled and URLs/ids made distinct, so
    each copy is new text to parse, index and (for real) embed."""
    import random
    import re

    paths = []
    for i in range(scale):
        rng = random.Random(i)
        root = dest / f"copy{i:03d}"
        for f in SAMPLE.rglob("*"):
            if not f.is_file() or f.name == "README.md":
                continue
            text = f.read_text(encoding="utf-8")
            if i:
                text = text.replace("/p/", f"/p/c{i}-").replace("post_id: ", f"post_id: {i}")
                lines = text.split("\n")
                for n, line in enumerate(lines):
                    if len(line) > 300:
                        sents = re.split(r"(?<=[.!?]) ", line)
                        head, rest = sents[:1], sents[1:]
                        rng.shuffle(rest)
                        lines[n] = " ".join(head + rest)
                text = "\n".join(lines)
            rel = f.relative_to(SAMPLE)
            out = root / rel.parent / (f"{rel.stem}-c{i}{rel.suffix}" if i else rel.name)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
        paths.append(str(root))
    return paths


def bench(scale: int, encoder_rate: float | None = None) -> dict:
    """At 1x everything is real. Above 1x, parsing, keyword indexing, re-ingest and query
    latency are real; encoding every passage would take over an hour on 2 cores, so embedding
    time is estimated from the 1x encoder rate and the vector table holds random unit vectors
    (the KNN scan costs the same whatever the numbers are)."""
    import numpy as np

    from backlist.index.chunking import embedding_text
    from backlist.index.embed import load_embedder, to_blob
    from backlist.index.evaluate import evaluate, load_queries
    from backlist.index.search import Searcher
    from backlist.service import Library

    tmp = Path(tempfile.mkdtemp(prefix=f"backlist-bench-{scale}x-"))
    archive = synthesize(scale, tmp / "archive") if scale > 1 else [str(SAMPLE)]
    row: dict = {"scale": f"{scale}x"}
    lib = Library(tmp / "lib")
    t = time.perf_counter()
    report = lib.ingest(archive, embed=False)
    row["ingest_without_embedding_s"] = time.perf_counter() - t
    row["  parsing_s"] = report.seconds_parsing
    row["  chunk+keyword_index_s"] = report.seconds_indexing
    row["documents"] = report.documents_new
    row["passages"] = n_pass = report.passages_added
    emb = load_embedder()
    if scale == 1:
        t = time.perf_counter()
        lib.embed_pending()
        row["embed_s"] = time.perf_counter() - t
        texts = [embedding_text(title, text) for _, text, title in lib.store.all_passages()]
        t = time.perf_counter()
        emb.encode(texts)
        row["raw_encoder_s"] = time.perf_counter() - t
        row["encoder_passages_per_s"] = n_pass / row["raw_encoder_s"]
        row["full_index_vs_raw_encoder"] = (row["ingest_without_embedding_s"] + row["embed_s"]) / \
            row["raw_encoder_s"]
    else:
        rng = np.random.default_rng(0)
        lib.store.ensure_vectors(emb.dim, emb.name)
        t = time.perf_counter()
        while rows := lib.store.unembedded(4096):
            vecs = rng.standard_normal((len(rows), emb.dim)).astype(np.float32)
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            lib.store.save_embeddings([(pid, to_blob(v)) for (pid, _, _), v in zip(rows, vecs)])
        row["vector_store_s"] = time.perf_counter() - t
        if encoder_rate:
            row["embed_s (est.)"] = n_pass / encoder_rate
    t = time.perf_counter()
    again = lib.ingest(archive, embed=False)
    row["reingest_unchanged_s"] = time.perf_counter() - t
    assert not again.changed
    lib.close()
    lib = Library(tmp / "lib", read_only=True)
    searcher = Searcher(lib)
    queries = [q["q"] for q in load_queries(DEV)]
    for mode in ("keyword", "semantic", "hybrid"):
        searcher.search("a warm-up query that is not in the set", mode=mode)
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
    row.update(bm25s_reference(lib, DEV, quality=scale == 1))
    lib.close()
    row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return row


def bm25s_reference(lib, dev: Path, quality: bool = True) -> dict:
    """bm25s over the very same passages, ranked per document by best passage."""
    import bm25s

    from backlist.index.evaluate import load_queries, resolver
    from backlist.store.base import DocFilter

    corpus, owner = [], []
    for d in lib.store.list_documents(DocFilter()):  # published pieces, copies included
        for p in lib.store.doc_passages(d.id):
            corpus.append(f"{d.title or ''} {p.text}")
            owner.append(d.duplicate_of or d.id)
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(corpus, stopwords="en", show_progress=False), show_progress=False)
    names = resolver(lib) if quality else {}
    recall5, rr, times = 0.0, 0.0, []
    queries = load_queries(dev)
    for q in queries:
        t = time.perf_counter()
        res, _ = retriever.retrieve(bm25s.tokenize([q["q"]], stopwords="en", show_progress=False),
                                    k=100, show_progress=False)
        ranked = list(dict.fromkeys(owner[i] for i in res[0]))[:10]
        times.append(time.perf_counter() - t)
        if not quality:
            continue
        relevant = {names[r.lower()] for r in q["relevant"]}
        first = next((i for i, d in enumerate(ranked) if d in relevant), None)
        recall5 += len(relevant & set(ranked[:5])) / len(relevant)
        rr += 1 / (first + 1) if first is not None else 0
    out = {"bm25s_p50_ms": _p(times, 0.5), "bm25s_p95_ms": _p(times, 0.95)}
    if quality:
        out.update({"bm25s_recall@5": recall5 / len(queries), "bm25s_mrr": rr / len(queries)})
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, action="append")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not SAMPLE.is_dir():
        sys.exit(f"{SAMPLE}: the shared sample archive is needed beside the checkout")
    rows, rate = [], None
    for scale in sorted(args.scale or [1, 50]):
        rows.append(bench(scale, rate))
        rate = rows[0].get("encoder_passages_per_s", rate)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="backlist benchmark (bm25s = reference)")
    table.add_column("measure")
    for r in rows:
        table.add_column(r["scale"], justify="right")
    keys = list(dict.fromkeys(k for r in rows for k in r if k != "scale"))
    for k in keys:
        table.add_row(k, *(f"{r[k]:.3f}" if isinstance(r.get(k), float) else str(r.get(k, "-"))
                           for r in rows))
    Console().print(table)
    r = rows[0]
    if "hybrid_mrr" in r:
        print(f"1x: hybrid vs bm25s MRR {r['hybrid_mrr']:.3f} vs {r['bm25s_mrr']:.3f} "
              f"({r['hybrid_mrr'] / r['bm25s_mrr']:.2f}x); full index / raw encoder = "
              f"{r['full_index_vs_raw_encoder']:.2f}x; hybrid p50 / bm25s p50 = "
              f"{r['hybrid_p50_ms'] / r['bm25s_p50_ms']:.0f}x")


if __name__ == "__main__":
    main()
