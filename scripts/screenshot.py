"""Regenerate the README's screenshot from the demo archive, in headless Chromium.

    python scripts/screenshot.py                      # docs/screenshot-search.png
    python scripts/screenshot.py --path '/timeline?q=oyster' --dark --out /tmp/t.png

The demo archive is ingested into a fresh library in a temporary folder (with the real model,
as a writer would see it; --hash uses the test embedder), served on a free loopback port, and
the page shot at 1200x860 (the README's size). Needs Chromium (scripts/setup-browser.sh).
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "demo-archive"
CHROMIUM = "/usr/bin/chromium"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--path", default="/?q=oyster%20reefs", help="the page to shoot")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot-search.png")
    ap.add_argument("--dark", action="store_true", help="dark colour scheme")
    ap.add_argument("--full", action="store_true", help="the whole page, not the first screen")
    ap.add_argument("--hash", action="store_true", help="the test embedder (no model)")
    args = ap.parse_args()
    if args.hash:
        os.environ["BACKLIST_EMBEDDER"] = "hash"

    import uvicorn
    from playwright.sync_api import sync_playwright

    from backlist.service import Library
    from backlist.web.app import create_app

    with tempfile.TemporaryDirectory(prefix="backlist-shot-") as tmp:
        with Library(Path(tmp) / "lib") as lib:
            report = lib.ingest([str(DEMO)])
            if report.errors:
                raise SystemExit(f"the demo archive did not ingest: {report.errors}")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(create_app(Path(tmp) / "lib", port=port),
                                               host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1200, "height": 860},
                                        color_scheme="dark" if args.dark else "light")
                page.goto(f"http://127.0.0.1:{port}{args.path}")
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(args.out), full_page=args.full)
                browser.close()
        finally:
            server.should_exit = True
            thread.join(10)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
