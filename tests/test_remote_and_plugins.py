"""Inputs and embedders reached over HTTP, served from this machine's loopback address."""

from __future__ import annotations

import hashlib
import json
import threading
from contextlib import contextmanager
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
from conftest import DEMO
from typer.testing import CliRunner

from backlist.cli import app
from backlist.index.search import Searcher
from backlist.service import Library
from backlist.store.base import DocFilter
from backlist.tokens import count_tokens

runner = CliRunner()


@contextmanager
def serve(handler):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_feed_by_url_with_remote_transcript(tmp_path):
    handler = partial(Quiet, directory=str(DEMO / "podcast"))
    with serve(handler) as base:
        lib = Library(tmp_path / "lib")
        no_fetch = lib.ingest([f"{base}/feed.xml"], embed=False)
        assert no_fetch.documents_new == 2
        # a transcript left unfetched is counted for one summary line, not an error
        assert not no_fetch.errors and no_fetch.totals["transcripts_not_fetched"] >= 1
        lib.close()
        lib = Library(tmp_path / "lib2")
        report = lib.ingest([f"{base}/feed.xml"], embed=False, fetch_remote=True)
        assert not report.errors and report.documents_new == 2
        ep = next(d for d in lib.list(DocFilter()) if d.speakers)
        assert ep.source == f"{base}/feed.xml" and ep.speakers == ["Maren Holt", "Ana Ruiz"]
        # a URL is fetched again every time; its unchanged episodes cost no more work
        again = lib.ingest([f"{base}/feed.xml"], embed=False, fetch_remote=True)
        assert again.sources_read == 1 and again.documents_unchanged == 2
        assert again.documents_new == again.documents_updated == again.passages_added == 0
        lib.close()
        missing = Library(tmp_path / "lib3").ingest([f"{base}/nope.xml"], embed=False)
        assert len(missing.errors) == 1 and "404" in missing.errors[0]


class FakeEmbeddings(BaseHTTPRequestHandler):
    """An OpenAI-compatible /v1/embeddings stand-in: hashed bag-of-words vectors."""

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        data = []
        for i, text in enumerate(body["input"]):
            v = np.zeros(64, dtype=np.float32)
            for w in text.lower().split():
                v[int(hashlib.md5(w.strip(".,").encode()).hexdigest(), 16) % 64] += 1
            data.append({"index": i, "embedding": v.tolist()})
        out = json.dumps({"data": data, "model": body["model"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


def test_openai_compatible_embedder(tmp_path):
    with serve(FakeEmbeddings) as base:
        lib = Library(tmp_path / "lib")
        lib.ingest([str(DEMO)], embed=False)
        lib.close()
        spec = f"{base}/v1/embeddings#fake-model"
        res = runner.invoke(app, ["--library", str(tmp_path / "lib"), "reindex", "--embedder", spec])
        assert res.exit_code == 0, res.output
        lib = Library(tmp_path / "lib", read_only=True)
        assert lib.store.get_meta("embed_dim") == "64"
        assert lib.store.get_meta("embed_model") == f"openai:fake-model@{base}/v1/embeddings"
        hits = Searcher(lib).search("kelp farm harvest", k=2, mode="semantic")
        assert hits[0].doc.title == "What a winter of kelp farming taught me"
        lib.close()


def test_context_pack_fits_budget_and_cites(demo_lib, tmp_path):
    out = tmp_path / "pack.md"
    res = runner.invoke(app, ["--library", str(demo_lib.dir), "context", "oyster reefs and marsh",
                              "--budget", "300", "--out", str(out)])
    assert res.exit_code == 0, res.output
    pack = out.read_text()
    assert pack.startswith("# Context from the archive: oyster reefs and marsh")
    assert count_tokens(pack) <= 300
    assert "**Oyster reefs are infrastructure** · 2025-03-04 · post · id `" in pack
    draft = tmp_path / "draft.md"
    draft.write_text("Notes toward a piece on living shorelines and storm damage.")
    res = runner.invoke(app, ["--library", str(demo_lib.dir), "context", "-", "--draft",
                              str(draft), "--budget", "2000"], input="")
    assert res.exit_code == 0, res.output
    assert "living-shorelines-ana-ruiz" in res.stdout and "_Why:" in res.stdout
