"""The `backlist` command: a thin Typer + Rich surface over backlist.service."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from backlist.errors import BacklistError
from backlist.service import Library, doc_full, doc_summary
from backlist.store.base import DocFilter

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="A writer's archive as a searchable, citable local library.")
out = Console()
err = Console(stderr=True, soft_wrap=True)
STATE: dict[str, Any] = {"library": None}


@app.callback()
def main(library: Annotated[Path | None, typer.Option(
        "--library", "-L", help="Library folder (default: $BACKLIST_LIBRARY, else "
        "~/.local/share/backlist).")] = None) -> None:
    STATE["library"] = library


def _open(read_only: bool = False) -> Library:
    try:
        return Library(STATE["library"], read_only=read_only)
    except BacklistError as exc:
        _fail(str(exc))
    raise AssertionError


def _run(fn, read_only: bool = True):
    """Open the library, run fn(lib), close it; a BacklistError becomes one error line."""
    lib = _open(read_only=read_only)
    try:
        return fn(lib)
    except BacklistError as exc:
        _fail(str(exc))
    finally:
        lib.close()


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _date_opt(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    from backlist.query_args import parse_date

    try:
        return parse_date(value, end=name == "until")
    except ValueError as exc:
        _fail(f"--{name}: {exc}")
    return None


@app.command()
def ingest(
    paths: Annotated[list[str], typer.Argument(help="Files, folders, zips or feed URLs.")],
    kind: Annotated[str | None, typer.Option(
        help="Read every path as this kind: substack, markdown, feed, transcript, page, "
             "text, dump.")] = None,
    site: Annotated[str | None, typer.Option(
        help="Publication URL for a Substack export, to give posts their links.")] = None,
    max_file_mb: Annotated[float, typer.Option(help="Refuse files larger than this.")] = 50.0,
    embed: Annotated[bool, typer.Option(help="Embed new passages for semantic search.")] = True,
    fetch: Annotated[bool, typer.Option(help="Fetch transcripts that feeds link remotely.")] = False,
) -> None:
    """Read an archive into the library. Unchanged inputs are skipped; changed ones replaced."""
    from backlist.ingest import KINDS

    if kind and kind not in KINDS:
        _fail(f"--kind {kind}: unknown kind (choose from {', '.join(KINDS)})")
    lib = _open()
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn()]
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        tasks: dict[str, Any] = {}

        def on(event: str, data: dict[str, Any]) -> None:
            if event == "start":
                tasks["read"] = bar.add_task("reading", total=data["total"])
            elif event == "source":
                bar.update(tasks["read"], advance=1, description=f"reading {Path(data['path']).name}")
            elif event == "embed":
                if "embed" not in tasks:
                    tasks["embed"] = bar.add_task("embedding passages", total=data["total"])
                bar.update(tasks["embed"], completed=data["done"])

        report = lib.ingest(paths, kind=kind, site=site, max_bytes=int(max_file_mb * 1024 * 1024),
                            embed=embed, fetch_remote=fetch, progress=on)
    for line in report.errors:
        err.print(f"[red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)
    for v in report.vanished:
        err.print(f"[yellow]missing:[/] {escape(v['path'])} is gone; its {v['documents']} "
                  "document(s) stay in the library", highlight=False, soft_wrap=True)
    if report.sources_read == 0 and report.sources_unchanged and not report.errors:
        out.print(f"Nothing to do: {report.sources_unchanged} input(s) unchanged since the last "
                  "ingest.")
    else:
        out.print(
            f"Read {report.sources_read} input(s) ({report.sources_unchanged} unchanged): "
            f"{report.documents_new} new, {report.documents_updated} updated, "
            f"{report.documents_unchanged} unchanged, {report.documents_removed} removed "
            f"document(s); {report.passages_added} passages indexed, "
            f"{report.passages_embedded} embedded.")
    if report.skipped_files:
        out.print(f"Skipped {len(report.skipped_files)} file(s) that are not archive material "
                  f"({', '.join(Path(p).name for p in report.skipped_files[:5])}"
                  f"{'…' if len(report.skipped_files) > 5 else ''}).")
    stats = lib.stats()
    out.print(f"Library: {stats['documents']} documents ({stats['duplicates']} linked copies), "
              f"{stats['words']:,} words, in {lib.dir}")
    lib.close()
    if report.errors:
        raise typer.Exit(1)


@app.command("ls")
def ls_cmd(
    kind: Annotated[list[str] | None, typer.Option(help="Only this kind (repeatable).")] = None,
    since: Annotated[str | None, typer.Option(help="On or after this date.")] = None,
    until: Annotated[str | None, typer.Option(help="On or before this date.")] = None,
    drafts: Annotated[bool, typer.Option(help="Include unpublished drafts.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """List documents, oldest first; undated ones last."""
    lib = _open(read_only=True)
    flt = DocFilter(kinds=kind or (), since=_date_opt(since, "since"),
                    until=_date_opt(until, "until"), include_drafts=drafts)
    docs = lib.list(flt)
    lib.close()
    if as_json:
        _json([doc_summary(d) for d in docs])
        return
    table = Table(show_lines=False, header_style="bold")
    for col in ("id", "date", "kind", "title", "words", "copy of"):
        table.add_column(col, overflow="fold" if col == "title" else "ellipsis",
                         no_wrap=col != "title")
    for d in docs:
        table.add_row(d.id, d.date or "undated", d.kind, escape(d.title or "(untitled)"),
                      str(d.words), d.duplicate_of or "")
    out.print(table)
    out.print(f"{len(docs)} document(s)")


@app.command()
def get(doc_id: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show one document in full."""
    doc = _run(lambda lib: lib.get(doc_id))
    if as_json:
        _json(doc_full(doc))
        return
    out.print(f"[bold]{escape(doc.title or '(untitled)')}[/]")
    if doc.subtitle:
        out.print(f"[italic]{escape(doc.subtitle)}[/]")
    out.print(f"{doc.kind} · {doc.date or 'undated'} · {doc.words} words · {escape(doc.url or '')}")
    out.print(f"[dim]{escape(doc.source)} ({escape(doc.position)})[/]")
    if doc.duplicate_of:
        out.print(f"[yellow]copy of {doc.duplicate_of}[/]")
    out.print()
    out.print(escape(doc.text), highlight=False, soft_wrap=True)
    if doc.comments:
        out.print("\n[bold]Comments[/]")
        for c in doc.comments:
            out.print(f"- {escape(c)}", highlight=False, soft_wrap=True)


