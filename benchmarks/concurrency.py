"""MCP under parallel agents: p50/p95 latency and errors at 1, 10 and 50 concurrent clients,
keyword and hybrid, over streamable HTTP (a real server process, the SDK's client).

    python benchmarks/concurrency.py --library DIR [--calls 200]

The baseline is one client calling sequentially; the table gives each row's p50 as a ratio of it.
Traffic goes to 127.0.0.1 only, and every loop is bounded by --calls.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import time
from pathlib import Path

from mcp import Client

QUERIES = ["open models", "reinforcement learning from human feedback", "China and chips",
           "how I write every week", "agents that code", "evaluation of reasoning models"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(library: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "backlist.cli", "--library", library, "mcp",
                             "--http", "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}/mcp"
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start")


async def one_client(url: str, mode: str, calls: int, latencies: list[float], errors: list[str]):
    async with Client(url, read_timeout_seconds=300) as client:
        for i in range(calls):
            started = time.perf_counter()
            res = await client.call_tool("search", {"query": QUERIES[i % len(QUERIES)],
                                                    "k": 5, "mode": mode})
            latencies.append(time.perf_counter() - started)
            if getattr(res, "is_error", False) or getattr(res, "isError", False):
                errors.append(str(res.content[0].text)[:200])


async def run(url: str, mode: str, clients: int, total: int) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    per = max(1, total // clients)
    started = time.perf_counter()
    await asyncio.gather(*(one_client(url, mode, per, latencies, errors) for _ in range(clients)))
    wall = time.perf_counter() - started
    latencies.sort()
    return {"calls": len(latencies), "errors": len(errors), "wall_s": wall,
            "p50_ms": 1000 * latencies[len(latencies) // 2],
            "p95_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))],
            "per_s": len(latencies) / wall}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--library", required=True)
    ap.add_argument("--calls", type=int, default=200, help="calls per row (bounded)")
    args = ap.parse_args()
    if not (Path(args.library) / "library.sqlite").exists():
        raise SystemExit(f"{args.library}: no library (run backlist ingest first)")
    proc, url = start(args.library)
    try:
        asyncio.run(run(url, "hybrid", 1, 6))  # warm the model and the caches
        print(f"{'mode':8} {'clients':>7} {'calls':>6} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} "
              f"{'calls/s':>8} {'p50 / 1-client':>15}")
        for mode in ("keyword", "hybrid"):
            base = None
            for clients in (1, 10, 50):
                r = asyncio.run(run(url, mode, clients, args.calls))
                base = base or r["p50_ms"]
                print(f"{mode:8} {clients:7} {r['calls']:6} {r['errors']:6} {r['p50_ms']:8.1f} "
                      f"{r['p95_ms']:8.1f} {r['per_s']:8.1f} {r['p50_ms'] / base:15.2f}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
