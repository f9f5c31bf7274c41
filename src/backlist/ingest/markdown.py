"""Markdown (or HTML) files with YAML frontmatter, such as posts converted from a Substack export."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import frontmatter
import yaml
from markdown_it import MarkdownIt

from backlist.errors import IngestError
from backlist.ingest.base import ReadContext, iso_date
from backlist.ingest.html import html_to_text
from backlist.ingest.textio import read_text
from backlist.model import Document, stable_id

_MD = MarkdownIt("commonmark", {"html": True})

FIELDS = ("title", "subtitle", "date", "type", "audience", "visibility", "post_id", "email_sent_at")


def read_markdown(path: Path, ctx: ReadContext) -> Iterator[Document]:
    label = str(path)
    raw = read_text(path, ctx.limits)
    try:
        post = frontmatter.loads(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise IngestError(label, f"malformed YAML frontmatter{where}") from exc
    meta = post.metadata if isinstance(post.metadata, dict) else {}
    if not isinstance(post.metadata, dict):
        raise IngestError(label, "frontmatter is not a mapping of fields")
    body = post.content
    html = body if path.suffix.lower() in (".html", ".htm") else _MD.render(body)
    converted = html_to_text(html)
    if not converted.text.strip():
        raise IngestError(label, "no text after the frontmatter")

    post_id = _str(meta.get("post_id"))
    date = iso_date(meta.get("date")) or iso_date(meta.get("post_date")) \
        or iso_date(meta.get("email_sent_at"))
    kind = "post" if (meta.get("type") in (None, "newsletter", "post", "thread")) else (
        "episode" if meta.get("type") == "podcast" else "post")
    title = _str(meta.get("title")) or _first_heading(body) or path.stem.replace("-", " ")
    extra = {k: _jsonable(meta[k]) for k in meta if k not in ("title", "subtitle", "date")}
    extra.update({
        "format": "markdown-frontmatter",
        "date_basis": "frontmatter" if date else None,
        "links": converted.links,
        "images": converted.images,
    })
    if post_id and "." in post_id:
        extra["slug"] = post_id.split(".", 1)[1]
    yield Document(
        id=stable_id("post", post_id) if post_id else stable_id("file", path.name, title),
        kind=kind,
        source=label,
        position="whole file",
        title=title,
        subtitle=_str(meta.get("subtitle")),
        date=date,
        url=_str(meta.get("url") or meta.get("canonical_url")),
        authors=_list(meta.get("author") or meta.get("authors")),
        audience=_str(meta.get("audience")),
        text=converted.text,
        metadata=extra,
        is_draft=str(meta.get("draft", "")).lower() == "true"
        or str(meta.get("is_published", "true")).lower() == "false",
    )


def _first_heading(body: str) -> str | None:
    for line in body.splitlines():
        if line.startswith("#"):
            return line.lstrip("#").strip() or None
    return None


def _str(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _list(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [s.strip() for s in str(value).split(",") if s.strip()]


def _jsonable(value: object) -> object:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):  # YAML turns timestamps into datetimes: keep them ISO
        return value.isoformat()
    return str(value)
