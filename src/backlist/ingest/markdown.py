"""Markdown (or HTML) files with frontmatter: Substack-to-Markdown converters, Hugo, Jekyll,
Astro, Eleventy, Obsidian.

Frontmatter is YAML (``---``), TOML (``+++``, Hugo) or JSON (``{ … }``). Field names vary by
generator and are matched without regard to case (as Hugo does): the date is the first of
``date``, ``pubDatetime``, ``pubDate``, ``publishDate``, ``published``, ``post_date``,
``created``, ``email_sent_at``, else a ``YYYY-MM-DD-`` file name (Jekyll). Dates are the local
date as written, never shifted by their offset; YAML timestamps are kept as the strings written.
Frontmatter is untrusted: its size and YAML aliases are bounded (alias bombs), and the metadata
kept from it is capped.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import frontmatter
import yaml
from frontmatter.default_handlers import BaseHandler, JSONHandler, YAMLHandler
from markdown_it import MarkdownIt

from backlist.errors import IngestError
from backlist.ingest.base import ReadContext
from backlist.ingest.dates import parse_date_value
from backlist.ingest.html import html_to_text
from backlist.ingest.textio import read_text
from backlist.model import Document, stable_id

_MD = MarkdownIt("commonmark", {"html": True})

MAX_FRONTMATTER_BYTES = 64 * 1024
MAX_YAML_ALIASES = 8
MAX_METADATA_BYTES = 64 * 1024
DATE_FIELDS = ("date", "pubdatetime", "pubdate", "publishdate", "published", "post_date",
               "created", "email_sent_at")
SUBTITLE_FIELDS = ("subtitle", "description", "excerpt", "summary")
_OWN = {"title", "subtitle", "date"}
_FILE_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})-(.+)$")


class _Loader(yaml.SafeLoader):
    """Safe YAML without timestamp conversion: dates stay the strings written."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


MAX_FLOW_DEPTH = 64


def _flow_depth(text: str) -> int:
    """How deep [ and { nest (quotes ignored: an over-estimate is harmless). PyYAML's pure-Python
    parser is quadratic in this depth, so deep nesting is refused before parsing."""
    depth = deepest = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth = max(0, depth - 1)
    return deepest


