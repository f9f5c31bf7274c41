"""The JSON API: each route calls one Library method with the options of the CLI command of the
same name and answers with that command's `--json` shape (backlist.contracts), so the web, the
CLI and MCP agree. An option a route does not take is refused with a 400, never ignored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from backlist.contracts import DOC_KINDS, DocKind, Mode, doc_full, doc_summary, hit_json
from backlist.errors import UsageError
from backlist.ingest import KINDS as READER_KINDS
from backlist.service import MAX_DRAFT_CHARS, MAX_ID_CHARS, MAX_K, MAX_QUERY_CHARS, Library
from backlist.store.base import DocFilter
from backlist.web.responses import InertJSONResponse
from backlist.web.state import IngestOptions, WebState
from backlist.web.views import make_filter

ALWAYS_ALLOWED = frozenset({"token"})  # the off-loopback token may ride on any URL
TOP_MAX_K = 1000  # the façade's cap for `top` (search and related: MAX_K)


def known_options_only(request: Request) -> None:
    """Refuse query parameters the route does not declare (a typo must not widen a search)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    allowed = _query_names(dependant) if dependant else set()
    unknown = sorted(set(request.query_params) - allowed - ALWAYS_ALLOWED)
    if unknown:
        takes = ", ".join(sorted(allowed)) or "no options"
        raise UsageError(f"unknown option {unknown[0]!r} (this route takes: {takes})")


def _query_names(dependant: Any) -> set[str]:
    """The query parameters a route declares, its dependencies' included."""
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


router = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(known_options_only)])

Q = Annotated[str, Query(max_length=MAX_QUERY_CHARS,
                         description='What to look for: words, "a phrase", or prefix*.')]
K = Annotated[int, Query(ge=1, le=MAX_K, description=f"How many documents (1-{MAX_K}).")]
Kinds = Annotated[list[DocKind] | None, Query(
    description=f"Only these kinds of document (repeat the option): {', '.join(DOC_KINDS)}.")]
Since = Annotated[str | None, Query(
    max_length=40, description="Only pieces dated on or after this: 2025, 2025-03, 2025-03-14 or "
                               "words like 'last May'.")]
Until = Annotated[str | None, Query(
    max_length=40, description="Only pieces dated on or before this (same forms as since).")]
Speaker = Annotated[str | None, Query(max_length=200, description="Only passages this person says.")]
Entity = Annotated[str | None, Query(
    max_length=200, description="Only documents that mention this model, lab, person or paper.")]
Topic = Annotated[str | None, Query(max_length=200, description="Only pieces tagged with this topic.")]
Author = Annotated[str | None, Query(max_length=200, description="Only pieces by this writer.")]
Metric = Annotated[str, Query(max_length=80, description="A metric name, e.g. open_rate or views.")]
DocId = Annotated[str, Path(max_length=MAX_ID_CHARS, description="A document id or a unique prefix.")]


def web(request: Request) -> WebState:
    return request.app.state.web


def lib_of(request: Request) -> Library:
    return web(request).library()


# --- response shapes (documentation: the dicts come from backlist.contracts) ---------------------------
class PassageOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    text: str = Field(description="The passage's text.")
    start: int = Field(description="Where it starts in the document's text (characters).")
    end: int = Field(description="Where it ends.")
    score: float = Field(description="How well it matched.")
    speaker: str | None = Field(description="Who says it, in a transcript.")


DATE_DESCRIPTION = ("The date as the source states it (ISO, as precise as the source); null when none "
                    "is stated. A piece without one may still be known by bounds: GET "
                    "/api/documents/{id} gives date_earliest, date_latest and when (its date, "
                    "else its bounds in words).")


class HitOut(BaseModel):
    """One search or related hit: the document, its best passages and why it was found."""

    model_config = ConfigDict(extra="allow")
    doc_id: str = Field(description="The document's id.")
    title: str | None = Field(description="The document's title.")
    date: str | None = Field(description=DATE_DESCRIPTION)
    kind: str = Field(description=f"One of {', '.join(DOC_KINDS)}.")
    url: str | None = Field(description="Where it was published, when known.")
    score: float = Field(description="Relevance; higher is better (may be negative in hybrid mode).")
    text: str = Field(description="The best passage's text.")
    passages: list[PassageOut] = Field(description="The best passages, best first.")
    reason: str | None = Field(None, description="Why it was found (related, timeline).")
    explain: dict[str, Any] | None = Field(None, description="How it scored (with explain=true).")


class DocOut(BaseModel):
    """A document as `ls --json` lists it."""

    model_config = ConfigDict(extra="allow")
    id: str = Field(description="The document's id.")
    title: str | None = Field(description="The document's title.")
    date: str | None = Field(description=DATE_DESCRIPTION)
    kind: str = Field(description=f"One of {', '.join(DOC_KINDS)}.")
    url: str | None = Field(description="Where it was published, when known.")
    words: int = Field(description="Length in words.")
    duplicate_of: str | None = Field(description="The id of the document this one copies, if any.")


