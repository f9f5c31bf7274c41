"""The archive over the Model Context Protocol (official `mcp` SDK), for Claude Code, Codex & co.

Each tool is a module-level function of (library, arguments) that calls one `Library` method and
formats compact Markdown citing title, date, URL and id within a token budget; `create_server`
registers them. The library is opened read-only (SQLite WAL, one connection per worker thread),
so the server answers parallel calls, and keeps answering while `backlist ingest` runs elsewhere.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import Field

from backlist.auth import check_bind, is_loopback
from backlist.contracts import DOC_KINDS
from backlist.errors import BacklistError
from backlist.render import (
    citation,
    document_markdown,
    entities_markdown,
    hits_markdown,
    json_text,
    metric_text,
    plural,
    topics_markdown,
)
from backlist.safe import md_text, safe_url
from backlist.service import MAX_DRAFT_CHARS, MAX_ID_CHARS, MAX_K, MAX_QUERY_CHARS, Library
from backlist.store.base import DocFilter
from backlist.tokens import Budget

DEFAULT_TOKENS = 2000
HARD_CAP = 8000

Opener = Callable[[], Library]
Tokens = Annotated[int, Field(ge=100, description=f"Token budget for the answer (default "
                                                  f"{DEFAULT_TOKENS}, capped at {HARD_CAP}).")]
Query = Annotated[str, Field(max_length=MAX_QUERY_CHARS, description="What to look for, in plain "
                                                                     "words.")]
K = Annotated[int, Field(ge=1, le=MAX_K, description=f"How many documents (1-{MAX_K}).")]
Kind = Annotated[str | list[str] | None, Field(
    max_length=20, description="Only this kind (or these kinds): " + ", ".join(DOC_KINDS))]
DateArg = Annotated[str | None, Field(max_length=40, description=(
    "2025, 2025-03, 2025-03-14 or words like 'last year', 'last May'"))]
Name = Annotated[str | None, Field(max_length=200)]
Speaker = Annotated[str | None, Field(max_length=200, description=(
    "Only passages this person says (interviews)"))]
Entity = Annotated[str | None, Field(max_length=200, description=(
    "Only pieces that mention this model, lab or person (see the entities tool)"))]
Topic = Annotated[str | None, Field(max_length=200, description="Only pieces with this topic")]
Author = Annotated[str | None, Field(max_length=200, description="Only pieces by this writer")]
Drafts = Annotated[bool, Field(description="Include unpublished drafts")]
Reading = Annotated[bool | None, Field(description=(
    "true: only the writer's reading (saved articles, pieces marked so); false: leave it out"))]


class ToolFailure(Exception):
    """A domain error from a tool, shown to the agent as one line (mapped to ToolError)."""


def _cap(max_tokens: int) -> int:
    return max(100, min(int(max_tokens), HARD_CAP))


def _filter(kind: str | list[str] | None = None, since: str | None = None,
            until: str | None = None, speaker: str | None = None, entity: str | None = None,
            topic: str | None = None, author: str | None = None, drafts: bool = False,
            reading: bool | None = None, **extra: Any) -> DocFilter:
    """The tool's filter arguments as the façade's DocFilter (date words parsed there)."""
    kinds = [kind] if isinstance(kind, str) else list(kind or ())
    return DocFilter(kinds=kinds, since=since or None, until=until or None,
                     speaker=speaker or None, entity=entity or None, topic=topic or None,
                     author=author or None, include_drafts=drafts, reading=reading, **extra)


# --- tools: (open library, arguments) -> Markdown ----------------------------------------------
def search(open_lib: Opener, query: Query, k: K = 8,
           mode: Literal["hybrid", "keyword", "semantic"] = "hybrid",
           kind: Kind = None, since: DateArg = None, until: DateArg = None,
           speaker: Speaker = None, entity: Entity = None, topic: Topic = None,
           author: Author = None, drafts: Drafts = False, reading: Reading = None,
           per_doc: Annotated[int, Field(ge=1, le=10, description="Passages per document")] = 3,
           sort: Literal["relevance", "date"] = "relevance",
           recent: Annotated[bool, Field(description="Favour newer pieces among relevant ones, "
                                                     "for 'my latest take on X'")] = False,
           explain: Annotated[bool, Field(description="Say how each hit scored")] = False,
           min_score: Annotated[float | None, Field(description=(
               "Leave out hits scoring below this (hybrid scores can be negative)"))] = None,
           max_tokens: Tokens = DEFAULT_TOKENS) -> str:
    """Search the writer's archive for a topic, claim, name or phrase. Returns the best documents
    (one per piece) with their best passages, each cited with title, date, URL and id, and the
    speaker for interview passages. mode: hybrid (default, best), keyword (exact words; supports
    "phrases" and prefix*), semantic (meaning only)."""
    hits = open_lib().search(query, k=k, mode=mode, per_doc=per_doc, sort=sort, recent=recent,
                             explain=explain, min_score=min_score,
                             flt=_filter(kind, since, until, speaker, entity, topic, author, drafts,
                                         reading))
    return hits_markdown(hits, _cap(max_tokens), f"Search: {query}", hits.notes)


def related(open_lib: Opener,
            draft: Annotated[str, Field(max_length=MAX_DRAFT_CHARS,
                                        description="The draft text (Markdown or plain).")],
            k: K = 8,
            kind: Kind = None, since: DateArg = None, until: DateArg = None,
            speaker: Speaker = None, entity: Entity = None, topic: Topic = None,
            author: Author = None, drafts: Drafts = False, reading: Reading = None,
            exclude: Annotated[list[str], Field(max_length=50, description="ids to leave out")] = [],  # noqa: B006
            not_cited: Annotated[bool, Field(description="Only pieces the draft does not cite")] = False,
            max_tokens: Tokens = DEFAULT_TOKENS) -> str:
    """Given the text of a draft, find the writer's past pieces most relevant to it: first the
    pieces the draft already cites (links, quoted titles, "my post on ..."), marked "cited in the
    draft", then pieces related by content, each with a short reason. The draft itself is left
    out if it is already in the archive. Use this to find references and avoid repeating oneself."""
    flt = _filter(kind, since, until, speaker, entity, topic, author, drafts, reading)
    hits = open_lib().related(draft, k=k, flt=flt, exclude=exclude, not_cited=not_cited)
    return hits_markdown(hits, _cap(max_tokens), "Past pieces related to the draft", hits.notes)


def get_document(open_lib: Opener,
                 id: Annotated[str, Field(max_length=MAX_ID_CHARS,
                                          description="Document id, or a unique prefix of it.")],
                 start_passage: Annotated[int | None, Field(ge=0)] = None,
                 end_passage: Annotated[int | None, Field(ge=0)] = None,
                 max_tokens: Tokens = 4000) -> str:
    """Read one document by id (from search results). Optionally read only passages
    start_passage..end_passage (0-based, inclusive) of a long piece."""
    lib = open_lib()
    doc, passages = lib.passages(id)
    note = f"{len(passages)} passages."
    text = doc.text
    if start_passage is not None or end_passage is not None:
        _, chosen = lib.passages(doc.id, start_passage, end_passage)
        text = "\n\n".join(p.text for p in chosen)
        last = (start_passage or 0) + len(chosen) - 1
        note = f"Passages {start_passage or 0}-{last} of {len(passages)}."
    return document_markdown(doc, text, _cap(max_tokens), note)


def list_documents(open_lib: Opener, kind: Kind = None, since: DateArg = None,
                   until: DateArg = None, speaker: Speaker = None, entity: Entity = None,
                   topic: Topic = None, author: Author = None, drafts: Drafts = False,
                   reading: Reading = None,
                   sort: Annotated[str, Field(max_length=80,
                                              description="date, date_desc, or metric:NAME")] = "date",
                   limit: Annotated[int, Field(ge=1, le=500)] = 50,
                   max_tokens: Tokens = DEFAULT_TOKENS) -> str:
    """List documents with optional filters, sorted by date (oldest first), newest first, or by a
    performance metric (e.g. sort='metric:open_rate') when metrics were imported."""
    lib = open_lib()
    flt = _filter(kind, since, until, speaker, entity, topic, author, drafts, reading,
                  include_duplicates=False)
    docs = lib.list(flt, order=sort)
    budget = Budget(_cap(max_tokens))
    budget.add(plural(len(docs), "document"))
    for d in docs[:limit]:
        metrics = ", ".join(f"{md_text(k)}={metric_text(k, v)}" for k, v in sorted(d.metrics.items()))
        line = (f"- {d.date or 'undated'} · {d.kind} · **{md_text(d.title) or '(untitled)'}** · "
                f"{safe_url(d.url) or 'no URL'} · id `{d.id}` · {d.words} words")
        if not budget.add(line + (f" · {metrics}" if metrics else "")):
            break
    return budget.text("({n} more left out to fit the token budget.)")


def timeline(open_lib: Opener, query: Query, kind: Kind = None, since: DateArg = None,
             until: DateArg = None, speaker: Speaker = None, entity: Entity = None,
             topic: Topic = None, author: Author = None, drafts: Drafts = False, reading: Reading = None,
             max_tokens: Tokens = DEFAULT_TOKENS) -> str:
    """What the writer said about a topic over time: every document that discusses it, oldest
    first with the quoting passage and date; undated pieces listed apart."""
    result = open_lib().timeline(
        query, flt=_filter(kind, since, until, speaker, entity, topic, author, drafts, reading))
    half = _cap(max_tokens) // (2 if result.undated else 1)
    out = hits_markdown(result.dated, half, f"Timeline: {query} (oldest first)", result.notes)
    if result.undated:
        out += "\n\n" + hits_markdown(result.undated, _cap(max_tokens) - half, "Undated")
    return out


def library_stats(open_lib: Opener) -> str:
    """Counts of documents and words by kind and year, and index status (passages, embeddings)."""
    return json_text(open_lib().stats(), indent=1)


def top_documents(open_lib: Opener,
                  metric: Annotated[str, Field(max_length=80, description="e.g. open_rate, views")],
                  year: Annotated[str | None, Field(max_length=4)] = None, topic: Topic = None,
                  k: K = 10, kind: Kind = None, since: DateArg = None, until: DateArg = None,
                  speaker: Speaker = None, entity: Entity = None, author: Author = None,
                  drafts: Drafts = False, reading: Reading = None,
                  max_tokens: Tokens = DEFAULT_TOKENS) -> str:
    """The best-performing pieces by a metric (imported with `backlist metrics import`, or open
    rates from a Substack export), optionally in one year or topic or any filter."""
    flt = _filter(kind, since, until, speaker, entity, None, author, drafts, reading)
    rows = open_lib().top(metric, year, topic, k, flt=flt if flt != DocFilter() else None)
    budget = Budget(_cap(max_tokens))
    budget.add(f"Top {len(rows)} by {md_text(metric)}")
    for n, (d, v) in enumerate(rows, start=1):
        if not budget.add(f"{n}. {citation(d)} · {md_text(metric)} {metric_text(metric, v)}"):
            break
    return budget.text("({n} more left out to fit the token budget.)")


def topics(open_lib: Opener, max_tokens: Tokens = DEFAULT_TOKENS) -> str:
    """The writer's topics (topics.yaml) with document counts per year."""
    return topics_markdown(open_lib().topics(), _cap(max_tokens))


