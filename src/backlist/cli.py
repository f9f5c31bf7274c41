"""The `backlist` command: a thin Typer + Rich surface over the `Library` façade.

Each command parses its options, calls one Library method and formats the answer. Everything
taken from the archive passes through backlist.safe before it reaches the terminal.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import typer.core
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from backlist.contracts import DOC_KINDS, doc_full, doc_summary, hit_json, readers_help
from backlist.errors import BacklistError
from backlist.render import json_text, metric_text, plural
from backlist.safe import one_line, terminal_text
from backlist.store.base import DocFilter
from backlist.when import when_text

T = TypeVar("T")


_METAVARS = {"int": "INTEGER", "float": "NUMBER", "str": "TEXT", "bool": None}


def _metavar(self: Any, ctx: Any) -> str | None:
    """Help shows TEXT / INTEGER / NUMBER / PATH for a value and nothing for a flag (typer's
    default shows Python types such as <bool> and <list[str]>)."""
    if self.metavar is not None:
        return self.metavar
    if getattr(self, "is_flag", False):
        return None
    label = self.display_type(ctx).strip("<>")
    if label.startswith("list[") and label.endswith("]"):
        label = label[5:-1]
    return _METAVARS.get(label, "PATH" if "path" in label.lower() or label in ("file", "directory")
                         else label.upper())


typer.core.TyperOption.display_type_rich = _metavar  # type: ignore[method-assign,assignment]
typer.core.TyperArgument.display_type_rich = _metavar  # type: ignore[method-assign,assignment]
app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="A writer's archive as a searchable, citable local library.")
# Piped output is not wrapped at 80 columns; a terminal gets its own width.
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, soft_wrap=True)
STATE: dict[str, Any] = {"library": None}

JSON_OPT = Annotated[bool, typer.Option("--json", help="Print JSON (the documented contract).")]
SINCE_OPT = Annotated[str | None, typer.Option(
    help="Only pieces dated on or after this: 2025, 2025-03, 2025-03-14 or words like "
         "'last May'.")]
UNTIL_OPT = Annotated[str | None, typer.Option(help="Only pieces dated on or before this.")]
KIND_OPT = Annotated[list[str] | None, typer.Option(
    help=f"Only this kind of document (repeatable): {', '.join(DOC_KINDS)}.")]
K_OPT = Annotated[int, typer.Option("-k", help="How many documents (1-100).")]
TOPIC_OPT = Annotated[str | None, typer.Option(help="Only pieces tagged with this topic.")]
AUTHOR_OPT = Annotated[str | None, typer.Option(help="Only pieces by this writer.")]
SPEAKER_OPT = Annotated[str | None, typer.Option(help="Only passages NAME says.")]
ENTITY_OPT = Annotated[str | None, typer.Option(
    help="Only documents that mention this model, lab or person (see `backlist entities`).")]
DRAFTS_OPT = Annotated[bool, typer.Option(help="Include unpublished drafts.")]
READING_OPT = Annotated[bool | None, typer.Option(
    "--reading/--no-reading", help="Only your reading (saved articles and pieces marked so), or "
                                   "leave it out; both by default.")]
# The façade's argument names that its messages start with, and the CLI spells as --NAME.
FACADE_ARGS = ("since", "until", "kind", "mode", "sort")
LAZY_OPT = Annotated[bool, typer.Option(
    help="Load the embedding model on the first search instead of at start.")]
# The optional extra that brings each optional import (one line when it is missing).
EXTRAS = {"fastapi": "web", "uvicorn": "web", "jinja2": "web", "starlette": "web",
          "multipart": "web", "markupsafe": "web", "psycopg": "postgres", "pgvector": "postgres",
          "psycopg_pool": "postgres", "matplotlib": "web"}


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        out.print(f"backlist {version('backlist')}")
        raise typer.Exit()


@app.callback()
def main(
    library: Annotated[Path | None, typer.Option(
        "--library", "-L", help="Library folder (default: $BACKLIST_LIBRARY, else "
        "~/.local/share/backlist).")] = None,
    database: Annotated[str | None, typer.Option(
        "--database", envvar="BACKLIST_DATABASE_URL",
        help="A postgresql:// URL: use a library shared on a PostgreSQL server.")] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    STATE["library"] = library
    STATE["database"] = database


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[red]error:[/] {escape(one_line(message))}", highlight=False)
    raise typer.Exit(code)


def _run(fn: Callable[[Any], T], read_only: bool = True) -> T:
    """Open the library, run fn(lib), close it. Every domain error becomes one error line: the
    one place where the CLI maps BacklistError to an exit status."""
    from backlist.service import Library

    try:
        lib = Library(STATE["library"], read_only=read_only, database=STATE.get("database"))
    except BacklistError as exc:
        _fail(str(exc))
        raise AssertionError from exc
    try:
        return fn(lib)
    except BacklistError as exc:
        _fail(_as_option(str(exc)))
        raise AssertionError from exc
    finally:
        lib.close()


def _as_option(message: str) -> str:
    """The façade names an argument ("since: 'x' is not a date"); the CLI user typed --since."""
    name, sep, rest = message.partition(": ")
    return f"--{name}: {rest}" if sep and name in FACADE_ARGS else message


def _json(data: Any) -> None:
    sys.stdout.write(json_text(data) + "\n")


def _filters(kind=None, since=None, until=None, speaker=None, drafts=False, entity=None,
             topic=None, author=None, reading=None) -> DocFilter:
    """The options as a DocFilter; date words stay as typed (the façade parses them)."""
    return DocFilter(kinds=kind or (), since=since, until=until, speaker=speaker,
                     include_drafts=drafts, entity=entity, topic=topic, author=author,
                     reading=reading)


def _missing_extra(exc: ImportError) -> None:
    """One line naming the extra to install, for an optional import that failed."""
    name = (exc.name or "").split(".")[0]
    if name not in EXTRAS:
        raise exc
    _fail(f"this needs {name}, which comes with an optional extra: pip install "
          f"'backlist[{EXTRAS[name]}]'")


def _t(text: str | None) -> str:
    """Archive text made safe for the terminal and for Rich markup."""
    return escape(one_line(text))


# --- ingest --------------------------------------------------------------------------------------
@app.command()
def ingest(
    paths: Annotated[list[str], typer.Argument(help="Files, folders, zips or feed URLs.")],
    kind: Annotated[str | None, typer.Option(
        help="Read every path as this kind. " + readers_help())] = None,
    site: Annotated[str | None, typer.Option(
        help="Publication URL for a Substack export, to give posts their links.")] = None,
    max_file_mb: Annotated[float, typer.Option(help="Refuse files larger than this (MB).")] = 50.0,
    max_seconds: Annotated[float, typer.Option(
        help="Give up on one input after this many seconds (the others go on).")] = 300.0,
    embed: Annotated[bool, typer.Option(help="Embed new passages for semantic search.")] = True,
    fetch: Annotated[bool, typer.Option(help="Fetch transcripts that feeds link remotely.")] = False,
    follow_links: Annotated[bool, typer.Option(
        help="Follow symbolic links that lead out of the folders given.")] = False,
) -> None:
    """Read an archive into the library. Unchanged inputs are skipped; changed ones replaced."""
    from backlist.service import check_reader_kind, missing_inputs

    try:
        check_reader_kind(kind)
    except BacklistError as exc:
        _fail(f"--{exc}")
    missing = missing_inputs(paths)
    if len(missing) == len(paths):  # nothing to read: no library folder is made for it
        for path in missing[:-1]:
            err.print(f"[red]error:[/] {_t(path)}: no such file or folder", highlight=False)
        _fail(f"{missing[-1]}: no such file or folder")
    if not (math.isfinite(max_file_mb) and max_file_mb > 0):
        _fail(f"--max-file-mb {max_file_mb}: give a positive number of megabytes")
    if not (math.isfinite(max_seconds) and max_seconds > 0):
        _fail(f"--max-seconds {max_seconds}: give a positive number of seconds")

    def work(lib):
        with _IngestProgress() as on:
            report = lib.ingest(paths, kind=kind, site=site,
                                max_bytes=int(max_file_mb * 1024 * 1024), embed=embed,
                                fetch_remote=fetch, max_seconds=max_seconds, progress=on,
                                follow_links=follow_links)
        return report, lib.stats(), lib.dir

    report, stats, where = _run(work, read_only=False)
    _print_report(report, stats, where)
    if report.errors:
        raise typer.Exit(1)


class _IngestProgress:
    """A Rich progress bar on a terminal; otherwise a line on stderr every few seconds."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.live = err.is_terminal
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=err, transient=True,
                            disable=not self.live)
        self.tasks: dict[str, Any] = {}
        self.last_line = 0.0

    def __enter__(self):
        self.bar.__enter__()
        return self.on

    def __exit__(self, *exc: Any) -> None:
        self.bar.__exit__(*exc)

    def on(self, event: str, data: dict[str, Any]) -> None:
        if event == "start":
            self.tasks["read"] = self.bar.add_task("reading", total=data["total"])
        elif event == "source":
            self.bar.update(self.tasks["read"], advance=1,
                            description=f"reading {one_line(Path(data['path']).name)}")
        elif event == "embed":
            if "embed" not in self.tasks:
                self.tasks["embed"] = self.bar.add_task("embedding passages", total=data["total"])
            self.bar.update(self.tasks["embed"], completed=data["done"])
            now = time.monotonic()
            if not self.live and (now - self.last_line > 5 or data["done"] == data["total"]):
                self.last_line = now
                err.print(f"embedding passages: {data['done']}/{data['total']}", highlight=False)


