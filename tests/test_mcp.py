"""The MCP server, started as a subprocess over stdio and over HTTP, driven by the SDK's client."""

from __future__ import annotations

import asyncio
import json
import os
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
TOOLS = {"search", "related", "get_document", "list_documents", "timeline", "library_stats",
         "top_documents", "topics", "entities", "insights", "links"}


# The SDK starts a stdio server with a minimal environment; the tests pass theirs on (e.g.
# PYTHONPATH), so the server is the code under test.
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
    assert {"query", "k", "mode", "kind", "since", "until", "speaker", "entity", "topic", "author",
            "drafts", "per_doc", "min_score", "max_tokens"} <= set(
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
    stats = json.loads(text_of(await client.call_tool("library_stats", {})))
    assert stats["documents"] >= 1 and stats["passages"] >= stats["documents"]

    # bad arguments are tool errors with a clear message, and the server keeps serving
    for name, args, message in [
        ("get_document", {"id": "ffffffffffff"}, "no document with this id"),
        ("search", {"query": "x", "since": "not-a-date"}, "since: 'not-a-date' is not a date"),
        ("search", {"query": "x", "k": 101}, "less than or equal to 100"),
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


PARALLEL_CALLS = 50


def calls_for(doc_id: str, query: str) -> list[tuple[str, dict]]:
    """One call of every tool, with arguments an agent would send."""
    return [("search", {"query": query, "k": 3}),
            ("search", {"query": query, "k": 3, "mode": "keyword"}),
            ("related", {"draft": f"{query}. {query} again, from another side."}),
            ("get_document", {"id": doc_id, "max_tokens": 300}),
            ("list_documents", {"limit": 5}),
            ("timeline", {"query": query}),
            ("library_stats", {})]


async def parallel_equals_sequential(client: Client, doc_id: str, query: str) -> None:
    """50 parallel calls of every tool: no errors, each answer equal to the sequential one."""
    calls = calls_for(doc_id, query)
    expected = [text_of(await client.call_tool(n, a)) for n, a in calls]
    batch = [calls[i % len(calls)] for i in range(PARALLEL_CALLS * len(calls))]
    results = await asyncio.gather(*(client.call_tool(n, a) for n, a in batch))
    errors = [text_of(r) for r in results if is_error(r)]
    assert not errors, errors[:3]
    for i, r in enumerate(results):
        assert text_of(r) == expected[i % len(calls)], batch[i]


def test_stdio_server_on_demo(demo_lib):
    doc = next(d for d in demo_lib.list(DocFilter())
               if d.title == "What a winter of kelp farming taught me")
    params = StdioServerParameters(command=sys.executable, env=dict(os.environ),
                                   args=server_cmd(demo_lib.dir)[1:])

    async def main():
        async with Client(params, read_timeout_seconds=120) as client:
            await exercise(client, doc.id, doc.title, "kelp farm in winter storms")
            await parallel_equals_sequential(client, doc.id, "kelp farm in winter storms")

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
                await parallel_equals_sequential(client, doc.id, "open models from China")

        asyncio.run(main())
        # on loopback, DNS rebinding is refused: a page that names another Host gets nothing
        import httpx

        evil = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
                          headers={"host": "evil.example", "accept": "application/json, "
                                   "text/event-stream"})
        assert evil.status_code in (400, 403, 421)


def test_server_keeps_answering_during_an_ingest(tmp_path):
    lib = Library(tmp_path / "lib")
    lib.ingest([str(DEMO)], embed=False)
    lib.close()
    extra = tmp_path / "new.md"
    extra.write_text("---\ntitle: Eelgrass returns\ndate: 2025-08-01\n---\n"
                     "Eelgrass meadows came back to the cove after the water cleared.\n")
    params = StdioServerParameters(command=sys.executable, args=server_cmd(tmp_path / "lib")[1:],
                                   env=dict(os.environ))

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


def test_tools_in_process(demo_lib):
    """The same tools, registered by create_server, called in-process by the SDK client."""
    from backlist.mcp_server import create_server, search

    doc = next(d for d in demo_lib.list(DocFilter()) if d.title and "kelp" in d.title)
    direct = search(lambda: demo_lib, "kelp farm", k=2, mode="keyword")
    assert doc.title in direct and f"id `{doc.id}`" in direct

    async def main():
        async with Client(create_server(demo_lib.dir)) as client:
            res = await client.call_tool("search", {"query": "kelp farm", "k": 2, "mode": "keyword"})
            assert text_of(res) == direct
            big = await client.call_tool("search", {"query": "x" * 10_000_000})
            assert is_error(big) and "2000" in text_of(big)
            res = await client.call_tool("get_document", {"id": "z" * 500})
            assert is_error(res)

    started = time.monotonic()
    asyncio.run(main())
    assert time.monotonic() - started < 10  # a 10 MB argument is refused, not searched


def test_stdio_answers_malformed_json_with_a_parse_error(demo_lib):
    proc = subprocess.run(server_cmd(demo_lib.dir), input=b"{not json\n", capture_output=True,
                          timeout=60)
    reply = json.loads(proc.stdout.decode().splitlines()[0])
    assert reply["error"]["code"] == -32700 and reply["id"] is None


def test_http_off_loopback_needs_a_token(demo_lib):
    import httpx

    port = _free_port()
    refused = subprocess.run(server_cmd(demo_lib.dir, "--http", "--host", "127.0.0.2",
                                        "--port", str(port)), capture_output=True, timeout=60,
                             env={k: v for k, v in os.environ.items() if k != "BACKLIST_TOKEN"})
    assert refused.returncode == 1 and b"--token" in refused.stderr
    proc = subprocess.Popen(server_cmd(demo_lib.dir, "--http", "--host", "127.0.0.2", "--port",
                                       str(port), "--token", "s3cret"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.2:{port}/mcp"
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"}}}
    headers = {"accept": "application/json, text/event-stream", "host": f"127.0.0.2:{port}"}
    try:
        _wait_port("127.0.0.2", port, proc)
        assert httpx.post(url, json=init, headers=headers).status_code == 401
        wrong = httpx.post(url, json=init, headers={**headers, "authorization": "Bearer nope"})
        assert wrong.status_code == 401
        ok = httpx.post(url, json=init, headers={**headers, "authorization": "Bearer s3cret"})
        assert ok.status_code == 200 and "backlist" in ok.text
        # off loopback the token is the guard, whatever name the client used for the server
        other = {**headers, "host": "backlist.example:80"}
        assert httpx.post(url, json=init, headers=other).status_code == 401
        ok = httpx.post(url, json=init, headers={**other, "authorization": "Bearer s3cret"})
        assert ok.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _wait_port(host: str, port: int, proc) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.2)
    raise AssertionError("server did not start")


def test_aggregate_tools_and_prompts_in_process(tmp_path, monkeypatch):
    """top_documents, entities, insights, links and the two editorial prompts, through the SDK."""
    from backlist.mcp_server import create_server

    monkeypatch.setenv("BACKLIST_EMBEDDER", "hash")
    lib = Library(tmp_path / "lib")
    lib.ingest([str(DEMO)])
    lib.import_metrics(DEMO / "metrics" / "dashboard.csv")
    top = lib.top("views", k=3)
    with_views = len(lib.top("views", k=100))
    first = top[0][0]
    lib.close()

    async def main():
        async with Client(create_server(tmp_path / "lib")) as client:
            out = text_of(await client.call_tool("top_documents", {"metric": "views", "k": 3}))
            assert out.splitlines()[1].startswith("1. ") and first.id in out.splitlines()[1]
            assert f"views {top[0][1]:g}" in out
            ents = text_of(await client.call_tool("entities", {}))
            assert ents.splitlines()[0].endswith(("entity", "entities"))
            assert all(line.startswith("- **") for line in ents.splitlines()[1:])
            ins = json.loads(text_of(await client.call_tool("insights", {"metric": "views"})))
            assert ins["overall"]["n"] == with_views
            linked = text_of(await client.call_tool("links", {"id": first.id}))
            assert "## Cites" in linked and "## Cited by" in linked
            bad = await client.call_tool("top_documents", {"metric": "nope"})
            assert is_error(bad) and "no document has the metric" in text_of(bad)
            prompts = {p.name for p in (await client.list_prompts()).prompts}
            assert prompts == {"find_references", "said_over_time"}
            got = await client.get_prompt("said_over_time", {"topic": "oyster reefs"})
            assert "oyster reefs" in got.messages[0].content.text

    asyncio.run(main())
