"""The shapes every surface shares (CLI JSON, MCP, web API): one definition of each contract,
and the vocabularies of kinds and modes."""

from __future__ import annotations

from typing import Any, Literal, get_args

from backlist.index.search import MODES, Hit
from backlist.model import Document, Passage
from backlist.when import precision, when_text

DocKind = Literal["post", "episode", "article", "transcript", "note"]
DOC_KINDS: tuple[str, ...] = get_args(DocKind)
Mode = Literal["hybrid", "keyword", "semantic"]
assert get_args(Mode) == MODES

# Reader kinds (what `ingest --kind` takes), with the help text every surface shows.
READERS: dict[str, str] = {
    "substack": "a Substack export, zipped or unzipped (posts.csv, posts/*.html, opens/delivers)",
    "markdown": "Markdown or HTML with YAML/TOML/JSON frontmatter (Substack, Hugo, Jekyll, Astro)",
    "feed": "an RSS 2.0 or Atom feed, file or URL, with iTunes and Podcasting 2.0 tags",
    "transcript": "a WebVTT, SRT, Podcasting 2.0 JSON or timestamped-text transcript",
    "page": "a saved web page (article text, byline, date, reader comments)",
    "text": "a plain-text article (title line, body, comments after the sign-off)",
    "dump": "a plain-text dump of a podcast feed or directory page, one episode per line",
}
READER_KINDS: tuple[str, ...] = tuple(READERS)


def readers_help() -> str:
    return "; ".join(f"{k}: {v}" for k, v in READERS.items())


def doc_summary(doc: Document) -> dict[str, Any]:
    """The `ls` JSON contract."""
    return {"id": doc.id, "title": doc.title, "date": doc.date, "kind": doc.kind, "url": doc.url,
            "words": doc.words, "duplicate_of": doc.duplicate_of}


def doc_full(doc: Document, links: dict[str, list[Any]] | None = None) -> dict[str, Any]:
    """The `get` JSON contract (plus documented extras)."""
    out: dict[str, Any] = {
           "id": doc.id, "title": doc.title, "subtitle": doc.subtitle, "date": doc.date,
           "date_precision": precision(doc),
           "kind": doc.kind, "url": doc.url, "authors": doc.authors, "text": doc.text,
           "comments": doc.comments, "words": doc.words,
           "source": doc.source, "position": doc.position,
           "duplicate_of": doc.duplicate_of,
           "speakers": doc.speakers, "audience": doc.audience, "is_draft": doc.is_draft,
           "content_hash": doc.content_hash, "metrics": doc.metrics, "metadata": doc.metadata,
           # what the archive and the writer add: bounds (never a date), other titles, where
           # each field came from, which fields the writer corrected, reading or own work
           "date_earliest": doc.date_earliest, "date_latest": doc.date_latest,
           "when": when_text(doc), "aliases": doc.aliases,
           "basis": {k: v for k, v in doc.basis.items() if v}, "corrected": doc.corrected,
           "reading": doc.is_reading}
    if links is not None:
        out["cites"] = [link_json(lk, d) for lk, d in links.get("cites", [])]
        out["cited_by"] = [link_json(lk, d) for lk, d in links.get("cited_by", [])]
    return out


def link_json(link: Any, other: Document) -> dict[str, Any]:
    return {"id": other.id, "title": other.title, "date": other.date, "url": other.url,
            "how": link.how, "evidence": link.evidence}


def passage_json(p: Passage, score: float | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"text": p.text, "start": p.start, "end": p.end}
    if score is not None:
        out["score"] = score
    out["speaker"] = p.speaker
    return out


def hit_json(h: Hit) -> dict[str, Any]:
    """The search/related JSON contract."""
    d = h.doc
    best = h.passages[0][0].text if h.passages else ""
    out: dict[str, Any] = {"doc_id": d.id, "title": d.title, "date": d.date, "kind": d.kind,
                           "url": d.url, "score": h.score, "text": best,
                           "passages": [passage_json(p, s) for p, s in h.passages]}
    if h.reason:
        out["reason"] = h.reason
    if h.explain:
        out["explain"] = {"keyword": h.keyword, "semantic": h.semantic, "matched": h.matched or [],
                          "passage": h.passages[0][0].idx if h.passages else None,
                          "top_group": h.shortlisted, "text": h.explain}
    return out