class _SafeYAML(YAMLHandler):
    def load(self, fm: str, **kwargs: object) -> Any:
        if _flow_depth(fm) > MAX_FLOW_DEPTH:
            raise _Refused(f"YAML frontmatter nests over {MAX_FLOW_DEPTH} levels deep, refused")
        aliases = sum(isinstance(ev, yaml.AliasEvent) for ev in yaml.parse(fm, Loader=_Loader))
        if aliases > MAX_YAML_ALIASES:
            raise _Refused(f"YAML frontmatter uses {aliases} aliases (over {MAX_YAML_ALIASES}), "
                           "refused (possible alias bomb)")
        return yaml.load(fm, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


class _TOML(BaseHandler):
    """Hugo's ``+++`` frontmatter, read with the standard library's tomllib."""

    FM_BOUNDARY = re.compile(r"^\+{3,}\s*$", re.MULTILINE)
    START_DELIMITER = END_DELIMITER = "+++"

    def load(self, fm: str, **kwargs: object) -> Any:
        return tomllib.loads(fm)


class _Refused(ValueError):
    pass


HANDLERS = [_SafeYAML(), _TOML(), JSONHandler()]


def read_markdown(path: Path, ctx: ReadContext) -> Iterator[Document]:
    label = str(path)
    meta, body = _split(read_text(path, ctx.limits), label)
    lower = {str(k).lower(): v for k, v in meta.items()}
    is_html = path.suffix.lower() in (".html", ".htm")
    converted = html_to_text(body if is_html else _MD.render(_clean_markdown(body)))
    for warning in converted.warnings:
        ctx.warn(label, warning)
    if not converted.text.strip():
        if meta:
            ctx.warn(label, "frontmatter but no body: a draft stub?")
            return
        raise IngestError(label, "no text in the file")
    date, basis = _date(lower, path)
    title = _str(lower.get("title")) or _first_heading(body) or _title_from_name(path)
    extra = {str(k): _jsonable(v) for k, v in meta.items() if str(k).lower() not in _OWN}
    extra = _capped(extra, label, ctx)
    extra.update({
        "format": "markdown-frontmatter" if meta else "markdown",
        "date_basis": basis,
        "links": converted.links,
        "images": converted.images,
    })
    if converted.image_alts:
        extra["image_alts"] = converted.image_alts
    post_id = _str(lower.get("post_id"))
    if post_id and "." in post_id:
        extra["slug"] = post_id.split(".", 1)[1]
    is_draft = _is_draft(lower)
    if is_draft:
        ctx.counts["drafts"] += 1
    yield Document(
        id=stable_id("post", post_id) if post_id else stable_id("file", path.name, title),
        kind=_kind(lower.get("type")),
        source=label,
        position="whole file",
        title=title,
        subtitle=next((s for f in SUBTITLE_FIELDS if (s := _str(lower.get(f)))), None),
        date=date,
        url=_url(lower),
        authors=_authors(lower.get("author") or lower.get("authors") or _params(lower).get("author")),
        audience=_str(lower.get("audience")),
        text=converted.text,
        metadata=extra,
        is_draft=is_draft,
    )


def _split(raw: str, label: str) -> tuple[dict[str, Any], str]:
    """(frontmatter fields, body). No frontmatter is fine: the whole file is the body."""
    handler = frontmatter.detect_format(raw, HANDLERS)
    if handler is None:
        return {}, raw
    try:
        fm, body = handler.split(raw)
    except ValueError:
        return {}, raw
    if len(fm.encode("utf-8")) > MAX_FRONTMATTER_BYTES:
        raise IngestError(label, f"frontmatter is over {MAX_FRONTMATTER_BYTES // 1024} KB, refused")
    try:
        meta = handler.load(fm)
    except _Refused as exc:
        raise IngestError(label, str(exc)) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        raise IngestError(label, f"malformed YAML frontmatter{where}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise IngestError(label, f"malformed TOML frontmatter ({exc})") from exc
    except (ValueError, RecursionError) as exc:
        raise IngestError(label, f"malformed JSON frontmatter ({type(exc).__name__})") from exc
    if meta is None:
        return {}, body
    if not isinstance(meta, dict):
        raise IngestError(label, "frontmatter is not a mapping of fields")
    return meta, body


# --- the body -------------------------------------------------------------------------------
_FENCE = re.compile(r"^(```|~~~)")
_SHORTCODE = re.compile(r"\{\{[<%]\s*(/?)\s*([\w./-]+)(.*?)[%>]\}\}", re.S)
_LIQUID_TAG = re.compile(r"\{%-?\s*(\w+)(.*?)-?%\}", re.S)
_LIQUID_OUT = re.compile(r"\{\{-?.*?-?\}\}", re.S)
_HIGHLIGHT = re.compile(r"\{%-?\s*highlight\s+(\w+)[^%]*%\}(.*?)\{%-?\s*endhighlight\s*-?%\}", re.S)
_ATTR = re.compile(r"""(\w+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))""")
_MATH = re.compile(r"\\\\[()\[\]]|\$\$")  # \\( \\[ (rendered as \( \[) and $$
_WIKILINK = re.compile(r"(!?)\[\[([^\]|#]+)(?:#[^\]|]*)?(?:\|([^\]]+))?\]\]")
_CALLOUT = re.compile(r"^(\s*>\s*)\[!\w+\][+-]?\s*", re.M)


def _clean_markdown(body: str) -> str:
    """Generator syntax out of the way before rendering: Hugo shortcodes, Liquid tags, Obsidian
    wikilinks and callouts, MathJax delimiters. Fenced code is left exactly as written."""
    body = _HIGHLIGHT.sub(lambda m: f"```{m[1]}\n{m[2].strip(chr(10))}\n```", body)
    parts = re.split(r"(^(?:```|~~~).*?^(?:```|~~~)[^\n]*$)", body, flags=re.M | re.S)
    return "".join(p if _FENCE.match(p) else _clean_prose(p) for p in parts)


def _clean_prose(text: str) -> str:
    text = _SHORTCODE.sub(_shortcode, text)
    text = _LIQUID_TAG.sub("", text)
    text = _LIQUID_OUT.sub("", text)
    text = _WIKILINK.sub(lambda m: "" if m[1] else (m[3] or m[2]).strip(), text)
    text = _CALLOUT.sub(r"\1", text)
    return _MATH.sub("", text)


def _shortcode(m: re.Match[str]) -> str:
    """A figure shortcode keeps its caption (and image) as content; other shortcodes vanish."""
    if m[1] or m[2].lower() not in ("figure", "img", "image"):
        return ""
    attrs = {a[0].lower(): a[1] or a[2] or a[3] for a in _ATTR.findall(m[3])}
    src = attrs.get("src", "")
    caption = attrs.get("caption") or attrs.get("title") or ""
    image = f'<img src="{_escape(src)}" alt="{_escape(attrs.get("alt", ""))}">' if src else ""
    return f"\n\n<figure>{image}<figcaption>{_escape(caption)}</figcaption></figure>\n\n"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


# --- fields ---------------------------------------------------------------------------------
def _date(meta: dict[str, Any], path: Path) -> tuple[str | None, str | None]:
    for name in DATE_FIELDS:
        value = meta.get(name)
        if isinstance(value, bool) or value is None:  # Jekyll's published: false is no date
            continue
        found = parse_date_value(_date_text(value))
        if found and found[1] == "day":
            return found[0], f"frontmatter {name}"
    m = _FILE_DATE.match(path.stem)
    if m:
        found = parse_date_value(m[1])
        if found:
            return found[0], "file name"
    return None, None


def _date_text(value: object) -> str:
    if hasattr(value, "isoformat"):  # TOML dates and datetimes: as written, offset kept
        return value.isoformat()
    return str(value)


def _params(meta: dict[str, Any]) -> dict[str, Any]:
    """Hugo keeps custom fields (author among them) under [params]."""
    params = meta.get("params")
    return {str(k).lower(): v for k, v in params.items()} if isinstance(params, dict) else {}


def _is_draft(meta: dict[str, Any]) -> bool:
    if _truthy(meta.get("draft")):
        return True
    published = meta.get("published")
    if published is False or str(published).lower() == "false":
        return True
    if str(meta.get("is_published", "true")).lower() == "false":
        return True
    return str(meta.get("status", "")).lower() == "draft"


def _truthy(value: object) -> bool:
    return value is True or str(value).strip().lower() in ("true", "yes", "1")


def _kind(value: object) -> str:
    kind = str(value or "").lower()
    if kind in ("podcast", "episode", "video"):
        return "episode"
    return "note" if kind in ("thread", "note", "page") else "post"


def _url(meta: dict[str, Any]) -> str | None:
    for name in ("url", "canonical_url", "canonicalurl", "canonical", "permalink"):
        value = _str(meta.get(name))
        if value and value.startswith(("http://", "https://")):
            return value
    return None


def _first_heading(body: str) -> str | None:
    for line in body.splitlines():
        if re.match(r"^#{1,6}\s", line):
            return line.lstrip("#").strip() or None
    return None


def _title_from_name(path: Path) -> str:
    m = _FILE_DATE.match(path.stem)
    return (m[2] if m else path.stem).replace("-", " ").replace("_", " ")


def _str(value: object) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text or None


def _authors(value: object) -> list[str]:
    if isinstance(value, str):
        return [s.strip() for s in value.split(",") if s.strip()]
    items = value if isinstance(value, list) else [value]
    names = [item.get("name") if isinstance(item, dict) else item for item in items]
    return [n.strip() for n in names if isinstance(n, str) and n.strip()]


def _jsonable(value: object) -> object:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _capped(meta: dict[str, object], label: str, ctx: ReadContext) -> dict[str, object]:
    """Frontmatter kept as metadata, under MAX_METADATA_BYTES: the largest fields go first."""
    sizes = {k: len(json.dumps(v, ensure_ascii=False)) for k, v in meta.items()}
    total = sum(sizes.values())
    if total <= MAX_METADATA_BYTES:
        return meta
    dropped = []
    for key in sorted(sizes, key=sizes.__getitem__, reverse=True):
        if total <= MAX_METADATA_BYTES:
            break
        total -= sizes[key]
        dropped.append(key)
    ctx.warn(label, f"frontmatter metadata over {MAX_METADATA_BYTES // 1024} KB: "
                    f"left out field(s) {', '.join(sorted(dropped))}")
    return {k: v for k, v in meta.items() if k not in dropped}