class TimelineOut(BaseModel):
    dated: list[HitOut] = Field(description=(
        "Hits with a date or date bounds, oldest first (by the date, else the bound); a bounded "
        "hit's date is null."))
    undated: list[HitOut] = Field(description="Hits with neither a date nor bounds, listed apart.")


# --- the filters every reading command takes (the CLI's and MCP's) ---------------------------------------
Drafts = Annotated[bool, Query(description="Include unpublished drafts.")]
Reading = Annotated[bool | None, Query(description=(
    "true: only the writer's reading (saved articles, pieces marked reading); "
    "false: only the writer's own pieces; unset: both."))]


@dataclass
class Filters:
    """kind, since, until, speaker, entity, topic, author, drafts, reading: as `search`, `related`, `ls`,
    `timeline` and `top` take them."""

    kind: Kinds = None
    since: Since = None
    until: Until = None
    speaker: Speaker = None
    entity: Entity = None
    topic: Topic = None
    author: Author = None
    drafts: Drafts = False
    reading: Reading = None

    def doc_filter(self, with_topic: bool = True) -> DocFilter:
        return make_filter(self.kind, self.since, self.until, speaker=self.speaker,
                           entity=self.entity, topic=self.topic if with_topic else None,
                           author=self.author, include_drafts=self.drafts, reading=self.reading)


# --- reading -------------------------------------------------------------------------------------------
@router.get("/search", summary="Search, like search --json", response_model=list[HitOut],
            response_model_exclude_unset=True)
def search(request: Request, q: Q, filters: Annotated[Filters, Depends()], k: K = 10,
           mode: Annotated[Mode, Query(description="hybrid (words and meaning), keyword or semantic.")]
           = "hybrid",
           per_doc: Annotated[int, Query(ge=1, le=10, description="Passages per document.")] = 3,
           explain: Annotated[bool, Query(description="Say how each hit scored and which words "
                                                      "matched.")] = False,
           min_score: Annotated[float | None, Query(description="Leave out hits scoring below "
                                                                "this (hybrid scores can be "
                                                                "negative).")] = None,
           sort: Annotated[Literal["relevance", "date"], Query(
               description="relevance, or date (the relevant ones newest first).")] = "relevance",
           recent: Annotated[bool, Query(description="Favour newer pieces among relevant ones.")]
           = False) -> InertJSONResponse:
    hits = lib_of(request).search(q, k=k, mode=mode, flt=filters.doc_filter(), per_doc=per_doc,
                                  explain=explain, min_score=min_score, sort=sort, recent=recent)
    notes = " ".join(hits.notes)
    return InertJSONResponse([hit_json(h) for h in hits],
                             headers={"x-backlist-notes": notes.encode("ascii", "replace").decode()}
                             if notes else None)


class RelatedIn(BaseModel):
    """A draft and the options of `related`."""

    model_config = ConfigDict(extra="forbid")
    draft: str = Field(max_length=MAX_DRAFT_CHARS, description="The draft text.")
    k: int = Field(10, ge=1, le=MAX_K, description=f"How many pieces (1-{MAX_K}).")
    kind: list[DocKind] | None = Field(None, description="Only these kinds of document.")
    since: str | None = Field(None, max_length=40, description="Only pieces dated on or after this.")
    until: str | None = Field(None, max_length=40, description="Only pieces dated on or before this.")
    speaker: str | None = Field(None, max_length=200, description="Only passages this person says.")
    entity: str | None = Field(None, max_length=200,
                               description="Only documents that mention this entity.")
    topic: str | None = Field(None, max_length=200, description="Only pieces tagged with this topic.")
    author: str | None = Field(None, max_length=200, description="Only pieces by this writer.")
    drafts: bool = Field(False, description="Include unpublished drafts.")
    reading: bool | None = Field(None, description=(
        "true: only the writer's reading; false: only their own pieces; unset: both."))
    exclude: list[str] = Field(default_factory=list, max_length=100,
                               description="Leave out these pieces (ids).")
    not_cited: bool = Field(False, description="Only pieces the draft does not already cite.")


@router.post("/related", summary="Past pieces related to a draft, like related --json",
             response_model=list[HitOut], response_model_exclude_unset=True)
def related(request: Request, body: Annotated[RelatedIn, Body()]) -> list[dict[str, Any]]:
    flt = make_filter(body.kind, body.since, body.until, speaker=body.speaker, entity=body.entity,
                      topic=body.topic, author=body.author, include_drafts=body.drafts,
                      reading=body.reading)
    hits = lib_of(request).related(body.draft, k=body.k, flt=flt, exclude=body.exclude,
                                   not_cited=body.not_cited)
    return [hit_json(h) for h in hits]


