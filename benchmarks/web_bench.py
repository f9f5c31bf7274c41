"""Latency of `backlist serve` for search: the page, its live-results fragment and the JSON API,
in-process (TestClient, one at a time) and over HTTP on loopback with 20 concurrent clients;
plus the server's memory (RSS). Not a test: it prints a table.

    python benchmarks/web_bench.py                      # the demo archive (hash embedder)
    python benchmarks/web_bench.py --library DIR        # also an existing library, e.g. the sample
                                                        # archive ingested with the real model

The demo library is built in a temporary folder with the deterministic hash embedder, so the
numbers measure the web layer and the index, not the model. A given --library uses whatever
embedder it was built with (MiniLM by default: the first query loads it, excluded as warm-up).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "demo-archive"
QUERIES = ["oyster reefs", "living shorelines", "kelp farming winter", "storm", "horseshoe crabs",
           "striped bass", "seawall", "harbor dredging", "marsh grass", "volunteers counting"]
PATHS = {"page": "/?q={q}", "fragment": "/search/results?q={q}", "api": "/api/search?q={q}&k=10"}


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def rss_mb() -> float:
    """Current resident set of this process (the server runs in it), from /proc."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_process(app, rounds: int) -> dict[str, list[float]]:
    from fastapi.testclient import TestClient

    out: dict[str, list[float]] = {k: [] for k in PATHS}
    with TestClient(app, base_url="http://127.0.0.1") as client:
        for kind, path in PATHS.items():
            client.get(path.format(q=quote(QUERIES[0])))  # warm-up (model load, caches)
            for i in range(rounds):
                url = path.format(q=quote(QUERIES[i % len(QUERIES)]))
                t = time.perf_counter()
                r = client.get(url)
                out[kind].append(time.perf_counter() - t)
                assert r.status_code == 200, (url, r.status_code, r.text[:200])
    return out


def over_http(base: str, clients: int, per_client: int) -> tuple[dict[str, list[float]], float]:
    """clients threads, each one httpx client doing per_client requests of each kind."""
    import httpx

    out: dict[str, list[float]] = {k: [] for k in PATHS}
    lock = threading.Lock()
    errors: list[str] = []

    def worker(n: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as c:
            for i in range(per_client):
                for kind, path in PATHS.items():
                    url = path.format(q=quote(QUERIES[(n + i) % len(QUERIES)]))
                    t = time.perf_counter()
                    r = c.get(url)
                    took = time.perf_counter() - t
                    with lock:
                        out[kind].append(took)
                        if r.status_code != 200:
                            errors.append(f"{url}: {r.status_code}")

    start = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    if errors:
        raise SystemExit(f"{len(errors)} failed requests, e.g. {errors[0]}")
    return out, wall


def build_demo(folder: Path) -> Path:
    from backlist.service import Library

    with Library(folder) as lib:
        lib.ingest([str(DEMO)])
        lib.import_metrics(DEMO / "metrics" / "dashboard.csv")
    return folder


def bench(name: str, library: Path, rounds: int, clients: int, per_client: int) -> list[tuple]:
    import httpx  # noqa: F401  (fail early if missing)

    sys.path.insert(0, str(ROOT / "tests"))
    from test_web_api import running

    from backlist.web.app import create_app

    rows = []
    base_rss = rss_mb()
    local = in_process(create_app(library, mcp=False), rounds)
    for kind, times in local.items():
        rows.append((name, "in-process", kind, len(times), times))
    with running(create_app(library)) as base:
        import httpx

        httpx.get(base + PATHS["api"].format(q="warm"))
        remote, wall = over_http(base, clients, per_client)
        total = sum(len(v) for v in remote.values())
        for kind, times in remote.items():
            rows.append((name, f"HTTP x{clients}", kind, len(times), times))
    print(f"{name}: {total} HTTP requests in {wall:.1f} s ({total / wall:.0f} req/s) with "
          f"{clients} concurrent clients; RSS {base_rss:.0f} MB before the app, {rss_mb():.0f} MB "
          "after (server and clients share this process)")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--library", type=Path, help="an existing library folder to measure as well")
    ap.add_argument("--rounds", type=int, default=50, help="in-process requests per kind")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--per-client", type=int, default=5, help="requests per client per kind")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["BACKLIST_EMBEDDER"] = "hash"
        rows += bench("demo", build_demo(Path(tmp) / "lib"), args.rounds, args.clients,
                      args.per_client)
        if args.library:
            os.environ.pop("BACKLIST_EMBEDDER", None)
            rows += bench(args.library.name, args.library, args.rounds, args.clients,
                          args.per_client)
    print()
    print(f"{'library':<16} {'how':<11} {'endpoint':<9} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, how, kind, n, times in rows:
        ms = [t * 1000 for t in times]
        print(f"{name:<16} {how:<11} {kind:<9} {n:>5} {statistics.median(ms):>8.1f} "
              f"{pct(ms, 95):>8.1f} {max(ms):>8.1f}")


if __name__ == "__main__":
    main()
