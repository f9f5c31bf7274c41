"""The pages a writer uses: each route parses its form, calls the Library, renders a template."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from backlist.analysis.charts import timeline_chart
from backlist.contracts import DOC_KINDS, MODES
from backlist.errors import BacklistError, NotFoundError, UsageError
from backlist.ingest import KINDS as READER_KINDS
from backlist.query_args import parse_date
from backlist.service import MAX_K, MAX_QUERY_CHARS, Library
from backlist.web.api import known_options_only
from backlist.web.app import html
from backlist.web.state import IngestOptions, WebState
from backlist.web.views import CHART_FILE, hit_views, make_filter, render_markdown, segments, web_url
from backlist.when import sort_day

router = APIRouter(include_in_schema=False, dependencies=[Depends(known_options_only)])
Opt = Annotated[str | None, Query(max_length=200)]
Text = Annotated[str, Query(max_length=MAX_QUERY_CHARS)]
REVIEW_NAME = re.compile(r"\d{4}-\d{2}-\d{2}_to_\d{4}-\d{2}-\d{2}")


def web(request: Request) -> WebState:
    return request.app.state.web


def lib_of(request: Request) -> Library:
    return web(request).library()


# --- search ------------------------------------------------------------------------------------------
@dataclass
class SearchForm:
    """The search page's options: the API's and the CLI's, minus explain (a JSON detail) and
    per_doc/min_score (tuning the page does not offer); k has no field, only the address."""

    q: Text = ""
    k: Annotated[int, Query(ge=1, le=MAX_K)] = 10
    mode: str = "hybrid"
    kind: Opt = None
    since: Opt = None
    until: Opt = None
    speaker: Opt = None
    entity: Opt = None
    topic: Opt = None
    author: Opt = None
    sort: Annotated[str, Query(max_length=20)] = "relevance"
    recent: bool = False
    reading: Annotated[str, Query(pattern="^(|true|false)$")] = ""  # "" both, "true" only, "false" none
    drafts: bool = False


def _search(request: Request, f: SearchForm) -> dict[str, Any]:
    ctx: dict[str, Any] = {**{k: v if v is not None else "" for k, v in vars(f).items()},
                           "kinds": DOC_KINDS, "modes": MODES, "hits": None, "notes": [],
                           "error": None}
    if not f.q.strip():
        return ctx
    lib = lib_of(request)
    try:
        flt = make_filter(f.kind, f.since, f.until, speaker=f.speaker, entity=f.entity,
                          topic=f.topic, author=f.author, include_drafts=f.drafts,
                          reading={"true": True, "false": False}.get(f.reading))
        hits = lib.search(f.q, k=f.k, mode=f.mode, flt=flt, sort=f.sort, recent=f.recent)
    except BacklistError as exc:
        ctx["error"] = str(exc)
        return ctx
    ctx.update(hits=hit_views(hits, lib.highlight_terms(f.q)), notes=hits.notes)
    return ctx


@router.get("/", response_class=HTMLResponse)
def search_page(request: Request, form: Annotated[SearchForm, Depends()]) -> Response:
    ctx = _search(request, form)
    return html(request, "search.html", ctx, status=400 if ctx["error"] else 200)


@router.get("/search/results", response_class=HTMLResponse)
def search_results(request: Request, form: Annotated[SearchForm, Depends()]) -> Response:
    """The results alone, for the search box's as-you-type updates."""
    ctx = _search(request, form)
    return html(request, "_results.html", ctx, status=400 if ctx["error"] else 200)


# --- one document --------------------------------------------------------------------------------------
@router.get("/doc/{doc_id}", response_class=HTMLResponse)
def document_page(request: Request, doc_id: str) -> Response:
    lib = lib_of(request)
    doc, passages = lib.passages(doc_id)
    links = lib.links(doc.id)
    return html(request, "doc.html", {
        "doc": doc, "url": web_url(doc.url), "segments": segments(doc, passages),
        "links": links, "entities": lib.doc_entities(doc.id), "related": _related_to(lib, doc),
        "topics": lib.doc_topics(doc.id),
        "metrics": sorted(doc.metrics.items()),
        "kinds": DOC_KINDS})


def _related_to(lib: Library, doc) -> list:
    if not (doc.text or "").strip():
        return []
    try:
        hits = lib.related(doc.text[:4000], k=6)
    except UsageError:
        return []
    return [h for h in hits if h.doc.id != doc.id and h.doc.id != doc.duplicate_of][:5]


# --- draft ---------------------------------------------------------------------------------------------
@router.get("/draft", response_class=HTMLResponse)
def draft_page(request: Request) -> Response:
    return html(request, "draft.html", {"draft": "", "hits": None, "budget": 4000})