def _print_report(report, stats: dict[str, Any], where: Path) -> None:
    for line in report.errors:
        err.print(f"[red]error:[/] {_t(line)}", highlight=False)
    for line in report.warnings:
        err.print(f"[yellow]warning:[/] {_t(line)}", highlight=False)
    for v in report.vanished:
        err.print(f"[yellow]missing:[/] {_t(v['path'])} is gone; its "
                  f"{plural(v['documents'], 'document')} stay in the library", highlight=False)
    if report.did_nothing and report.sources_unchanged:
        out.print(f"Nothing to do: {plural(report.sources_unchanged, 'input')} unchanged since "
                  "the last ingest.")
    else:
        changes = [f"{n} {what}" for n, what in (
            (report.documents_new, "new"), (report.documents_updated, "updated"),
            (report.documents_unchanged, "unchanged"), (report.documents_removed, "removed")) if n]
        total = sum((report.documents_new, report.documents_updated,
                     report.documents_unchanged, report.documents_removed))
        unchanged = f" ({report.sources_unchanged} unchanged)" if report.sources_unchanged else ""
        out.print(
            f"Read {plural(report.sources_read, 'input')}{unchanged}: "
            f"{', '.join(changes) or 'no'} {'document' if total == 1 else 'documents'}; "
            f"{plural(report.passages_added, 'passage')} indexed, "
            f"{report.passages_embedded:,} embedded.")
    for src in report.sources:
        out.print(f"  {_t(src.path)} ({src.kind}): {_source_line(src.documents, src.counts)}",
                  highlight=False)
    n = report.totals.get("transcripts_not_fetched", 0)
    if n:
        out.print(f"{plural(n, 'episode')} link{'s' if n == 1 else ''} a transcript that was not "
                  "fetched; pass --fetch.")
    if report.skipped_files:
        out.print(f"Skipped {plural(len(report.skipped_files), 'file')}:")
        for line in report.skipped_files[:10]:
            out.print(f"  {_t(line)}", highlight=False)
        if len(report.skipped_files) > 10:
            out.print(f"  … and {len(report.skipped_files) - 10} more")
    missing = stats["passages"] - stats["embedded_passages"]
    copies = f" ({plural(stats['duplicates'], 'linked copy', 'linked copies')})" \
        if stats["duplicates"] else ""
    out.print(f"Library: {plural(stats['documents'], 'document')}{copies}, "
              f"{plural(stats['words'], 'word')}, in {_t(str(where))}"
              + (f"; {plural(missing, 'passage')} not embedded yet" if missing else ""))