def entities(open_lib: Opener,
             kind: Annotated[Literal["model", "org", "person", "paper"] | None,
                             Field(description="Only this kind")] = None,
             limit: Annotated[int, Field(ge=1, le=500)] = 40,
             max_tokens: Tokens = DEFAULT_TOKENS) -> str:
    """Models, labs, people (guests apart from mentions) and papers the archive returns to, with
    document counts and first and last mention dates."""
    return entities_markdown(open_lib().entities(kind)[:limit], _cap(max_tokens))


def insights(open_lib: Opener, metric: Annotated[str, Field(max_length=80)] = "open_rate") -> str:
    """What performs, by topic, format, length and weekday: n, median, spread; groups too small to
    compare are flagged, not ranked. JSON (archive text escaped as in every JSON answer)."""
    return json_text(open_lib().insights(metric), indent=1)


def links(open_lib: Opener, id: Annotated[str, Field(max_length=MAX_ID_CHARS)],
          max_tokens: Tokens = DEFAULT_TOKENS) -> str:
    """The archive's own citation graph for one piece: the earlier pieces it cites and the later
    pieces that cite it, each with how (link, title, mention) and the evidence."""
    found = open_lib().links(id)
    budget = Budget(_cap(max_tokens))
    for key, label in (("cites", "Cites"), ("cited_by", "Cited by")):
        budget.add(f"## {label} ({len(found[key])})")
        for lk, other in found[key]:
            if not budget.add(f"- {citation(other)} · {lk.how}: {md_text(lk.evidence)}"):
                break
    return budget.text("({n} more left out to fit the token budget.)")