async def _draft_text(draft: str, file: UploadFile | None) -> str:
    if file is not None and file.filename:
        raw = await file.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise UsageError(f"{file.filename}: not UTF-8 text; save the draft as .txt or .md") from exc
        if text.strip():
            return text
    if not draft.strip():
        raise UsageError("paste a draft or choose a file")
    return draft


@router.post("/draft", response_class=HTMLResponse)
async def draft_related(request: Request, draft: Annotated[str, Form()] = "",
                        file: Annotated[UploadFile | None, File()] = None,
                        k: Annotated[int, Form(ge=1, le=MAX_K)] = 8) -> Response:
    from starlette.concurrency import run_in_threadpool

    text = await _draft_text(draft, file)
    lib = lib_of(request)
    hits = await run_in_threadpool(lib.related, text, k)
    words = await run_in_threadpool(lib.key_terms, text)
    return html(request, "draft.html", {"draft": text, "hits": hit_views(hits, words),
                                        "notes": hits.notes, "budget": 4000, "words": words[:12]})


@router.post("/draft/context")
async def draft_context(request: Request, draft: Annotated[str, Form()] = "",
                        file: Annotated[UploadFile | None, File()] = None,
                        budget: Annotated[int, Form(ge=200, le=100_000)] = 4000) -> Response:
    from starlette.concurrency import run_in_threadpool

    text = await _draft_text(draft, file)
    pack = await run_in_threadpool(lib_of(request).context, None, text, budget)
    return Response(pack, media_type="text/markdown; charset=utf-8",
                    headers={"content-disposition": 'attachment; filename="context-pack.md"'})