def _source_line(documents: int, counts: dict[str, int]) -> str:
    labels = {"drafts": ("draft", "drafts"), "metrics_attached": ("with metrics",) * 2,
              "metrics_missing": ("without metrics",) * 2,
              "transcripts_not_fetched": ("transcript not fetched", "transcripts not fetched"),
              "files_skipped": ("file skipped", "files skipped")}
    bits = [plural(documents, "document")] + [
        plural(v, *labels.get(k, (k, k))) for k, v in counts.items() if v]
    return ", ".join(bits)


# --- reading -------------------------------------------------------------------------------------
@app.command("ls")
def ls_cmd(kind: KIND_OPT = None, since: SINCE_OPT = None, until: UNTIL_OPT = None,
           speaker: SPEAKER_OPT = None, entity: ENTITY_OPT = None, topic: TOPIC_OPT = None,
           author: AUTHOR_OPT = None, drafts: DRAFTS_OPT = False, reading: READING_OPT = None,
           order: Annotated[str, typer.Option(
               "--sort", help="date (oldest first, undated last), date_desc, or metric:NAME (best "
                              "first; see `backlist stats`).")] = "date",
           as_json: JSON_OPT = False) -> None:
    """List documents, oldest first (or as --sort says); undated ones last."""
    flt = _filters(kind, since, until, speaker, drafts, entity, topic, author, reading)
    docs = _run(lambda lib: lib.list(flt, order=order))
    if as_json:
        _json([doc_summary(d) for d in docs])
        return
    table = Table(show_lines=False, header_style="bold")
    for col in ("id", "date", "kind", "title", "words", "copy of"):
        table.add_column(col, overflow="fold" if col == "title" else "ellipsis",
                         no_wrap=col != "title")
    for d in docs:
        table.add_row(d.id, when_text(d), d.kind, _t(d.title or "(untitled)"),
                      str(d.words), d.duplicate_of or "")
    out.print(table)
    out.print(plural(len(docs), "document"))


@app.command()
def get(doc_id: Annotated[str, typer.Argument(help="A document id or a unique prefix.")],
        as_json: JSON_OPT = False) -> None:
    """Show one document in full."""
    doc, links = _run(lambda lib: (lambda d: (d, lib.links(d.id)))(lib.get(doc_id)))
    if as_json:
        _json(doc_full(doc, links))
        return
    out.print(f"[bold]{_t(doc.title or '(untitled)')}[/]")
    if doc.subtitle:
        out.print(f"[italic]{_t(doc.subtitle)}[/]")
    out.print(" · ".join([doc.kind, _t(when_text(doc)), f"{doc.words} words"]
                         + ([_t(doc.url)] if doc.url else [])))
    out.print(f"[dim]{_t(doc.source)} ({_t(doc.position)})[/]")
    if doc.duplicate_of:
        out.print(f"[yellow]copy of {doc.duplicate_of}[/]")
    out.print()
    out.print(escape(terminal_text(doc.text)), highlight=False)
    if doc.comments:
        out.print("\n[bold]Comments[/]")
        for c in doc.comments:
            out.print(f"- {escape(terminal_text(c))}", highlight=False)
    _print_links(links)


def _print_links(links: dict[str, list[Any]]) -> None:
    for key, label in (("cites", "Cites"), ("cited_by", "Cited by")):
        if links.get(key):
            out.print(f"\n[bold]{label}[/]")
            for lk, other in links[key]:
                out.print(f"- {_t(other.title or '(untitled)')} · {when_text(other)} · "
                          f"{other.id} ({lk.how})", highlight=False)


@app.command()
def links(doc_id: str, as_json: JSON_OPT = False) -> None:
    """What a piece cites from your archive, and which later pieces cite it."""
    from backlist.contracts import link_json

    found = _run(lambda lib: lib.links(doc_id))
    if as_json:
        _json({k: [link_json(lk, d) for lk, d in v] for k, v in found.items()})
        return
    if not any(found.values()):
        out.print("No citations to or from this piece.")
    _print_links(found)


