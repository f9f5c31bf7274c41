"""Retrieval quality: Recall@1/5/10, MRR and nDCG@10 per mode, on a JSONL set of queries."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from backlist.ingest.base import slug_of_url
from backlist.store.base import DocFilter


def load_split(paths: list[Path], split: str, splits_file: Path | None = None) -> list[dict[str, Any]]:
    """The queries of several files that a splits file (eval/splits.json: {"tune": [...],
    "heldout": [...]}, entries "FILE#LINE") puts in one part."""
    splits_file = splits_file or paths[0].with_name("splits.json")
    try:
        parts = json.loads(splits_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{splits_file}: cannot read the splits ({exc})") from exc
    if split not in parts:
        raise ValueError(f"{splits_file}: no part named {split!r} (has {', '.join(parts)})")
    wanted = set(parts[split])
    return [q for p in paths for q in load_queries(p) if q["key"] in wanted]


def load_queries(path: Path) -> list[dict[str, Any]]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: line {n}: not JSON ({exc.msg})") from exc
        if not isinstance(row, dict) or not row.get("q") or not row.get("relevant"):
            raise ValueError(f"{path}: line {n}: needs \"q\" and a non-empty \"relevant\" list")
        row["key"] = f"{path.name}#{n}"
        out.append(row)
    return out


def resolver(library) -> dict[str, str]:
    """Maps every way a query file may name a document (id, URL slug, post slug,
    'file:line N') to its canonical id."""
    names: dict[str, str] = {}
    for d in library.list(DocFilter(include_drafts=True)):
        canon = d.duplicate_of or d.id
        keys = [d.id, slug_of_url(d.url), d.metadata.get("slug"),
                f"{Path(d.source).name}:{d.position}"]
        for key in keys:
            if key:
                names.setdefault(key.lower(), canon)
    return names


def evaluate(library, queries: list[dict[str, Any]], modes=("keyword", "semantic", "hybrid"),
             k: int = 10) -> dict[str, Any]:
    """Scores each mode through the façade (Library.list, Library.search), as users search."""
    names = resolver(library)
    unknown = sorted({r for q in queries for r in q["relevant"] if str(r).lower() not in names})
    if unknown:
        raise ValueError("relevant documents not in the library: " + ", ".join(unknown[:10]))
    report: dict[str, Any] = {"queries": len(queries), "modes": {}}
    for mode in modes:
        sums = {"recall@1": 0.0, "recall@5": 0.0, "recall@10": 0.0, "mrr": 0.0, "ndcg@10": 0.0}
        misses = []
        ranks: dict[str, int | None] = {}
        for q in queries:
            relevant = {names[str(r).lower()] for r in q["relevant"]}
            ranked = [h.doc.id for h in library.search(q["q"], k=k, mode=mode, per_doc=1)]
            first = next((i for i, d in enumerate(ranked) if d in relevant), None)
            for cut in (1, 5, 10):
                sums[f"recall@{cut}"] += len(relevant & set(ranked[:cut])) / len(relevant)
            sums["mrr"] += 1.0 / (first + 1) if first is not None else 0.0
            dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(ranked[:10]) if d in relevant)
            ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(relevant), 10)))
            sums["ndcg@10"] += dcg / ideal
            if first is None or first >= 5:
                misses.append(q["q"])
            ranks[q.get("key") or q["q"]] = None if first is None else first + 1
        report["modes"][mode] = {key: round(v / len(queries), 4) for key, v in sums.items()}
        report["modes"][mode]["missed_top5"] = misses
        report["modes"][mode]["ranks"] = ranks
    return report
