"""The MCP server, started as a subprocess over stdio and over HTTP, driven by the SDK's client."""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from mcp import Client
from mcp.client.stdio import StdioServerParameters

from backlist.service import Library
from backlist.store.base import DocFilter
from backlist.tokens import count_tokens

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo-archive"
TOOLS = {"search", "related", "get_document", "list_documents", "timeline", "library_stats"}


def server_cmd(library: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "backlist.cli", "--library", str(library), "mcp", *extra]


def text_of(result) -> str:
    return "\n".join(c.text for c in result.content if getattr(c, "text", None))


def is_error(result) -> bool:
    return bool(getattr(result, "is_error", None) or getattr(result, "isError", None))


async def exercise(client: Client, doc_id: str, expect_title: str, query: str) -> None:
    tools = await client.list_tools()
    names = {t.name for t in tools.tools}
    assert names == TOOLS
    for t in tools.tools:
        assert t.description and len(t.description) > 40
    search = next(t for t in tools.tools if t.name == "search")
    assert {"query", "k", "mode", "kind", "since", "until", "speaker", "max_tokens"} <= set(
        search.input_schema["properties"] if hasattr(search, "input_schema") else
        search.inputSchema["properties"])

    res = await client.call_tool("search", {"query": query, "k": 3})
    out = text_of(res)
    assert not is_error(res) and expect_title in out and f"id `{doc_id}`" in out
    assert re.search(r"\d{4}-\d{2}-\d{2}|undated", out)
    # budgets are honoured, and the hard cap holds even when asked for more
    small = text_of(await client.call_tool("search", {"query": query, "k": 10, "max_tokens": 150}))
    assert count_tokens(small) <= 150
    huge = text_of(await client.call_tool("get_document", {"id": doc_id, "max_tokens": 100000}))
    assert count_tokens(huge) <= 8000
    doc = text_of(await client.call_tool("get_document", {"id": doc_id}))
    assert doc.startswith(f"# {expect_title}")
    part = text_of(await client.call_tool("get_document", {"id": doc_id, "start_passage": 0,
                                                             "end_passage": 0}))
    assert "Passages 0-0 of" in part
    listing = text_of(await client.call_tool("list_documents", {"sort": "date_desc", "limit": 5}))
    assert "documents" in listing and "id `" in listing
    assert not is_error(await client.call_tool("related", {"draft": query + " " + query}))
    assert "Timeline" in text_of(await client.call_tool("timeline", {"query": query}))
    stats = await client.call_tool("library_stats", {})
    assert '"documents"' in text_of(stats) or getattr(stats, "structured_content", None)

    # bad arguments are tool errors with a clear message, and the server keeps serving
    for name, args, message in [
        ("get_document", {"id": "ffffffffffff"}, "no document with this id"),
        ("search", {"query": "x", "since": "not-a-date"}, "bad since date"),
        ("search", {"query": "   "}, "empty query"),
        ("list_documents", {"sort": "metric:nonexistent"}, "no document has the metric"),
        ("get_document", {"id": doc_id, "start_passage": 999}, "outside"),
    ]:
        res = await client.call_tool(name, args)
        assert is_error(res) and message in text_of(res), (name, text_of(res))
    res = await client.call_tool("search", {"query": "x", "mode": "fuzzy"})
    assert is_error(res)

    resource = await client.read_resource(f"backlist://doc/{doc_id}")
    body = resource.contents[0].text
    assert body.startswith(f"# {expect_title}") and doc_id in body
    assert not is_error(await client.call_tool("search", {"query": query}))


def test_stdio_server_on_demo(demo_lib):
    doc = next(d for d in demo_lib.list(DocFilter())
               if d.title == "What a winter of kelp farming taught me")
    params = StdioServerParameters(command=sys.executable,
                                   args=server_cmd(demo_lib.dir)[1:])

    async def main():
        async with Client(params, read_timeout_seconds=120) as client:
            await exercise(client, doc.id, doc.title, "kelp farm in winter storms")

    asyncio.run(main())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def http_server(library: Path):
    port = _free_port()
    proc = subprocess.Popen(server_cmd(library, "--http", "--port", str(port)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_http_server_on_sample_archive(sample_lib):
    from backlist.store.base import DocFilter

    doc = next(d for d in sample_lib.list(DocFilter()) if d.url and d.url.endswith("/p/llama-4"))
    with http_server(sample_lib.dir) as url:
        async def main():
            async with Client(url, read_timeout_seconds=120) as client:
                await exercise(client, doc.id, doc.title, "Meta's disappointing Llama 4 release")

        asyncio.run(main())


def test_server_keeps_answering_during_an_ingest(tmp_path):
    lib = Library(tmp_path / "lib")
    lib.ingest([str(DEMO)], embed=False)
    lib.close()
    extra = tmp_path / "new.md"
    extra.write_text("---\ntitle: Eelgrass returns\ndate: 2025-08-01\n---\n"
                     "Eelgrass meadows came back to the cove after the water cleared.\n")
    params = StdioServerParameters(command=sys.executable, args=server_cmd(tmp_path / "lib")[1:])

    async def main():
        async with Client(params, read_timeout_seconds=120) as client:
            before = text_of(await client.call_tool("search", {"query": "eelgrass",
                                                               "mode": "keyword"}))
            assert "No matching documents" in before
            ingest = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "backlist.cli", "--library", str(tmp_path / "lib"),
                "ingest", str(extra), "--no-embed")
            # the server answers while the other process writes
            during = await client.call_tool("list_documents", {})
            assert not is_error(during)
            assert await ingest.wait() == 0
            after = text_of(await client.call_tool("search", {"query": "eelgrass",
                                                              "mode": "keyword"}))
            assert "Eelgrass returns" in after

    asyncio.run(main())
