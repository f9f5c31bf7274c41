"""The JSON API: each route calls one Library method and answers with the CLI's `--json` shape
(backlist.contracts), so the web, the CLI and MCP agree."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from backlist.contracts import doc_full, doc_summary, hit_json
from backlist.service import MAX_DRAFT_CHARS, MAX_QUERY_CHARS, Library
from backlist.web.state import WebState
from backlist.web.views import make_filter

router = APIRouter(prefix="/api", tags=["api"])

Q = Annotated[str, Query(max_length=MAX_QUERY_CHARS, description="What to look for.")]
Opt = Annotated[str | None, Query(max_length=200)]
DateQ = Annotated[str | None, Query(max_length=40, description="2025, 2025-03, 2025-03-14 or words")]


def web(request: Request) -> WebState:
    return request.app.state.web


def lib_of(request: Request) -> Library:
    return web(request).library()


@router.get("/search", summary="Search (the `search --json` contract)")
def search(request: Request, q: Q, k: Annotated[int, Query(ge=1, le=100)] = 10,
           mode: str = "hybrid", kind: Opt = None, since: DateQ = None, until: DateQ = None,
           speaker: Opt = None, entity: Opt = None) -> JSONResponse:
    hits = lib_of(request).search(q, k=k, mode=mode,
                                  flt=make_filter(kind, since, until, speaker, entity))
    notes = " ".join(hits.notes)
    return JSONResponse([hit_json(h) for h in hits],
                        headers={"x-backlist-notes": notes.encode("ascii", "replace").decode()}
                        if notes else None)


class RelatedIn(BaseModel):
    draft: str = Field(max_length=MAX_DRAFT_CHARS, description="The draft text.")
    k: int = Field(10, ge=1, le=100)


@router.post("/related", summary="Past pieces related to a draft (the `related --json` contract)")
def related(request: Request, body: Annotated[RelatedIn, Body()]) -> list[dict[str, Any]]:
    return [hit_json(h) for h in lib_of(request).related(body.draft, k=body.k)]


@router.get("/documents", summary="List documents (the `ls --json` contract)")
def documents(request: Request, kind: Opt = None, since: DateQ = None, until: DateQ = None,
              drafts: bool = False) -> list[dict[str, Any]]:
    flt = make_filter(kind, since, until, include_drafts=drafts)
    return [doc_summary(d) for d in lib_of(request).list(flt)]


@router.get("/documents/{doc_id}", summary="One document in full with its links (`get --json`)")
def document(request: Request, doc_id: str) -> dict[str, Any]:
    lib = lib_of(request)
    doc = lib.get(doc_id)
    return doc_full(doc, lib.links(doc.id))


@router.get("/timeline", summary="What was said about something over time (`timeline --json`)")
def timeline(request: Request, q: Q, kind: Opt = None, entity: Opt = None) -> dict[str, Any]:
    result = lib_of(request).timeline(q, flt=make_filter(kind, entity=entity))
    return {"dated": [hit_json(h) for h in result.dated],
            "undated": [hit_json(h) for h in result.undated]}


@router.get("/top", summary="Best-performing pieces by a metric (`top --json`)")
def top(request: Request, by: Annotated[str, Query(max_length=80)],
        year: Annotated[str | None, Query(pattern=r"^\d{4}$")] = None, topic: Opt = None,
        k: Annotated[int, Query(ge=1, le=1000)] = 20) -> list[dict[str, Any]]:
    return [{**doc_summary(d), by: v} for d, v in lib_of(request).top(by, year, topic, k)]


@router.get("/insights", summary="What performs, by topic, format, length, weekday (`insights --json`)")
def insights(request: Request, by: Annotated[str, Query(max_length=80)] = "open_rate") -> dict[str, Any]:
    return lib_of(request).insights(by)


@router.get("/entities", summary="Models, labs, people and papers (`entities --json`)")
def entities(request: Request, kind: Opt = None) -> list[dict[str, Any]]:
    return lib_of(request).entities(kind)


@router.get("/topics", summary="Topics with document counts per year (`topics --json`)")
def topics(request: Request) -> list[dict[str, Any]]:
    return lib_of(request).topics()


@router.get("/stats", summary="Counts and index status (`stats --json`)")
def stats(request: Request) -> dict[str, Any]:
    return lib_of(request).stats()


class IngestIn(BaseModel):
    paths: list[str] = Field(min_length=1, max_length=100)
    kind: str | None = None


@router.post("/ingest", status_code=202, summary="Start an ingest in the background")
def ingest(request: Request, body: Annotated[IngestIn, Body()]) -> dict[str, Any]:
    return web(request).start_ingest(body.paths, body.kind).as_json()


@router.get("/ingest/{job_id}", summary="Progress of an ingest started here")
def ingest_job(request: Request, job_id: str) -> dict[str, Any]:
    return web(request).job(job_id).as_json()
