"""Compact, cited Markdown for agents and chat models (MCP results, context packs).

Everything taken from the archive is escaped (backlist.safe): a title cannot inject Markdown
links or HTML, and only http(s)/mailto URLs are shown.
"""

from __future__ import annotations

from collections.abc import Sequence

from backlist.index.search import Hit
from backlist.model import Document
from backlist.safe import md_quote_text, md_text, safe_url
from backlist.tokens import Budget
from backlist.when import when_text


def citation(doc: Document) -> str:
    bits = [f"**{md_text(doc.title) or '(untitled)'}**", when_text(doc), doc.kind]
    url = safe_url(doc.url)
    if url:
        bits.append(f"<{url}>")
    bits.append(f"id `{doc.id}`")
    return " · ".join(bits)


def quote(text: str) -> str:
    return "> " + md_quote_text(text)


def hits_markdown(hits: Sequence[Hit], max_tokens: int, heading: str | None = None,
                  notes: Sequence[str] = ()) -> str:
    budget = Budget(max_tokens)
    if heading:
        budget.add(md_text(heading))
    for note in notes:
        budget.add(f"_{md_text(note)}_")
    if not hits:
        budget.add("No matching documents.")
    for n, h in enumerate(hits, start=1):
        lines = [f"{n}. {citation(h.doc)} · score {h.score:.3f}"]
        if h.reason:
            lines.append(f"   why: {md_text(h.reason)}")
        if h.explain:
            lines.append(f"   explain: {md_text(h.explain)}")
        if not budget.add("\n".join(lines)):
            break
        for p, _ in h.passages:
            speaker = f" ({md_text(p.speaker)})" if p.speaker else ""
            if not budget.add(f"   {quote(p.text)}{speaker} [chars {p.start}-{p.end}]", clip=True):
                break
    return budget.text("\n({n} more results or passages left out to fit the token budget.)")


def document_markdown(doc: Document, text: str, max_tokens: int, note: str = "") -> str:
    budget = Budget(max_tokens)
    budget.add(f"# {md_text(doc.title) or '(untitled)'}")
    if doc.subtitle:
        budget.add(f"_{md_text(doc.subtitle)}_")
    meta = [doc.kind, when_text(doc), f"{doc.words} words", f"id `{doc.id}`"]
    url = safe_url(doc.url)
    if url:
        meta.append(f"<{url}>")
    if doc.authors:
        meta.append("by " + ", ".join(md_text(a) for a in doc.authors))
    if doc.speakers:
        meta.append("speakers: " + ", ".join(md_text(s) for s in doc.speakers))
    if doc.duplicate_of:
        meta.append(f"copy of `{doc.duplicate_of}`")
    budget.add(" · ".join(meta))
    if note:
        budget.add(note)
    budget.add("")
    budget.add(md_quote_text(text) if "\n" not in text else _body(text), clip=True)
    if doc.comments:
        budget.add("\n## Reader comments")
        for c in doc.comments:
            budget.add(quote(c), clip=True)
    return budget.text("\n(Cut to fit the token budget: ask for a passage range to read on.)")


def _body(text: str) -> str:
    """Paragraphs kept, each made inert (no HTML, no escape sequences)."""
    return "\n\n".join(md_quote_text(p) for p in text.split("\n\n") if p.strip())


def window(text: str, words: list[str], width: int = 360) -> str:
    """The stretch of a passage around its first query word, on one line, cut at word
    boundaries (the CLI and the web show the same snippet)."""
    import re

    from backlist.safe import one_line

    text = one_line(text)
    found = [m.start() for w in words if len(w) > 2
             if (m := re.search(r"\b" + re.escape(w), text, re.I))]
    start = max(0, min(found) - width // 4) if found else 0
    if start:
        start = text.find(" ", start) + 1
    end = min(len(text), start + width)
    if end < len(text) and text.rfind(" ", start, end) > start:
        end = text.rfind(" ", start, end)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