TOOLS = (search, related, get_document, list_documents, timeline, library_stats, top_documents,
         topics, entities, insights, links)


def references_prompt(draft: str) -> str:
    """Find references for this draft."""
    return ("Here is a draft I am writing. Use the backlist tools to find what I have already "
            "published that it should cite or build on: call `related` with the draft (pieces it "
            "already cites come first), then `get_document` on the most promising ones to quote "
            "exact passages. For each suggestion give the title, date, URL and the passage to "
            "cite, and say where in the draft it fits. Point out where I repeat myself.\n\n"
            f"DRAFT:\n{draft}")


def over_time_prompt(topic: str) -> str:
    """What have I said about a topic over time."""
    return (f"What have I said about {topic} over time? Call `timeline` with that topic, then read "
            "the key pieces with `get_document`. Summarise how my view changed, oldest first, "
            "quoting a short passage with title, date and URL for each turn; list undated pieces "
            "apart and do not guess their dates.")


def document_resource(open_lib: Opener, id: str) -> str:
    lib = open_lib()
    doc = lib.get(id)
    return document_markdown(doc, doc.text, HARD_CAP * 4)


# --- the server ------------------------------------------------------------------------------
def create_server(library_path: str | os.PathLike[str] | None = None,
                  database: str | None = None):
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ResourceNotFoundError
    from mcp.server.mcpserver.prompts.base import Prompt

    server = MCPServer(name="backlist", log_level="WARNING", instructions=(
        "The writer's own archive: newsletter posts, podcast episodes and interviews, saved "
        "articles. Use `search` to find where something was said, `related` with a draft to find "
        "past pieces to reference, `timeline` for how a view changed, and `get_document` to read "
        "a piece. Cite title, date and URL from the results."))
    open_lib = _opener(library_path, database)
    for tool in TOOLS:
        server.add_tool(_as_tool(tool, open_lib), name=tool.__name__,
                        description=" ".join((tool.__doc__ or "").split()))

    server.add_prompt(Prompt.from_function(references_prompt, name="find_references",
                                           description="Find references for this draft"))
    server.add_prompt(Prompt.from_function(over_time_prompt, name="said_over_time",
                                           description="What have I said about X over time"))

    @server.resource("backlist://doc/{id}", name="document", mime_type="text/markdown",
                     description="One archive document as Markdown, with its citation.")
    def doc_resource(id: str) -> str:
        try:
            return document_resource(open_lib, id)
        except BacklistError as exc:
            raise ResourceNotFoundError(str(exc)) from exc

    return server