# --- timeline, topics, entities ------------------------------------------------------------------------
@router.get("/timeline", response_class=HTMLResponse)
def timeline_page(request: Request, q: Text = "", entity: Opt = None, kind: Opt = None) -> Response:
    ctx: dict[str, Any] = {"q": q, "entity": entity or "", "kind": kind or "", "kinds": DOC_KINDS,
                           "result": None}
    if q.strip():
        lib = lib_of(request)
        result = lib.timeline(q, flt=make_filter(kind, entity=entity))
        words = lib.highlight_terms(q)
        days = [dt.date.fromisoformat(h.doc.date[:10]) for h in result.dated
                if h.doc.date and re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", h.doc.date)]
        chart = timeline_chart(days, q)
        dated = hit_views(result.dated, words)
        ctx.update(result=result, chart=chart, chart_svg=Markup(chart.svg) if chart else None,
                   dated=dated, dated_by_year=by_year(dated), undated=hit_views(result.undated, words))
    return html(request, "timeline.html", ctx)


def by_year(hits: list[Any]) -> list[tuple[str, list[Any]]]:
    """Consecutive hits grouped under the year they are ordered by: the date's, else the bound's
    (a piece known only by bounds sits under the year of its bound, its wording says which)."""
    groups: list[tuple[str, list[Any]]] = []
    for h in hits:
        year = (sort_day(h.doc) or "")[:4]
        if not groups or groups[-1][0] != year:
            groups.append((year, []))
        groups[-1][1].append(h)
    return groups


@router.get("/topics", response_class=HTMLResponse)
def topics_page(request: Request, kind: Opt = None) -> Response:
    lib = lib_of(request)
    topics = _topics(lib)
    years = sorted({y for t in topics for y in t["by_year"]})
    return html(request, "topics.html", {
        "topics": topics, "years": years, "entities": lib.entities(kind or None)[:200],
        "kind": kind or "", "entity_kinds": ("model", "org", "person", "paper")})


def _topics(lib: Library) -> list[dict[str, Any]]:
    """The taxonomy's counts, or none before `backlist topics suggest` has made one."""
    try:
        return lib.topics()
    except BacklistError:
        return []


# --- performance ---------------------------------------------------------------------------------------
@router.get("/performance", response_class=HTMLResponse)
def performance_page(request: Request, by: Opt = None,
                     year: Annotated[str | None, Query(pattern=r"^(\d{4})?$")] = None,
                     topic: Opt = None) -> Response:
    lib = lib_of(request)
    metrics = lib.metric_names()
    ctx: dict[str, Any] = {"metrics": metrics, "by": by, "year": year or "", "topic": topic or "",
                           "top": [], "insights": None,
                           "topics": [t["name"] for t in _topics(lib)]}
    if not metrics:
        return html(request, "performance.html", ctx)
    by = by or ("views" if "views" in metrics else metrics[0])
    if by not in metrics:
        raise NotFoundError(f"no document has the metric {by!r} (known: {', '.join(metrics)})")
    ctx.update(by=by, top=lib.top(by, year or None, topic or None, 20), insights=lib.insights(by))
    return html(request, "performance.html", ctx)


# --- year in review ------------------------------------------------------------------------------------
def _reviews_dir(request: Request) -> Path:
    return web(request).dir / "reviews"


@router.get("/review", response_class=HTMLResponse)
def review_page(request: Request) -> Response:
    folder = _reviews_dir(request)
    done = sorted((p.name for p in folder.iterdir() if REVIEW_NAME.fullmatch(p.name)), reverse=True) \
        if folder.is_dir() else []
    return html(request, "review.html", {"reviews": done, "review": None})


@router.post("/review")
def review_make(request: Request, year: Annotated[str, Form(max_length=4)] = "",
                since: Annotated[str, Form(max_length=40)] = "",
                until: Annotated[str, Form(max_length=40)] = "") -> Response:
    if year.strip():
        if not re.fullmatch(r"\d{4}", year.strip()):
            raise UsageError(f"{year}: give a year like 2025")
        start, end = f"{year.strip()}-01-01", f"{year.strip()}-12-31"
    else:
        if not (since.strip() and until.strip()):
            raise UsageError("give a year, or both a start and an end date")
        start, end = _review_date(since, "since"), _review_date(until, "until", end=True)
    name = f"{start}_to_{end}"
    with web(request).writable() as lib:  # the review refreshes entities: it writes
        lib.review(start, end, _reviews_dir(request) / name / f"review-{name}.md")
    return RedirectResponse(f"/review/{name}/", status_code=303)


def _review_date(value: str, name: str, end: bool = False) -> str:
    """The review's folder is named by its span, so its dates are read here (by the one parser
    of date words, which the façade uses too)."""
    try:
        return parse_date(value, end=end)
    except ValueError as exc:
        raise UsageError(f"{name}: {exc}") from exc


def _review_folder(request: Request, name: str) -> Path:
    folder = _reviews_dir(request) / name
    if not REVIEW_NAME.fullmatch(name) or not folder.is_dir():
        raise NotFoundError(f"{name}: no such review (make one on the Review page)")
    return folder


@router.get("/review/{name}/", response_class=HTMLResponse)
def review_show(request: Request, name: str) -> Response:
    md = _review_folder(request, name) / f"review-{name}.md"
    if not md.is_file():
        raise NotFoundError(f"{name}: the review's Markdown is missing")
    text = md.read_text(encoding="utf-8")
    return html(request, "review.html", {"review": name, "body": render_markdown(text),
                                         "markdown_name": md.name, "reviews": []})


@router.get("/review/{name}/{file}")
def review_file(request: Request, name: str, file: str) -> Response:
    folder = _review_folder(request, name)
    if not (CHART_FILE.fullmatch(file) or file == f"review-{name}.md"):
        raise NotFoundError(f"{file}: no such file in this review")
    path = folder / file
    if not path.is_file():
        raise NotFoundError(f"{file}: no such file in this review")
    if file.endswith(".md"):
        return FileResponse(path, media_type="text/markdown; charset=utf-8", filename=file)
    return FileResponse(path, media_type="image/svg+xml" if file.endswith(".svg") else "image/png")


# --- library ---------------------------------------------------------------------------------------------
@router.get("/library", response_class=HTMLResponse)
def library_page(request: Request, job: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    state = web(request)
    ctx: dict[str, Any] = {"dir": str(state.dir), "stats": None, "sources": [], "missing": None,
                           "reader_kinds": READER_KINDS, "jobs": list(state.jobs.values())[::-1][:5],
                           "job": state.job(job) if job else None}
    try:
        lib = state.library()
        ctx.update(stats=lib.stats(), sources=lib.sources())
    except BacklistError as exc:
        ctx["missing"] = str(exc)
    return html(request, "library.html", ctx)


@router.post("/library/ingest")
def library_ingest(request: Request, paths: Annotated[str, Form(max_length=20_000)] = "",
                   kind: Annotated[str, Form(max_length=20)] = "") -> Response:
    job = web(request).start_ingest(paths.splitlines(), IngestOptions(kind=kind or None))
    return RedirectResponse(f"/library?job={job.id}", status_code=303)


@router.get("/favicon.ico")
def favicon() -> Response:
    return FileResponse(Path(__file__).parent / "static" / "favicon.svg", media_type="image/svg+xml")


# --- API docs (the OpenAPI schema rendered here: nothing fetched from a CDN) ---------------------------
@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> Response:
    from backlist.web.apidocs import operations

    schema = request.app.openapi()
    return html(request, "docs.html", {"ops": operations(schema), "title": schema["info"]["title"]})