@app.command()
def relink() -> None:
    """Rebuild copies and citation links over the whole library, with no time limit (an ingest
    rebuilds them under its per-input --max-seconds budget and may leave them out of date)."""
    started = time.monotonic()
    _run(lambda lib: lib.relink(), read_only=False)
    out.print(f"Citation links rebuilt in {time.monotonic() - started:.1f} s.")


@app.command()
def stats(as_json: JSON_OPT = False) -> None:
    """Counts by kind and by year, words, index status, and the metrics `top` and `insights`
    take."""
    data = _run(lambda lib: lib.stats())
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
    extra = [plural(data["duplicates"], "linked copy", "linked copies")] \
        if data["duplicates"] else []
    extra += [plural(data["drafts"], "draft")] if data["drafts"] else []
    extra += [f"{data['undated']:,} undated"] if data["undated"] else []
    out.print(", ".join([plural(data["documents"], "document"), plural(data["words"], "word"),
                         *extra])
              + f"; {plural(data['passages'], 'passage')} ({data['embedded_passages']:,} embedded)")
    if data.get("metrics"):
        out.print("Metrics (for `backlist top --by NAME` and `insights --by NAME`): "
                  + ", ".join(f"{_t(name)} ({plural(n, 'piece')})"
                              for name, n in data["metrics"].items()), highlight=False)
    else:
        out.print("No metrics yet: a Substack export brings open rates; `backlist metrics import "
                  "FILE.csv` adds others.")
    if data["embeddings_missing"]:
        out.print(f"[yellow]{data['embeddings_missing']} passages have no embedding yet: semantic "
                  "and hybrid search fall back to keywords for them (run `backlist ingest` again "
                  "with embedding on).[/]")


@app.command()
def reindex(embedder: Annotated[str | None, typer.Option(
        help="'minilm', a sentence-transformers model folder, or URL#model for an "
             "OpenAI-compatible /v1/embeddings endpoint.")] = None) -> None:
    """Rebuild passages, keyword index and embeddings from the stored documents."""
    def work(lib):
        with _IngestProgress() as on:
            return lib.reindex(embedder, progress=on)

    result = _run(work, read_only=False)
    out.print(f"Reindexed {result['documents']} documents: {result['passages']} passages, "
              f"{result['embedded']} embedded.")


# --- retrieval -------------------------------------------------------------------------------------
def _print_hits(hits, query_terms: list[str]) -> None:
    from rich.text import Text

    from backlist.render import window

    for note in getattr(hits, "notes", []):
        err.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
    if not hits:
        out.print("No matches.")
        return
    for n, h in enumerate(hits, start=1):
        d = h.doc
        out.print(f"[bold]{n}. {_t(d.title or '(untitled)')}[/]  [dim]{when_text(d)} · "
                  f"{d.kind} · {d.id} · score {h.score:.3f}[/]", highlight=False)
        if d.url:
            out.print(f"   [blue]{_t(d.url)}[/]", highlight=False)
        if h.reason:
            out.print(f"   [dim]why: {_t(h.reason)}[/]", highlight=False)
        if h.explain:
            out.print(f"   [dim]explain: {_t(h.explain)}[/]", highlight=False)
        for p, _ in h.passages:
            who = f" — {one_line(p.speaker)}" if p.speaker else ""
            snippet = Text("   “" + window(p.text, query_terms, 400) + "”" + who)
            snippet.highlight_words([t for t in query_terms if len(t) > 2], "bold yellow",
                                    case_sensitive=False)
            out.print(snippet)
        out.print()


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Words, \"a phrase\", or prefix*.")],
    k: K_OPT = 10,
    mode: Annotated[str, typer.Option(
        help="hybrid (default: meaning and words together), keyword (your words ranked by "
             "BM25; \"quoted phrases\" and prefix* work) or semantic (meaning only).")] = "hybrid",
    kind: KIND_OPT = None, since: SINCE_OPT = None, until: UNTIL_OPT = None,
    speaker: SPEAKER_OPT = None, entity: ENTITY_OPT = None, topic: TOPIC_OPT = None,
    author: AUTHOR_OPT = None, drafts: DRAFTS_OPT = False, reading: READING_OPT = None,
    per_doc: Annotated[int, typer.Option(help="Passages shown per document.")] = 3,
    explain: Annotated[bool, typer.Option(help="Say how each hit scored and which words matched.")]
    = False,
    min_score: Annotated[float | None, typer.Option(
        help="Leave out hits scoring below this (hybrid scores can be negative; off by "
             "default).")] = None,
    sort: Annotated[str, typer.Option(help="relevance (default) or date (newest first).")] = "relevance",
    recent: Annotated[bool, typer.Option(help="Favour newer pieces among relevant ones.")] = False,
    as_json: JSON_OPT = False,
) -> None:
    """Find where you wrote or talked about something, by meaning and words together (hybrid,
    the default: a hit need not share your words); one hit per document, best passages below."""
    flt = _filters(kind, since, until, speaker, drafts, entity, topic, author, reading)
    hits = _run(lambda lib: lib.search(query, k=k, mode=mode, flt=flt, per_doc=per_doc,
                                       explain=explain, min_score=min_score, sort=sort,
                                       recent=recent))
    if as_json:
        for note in hits.notes:
            err.print(f"note: {note}", highlight=False)
        _json([hit_json(h) for h in hits])
    else:
        _print_hits(hits, hits.terms)