def _opener(library_path: str | os.PathLike[str] | None, database: str | None = None) -> Opener:
    """Opens the library once, on first use (so the server starts even before an ingest)."""
    import threading

    state: dict[str, Library] = {}
    lock = threading.Lock()

    def open_lib() -> Library:
        with lock:  # tools run in worker threads: the first calls may come at once
            if "lib" not in state:
                state["lib"] = Library(library_path, read_only=True, database=database)
            return state["lib"]

    return open_lib


def _as_tool(fn: Callable[..., str], open_lib: Opener) -> Callable[..., str]:
    """fn with the library bound, its domain errors turned into one-line tool errors."""
    from mcp.server.mcpserver.exceptions import ToolError

    bound = functools.partial(fn, open_lib)

    @functools.wraps(bound)
    def call(**kwargs: Any) -> str:
        try:
            return bound(**kwargs)
        except (BacklistError, ToolFailure) as exc:
            raise ToolError(str(exc)) from exc

    call.__signature__ = _without_first(fn)  # type: ignore[attr-defined]
    call.__name__ = fn.__name__
    return call


def _without_first(fn: Callable[..., Any]):
    import inspect

    sig = inspect.signature(fn, eval_str=True)
    return sig.replace(parameters=list(sig.parameters.values())[1:])


