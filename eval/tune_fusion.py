"""Choose how hybrid search fuses keyword and semantic evidence, on the TUNE part only.

    python eval/tune_fusion.py --library DIR            # every variant, tune part
    python eval/tune_fusion.py --library DIR --report NAME   # one chosen variant, held-out part

The candidate lists (BM25 and cosine per passage) are fetched once per query; each variant then
ranks documents from them, so dozens of variants cost seconds. Held-out figures are printed only
for a variant named with --report, after it was chosen on the tune part (eval/README.md).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from backlist.index.evaluate import load_split, resolver
from backlist.index.search import CANDIDATES, Searcher
from backlist.service import Library
from backlist.store.base import DocFilter

HERE = Path(__file__).resolve().parent
FILES = [HERE / "sample-archive-dev.jsonl", HERE / "sample-archive-set2.jsonl",
         HERE / "sample-archive-set3.jsonl", HERE / "sample-archive-set4.jsonl",
         HERE / "sample-archive-set5.jsonl"]
Lists = tuple[dict[str, list[float]], dict[str, list[float]]]  # doc -> passage scores, best first


def candidate_lists(lib: Library, queries: list[dict]) -> list[Lists]:
    searcher = Searcher(lib)
    allowed = lib.store.filtered_ids(DocFilter())
    canon = lib.store.canonical_map()
    out = []
    for q in queries:
        lists: list[dict[str, list[float]]] = []
        for hits in (searcher._keyword(q["q"], CANDIDATES), searcher._semantic([q["q"]], CANDIDATES)):
            per: dict[str, list[float]] = defaultdict(list)
            for h in hits:
                if h.doc_id in allowed:
                    per[canon.get(h.doc_id, h.doc_id)].append(h.score)
            lists.append({d: sorted(v, reverse=True) for d, v in per.items()})
        out.append((lists[0], lists[1]))
    return out


def _minmax(scores: dict[str, float]) -> dict[str, float]:
    if not scores:
        return {}
    hi, lo = max(scores.values()), min(scores.values())
    return {d: (s - lo) / ((hi - lo) or 1.0) for d, s in scores.items()}


def _bymax(scores: dict[str, float]) -> dict[str, float]:
    hi = max(scores.values(), default=1.0) or 1.0
    return {d: s / hi for d, s in scores.items()}


def _ranks(scores: dict[str, float]) -> dict[str, int]:
    return {d: i for i, (d, _) in enumerate(sorted(scores.items(), key=lambda kv: (-kv[1], kv[0])))}


def weighted(w: float, agg: Callable[[list[float]], float], sem_norm=_minmax, kw_norm=_bymax,
             length: dict[str, int] | None = None, prior: float = 0.0):
    def rank(kw: dict[str, list[float]], sem: dict[str, list[float]]) -> list[str]:
        k = kw_norm({d: agg(v) for d, v in kw.items()})
        s = sem_norm({d: agg(v) for d, v in sem.items()})
        total = {d: w * k.get(d, 0.0) + (1 - w) * s.get(d, 0.0) for d in set(k) | set(s)}
        if length and prior:
            total = {d: v - prior * math.log(length.get(d, 1)) for d, v in total.items()}
        return [d for d, _ in sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))]
    return rank


def rrf(c: int, w: float, agg: Callable[[list[float]], float]):
    def rank(kw: dict[str, list[float]], sem: dict[str, list[float]]) -> list[str]:
        rk = _ranks({d: agg(v) for d, v in kw.items()})
        rs = _ranks({d: agg(v) for d, v in sem.items()})
        total = {d: w / (c + rk[d]) if d in rk else 0.0 for d in set(rk) | set(rs)}
        for d, r in rs.items():
            total[d] += (1 - w) / (c + r)
        return [d for d, _ in sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))]
    return rank


def shortlisted(w: float, m: int, ms: int, length: dict[str, int] | None = None,
                prior: float = 0.0):
    """The weighted sum, with the keyword's m best and the semantic's ms best documents first."""
    inner = weighted(w, best, length=length, prior=prior)

    def rank(kw: dict[str, list[float]], sem: dict[str, list[float]]) -> list[str]:
        top = {d for d, _ in sorted(kw.items(), key=lambda kv: (-kv[1][0], kv[0]))[:m]}
        top |= {d for d, _ in sorted(sem.items(), key=lambda kv: (-kv[1][0], kv[0]))[:ms]}
        ranked = inner(kw, sem)
        return [d for d in ranked if d in top] + [d for d in ranked if d not in top]
    return rank


def best(v: list[float]) -> float:
    return v[0]


def top2(beta: float):
    return lambda v: v[0] + beta * (v[1] if len(v) > 1 else 0.0)


def variants(length: dict[str, int]) -> dict[str, Callable]:
    out: dict[str, Callable] = {}
    for w in (0.3, 0.4, 0.5, 0.6, 0.7):
        out[f"weighted w={w} best"] = weighted(w, best)
        out[f"weighted w={w} top2(0.2)"] = weighted(w, top2(0.2))
        for prior in (0.02, 0.05):
            out[f"weighted w={w} best prior={prior}"] = weighted(w, best, length=length, prior=prior)
        out[f"weighted w={w} best sem/max"] = weighted(w, best, sem_norm=_bymax)
    for c in (10, 30, 60):
        for w in (0.5, 0.6, 0.7):
            out[f"rrf c={c} w={w}"] = rrf(c, w, best)
    for w in (0.4, 0.5, 0.6, 0.7):
        for m in (2, 3, 4, 5):
            for ms in (1, 2):
                out[f"shortlist w={w} kw={m} sem={ms}"] = shortlisted(w, m, ms)
                for prior in (0.02, 0.05):
                    out[f"shortlist w={w} kw={m} sem={ms} prior={prior}"] = shortlisted(
                        w, m, ms, length, prior)
    out["keyword only"] = weighted(1.0, best)
    out["semantic only"] = weighted(0.0, best)
    return out


def bm25s_rankings(lib: Library, queries: list[dict]) -> list[list[str]]:
    """The reference: bm25s over the same passages (title + text), best passage per document."""
    import bm25s

    canon = lib.store.canonical_map()
    docs = {d.id: d for d in lib.list(DocFilter())}
    rows = [(pid, text, title) for pid, text, title in lib.store.all_passages()]
    owner_of = {}
    for d in docs.values():
        for p in lib.store.doc_passages(d.id):
            owner_of[(p.text, d.title)] = canon.get(d.id, d.id)
    keep = [(f"{title or ''} {text}", owner_of[(text, title)]) for _, text, title in rows
            if (text, title) in owner_of]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([c for c, _ in keep], stopwords="en", show_progress=False),
                    show_progress=False)
    out = []
    for q in queries:
        res, _ = retriever.retrieve(bm25s.tokenize([q["q"]], stopwords="en", show_progress=False),
                                    k=100, show_progress=False)
        out.append(list(dict.fromkeys(keep[i][1] for i in res[0])))
    return out


def r5_changes(a: list[list[str]], b: list[list[str]], queries: list[dict],
               names: dict[str, str]) -> tuple[int, int]:
    """Queries whose answer is in a's top 5 but not b's, and the other way round."""
    wins = losses = 0
    for ra, rb, q in zip(a, b, queries):
        rel = {names[str(r).lower()] for r in q["relevant"]}
        ina, inb = bool(rel & set(ra[:5])), bool(rel & set(rb[:5]))
        wins += ina and not inb
        losses += inb and not ina
    return wins, losses


def score(ranked_lists: list[list[str]], queries: list[dict], names: dict[str, str]) -> dict:
    n = len(queries)
    r1 = r5 = r10 = mrr = 0.0
    for ranked, q in zip(ranked_lists, queries):
        rel = {names[str(r).lower()] for r in q["relevant"]}
        first = next((i for i, d in enumerate(ranked[:10]) if d in rel), None)
        r1 += len(rel & set(ranked[:1])) / len(rel)
        r5 += len(rel & set(ranked[:5])) / len(rel)
        r10 += len(rel & set(ranked[:10])) / len(rel)
        mrr += 0.0 if first is None else 1 / (first + 1)
    return {"R@1": r1 / n, "R@5": r5 / n, "R@10": r10 / n, "MRR": mrr / n}


def choose(rankings: dict[str, list[list[str]]], queries: list[dict], names: dict[str, str],
           idx: list[int]) -> str:
    """The rule: the best MRR among variants that lose at most 1% of the queries (+1) from the
    top 5 against keyword only, on the queries at idx (3 of the 286 tune queries)."""
    sub = [queries[i] for i in idx]
    kw = [rankings["keyword only"][i] for i in idx]
    best: tuple[float, str] | None = None
    for name, ranked in rankings.items():
        mine = [ranked[i] for i in idx]
        if r5_changes(mine, kw, sub, names)[1] > 0.01 * len(idx) + 1:
            continue
        mrr = score(mine, sub, names)["MRR"]
        if best is None or mrr > best[0]:
            best = (mrr, name)
    assert best is not None  # keyword only itself always qualifies
    return best[1]


def leave_one_set_out(rankings: dict[str, list[list[str]]], queries: list[dict],
                      names: dict[str, str]) -> None:
    """Checks the rule, not a variant: choose on all tune files but one, score on that one."""
    files = sorted({q["key"].split("#")[0] for q in queries})
    for held in files:
        train = [i for i, q in enumerate(queries) if not q["key"].startswith(held + "#")]
        test = [i for i, q in enumerate(queries) if q["key"].startswith(held + "#")]
        name = choose(rankings, queries, names, train)
        sub = [queries[i] for i in test]
        got = score([rankings[name][i] for i in test], sub, names)
        kw = score([rankings["keyword only"][i] for i in test], sub, names)
        print(f"  left out {held} ({len(test)}): chose {name}; there MRR {got['MRR']:.3f} "
              f"(keyword {kw['MRR']:.3f}), R@5 {got['R@5']:.3f} (keyword {kw['R@5']:.3f})")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--library", required=True)
    ap.add_argument("--report", help="the chosen variant: print its held-out figures")
    args = ap.parse_args()
    lib = Library(args.library, read_only=True)
    names = resolver(lib)
    length = {d.id: len(lib.store.doc_passages(d.id)) for d in lib.list(DocFilter())}
    part = "heldout" if args.report else "tune"
    queries = load_split(FILES, part)
    lists = candidate_lists(lib, queries)
    table = variants(length)
    chosen = {args.report: table[args.report], "keyword only": table["keyword only"],
              "semantic only": table["semantic only"]} if args.report else table
    rows = []
    rankings = {name: [rank(kw, sem) for kw, sem in lists] for name, rank in chosen.items()}
    for name, ranked in rankings.items():
        rows.append((name, score(ranked, queries, names)))
    if args.report:
        rows.append(("bm25s (reference)", score(bm25s_rankings(lib, queries), queries, names)))
        wins, losses = r5_changes(rankings[args.report], rankings["keyword only"], queries, names)
        print(f"R@5 against keyword only: {wins} queries gained, {losses} lost")
    else:
        kw = rankings["keyword only"]
        changes = {name: r5_changes(r, kw, queries, names) for name, r in rankings.items()}
    rows.sort(key=lambda r: -r[1]["MRR"])
    print(f"{part}: {len(queries)} queries")
    print(f"{'variant':40} {'MRR':>6} {'R@1':>6} {'R@5':>6} {'R@10':>6}  R@5 vs keyword")
    for name, m in rows:
        vs = "" if args.report else "  +{} -{}".format(*changes[name])
        print(f"{name:40} {m['MRR']:6.3f} {m['R@1']:6.3f} {m['R@5']:6.3f} {m['R@10']:6.3f}{vs}")
    if not args.report:
        print(f"chosen by the rule: {choose(rankings, queries, names, list(range(len(queries))))}")
        print("the rule, leaving one query set out at a time:")
        leave_one_set_out(rankings, queries, names)
    return 0


if __name__ == "__main__":
    sys.exit(main())