@app.command()
def related(
    draft: Annotated[str, typer.Argument(help="A draft file, or - for standard input.")],
    k: K_OPT = 10,
    kind: KIND_OPT = None, since: SINCE_OPT = None, until: UNTIL_OPT = None,
    speaker: SPEAKER_OPT = None, entity: ENTITY_OPT = None, topic: TOPIC_OPT = None,
    author: AUTHOR_OPT = None, drafts: DRAFTS_OPT = False, reading: READING_OPT = None,
    exclude: Annotated[list[str] | None, typer.Option(help="Leave out this piece (repeatable).")]
    = None,
    not_cited: Annotated[bool, typer.Option(help="Only pieces the draft does not already cite.")]
    = False,
    as_json: JSON_OPT = False,
) -> None:
    """What you have already published that relates to a draft: the pieces it cites first, then
    related ones, each with its reason."""
    text = _read_draft(draft)
    flt = _filters(kind, since, until, speaker, drafts, entity, topic, author, reading)
    hits, key = _run(lambda lib: (lib.related(text, k=k, flt=flt, exclude=exclude or (),
                                              not_cited=not_cited), lib.key_terms(text)))
    if as_json:
        _json([hit_json(h) for h in hits])
    else:
        _print_hits(hits, key)


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
    kind: KIND_OPT = None, since: SINCE_OPT = None, until: UNTIL_OPT = None,
    speaker: SPEAKER_OPT = None, entity: ENTITY_OPT = None, topic: TOPIC_OPT = None,
    author: AUTHOR_OPT = None, drafts: DRAFTS_OPT = False, reading: READING_OPT = None,
    as_json: JSON_OPT = False,
) -> None:
    """What you said about something over time: oldest first, undated pieces listed apart."""
    flt = _filters(kind, since, until, speaker, drafts, entity, topic, author, reading)
    result = _run(lambda lib: lib.timeline(query, flt=flt))
    if as_json:
        for note in result.notes:
            err.print(f"note: {note}", highlight=False)
        _json({"dated": [hit_json(h) for h in result.dated],
               "undated": [hit_json(h) for h in result.undated]})
        return
    for note in result.notes:
        err.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
    out.print(f"[bold]{_t(query)}[/] over time")
    _print_hits(result.dated, result.terms)
    if result.undated:
        out.print(f"[bold]Undated[/] ({len(result.undated)})")
        _print_hits(result.undated, result.terms)


@app.command("eval")
def eval_cmd(
    queries: Annotated[list[Path], typer.Argument(help="JSON Lines query files.")],
    split: Annotated[str | None, typer.Option(
        help="Only the queries a splits file puts in this part (tune or heldout).")] = None,
    splits: Annotated[Path | None, typer.Option(
        help="The splits file (default: splits.json beside the first query file).")] = None,
    as_json: JSON_OPT = False,
) -> None:
    """Recall@1/5/10, MRR and nDCG@10 for keyword, semantic and hybrid, side by side."""
    from backlist.index.evaluate import evaluate, load_queries, load_split

    def work(lib):
        try:
            chosen = load_split(queries, split, splits) if split else \
                [q for path in queries for q in load_queries(path)]
            return evaluate(lib, chosen)
        except (ValueError, OSError) as exc:
            _fail(str(exc))

    report = _run(work)
    if as_json:
        _json(report)
        return
    table = Table(title=f"{report['queries']} queries", header_style="bold")
    table.add_column("metric")
    for m in report["modes"]:
        table.add_column(m, justify="right")
    for metric in ("recall@1", "recall@5", "recall@10", "mrr", "ndcg@10"):
        table.add_row(metric, *(f"{report['modes'][m][metric]:.3f}" for m in report["modes"]))
    out.print(table)


# --- agents ----------------------------------------------------------------------------------------
@app.command()
def mcp(
    http: Annotated[bool, typer.Option("--http", help="Serve streamable HTTP, not stdio.")] = False,
    host: Annotated[str, typer.Option(help="Address to bind with --http.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port with --http.")] = 8765,
    token: Annotated[str | None, typer.Option(
        envvar="BACKLIST_TOKEN", help="Required when binding anything but loopback.")] = None,
    lazy: LAZY_OPT = False,
) -> None:
    """Serve the library to agents over the Model Context Protocol (stdio by default)."""
    from backlist.auth import check_bind
    from backlist.mcp_server import serve

    try:
        if http:
            check_bind(host, token)
            _check_port(host, port)
        if not lazy:
            _warm_up()
        if http:
            err.print(f"backlist: MCP over HTTP at {_url(host, port)}mcp"
                      + ("; a token is required on every request" if token else ""),
                      highlight=False)
        serve(STATE["library"], http=http, host=host, port=port, token=token,
              database=STATE.get("database"))
    except BacklistError as exc:
        _fail(str(exc))


