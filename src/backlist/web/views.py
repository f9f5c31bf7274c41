"""Turning façade answers into what templates show: highlighted snippets, citations, a document
cut at its passages. Everything from the archive stays data: text is escaped
here or by Jinja's autoescape, and only http(s) URLs become links."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

from backlist.model import Document, Passage
from backlist.render import paste_citation, window
from backlist.safe import one_line, safe_url
from backlist.store.base import DocFilter

if TYPE_CHECKING:  # the hits come from the façade; surfaces do not import the index
    from backlist.index.search import Hit


def web_url(url: str | None) -> str | None:
    """An archive URL fit for an href: http(s) only (no javascript:, data:, mailto:)."""
    ok = safe_url(url)
    return ok if ok and ok.lower().startswith(("http://", "https://")) else None


def make_filter(kinds: str | Sequence[str] | None = None, since: str | None = None,
                until: str | None = None, **extra: Any) -> DocFilter:
    """A DocFilter from form or query values: blanks dropped; since/until passed on as the user
    typed them (the façade reads dates and date words, and says what it cannot read)."""
    listed = [kinds] if isinstance(kinds, str) else list(kinds or ())
    texts: dict[str, Any] = {k: (v.strip() or None) if isinstance(v, str) else v
                             for k, v in extra.items()}
    return DocFilter(kinds=[k for k in listed if k], since=(since or "").strip() or None,
                     until=(until or "").strip() or None, **texts)


def highlight(text: str, words: list[str]) -> Markup:
    """text escaped, with each query word (at a word start, any case) wrapped in <mark>."""
    words = sorted({w for w in words if len(w) > 2}, key=len, reverse=True)
    if not words:
        return escape(text)
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")", re.I)
    out: list[str] = []
    last = 0
    for m in pattern.finditer(text):
        out.append(str(escape(text[last:m.start()])))
        out.append(f"<mark>{escape(m.group(0))}</mark>")
        last = m.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


@dataclass
class HitView:
    doc: Document
    score: float
    anchor: str
    url: str | None
    reason: str | None
    snippets: list[tuple[Markup, str | None, int]]  # (highlighted text, speaker, passage idx)
    citation: str


def hit_views(hits: list[Hit], words: list[str]) -> list[HitView]:
    out = []
    for h in hits:
        first = h.passages[0][0] if h.passages else None
        snippets = [(highlight(window(p.text, words), words), p.speaker, p.idx)
                    for p, _ in h.passages]
        out.append(HitView(doc=h.doc, score=h.score, url=web_url(h.doc.url), reason=h.reason,
                           anchor=f"/doc/{h.doc.id}" + (f"#p{first.idx}" if first else ""),
                           snippets=snippets, citation=paste_citation(h.doc, first)))
    return out


@dataclass
class Segment:
    idx: int
    speaker: str | None
    new_speaker: bool
    paragraphs: list[str]


def segments(doc: Document, passages: list[Passage]) -> list[Segment]:
    """The document's text cut at each passage start (passages may overlap; segments do not),
    so every passage has an anchor #pN and the whole text is shown once."""
    text = doc.text or ""
    starts = sorted({p.start: p for p in passages}.values(), key=lambda p: p.start)
    out: list[Segment] = []
    previous: str | None = None
    for i, p in enumerate(starts):
        a = 0 if i == 0 else p.start
        b = starts[i + 1].start if i + 1 < len(starts) else len(text)
        chunk = text[a:b] if b > a else p.text
        paras = [one_line(x) for x in re.split(r"\n\s*\n", chunk) if x.strip()]
        out.append(Segment(p.idx, p.speaker, bool(p.speaker) and p.speaker != previous, paras))
        previous = p.speaker or previous
    if not starts and text.strip():
        out.append(Segment(0, None, False, [one_line(x) for x in re.split(r"\n\s*\n", text)
                                            if x.strip()]))
    return out


CHART_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\.(?:svg|png)")


def render_markdown(text: str) -> Markup:
    """Markdown to HTML with raw HTML off and links limited to http(s) (plus the review's own
    chart files, which sit beside the page): archive text inside stays inert."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False})
    md.validateLink = _link_ok  # type: ignore[method-assign]  # markdown-it's documented hook
    return Markup(md.render(text))


def _link_ok(url: str) -> bool:
    url = url.strip()
    return bool(CHART_FILE.fullmatch(url)) or web_url(url) is not None
