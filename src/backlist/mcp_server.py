"""The archive over the Model Context Protocol (official `mcp` SDK), for Claude Code, Codex & co.

Queries open the library read-only (SQLite WAL), so the server keeps answering while an ingest
runs in another process. Every result is compact Markdown that cites title, date, URL and id,
and fits a token budget.
"""

from __future__ import annotations

import os
from typing import Annotated, Literal

from pydantic import Field

from backlist.errors import BacklistError
from backlist.index.search import Searcher
from backlist.query_args import parse_date
from backlist.render import document_markdown, hits_markdown
from backlist.service import Library
from backlist.store.base import DocFilter
from backlist.tokens import Budget

DEFAULT_TOKENS = 2000
HARD_CAP = 8000

Tokens = Annotated[int, Field(ge=100, description=f"Token budget for the answer (default "
                                                  f"{DEFAULT_TOKENS}, capped at {HARD_CAP}).")]


def create_server(library_path: str | os.PathLike[str] | None = None):
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError

    server = MCPServer(
        name="backlist",
        instructions=(
            "The writer's own archive: newsletter posts, podcast episodes and interviews, saved "
            "articles. Use `search` to find where something was said, `related` with a draft to "
            "find past pieces to reference, `timeline` for how a view changed, and "
            "`get_document` to read a piece. Cite title, date and URL from the results."),
    )
    state: dict[str, Library] = {}

    def lib() -> Library:
        if "lib" not in state:
            try:
                state["lib"] = Library(library_path, read_only=True)
            except BacklistError as exc:
                raise ToolError(str(exc)) from exc
        return state["lib"]

    def cap(max_tokens: int) -> int:
        return max(100, min(int(max_tokens), HARD_CAP))

    def date(value: str | None, name: str, end: bool = False) -> str | None:
        if value is None or value == "":
            return None
        try:
            return parse_date(value, end=end)
        except ValueError as exc:
            raise ToolError(f"bad {name} date: {exc}") from exc

    def need(text: str, what: str) -> str:
        if not text or not text.strip():
            raise ToolError(f"empty {what}")
        return text

    @server.tool(description=(
        "Search the writer's archive for a topic, claim, name or phrase. Returns the best "
        "documents (one per piece) with their best passages, each cited with title, date, URL "
        "and id. mode: hybrid (default, best), keyword (exact words; supports \"phrases\" and "
        "prefix*), semantic (meaning only)."))
    def search(
        query: Annotated[str, Field(description="What to look for, in plain words.")],
        k: Annotated[int, Field(ge=1, le=50, description="How many documents.")] = 8,
        mode: Literal["hybrid", "keyword", "semantic"] = "hybrid",
        kind: Annotated[str | None, Field(description="post, episode, article or transcript")] = None,
        since: Annotated[str | None, Field(description="Only on/after: 2025, 2025-03, 2025-03-14")] = None,
        until: Annotated[str | None, Field(description="Only on/before this date")] = None,
        speaker: Annotated[str | None, Field(description="Only pieces where this person speaks")] = None,
        max_tokens: Tokens = DEFAULT_TOKENS,
    ) -> str:
        need(query, "query")
        flt = DocFilter(kinds=[kind] if kind else (), since=date(since, "since"),
                        until=date(until, "until", end=True), speaker=speaker)
        hits = Searcher(lib()).search(query, k=k, mode=mode, flt=flt)
        return hits_markdown(hits, cap(max_tokens), f"Search: {query}")

    @server.tool(description=(
        "Given the text of a draft, find the writer's past pieces and passages most relevant to "
        "it, each with a short reason (shared key terms or names). The draft itself is left out "
        "if it is already in the archive. Use this to find references and avoid repeating "
        "oneself."))
    def related(
        draft: Annotated[str, Field(description="The draft text (Markdown or plain).")],
        k: Annotated[int, Field(ge=1, le=30)] = 8,
        max_tokens: Tokens = DEFAULT_TOKENS,
    ) -> str:
        need(draft, "draft")
        hits = Searcher(lib()).related(draft, k=k)
        return hits_markdown(hits, cap(max_tokens), "Past pieces related to the draft")

    @server.tool(description=(
        "Read one document by id (from search results). Optionally read only passages "
        "start_passage..end_passage (0-based, inclusive) of a long piece."))
    def get_document(
        id: Annotated[str, Field(description="Document id, or a unique prefix of it.")],
        start_passage: Annotated[int | None, Field(ge=0)] = None,
        end_passage: Annotated[int | None, Field(ge=0)] = None,
        max_tokens: Tokens = 4000,
    ) -> str:
        need(id, "id")
        try:
            doc = lib().get(id)
        except BacklistError as exc:
            raise ToolError(str(exc)) from exc
        passages = lib().store.doc_passages(doc.id)
        note = f"{len(passages)} passages."
        text = doc.text
        if start_passage is not None or end_passage is not None:
            a = start_passage or 0
            b = end_passage if end_passage is not None else len(passages) - 1
            if a > b or a >= len(passages):
                raise ToolError(f"passage range {a}-{b} is outside 0-{len(passages) - 1}")
            chosen = passages[a:b + 1]
            text = "\n\n".join(p.text for p in chosen)
            note = f"Passages {a}-{min(b, len(passages) - 1)} of {len(passages)}."
        return document_markdown(doc, text, cap(max_tokens), note)

    @server.tool(description=(
        "List documents with optional filters, sorted by date (oldest first), newest first, or "
        "by a performance metric (e.g. sort='metric:open_rate') when metrics were imported."))
    def list_documents(
        kind: str | None = None,
        since: str | None = None,
        until: str | None = None,
        sort: Annotated[str, Field(description="date, date_desc, or metric:NAME")] = "date",
        limit: Annotated[int, Field(ge=1, le=500)] = 50,
        max_tokens: Tokens = DEFAULT_TOKENS,
    ) -> str:
        flt = DocFilter(kinds=[kind] if kind else (), since=date(since, "since"),
                        until=date(until, "until", end=True), include_duplicates=False)
        if sort.startswith("metric:"):
            metric = sort.split(":", 1)[1]
            docs = [d for d in lib().list(flt) if metric in d.metrics]
            if not docs:
                raise ToolError(f"no document has the metric {metric!r}")
            docs.sort(key=lambda d: -d.metrics[metric])
        elif sort in ("date", "date_desc"):
            docs = lib().list(flt, order=sort)
        else:
            raise ToolError("sort must be date, date_desc or metric:NAME")
        budget = Budget(cap(max_tokens))
        budget.add(f"{len(docs)} documents")
        for d in docs[:limit]:
            metrics = ", ".join(f"{k}={v:g}" for k, v in sorted(d.metrics.items()))
            line = (f"- {d.date or 'undated'} · {d.kind} · **{d.title or '(untitled)'}** · "
                    f"{d.url or 'no URL'} · id `{d.id}` · {d.words} words")
            if not budget.add(line + (f" · {metrics}" if metrics else "")):
                break
        return budget.text("({n} more left out to fit the token budget.)")

    @server.tool(description=(
        "What the writer said about a topic over time: every document that discusses it, "
        "oldest first with the quoting passage and date; undated pieces listed apart."))
    def timeline(
        query: str,
        max_tokens: Tokens = DEFAULT_TOKENS,
    ) -> str:
        need(query, "query")
        dated, undated = Searcher(lib()).timeline(query)
        half = cap(max_tokens) // (2 if undated else 1)
        out = hits_markdown(dated, half, f"Timeline: {query} (oldest first)")
        if undated:
            out += "\n\n" + hits_markdown(undated, cap(max_tokens) - half, "Undated")
        return out

    @server.tool(description="Counts of documents and words by kind and year, and index status.")
    def library_stats() -> dict:
        return lib().stats()

    @server.resource("backlist://doc/{id}", name="document", mime_type="text/markdown",
                     description="One archive document as Markdown, with its citation.")
    def document_resource(id: str) -> str:
        try:
            doc = lib().get(id)
        except BacklistError as exc:
            raise ResourceNotFoundError(str(exc)) from exc
        return document_markdown(doc, doc.text, HARD_CAP * 4)

    return server


def serve(library_path=None, http: bool = False, host: str = "127.0.0.1", port: int = 8765) -> None:
    server = create_server(library_path)
    if http:
        server.run("streamable-http", host=host, port=port)
    else:
        server.run("stdio")
