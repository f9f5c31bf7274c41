"""The surfaces agree: the same request through the façade, the CLI's --json and the MCP server
(the SDK's client against the real server) gives the same documents in the same order with the
same scores, for every option the façade method takes.

A surface is one function `(library folder, method, request) -> [(doc id, score)]`; adding one
(e.g. the JSON API) is adding a function to SURFACES.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from backlist.cli import app
from backlist.service import Library
from backlist.store.base import DocFilter

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo-archive"
runner = CliRunner()
TOPICS = ("topics:\n  - name: coast\n    description: reefs, marshes and shorelines\n"
          "  - name: fish\n    description: fish and fisheries\n")
DRAFT = ("Draft: what the oyster reef taught our town about storms. After the nor'easter the "
         "marsh behind the reef held while the sea wall failed; the living shoreline worked.")

Request = dict[str, Any]
Result = list[tuple[str, float]]
# The filter options every surface names alike: DocFilter fields as the user sees them.
FILTER_OPTIONS = {"kinds": "kind", "include_drafts": "drafts"}
INTERNAL_FILTER_FIELDS = {"ids", "include_duplicates"}
INTERNAL_OPTIONS = {"with_turns"}  # the façade's own (get returns the turns), not a user option
# Where a surface names a method or an option otherwise (kept for the users it already has).
CLI_COMMANDS = {"list": "ls"}
CLI_FLAGS = {"k": "-k", "metric": "--by", "order": "--sort"}
MCP_TOOLS = {"list": "list_documents", "top": "top_documents"}
MCP_NAMES = {"order": "sort"}


@pytest.fixture(scope="module")
def lib_dir(tmp_path_factory) -> Path:
    mp = pytest.MonkeyPatch()
    mp.setenv("BACKLIST_EMBEDDER", "hash")
    root = tmp_path_factory.mktemp("surfaces")
    lib = Library(root / "lib")
    try:
        assert not lib.ingest([str(DEMO)]).errors
        (lib.dir / "topics.yaml").write_text(TOPICS, encoding="utf-8")
        by_title = {d.title: d.id for d in lib.list(DocFilter(include_drafts=True))}
        for title, topic in (("Oyster reefs are infrastructure", "coast"),
                             ("Building living shorelines, with Dr. Ana Ruiz", "coast"),
                             ("Where the marsh goes next (draft)", "coast"),
                             ("Striped bass and the empty spring run", "fish")):
            lib.tag(by_title[title], topic)
        lib.refresh_entities()
        lib.import_metrics(DEMO / "metrics" / "dashboard.csv")
    finally:
        lib.close()
    yield root / "lib"
    mp.undo()


# --- the requests: together they use every option of each façade method -------------------------
REQUESTS: dict[str, list[Request]] = {
    "search": [
        {"query": "oyster reef storm"},
        {"query": "storm shoreline reef", "k": 4, "mode": "keyword", "kind": ["post", "episode"],
         "since": "2024", "until": "June 2025", "per_doc": 1, "explain": True, "sort": "date",
         "min_score": 0.05},
        {"query": "storm shoreline", "mode": "semantic", "speaker": "Ruiz",
         "author": "Maren Holt", "recent": True, "min_score": -1.0},
        {"query": "marsh reef", "topic": "coast", "drafts": True, "k": 5},
        {"query": "shoreline", "entity": "Ana Ruiz", "since": "2025-01", "until": "2025-12-31"},
        {"query": "crabs on the beach at night", "reading": True},
        {"query": "crabs on the beach at night", "reading": False},
    ],
    "related": [
        {"draft": DRAFT},
        {"draft": DRAFT, "k": 3, "kind": ["post", "episode"], "since": "2024", "until": "2025",
         "topic": "coast", "not_cited": True},
        {"draft": DRAFT, "speaker": "Ruiz", "author": "Maren Holt", "entity": "Ana Ruiz",
         "drafts": True},
        {"draft": DRAFT, "exclude": ["OYSTER"], "drafts": True, "reading": False},
    ],
    "list": [
        {},
        {"kind": ["post", "episode"], "since": "2024", "until": "June 2025", "order": "date_desc"},
        {"speaker": "Ruiz", "author": "Maren Holt", "entity": "Ana Ruiz", "drafts": True},
        {"topic": "coast", "drafts": True, "order": "metric:open_rate"},
        {"reading": True},
    ],
    "top": [
        {"metric": "views"},
        {"metric": "views", "year": "2025", "topic": "coast", "k": 2, "kind": ["post", "episode"],
         "since": "2025-01", "until": "this year", "drafts": True},
        {"metric": "views", "speaker": "Ruiz", "author": "Maren Holt", "entity": "Ana Ruiz",
         "reading": False},
    ],
    "timeline": [
        {"query": "reef"},
        {"query": "reef storm", "kind": ["post"], "since": "2024-06", "until": "December 2025",
         "topic": "coast", "drafts": True},
        {"query": "shoreline", "speaker": "Ruiz", "author": "Maren Holt", "entity": "Ana Ruiz"},
        {"query": "horseshoe crabs", "reading": True},
    ],
}


def facade_options(method: str) -> set[str]:
    """What the façade method takes, as surfaces name it (its filter spelled out)."""
    params = set(inspect.signature(getattr(Library, method)).parameters) - {"self", "flt"} \
        - INTERNAL_OPTIONS
    filters = {FILTER_OPTIONS.get(f.name, f.name) for f in fields(DocFilter)
               if f.name not in INTERNAL_FILTER_FIELDS}
    return params | filters


def resolved(lib: Library, request: Request) -> Request:
    """Placeholders filled in: "OYSTER" is the id of the oyster-reef post."""
    oyster = next(d.id for d in lib.list() if d.title == "Oyster reefs are infrastructure")
    return {k: [oyster if x == "OYSTER" else x for x in v] if k == "exclude" else v
            for k, v in request.items()}


# --- the surfaces --------------------------------------------------------------------------------
def via_facade(folder: Path, method: str, request: Request) -> Result:
    args = dict(request)
    flt = DocFilter(kinds=args.pop("kind", ()), include_drafts=args.pop("drafts", False),
                    **{k: args.pop(k) for k in ("since", "until", "speaker", "entity", "topic",
                                                "author", "reading") if k in args})
    with Library(folder, read_only=True) as lib:
        if method == "list":
            return [(d.id, 0.0) for d in lib.list(flt, **args)]
        if method == "top":
            return [(d.id, round(v, 3)) for d, v in lib.top(flt=flt, **args)]
        text = args.pop("query", None) or args.pop("draft")
        if method == "timeline":
            t = lib.timeline(text, flt=flt)
            hits = t.dated + t.undated
        else:
            hits = getattr(lib, method)(text, flt=flt, **args)
        return [(h.doc.id, round(h.score, 3)) for h in hits]


def via_cli(folder: Path, method: str, request: Request, tmp: Path) -> Result:
    args = [CLI_COMMANDS.get(method, method)]
    for key, value in request.items():
        flag = CLI_FLAGS.get(key, "--" + key.replace("_", "-"))
        if key == "draft":
            path = tmp / "draft.md"
            path.write_text(value, encoding="utf-8")
            args.append(str(path))
        elif key == "query":
            args.append(value)
        elif value is True:
            args.append(flag)
        elif value is False:
            args.append("--no-" + flag[2:])
        elif isinstance(value, list):
            for v in value:
                args += [flag, str(v)]
        else:
            args += [flag, str(value)]
    res = runner.invoke(app, ["--library", str(folder), *args, "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    if method == "list":
        return [(d["id"], 0.0) for d in data]
    if method == "top":
        return [(d["id"], round(d[request["metric"]], 3)) for d in data]
    hits = data["dated"] + data["undated"] if method == "timeline" else data
    return [(h["doc_id"], round(h["score"], 3)) for h in hits]


_MCP_HIT = re.compile(r"^\d+\. .*id `(\w+)` · score (-?\d+\.\d+)", re.M)
_MCP_DOC = re.compile(r"^- .*?id `(\w+)`", re.M)
_MCP_TOP = re.compile(r"^\d+\. .*id `(\w+)` · \S+ (-?[\d.]+)$", re.M)


def via_mcp(folder: Path, method: str, request: Request, tmp: Path) -> Result:
    from mcp import Client

    from backlist.mcp_server import create_server

    args = {MCP_NAMES.get(k, k): v for k, v in request.items()}
    if method == "list":
        args["limit"] = 500

    async def call() -> Any:
        async with Client(create_server(folder)) as client:
            return await client.call_tool(MCP_TOOLS.get(method, method),
                                          {**args, "max_tokens": 8000})

    result = asyncio.run(call())
    text = "\n".join(c.text for c in result.content if getattr(c, "text", None))
    assert not getattr(result, "is_error", False), text
    if method == "list":
        return [(doc_id, 0.0) for doc_id in _MCP_DOC.findall(text)]
    found = _MCP_TOP.findall(text) if method == "top" else _MCP_HIT.findall(text)
    return [(doc_id, float(score)) for doc_id, score in found]


SURFACES: dict[str, Callable[..., Result]] = {"cli": via_cli, "mcp": via_mcp}


# --- the tests ----------------------------------------------------------------------------------
@pytest.mark.parametrize("method", sorted(REQUESTS))
def test_the_requests_use_every_option_of_the_facade(method):
    used = {k for r in REQUESTS[method] for k in r}
    assert used == facade_options(method), facade_options(method) ^ used


@pytest.mark.parametrize("method", sorted(REQUESTS))
def test_every_surface_takes_every_option(method):
    """The CLI command's options and the MCP tool's arguments name each façade option."""
    import typer.main

    from backlist.mcp_server import TOOLS

    command = typer.main.get_command(app).commands[CLI_COMMANDS.get(method, method)]  # type: ignore[attr-defined]
    cli_names = {p.name for p in command.params}
    tool = next(t for t in TOOLS if t.__name__ == MCP_TOOLS.get(method, method))
    mcp_names = set(inspect.signature(tool).parameters)
    for option in facade_options(method):
        assert option in cli_names, f"CLI {method} lacks {option}"
        assert MCP_NAMES.get(option, option) in mcp_names, f"MCP {method} lacks {option}"


@pytest.mark.parametrize(("method", "n"), [(m, n) for m in sorted(REQUESTS)
                                           for n in range(len(REQUESTS[m]))])
def test_surfaces_give_the_facade_answer(lib_dir, tmp_path, method, n):
    with Library(lib_dir, read_only=True) as lib:
        request = resolved(lib, REQUESTS[method][n])
    expected = via_facade(lib_dir, method, request)
    assert expected, f"{method} {request} finds nothing: the comparison would prove little"
    for name, surface in SURFACES.items():
        assert surface(lib_dir, method, request, tmp_path) == expected, name


def test_min_score_is_off_by_default_everywhere(lib_dir, tmp_path):
    """Hybrid scores can be negative or zero: no surface drops hits the façade keeps."""
    request = {"query": "kelp winter", "k": 10}
    expected = via_facade(lib_dir, "search", request)
    assert any(score < 0 for _, score in expected)
    for surface in SURFACES.values():
        assert surface(lib_dir, "search", request, tmp_path) == expected


def test_date_words_mean_the_same_on_every_surface(lib_dir, tmp_path):
    by_words = {"query": "reef", "since": "March 2025", "until": "2025-05"}
    by_days = {"query": "reef", "since": "2025-03-01", "until": "2025-05-31"}
    expected = via_facade(lib_dir, "search", by_days)
    assert expected and expected == via_facade(lib_dir, "search", by_words)
    for surface in SURFACES.values():
        assert surface(lib_dir, "search", by_words, tmp_path) == expected


def test_k_is_capped_alike(lib_dir, tmp_path):
    from backlist.service import MAX_K

    res = runner.invoke(app, ["--library", str(lib_dir), "search", "reef", "-k", str(MAX_K + 1)])
    assert res.exit_code == 1 and f"between 1 and {MAX_K}" in res.output
    assert via_cli(lib_dir, "search", {"query": "reef", "k": MAX_K}, tmp_path)
    assert via_mcp(lib_dir, "search", {"query": "reef", "k": MAX_K}, tmp_path)


def test_eval_scores_what_the_facade_search_returns(lib_dir, tmp_path):
    """`backlist eval` ranks through Library.search: its rank for a query is the façade's."""
    with Library(lib_dir, read_only=True) as lib:
        ranked = [h.doc.id for h in lib.search("storm shoreline", k=10, mode="keyword", per_doc=1)]
    assert len(ranked) >= 2
    queries = tmp_path / "q.jsonl"
    queries.write_text(json.dumps({"q": "storm shoreline", "relevant": [ranked[1]]}) + "\n")
    res = runner.invoke(app, ["--library", str(lib_dir), "eval", str(queries), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)["modes"]["keyword"]
    assert report["ranks"] == {"q.jsonl#1": 2} and report["mrr"] == 0.5
