"""One hostile corpus through every surface's output format (issue 24): JSON escapes C1 controls
and bidi overrides as \\uXXXX (the text survives, inert), Markdown for agents escapes markup in
every tool (entities and topics too), the terminal drops escapes."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backlist.cli import app
from backlist.render import json_text
from backlist.service import Library

runner = CliRunner()
CSI = "\u009b"  # the one-byte C1 "control sequence introducer"
RLO = "\u202e"  # right-to-left override
ISOLATE = "\u2066"
TITLE = f"Tides {CSI}31m {RLO}gnp.exe{ISOLATE} <script>alert(1)</script>"
# YAML cannot hold C1 characters raw: frontmatter writes them as YAML escapes (\x9b, \u202e)
YAML_TITLE = "Tides \\x9b31m \\u202egnp.exe\\u2066 <script>alert(1)</script>"
POST = (f"---\ntitle: \"{YAML_TITLE}\"\ndate: 2025-01-02\nauthor: \"Eve\\x9b2J\"\n---\n"
        f"The tide came in over the marsh {RLO}and{CSI}1m the reef held.\n")
SPEAKER = "Eve <img src=x onerror=alert(1)"
VTT = ("WEBVTT\n\n00:00:01.000 --> 00:00:05.000\n<v " + SPEAKER + ">The tide and the reef, "
       "we talk about the marsh.\n\n00:00:06.000 --> 00:00:09.000\n<v Bob>The reef held.\n")
TOPICS = ("topics:\n  - name: \"<script>alert(2)</script>\\u202e\"\n"
          "    description: \"<img src=x onerror=alert(3)> \\x9b0m\"\n")
UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
LIVE_TAG = re.compile(r"(?<!\\)<[A-Za-z/!]")  # a "<" that Markdown or HTML would take as a tag


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    mp = pytest.MonkeyPatch()
    mp.setenv("BACKLIST_EMBEDDER", "hash")
    root = tmp_path_factory.mktemp("hostile")
    (root / "in").mkdir()
    (root / "in" / "evil.md").write_text(POST, encoding="utf-8")
    (root / "in" / "ep.vtt").write_text(VTT, encoding="utf-8")
    lib = Library(root / "lib")
    try:
        assert not lib.ingest([str(root / "in")]).errors
        (lib.dir / "topics.yaml").write_text(TOPICS, encoding="utf-8")
        post = next(d for d in lib.list() if d.kind == "post")
        assert CSI in (post.title or "") and RLO in (post.title or "")  # stored as written
        lib.tag(post.id, f"<script>alert(2)</script>{RLO}")
        lib.refresh_entities()
    finally:
        lib.close()
    yield root / "lib"
    mp.undo()


def cli(folder: Path, *args: str):
    res = runner.invoke(app, ["--library", str(folder), *args])
    assert res.exit_code == 0, res.output
    return res


def test_json_text_escapes_c1_and_bidi_and_round_trips():
    data = {"t": TITLE, "s": [SPEAKER, "\x07\x7f\u2028"], "ok": "naïve — “quoted”"}
    text = json_text(data)
    assert not UNSAFE.search(text) and "\u2028" not in text
    assert "\\u009b" in text and "\\u202e" in text and "\\u2066" in text
    assert "naïve — “quoted”" in text  # ordinary Unicode stays readable
    assert json.loads(text) == data


@pytest.mark.parametrize("args", [["ls"], ["search", "tide reef"], ["get", "POST"],
                                  ["entities"], ["topics"], ["timeline", "reef"], ["stats"]])
def test_cli_json_is_inert_and_keeps_the_text(hostile, args):
    with Library(hostile, read_only=True) as lib:
        post = next(d for d in lib.list() if d.kind == "post")
    args = [post.id if a == "POST" else a for a in args]
    out = cli(hostile, *args, "--json").stdout
    assert not UNSAFE.search(out), args
    data = json.loads(out)
    if args[0] in ("ls", "search", "get", "timeline"):
        assert TITLE in json.dumps(data, ensure_ascii=False), "the title must survive, escaped"


@pytest.mark.parametrize("args", [["ls"], ["search", "tide reef"], ["entities"], ["topics"],
                                  ["timeline", "reef"]])
def test_cli_terminal_output_drops_controls(hostile, args):
    out = cli(hostile, *args).output
    assert not UNSAFE.search(out) and "\x1b" not in out, args


def _mcp_texts(folder: Path, post_id: str) -> dict[str, str]:
    from mcp import Client

    from backlist.mcp_server import create_server

    calls = {"search": {"query": "tide reef"}, "related": {"draft": "the tide and the reef"},
             "get_document": {"id": post_id}, "list_documents": {},
             "timeline": {"query": "reef"}, "entities": {}, "topics": {}, "links": {"id": post_id},
             "library_stats": {}}

    async def run() -> dict[str, str]:
        out = {}
        async with Client(create_server(folder)) as client:
            for name, args in calls.items():
                res = await client.call_tool(name, args)
                text = "\n".join(c.text for c in res.content if getattr(c, "text", None))
                assert not getattr(res, "is_error", False), (name, text)
                out[name] = text
        return out

    return asyncio.run(run())


def test_every_mcp_tool_is_inert(hostile):
    with Library(hostile, read_only=True) as lib:
        post = next(d for d in lib.list() if d.kind == "post")
    texts = _mcp_texts(hostile, post.id)
    for name, text in texts.items():
        assert not UNSAFE.search(text), name
        assert not LIVE_TAG.search(text), (name, LIVE_TAG.search(text))
    # the archive's names still reach the agent, escaped
    assert "onerror" in texts["entities"] and "Bob" in texts["entities"]
    assert "script\\>alert" in texts["topics"] and "onerror=alert" in texts["topics"]
    assert "Tides" in texts["search"] and "Tides" in texts["get_document"]
