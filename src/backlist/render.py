"""Compact, cited Markdown for agents and chat models (MCP results, context packs)."""

from __future__ import annotations

from backlist.index.search import Hit
from backlist.model import Document
from backlist.tokens import Budget


def citation(doc: Document) -> str:
    bits = [f"**{doc.title or '(untitled)'}**", doc.date or "undated", doc.kind]
    if doc.url:
        bits.append(doc.url)
    bits.append(f"id `{doc.id}`")
    return " · ".join(bits)


def quote(text: str) -> str:
    return "> " + " ".join(text.split())


def hits_markdown(hits: list[Hit], max_tokens: int, heading: str | None = None) -> str:
    budget = Budget(max_tokens)
    if heading:
        budget.add(heading)
    if not hits:
        budget.add("No matching documents.")
    for n, h in enumerate(hits, start=1):
        lines = [f"{n}. {citation(h.doc)} · score {h.score:.3f}"]
        if h.reason:
            lines.append(f"   why: {h.reason}")
        block = "\n".join(lines)
        if not budget.add(block):
            break
        for p, _ in h.passages:
            speaker = f" ({p.speaker})" if p.speaker else ""
            if not budget.add(f"   {quote(p.text)}{speaker} [chars {p.start}-{p.end}]", clip=True):
                break
    return budget.text("\n({n} more results or passages left out to fit the token budget.)")


def document_markdown(doc: Document, text: str, max_tokens: int, note: str = "") -> str:
    budget = Budget(max_tokens)
    budget.add(f"# {doc.title or '(untitled)'}")
    if doc.subtitle:
        budget.add(f"_{doc.subtitle}_")
    meta = [doc.kind, doc.date or "undated", f"{doc.words} words", f"id `{doc.id}`"]
    if doc.url:
        meta.append(doc.url)
    if doc.authors:
        meta.append("by " + ", ".join(doc.authors))
    if doc.speakers:
        meta.append("speakers: " + ", ".join(doc.speakers))
    if doc.duplicate_of:
        meta.append(f"copy of `{doc.duplicate_of}`")
    budget.add(" · ".join(meta))
    if note:
        budget.add(note)
    budget.add("")
    budget.add(text, clip=True)
    if doc.comments:
        budget.add("\n## Reader comments")
        for c in doc.comments:
            budget.add(quote(c), clip=True)
    return budget.text("\n(Cut to fit the token budget: ask for a passage range to read on.)")