@app.command()
def stats(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Counts by kind and by year, and words."""
    lib = _open(read_only=True)
    data = lib.stats()
    lib.close()
    if as_json:
        _json(data)
        return
    for title, key in (("kind", "by_kind"), ("year", "by_year")):
        table = Table(header_style="bold")
        table.add_column(title)
        table.add_column("documents", justify="right")
        table.add_column("words", justify="right")
        for name, row in data[key].items():
            table.add_row(name, str(row["documents"]), f"{row['words']:,}")
        out.print(table)
    out.print(f"{data['documents']} documents, {data['words']:,} words, "
              f"{data['duplicates']} linked copies, {data['drafts']} drafts, "
              f"{data['undated']} undated; {data['passages']} passages "
              f"({data['embedded_passages']} embedded)")


@app.command()
def reindex(embedder: Annotated[str | None, typer.Option(
        help="'minilm', a sentence-transformers model folder, or URL#model for an "
             "OpenAI-compatible /v1/embeddings endpoint.")] = None) -> None:
    """Rebuild passages, keyword index and embeddings from the stored documents."""
    lib = _open()
    result = lib.reindex(embedder)
    lib.close()
    out.print(f"Reindexed {result['documents']} documents: {result['passages']} passages, "
              f"{result['embedded']} embedded.")


def _hits_json(hits) -> list[dict[str, Any]]:
    from backlist.surface import hit_json

    return [hit_json(h) for h in hits]


def _window(text: str, query_terms: list[str], width: int = 400) -> str:
    """The stretch of a passage around its first query word, cut at word boundaries."""
    import re

    found = [m.start() for t in query_terms if len(t) > 2
             if (m := re.search(re.escape(t), text, re.I))]
    start = max(0, min(found) - width // 4) if found else 0
    if start:
        start = text.find(" ", start) + 1
    end = min(len(text), start + width)
    if end < len(text) and text.rfind(" ", start, end) > start:
        end = text.rfind(" ", start, end)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


def _print_hits(hits, query_terms: list[str]) -> None:
    from rich.text import Text

    if not hits:
        out.print("No matches.")
        return
    for n, h in enumerate(hits, start=1):
        d = h.doc
        out.print(f"[bold]{n}. {escape(d.title or '(untitled)')}[/]  [dim]{d.date or 'undated'} · "
                  f"{d.kind} · {d.id} · score {h.score:.3f}[/]", highlight=False, soft_wrap=True)
        if d.url:
            out.print(f"   [blue]{escape(d.url)}[/]", highlight=False, soft_wrap=True)
        if h.reason:
            out.print(f"   [dim]why: {escape(h.reason)}[/]", highlight=False, soft_wrap=True)
        for p, _ in h.passages:
            snippet = Text("   “" + _window(" ".join(p.text.split()), query_terms) + "”")
            snippet.highlight_words([t for t in query_terms if len(t) > 2], "bold yellow",
                                    case_sensitive=False)
            out.print(snippet)
        out.print()


def _filters(kind, since, until, speaker, drafts=False, entity=None) -> DocFilter:
    return DocFilter(kinds=kind or (), since=_date_opt(since, "since"),
                     until=_date_opt(until, "until"), speaker=speaker, include_drafts=drafts,
                     entity=entity)


@app.command()
def search(
    query: str,
    k: Annotated[int, typer.Option("-k", help="How many documents.")] = 10,
    mode: Annotated[str, typer.Option(help="hybrid, keyword or semantic.")] = "hybrid",
    kind: Annotated[list[str] | None, typer.Option(help="Only this kind (repeatable).")] = None,
    since: Annotated[str | None, typer.Option()] = None,
    until: Annotated[str | None, typer.Option()] = None,
    speaker: Annotated[str | None, typer.Option(help="Only documents where NAME speaks.")] = None,
    entity: Annotated[str | None, typer.Option(help="Only documents that mention this model, lab "
                                                    "or person (see `backlist entities`).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Find where you wrote or talked about something: one hit per document, best passages below.

    Words are OR-ed and ranked by BM25; "quoted phrases" and prefix* work as in SQLite FTS5."""
    from backlist.index.search import MODES, Searcher, terms

    if mode not in MODES:
        _fail(f"--mode {mode}: choose from {', '.join(MODES)}")
    if not query.strip():
        _fail("empty query")
    lib = _open(read_only=True)
    hits = Searcher(lib).search(query, k=k, mode=mode,
                                flt=_filters(kind, since, until, speaker, entity=entity))
    if as_json:
        _json(_hits_json(hits))
    else:
        _print_hits(hits, terms(query))
    lib.close()


@app.command()
def related(
    draft: Annotated[str, typer.Argument(help="A draft file, or - for standard input.")],
    k: Annotated[int, typer.Option("-k")] = 10,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """What you have already published that relates to a draft, with the reason for each."""
    from backlist.index.search import Searcher

    text = _read_draft(draft)
    lib = _open(read_only=True)
    searcher = Searcher(lib)
    hits = searcher.related(text, k=k)
    if as_json:
        _json(_hits_json(hits))
    else:
        _print_hits(hits, searcher.key_terms(text))
    lib.close()


def _read_draft(draft: str) -> str:
    if draft == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(draft).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            _fail(f"{draft}: cannot read draft ({exc})")
    if not text.strip():
        _fail(f"{draft}: the draft is empty")
    return text


@app.command()
def timeline(
    query: str,
    kind: Annotated[list[str] | None, typer.Option()] = None,
    entity: Annotated[str | None, typer.Option(help="Only documents that mention it.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """What you said about something over time: oldest first, undated pieces listed apart."""
    from backlist.index.search import Searcher, terms

    lib = _open(read_only=True)
    dated, undated = Searcher(lib).timeline(query, flt=_filters(kind, None, None, None,
                                                                entity=entity))
    if as_json:
        _json({"dated": _hits_json(dated), "undated": _hits_json(undated)})
    else:
        out.print(f"[bold]{escape(query)}[/] over time")
        _print_hits(dated, terms(query))
        if undated:
            out.print(f"[bold]Undated[/] ({len(undated)})")
            _print_hits(undated, terms(query))
    lib.close()


@app.command("eval")
def eval_cmd(
    queries: Path,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Recall@1/5/10, MRR and nDCG@10 for keyword, semantic and hybrid, side by side."""
    from backlist.index.evaluate import evaluate, load_queries

    lib = _open(read_only=True)
    try:
        report = evaluate(lib, load_queries(queries))
    except (ValueError, OSError) as exc:
        _fail(str(exc))
    lib.close()
    if as_json:
        _json(report)
        return
    table = Table(title=f"{report['queries']} queries", header_style="bold")
    table.add_column("metric")
    for mode in report["modes"]:
        table.add_column(mode, justify="right")
    for metric in ("recall@1", "recall@5", "recall@10", "mrr", "ndcg@10"):
        table.add_row(metric, *(f"{report['modes'][m][metric]:.3f}" for m in report["modes"]))
    out.print(table)


@app.command()
def mcp(
    http: Annotated[bool, typer.Option("--http", help="Serve streamable HTTP, not stdio.")] = False,
    host: Annotated[str, typer.Option(help="Address to bind with --http.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port with --http.")] = 8765,
) -> None:
    """Serve the library to agents over the Model Context Protocol (stdio by default)."""
    from backlist.mcp_server import serve

    serve(STATE["library"], http=http, host=host, port=port)


@app.command()
def context(
    topic: Annotated[str, typer.Argument(help="A topic, or - to read it from standard input.")],
    draft: Annotated[Path | None, typer.Option(help="A draft to find context for.")] = None,
    budget: Annotated[int, typer.Option(help="Token budget for the whole pack.")] = 4000,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write here, not stdout.")] = None,
) -> None:
    """Write a Markdown context pack of cited excerpts that fits a token budget."""
    from backlist.context_pack import build_context

    topic_text = sys.stdin.read().strip() if topic == "-" else topic.strip()
    draft_text = _read_draft(str(draft)) if draft else None
    if not topic_text and not draft_text:
        _fail("give a topic or --draft")
    if budget < 200:
        _fail("--budget must be at least 200 tokens")
    lib = _open(read_only=True)
    pack = build_context(lib, topic_text or None, draft_text, budget)
    lib.close()
    if out_file:
        out_file.write_text(pack, encoding="utf-8")
        err.print(f"Wrote {out_file}")
    else:
        sys.stdout.write(pack)


topics_app = typer.Typer(help="The topic taxonomy (topics.yaml in the library).",
                         invoke_without_command=True)
app.add_typer(topics_app, name="topics")


@topics_app.callback()
def topics_list(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Topics with document counts per year."""
    if ctx.invoked_subcommand:
        return
    from backlist.analysis.topics import topic_counts

    rows = _run(topic_counts)
    if as_json:
        _json(rows)
        return
    years = sorted({y for r in rows for y in r["by_year"]})
    table = Table(header_style="bold")
    table.add_column("topic")
    table.add_column("documents", justify="right")
    for y in years:
        table.add_column(y, justify="right")
    for r in rows:
        table.add_row(escape(r["name"]), str(r["documents"]),
                      *(str(r["by_year"].get(y, "")) for y in years))
    out.print(table)


@topics_app.command("suggest")
def topics_suggest(
    n: Annotated[int | None, typer.Option("-n", help="How many topics (default: chosen by "
                                                     "silhouette).")] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing topics.yaml.")] = False,
) -> None:
    """Propose a taxonomy by clustering the archive; writes topics.yaml for you to edit."""
    from backlist.analysis.topics import save_topics, suggest_topics, topics_path

    lib = _open()
    try:
        topics = suggest_topics(lib, n)
    except BacklistError as exc:
        _fail(str(exc))
    path = topics_path(lib)
    if path.exists() and not force:
        path = path.with_name("topics.suggested.yaml")
    save_topics(path, topics)
    lib.close()
    for t in topics:
        out.print(f"- [bold]{escape(t.name)}[/]: {escape(t.description)}")
    out.print(f"Wrote {path}. Edit it, then run `backlist tag`.")


@app.command()
def tag(
    doc_id: Annotated[str | None, typer.Argument(help="With --set: the document to tag.")] = None,
    set_topic: Annotated[str | None, typer.Option("--set", help="Assign this topic by hand.")] = None,
) -> None:
    """Give every document one to three topics; `tag ID --set TOPIC` assigns one by hand
    (manual assignments are never overwritten by re-tagging)."""
    from backlist.analysis.topics import set_manual_topic, tag_documents

    lib = _open()
    try:
        if set_topic or doc_id:
            if not (set_topic and doc_id):
                _fail("use `backlist tag ID --set TOPIC`, or `backlist tag` alone for all")
            set_manual_topic(lib, doc_id, set_topic)
            out.print(f"{doc_id}: tagged {set_topic} (manual)")
        else:
            result = tag_documents(lib)
            out.print(f"Tagged {len(result)} documents.")
    except BacklistError as exc:
        _fail(str(exc))
    lib.close()


@app.command()
def entities(
    kind: Annotated[str | None, typer.Option(help="model, org, person or paper")] = None,
    refresh: Annotated[bool, typer.Option(help="Extract again before listing.")] = True,
    limit: Annotated[int, typer.Option()] = 40,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Models, labs, people and papers the archive keeps returning to."""
    from backlist.analysis.entities import entity_table, extract_all

    lib = _open()
    if refresh:
        extract_all(lib)
    rows = entity_table(lib, kind)
    lib.close()
    if as_json:
        _json(rows)
        return
    table = Table(header_style="bold")
    for col in ("entity", "kind", "documents", "mentions", "guest in", "first", "last"):
        table.add_column(col)
    for r in rows[:limit]:
        table.add_row(escape(r["entity"]), r["kind"], str(r["documents"]), str(r["mentions"]),
                      str(r["guest_in"] or ""), r["first"] or "", r["last"] or "")
    out.print(table)


metrics_app = typer.Typer(help="Performance metrics.")
app.add_typer(metrics_app, name="metrics")


@metrics_app.command("import")
def metrics_import(csv_file: Path) -> None:
    """Import a dashboard CSV: a key column (id, post_id, url or slug), then numeric columns."""
    from backlist.analysis.metrics import import_csv

    result = _run(lambda lib: import_csv(lib, csv_file), read_only=False)
    out.print(f"Matched {result.matched} row(s); columns: {', '.join(result.columns) or 'none'}.")
    for row in result.unmatched:
        err.print(f"[yellow]unmatched:[/] {csv_file}: {escape(row)}")


@app.command()
def top(
    by: Annotated[str, typer.Option("--by", help="Metric name, e.g. open_rate or views.")],
    year: Annotated[str | None, typer.Option()] = None,
    topic: Annotated[str | None, typer.Option()] = None,
    k: Annotated[int, typer.Option("-k")] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The best-performing pieces by a metric."""
    from backlist.analysis.metrics import top as top_docs

    rows = _run(lambda lib: top_docs(lib, by, year, topic, k))
    if as_json:
        _json([{**doc_summary(d), by: v} for d, v in rows])
        return
    for n, (d, v) in enumerate(rows, start=1):
        out.print(f"{n}. {escape(d.title or '(untitled)')} · {d.date or 'undated'} · {by} {v:g}")


@app.command()
def insights(
    metric: Annotated[str, typer.Option("--by")] = "open_rate",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """What performs, by topic, format, length and weekday: counts, medians, spread."""
    from backlist.analysis.metrics import insights as compute

    report = _run(lambda lib: compute(lib, metric))
    if as_json:
        _json(report)
        return
    o = report["overall"]
    out.print(f"[bold]{metric}[/]: {o['n']} pieces, median {o['median']:g} "
              f"(range {o['min']:g}-{o['max']:g})")
    for name, rows in report["groups"].items():
        table = Table(title=f"by {name}", header_style="bold")
        for col in ("group", "n", "median", "p25-p75", "range", "reading"):
            table.add_column(col)
        for r in rows:
            spread = f"{r['p25']:g}-{r['p75']:g}" if "p25" in r else ""
            table.add_row(escape(r["group"]), str(r["n"]), f"{r['median']:g}", spread,
                          f"{r['min']:g}-{r['max']:g}", r["verdict"])
        out.print(table)


@app.command()
def review(
    year: str,
    out_file: Annotated[Path | None, typer.Option("--out")] = None,
) -> None:
    """Draft a year in review (Markdown, with PNG charts beside it)."""
    from backlist.analysis.entities import extract_all
    from backlist.analysis.review import draft_review

    if not (len(year) == 4 and year.isdigit()):
        _fail(f"{year}: give a year like 2025")
    lib = _open()
    extract_all(lib)
    path = draft_review(lib, year, out_file or Path(f"review-{year}.md"))
    lib.close()
    out.print(f"Wrote {path}")


def run() -> None:
    try:
        app()
    except BacklistError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    run()