@router.get("/documents", summary="List documents, like ls --json", response_model=list[DocOut])
def documents(request: Request, filters: Annotated[Filters, Depends()],
              sort: Annotated[str, Query(max_length=90, description=(
                  "date (oldest first, undated last), date_desc, or metric:NAME (best first)."))]
              = "date") -> list[dict[str, Any]]:
    return [doc_summary(d) for d in lib_of(request).list(filters.doc_filter(), order=sort)]


@router.get("/documents/{doc_id}", summary="One document in full with its links, like get --json")
def document(request: Request, doc_id: DocId) -> dict[str, Any]:
    lib = lib_of(request)
    doc = lib.get(doc_id)
    return doc_full(doc, lib.links(doc.id))


@router.get("/timeline", summary="What was said about something over time, like timeline --json",
            response_model=TimelineOut, response_model_exclude_unset=True)
def timeline(request: Request, q: Q, filters: Annotated[Filters, Depends()]) -> dict[str, Any]:
    result = lib_of(request).timeline(q, flt=filters.doc_filter())
    return {"dated": [hit_json(h) for h in result.dated],
            "undated": [hit_json(h) for h in result.undated]}


@router.get("/top", summary="Best-performing pieces by a metric, like top --json")
def top(request: Request, by: Metric, filters: Annotated[Filters, Depends()],
        year: Annotated[str | None, Query(pattern=r"^\d{4}$", description="Only pieces from this "
                                                                           "year.")] = None,
        k: Annotated[int, Query(ge=1, le=TOP_MAX_K, description="How many pieces.")] = 20
        ) -> list[dict[str, Any]]:
    flt = filters.doc_filter(with_topic=False)  # top takes its topic on its own, as the CLI
    rows = lib_of(request).top(by, year, filters.topic, k, flt=flt if flt != DocFilter() else None)
    return [{**doc_summary(d), by: v} for d, v in rows]


@router.get("/insights", summary="What performs, by topic, format, length and weekday, like "
                                 "insights --json")
def insights(request: Request, by: Metric = "open_rate") -> dict[str, Any]:
    return lib_of(request).insights(by)


@router.get("/entities", summary="Models, labs, people and papers, like entities --json")
def entities(request: Request, kind: Annotated[
        Literal["model", "org", "person", "paper"] | None,
        Query(description="Only this kind of entity.")] = None) -> list[dict[str, Any]]:
    return lib_of(request).entities(kind)


@router.get("/topics", summary="Topics with document counts per year, like topics --json")
def topics(request: Request) -> list[dict[str, Any]]:
    return lib_of(request).topics()


@router.get("/stats", summary="Counts and index status, like stats --json")
def stats(request: Request) -> dict[str, Any]:
    return lib_of(request).stats()


# --- ingest ----------------------------------------------------------------------------------------------
class IngestIn(BaseModel):
    """Paths on the server's disk and the options of `ingest`."""

    model_config = ConfigDict(extra="forbid")
    paths: list[str] = Field(min_length=1, max_length=100,
                             description="Files, folders, zips or feed URLs.")
    kind: str | None = Field(None, description="Read every path as this kind: "
                                               + ", ".join(READER_KINDS) + ".")
    site: str | None = Field(None, max_length=500,
                             description="Publication URL for a Substack export (gives posts links).")
    max_file_mb: float = Field(50.0, gt=0, le=10_000, description="Refuse files larger than this (MB).")
    max_seconds: float = Field(300.0, gt=0, le=86_400,
                               description="Give up on one input after this many seconds.")
    embed: bool = Field(True, description="Embed new passages for semantic search.")
    fetch: bool = Field(False, description="Fetch transcripts that feeds link remotely.")
    follow_links: bool = Field(False, description="Follow symbolic links out of the folders given.")


class JobOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str = Field(description="The job's id, for /api/ingest/{job_id}.")
    state: Literal["running", "done", "failed"] = Field(description="Where the job is.")
    percent: int = Field(description="Rough progress, 0-100.")


@router.post("/ingest", status_code=202, summary="Start an ingest in the background",
             response_model=JobOut)
def ingest(request: Request, body: Annotated[IngestIn, Body()]) -> dict[str, Any]:
    options = IngestOptions(kind=body.kind, site=body.site,
                            max_bytes=int(body.max_file_mb * 1024 * 1024),
                            max_seconds=body.max_seconds, embed=body.embed, fetch=body.fetch,
                            follow_links=body.follow_links)
    return web(request).start_ingest(body.paths, options).as_json()


@router.get("/ingest/{job_id}", summary="Progress of an ingest started here", response_model=JobOut)
def ingest_job(request: Request, job_id: Annotated[str, Path(max_length=20)]) -> dict[str, Any]:
    return web(request).job(job_id).as_json()
