"""Score query sets through the MCP `search` tool, as an agent sees it: a real stdio server
(`backlist mcp`) and the SDK client, ids read back from the cited Markdown.

    python eval/mcp_eval.py --library DIR [--split heldout] [FILE ...]

Prints R@1/5/10 and MRR per mode; with no FILE, every query set in this folder, limited to
--split if given (eval/splits.json). The figures must equal `backlist eval`'s: both surfaces call
the same Library.search.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from pathlib import Path

from mcp import Client
from mcp.client.stdio import StdioServerParameters

from backlist.index.evaluate import load_queries, load_split, resolver
from backlist.service import Library

HERE = Path(__file__).resolve().parent
ID = re.compile(r"^\d+\. .*id `([^`]+)`", re.M)


async def ranked_ids(library: str, queries: list[dict], mode: str) -> list[list[str]]:
    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "backlist.cli", "--library", library, "mcp"])
    out = []
    async with Client(params, read_timeout_seconds=300) as client:
        for q in queries:
            res = await client.call_tool("search", {"query": q["q"], "k": 10, "mode": mode,
                                                    "max_tokens": 100_000})
            text = "\n".join(c.text for c in res.content if getattr(c, "text", None))
            if "left out to fit the token budget" in text:
                raise SystemExit(f"{q['key']}: the answer was cut to fit the token budget")
            out.append(ID.findall(text))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--library", required=True)
    ap.add_argument("--split", choices=("tune", "heldout"))
    ap.add_argument("files", nargs="*", type=Path)
    args = ap.parse_args()
    files = args.files or [HERE / "sample-archive-dev.jsonl"] + [
        HERE / f"sample-archive-set{n}.jsonl" for n in (2, 3, 4, 5)]
    queries = load_split(files, args.split, HERE / "splits.json") if args.split else \
        [q for f in files for q in load_queries(f)]
    names = resolver(Library(args.library, read_only=True))
    print(f"{len(queries)} queries through the MCP search tool")
    print(f"{'mode':10} {'MRR':>6} {'R@1':>6} {'R@5':>6} {'R@10':>6}")
    for mode in ("keyword", "semantic", "hybrid"):
        ranked = asyncio.run(ranked_ids(args.library, queries, mode))
        firsts = []
        for ids, q in zip(ranked, queries):
            rel = {names[str(r).lower()] for r in q["relevant"]}
            firsts.append(next((i for i, d in enumerate(ids[:10]) if d in rel), None))
        n = len(queries)
        mrr = sum(0 if f is None else 1 / (f + 1) for f in firsts) / n
        r = {c: sum(f is not None and f < c for f in firsts) / n for c in (1, 5, 10)}
        print(f"{mode:10} {mrr:6.3f} {r[1]:6.3f} {r[5]:6.3f} {r[10]:6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