def _url(host: str, port: int) -> str:
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def _check_port(host: str, port: int) -> None:
    """Fail with one line, before anything says "serving", when the port cannot be bound."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
            probe.bind((host, port))
    except OSError as exc:
        raise BacklistError(f"cannot listen on {host}:{port} ({exc.strerror or exc}): is another "
                            "server running? Pass --port to use another port") from exc


def _warm_up() -> None:
    """Load the embedding model before serving (one line saying so), so the first search does
    not wait for it; nothing to load for a library without embeddings or before an ingest."""
    from backlist.service import Library

    try:
        lib = Library(STATE["library"], read_only=True, database=STATE.get("database"))
    except BacklistError:
        return  # no library yet: the server says so on the first call
    try:
        if not lib.stats()["embedded_passages"]:
            return
        err.print(f"backlist: loading the embedding model ({_t(lib.embedder_spec)}) so the first "
                  "search is quick (--lazy skips this) …", highlight=False)
        started = time.monotonic()
        lib.warm_up()
        err.print(f"backlist: model ready in {time.monotonic() - started:.1f} s", highlight=False)
    finally:
        lib.close()


@app.command()
def migrate(to: Annotated[str, typer.Option(
        "--to", help="A postgresql:// URL of an empty database.")]) -> None:
    """Copy this library (documents, passages with their vectors, topics, tags, metrics,
    entities, citations) into a PostgreSQL database, without re-embedding; counts are verified."""
    try:
        counts = _run(lambda lib: lib.migrate(to))
    except ImportError as exc:
        _missing_extra(exc)
        return
    out.print("Copied and verified: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    token: Annotated[str | None, typer.Option(
        envvar="BACKLIST_TOKEN", help="Required when binding anything but loopback.")] = None,
    lazy: LAZY_OPT = False,
) -> None:
    """The library in a browser, with the JSON API at /api and MCP for agents at /mcp."""
    from backlist.auth import check_bind

    try:
        from backlist.web.app import serve as serve_web
    except ImportError as exc:
        _missing_extra(exc)
        return
    try:
        check_bind(host, token)
        _check_port(host, port)
        if not lazy:
            _warm_up()
        serve_web(STATE["library"], host, port, token, STATE.get("database"))
    except BacklistError as exc:
        _fail(str(exc))


@app.command()
def context(
    topic: Annotated[str, typer.Argument(help="A topic, or - to read it from standard input.")],
    draft: Annotated[Path | None, typer.Option(help="A draft to find context for.")] = None,
    budget: Annotated[int, typer.Option(help="Token budget for the whole pack.")] = 4000,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write here, not stdout.")] = None,
) -> None:
    """Write a Markdown context pack of cited excerpts that fits a token budget."""
    topic_text = sys.stdin.read().strip() if topic == "-" else topic.strip()
    draft_text = _read_draft(str(draft)) if draft else None
    pack = _run(lambda lib: lib.context(topic_text or None, draft_text, budget))
    if out_file:
        try:
            out_file.write_text(pack, encoding="utf-8")
        except OSError as exc:
            _fail(f"{out_file}: cannot write ({exc.strerror or exc})")
        err.print(f"Wrote {out_file}")
    else:
        sys.stdout.write(pack)


# --- analysis ---------------------------------------------------------------------------------------
topics_app = typer.Typer(help="The topic taxonomy (topics.yaml in the library).",
                         invoke_without_command=True)
app.add_typer(topics_app, name="topics")


@topics_app.callback()
def topics_list(ctx: typer.Context, as_json: JSON_OPT = False) -> None:
    """Topics with document counts per year."""
    if ctx.invoked_subcommand:
        return
    rows = _run(lambda lib: lib.topics())
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
        table.add_row(_t(r["name"]), str(r["documents"]),
                      *(str(r["by_year"].get(y, "")) for y in years))
    out.print(table)


@topics_app.command("suggest")
def topics_suggest(
    n: Annotated[int | None, typer.Option("-n", help="How many topics (default: chosen by "
                                                     "silhouette).")] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing topics.yaml.")] = False,
) -> None:
    """Propose a taxonomy by clustering the archive; writes topics.yaml for you to edit."""
    path, topics = _run(lambda lib: lib.suggest_topics(n, force), read_only=False)
    for t in topics:
        out.print(f"- [bold]{_t(t.name)}[/]: {_t(t.description)}")
    out.print(f"Wrote {path}. Edit it, then run `backlist tag`.")


@app.command()
def tag(
    doc_id: Annotated[str | None, typer.Argument(help="With --set: the document to tag.")] = None,
    set_topic: Annotated[str | None, typer.Option("--set", help="Assign this topic by hand.")] = None,
) -> None:
    """Give every document one to three topics; `tag ID --set TOPIC` assigns one by hand
    (manual assignments are never overwritten by re-tagging)."""
    n = _run(lambda lib: lib.tag(doc_id, set_topic), read_only=False)
    if doc_id:
        out.print(f"{doc_id}: tagged {_t(set_topic)} (manual)")
    else:
        out.print(f"Tagged {n} documents.")


@app.command()
def entities(
    kind: Annotated[str | None, typer.Option(help="model, org, person or paper")] = None,
    refresh: Annotated[bool, typer.Option(help="Extract again (after editing entities.yaml).")] = False,
    limit: Annotated[int, typer.Option(help="How many rows to show.")] = 40,
    as_json: JSON_OPT = False,
) -> None:
    """Models, labs, people and papers the archive keeps returning to."""
    rows = _run(lambda lib: lib.entities(kind, refresh=refresh), read_only=not refresh)
    if as_json:
        _json(rows)
        return
    table = Table(header_style="bold")
    for col in ("entity", "kind", "documents", "mentions", "guest in", "first", "last"):
        table.add_column(col)
    for r in rows[:limit]:
        table.add_row(_t(r["entity"]), r["kind"], str(r["documents"]), str(r["mentions"]),
                      str(r["guest_in"] or ""), r["first"] or "", r["last"] or "")
    out.print(table)


metrics_app = typer.Typer(help="Performance metrics.")
app.add_typer(metrics_app, name="metrics")


@metrics_app.command("import")
def metrics_import(csv_file: Path) -> None:
    """Import a dashboard CSV: a key column (id, post_id, url or slug), then numeric columns."""
    result = _run(lambda lib: lib.import_metrics(csv_file), read_only=False)
    out.print(f"Matched {plural(result.matched, 'row')}; columns: {', '.join(result.columns) or 'none'}.")
    for row in result.unmatched:
        err.print(f"[yellow]unmatched:[/] {_t(str(csv_file))}: {_t(row)}", highlight=False)


@app.command()
def top(
    metric: Annotated[str, typer.Option("--by", help="Metric name, e.g. open_rate or views.")],
    year: Annotated[str | None, typer.Option(help="Only pieces from this year.")] = None,
    topic: Annotated[str | None, typer.Option(help="Only pieces with this topic.")] = None,
    k: Annotated[int, typer.Option("-k", help="How many pieces.")] = 20,
    kind: KIND_OPT = None, since: SINCE_OPT = None, until: UNTIL_OPT = None,
    speaker: SPEAKER_OPT = None, entity: ENTITY_OPT = None, author: AUTHOR_OPT = None,
    drafts: DRAFTS_OPT = False, reading: READING_OPT = None,
    as_json: JSON_OPT = False,
) -> None:
    """The best-performing pieces by a metric (`backlist stats` lists them)."""
    flt = _filters(kind, since, until, speaker, drafts, entity, None, author, reading)
    rows = _run(lambda lib: lib.top(metric, year, topic, k, flt=flt if flt != DocFilter() else None))
    if as_json:
        _json([{**doc_summary(d), metric: v} for d, v in rows])
        return
    for n, (d, v) in enumerate(rows, start=1):
        out.print(f"{n}. {_t(d.title or '(untitled)')} · {when_text(d)} · {_t(metric)} "
                  f"{metric_text(metric, v)}", highlight=False)


@app.command()
def insights(
    metric: Annotated[str, typer.Option("--by", help="Metric name.")] = "open_rate",
    as_json: JSON_OPT = False,
) -> None:
    """What performs, by topic, format, length and weekday: counts, medians, spread."""
    report = _run(lambda lib: lib.insights(metric))
    if as_json:
        _json(report)
        return
    o = report["overall"]

    def val(v: float) -> str:
        return metric_text(metric, v)

    out.print(f"[bold]{_t(metric)}[/]: {plural(o['n'], 'piece')}, median {val(o['median'])} "
              f"(range {val(o['min'])}-{val(o['max'])})")
    for name, rows in report["groups"].items():
        table = Table(title=f"by {name}", header_style="bold")
        for col in ("group", "n", "median", "p25-p75", "range", "reading"):
            table.add_column(col)
        for r in rows:
            spread = f"{val(r['p25'])}-{val(r['p75'])}" if "p25" in r else ""
            table.add_row(_t(r["group"]), str(r["n"]), val(r["median"]), spread,
                          f"{val(r['min'])}-{val(r['max'])}", r["verdict"])
        out.print(table)


@app.command()
def review(
    year: Annotated[str | None, typer.Argument(help="A year, e.g. 2025 (or use --since/--until).")] = None,
    since: SINCE_OPT = None, until: UNTIL_OPT = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="The Markdown file to write.")] = None,
) -> None:
    """Draft a review of a year (or any span): Markdown, with PNG and SVG charts beside it."""
    if year is not None and not (len(year) == 4 and year.isdigit()):
        _fail(f"{year}: give a year like 2025")
    if year is None and not (since and until):
        _fail("give a year, or both --since and --until")
    start, end = (year, year) if year else (since or "", until or "")
    target = out_file or Path(f"review-{year or _file_part(f'{start}-to-{end}')}.md")
    try:
        result = _run(lambda lib: lib.review(start, end, target), read_only=False)
    except ImportError as exc:
        _missing_extra(exc)
        return
    out.print(f"Wrote {result.path}")
    for chart in result.charts:
        out.print(f"  chart: {chart.path_png} and {chart.path_svg}")


# --- the demo ---------------------------------------------------------------------------------------
DEMO_QUERY = "growing seaweed through the cold months"
DEMO_DRAFT = ("Draft: what the oyster reef taught our town about storms. After the nor'easter, "
              "the marsh behind the reef held while the sea wall failed.")


def demo_archive() -> Path | None:
    """examples/demo-archive of a checkout (or an editable install), found from the package."""
    import backlist

    here = Path(backlist.__file__).resolve().parent  # src/backlist
    for root in (here.parent.parent, here.parent):
        if (root / "examples" / "demo-archive").is_dir():
            return root / "examples" / "demo-archive"
    return None


@app.command()
def demo() -> None:
    """Try backlist on the bundled demo archive: ingest it into a fresh library (a temporary
    folder unless --library is given), show a cited search and a related result, and say how
    to go on."""
    import tempfile

    archive = demo_archive()
    if archive is None:
        _fail("the demo archive (examples/demo-archive) is not here: it comes with a checkout "
              "of the repository (pip install -e .), not with the package alone")
        return
    if STATE["library"] is None:
        STATE["library"] = Path(tempfile.mkdtemp(prefix="backlist-demo-"))
    where = STATE["library"]
    out.print(f"[bold]1. Ingesting[/] the demo archive ({_t(str(archive))}) into "
              f"{_t(str(where))}", highlight=False)

    def work(lib):
        with _IngestProgress() as on:
            report = lib.ingest([str(archive)], progress=on)
        hits = lib.search(DEMO_QUERY, k=3, per_doc=1)
        related = lib.related(DEMO_DRAFT, k=3)
        return report, lib.stats(), hits, related, lib.key_terms(DEMO_DRAFT)

    report, stats, hits, related_hits, key = _run(work, read_only=False)

    out.print(f"   {plural(stats['documents'], 'document')} (posts, podcast episodes, a saved "
              f"article), {plural(stats['passages'], 'passage')} indexed.\n")
    out.print(f"[bold]2. A search[/]: backlist search \"{DEMO_QUERY}\"", highlight=False)
    out.print("   (hybrid: it finds the piece by meaning even where the words differ)\n")
    _print_hits(hits, hits.terms)
    out.print("[bold]3. Related to a draft[/]: backlist related draft.md", highlight=False)
    out.print(f"   draft: “{_t(DEMO_DRAFT)}”\n", highlight=False)
    _print_hits(related_hits[:2], key)
    lib_opt = f"--library {where}"
    out.print("[bold]Go on:[/]")
    out.print(f"   backlist {lib_opt} search \"kelp\" --explain    try your own questions here",
              highlight=False)
    out.print("   backlist ingest PATH    your own archive (a Substack export, Markdown, feeds, "
              "transcripts, saved pages) into ~/.local/share/backlist, or --library DIR before "
              "the command", highlight=False)
    out.print(f"   backlist {lib_opt} serve    the library in a browser", highlight=False)
    out.print(f"   backlist {lib_opt} mcp    for agents (Claude Code, Codex…) over MCP",
              highlight=False)
    if report.errors:
        raise typer.Exit(1)


def _file_part(text: str) -> str:
    """Date words as a file-name part: 'last year-to-this month' -> last-year-to-this-month."""
    import re

    return re.sub(r"[^\w.-]+", "-", text).strip("-")


GLOBAL_OPTIONS = ("--library", "-L", "--database")


def _misplaced_global(argv: list[str]) -> str | None:
    """A global option given after the command (`backlist search x --library DIR`): the hint."""
    command = next((i for i, a in enumerate(argv) if not a.startswith("-")
                    and (i == 0 or argv[i - 1] not in GLOBAL_OPTIONS)), None)
    if command is None:
        return None
    for a in argv[command + 1:]:
        if a == "--":
            return None
        name = a.split("=", 1)[0]
        if name in GLOBAL_OPTIONS:
            return (f"{name} goes before the command: backlist {name} VALUE {argv[command]} …")
    return None


@app.command()
def edit(
    doc_id: Annotated[str, typer.Argument(help="A document id or a unique prefix.")],
    title: Annotated[str | None, typer.Option(help="The piece's real title.")] = None,
    subtitle: Annotated[str | None, typer.Option(help="Its subtitle.")] = None,
    date: Annotated[str | None, typer.Option(help="The day it appeared: YYYY-MM-DD.")] = None,
    url: Annotated[str | None, typer.Option(help="Its address (http or https).")] = None,
    kind: Annotated[str | None, typer.Option(help=f"One of {', '.join(DOC_KINDS)}.")] = None,
    author: Annotated[list[str] | None, typer.Option(help="An author (repeatable).")] = None,
    reading: Annotated[bool | None, typer.Option(
        "--reading/--not-reading",
        help="A saved article you read (not your work: left out of your own counts, the review "
             "and \"my post\"), or your own work after all.")] = None,
    clear: Annotated[list[str] | None, typer.Option(
        help="Drop your correction of this field (repeatable): the reader's value comes back.")] = None,
    as_json: JSON_OPT = False,
) -> None:
    """Correct a piece: kept in the library and applied over every re-ingest and migrate."""
    values: dict[str, Any] = {name: value for name, value in (
        ("title", title), ("subtitle", subtitle), ("date", date), ("url", url), ("kind", kind),
        ("authors", author or None), ("reading", reading)) if value is not None}
    doc = _run(lambda lib: lib.edit(doc_id, values, clear or []), read_only=False)
    if as_json:
        _json(doc_full(doc))
        return
    what = ", ".join([f"set {n}" for n in values] + [f"cleared {n}" for n in clear or []])
    out.print(f"{doc.id}: {what}. Corrected fields: {', '.join(doc.corrected) or 'none'}.")
    bits = [doc.kind, _t(when_text(doc))] + (["reading"] if doc.is_reading else []) \
        + ([_t(doc.url)] if doc.url else [])
    out.print(f"[bold]{_t(doc.title or '(untitled)')}[/] · " + " · ".join(bits), highlight=False)


def run() -> None:
    hint = _misplaced_global(sys.argv[1:])
    if hint:
        err.print(f"[red]error:[/] {escape(hint)}", highlight=False)
        sys.exit(2)
    try:
        app()
    except BacklistError as exc:
        err.print(f"[red]error:[/] {escape(one_line(str(exc)))}", highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    run()