def serve(library_path=None, http: bool = False, host: str = "127.0.0.1", port: int = 8765,
          token: str | None = None, database: str | None = None) -> None:
    server = create_server(library_path, database)
    if not http:
        import anyio

        anyio.run(_serve_stdio, server)
        return
    import uvicorn

    uvicorn.run(http_app(server, host, port, token), host=host, port=port, log_level="warning")


PARSE_ERROR = json.dumps({"jsonrpc": "2.0", "id": None,
                          "error": {"code": -32700, "message": "Parse error: not JSON"}})


class _CheckedLines:
    """stdin lines for the SDK; a line that is not JSON is answered with a JSON-RPC parse error
    (the SDK's stdio transport drops it silently, leaving the client waiting)."""

    def __init__(self, stdin, stdout) -> None:
        self.stdin = stdin
        self.stdout = stdout

    def __aiter__(self):
        return self._lines()

    async def _lines(self):
        async for line in self.stdin:
            try:
                json.loads(line)
            except ValueError:
                if line.strip():
                    await self.stdout.write(PARSE_ERROR + "\n")
                    await self.stdout.flush()
                continue
            yield line


async def _serve_stdio(server) -> None:
    import io
    import sys

    import anyio
    from mcp.server.stdio import stdio_server

    # Keep the real stdout for the protocol; anything else printed goes to stderr.
    wire = os.fdopen(os.dup(sys.stdout.fileno()), "wb", closefd=True)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    stdout = anyio.wrap_file(io.TextIOWrapper(wire, encoding="utf-8", line_buffering=False))
    stdin = anyio.wrap_file(io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace"))
    low = server._lowlevel_server
    lines: Any = _CheckedLines(stdin, stdout)  # iterates like the AsyncFile the SDK expects
    async with stdio_server(stdin=lines, stdout=stdout) as (read, write):
        await low.run(read, write, low.create_initialization_options())


def http_app(server, host: str, port: int, token: str | None):
    """The streamable-HTTP app. On loopback, Host and Origin must be loopback names (no DNS
    rebinding); off loopback every request needs the bearer token instead (a rebinding page
    cannot know it), and clients may name the server however they reach it (0.0.0.0, an IP, a
    DNS name)."""
    from mcp.server.transport_security import TransportSecuritySettings

    from backlist.auth import require_token

    names = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=is_loopback(host), allowed_hosts=names,
        allowed_origins=[f"http://{n}" for n in names])
    check_bind(host, token)
    app = server.streamable_http_app(host=host, transport_security=security)
    return require_token(app, token) if token else app
