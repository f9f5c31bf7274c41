"""Turning façade answers into what templates show: highlighted snippets, citations, a document
cut at its passages, the timeline chart. Everything from the archive stays data: text is escaped
here or by Jinja's autoescape, and only http(s) URLs become links."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from backlist.errors import UsageError
from backlist.index.search import Hit
from backlist.model import Document, Passage
from backlist.query_args import parse_date
from backlist.render import window
from backlist.safe import md_link, md_quote_text, one_line, safe_url
from backlist.store.base import DocFilter
from backlist.when import when_text


def web_url(url: str | None) -> str | None:
    """An archive URL fit for an href: http(s) only (no javascript:, data:, mailto:)."""
    ok = safe_url(url)
    return ok if ok and ok.lower().startswith(("http://", "https://")) else None


def date_arg(value: str | None, name: str, end: bool = False) -> str | None:
    if not value or not value.strip():
        return None
    try:
        return parse_date(value[:40], end=end)
    except ValueError as exc:
        raise UsageError(f"{name}: {exc}") from exc


def make_filter(kind: str | None = None, since: str | None = None, until: str | None = None,
                speaker: str | None = None, entity: str | None = None, **extra: Any) -> DocFilter:
    return DocFilter(kinds=[kind] if kind else (), since=date_arg(since, "since"),
                     until=date_arg(until, "until", end=True), speaker=(speaker or "").strip() or None,
                     entity=(entity or "").strip() or None, **extra)


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


def citation(doc: Document, passage: Passage | None) -> str:
    """A Markdown citation to paste into a draft: the quote, then title (linked), date, URL."""
    lines = []
    if passage is not None:
        lines.append(f"> {md_quote_text(window(passage.text, [], 600))}")
        lines.append("")
    where = md_link(doc.title or "(untitled)", web_url(doc.url))
    when = when_text(doc)
    tail = f" — {web_url(doc.url)}" if web_url(doc.url) else f" (backlist id {doc.id})"
    lines.append(f"— {where}, {when}{tail}")
    return "\n".join(lines)


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
                           snippets=snippets, citation=citation(h.doc, first)))
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


@dataclass
class Bar:
    label: str
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[tuple[float, str]]  # (x, label)
    max_count: int
    unit: str  # "month" | "year"
    summary: str  # alt text


def timeline_chart(dated: list[Hit], width: int = 720, height: int = 220) -> Chart | None:
    """Mentions per month (per year past three years), every period between the first and the
    last shown, empty ones included, so gaps in what the writer said are visible."""
    days = [dt.date.fromisoformat((h.doc.date or "")[:10]) for h in dated if _iso(h.doc.date)]
    if not days:
        return None
    first, last = min(days), max(days)
    by_year = (last.year - first.year) * 12 + last.month - first.month > 36
    key = (lambda d: (d.year, 1)) if by_year else (lambda d: (d.year, d.month))
    periods = _periods(key(first), key(last), by_year)
    counts = {p: 0 for p in periods}
    for d in days:
        counts[key(d)] += 1
    left, bottom, top = 36, 28, 12
    plot_w, plot_h = width - left - 8, height - bottom - top
    step = plot_w / len(periods)
    peak = max(counts.values())
    bars, ticks = [], []
    every = max(1, len(periods) // 12)
    for i, p in enumerate(periods):
        h = plot_h * counts[p] / peak
        label = str(p[0]) if by_year else dt.date(p[0], p[1], 1).strftime("%b %Y")
        bars.append(Bar(label, counts[p], left + i * step + step * 0.15, top + plot_h - h,
                        step * 0.7, h))
        if i % every == 0:
            ticks.append((left + i * step + step / 2, label if by_year or p[1] == 1 or i == 0
                          else dt.date(p[0], p[1], 1).strftime("%b")))
    summary = (f"{len(days)} dated pieces from {first.isoformat()} to {last.isoformat()}, "
               f"at most {peak} in one {'year' if by_year else 'month'}")
    return Chart(width, height, bars, ticks, peak, "year" if by_year else "month", summary)


def _iso(value: str | None) -> bool:
    return bool(value and re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", value))


def _periods(a: tuple[int, int], b: tuple[int, int], by_year: bool) -> list[tuple[int, int]]:
    out = []
    y, m = a
    while (y, m) <= b:
        out.append((y, m))
        y, m = (y + 1, 1) if by_year or m == 12 else (y, m + 1)
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
