"""Compact, cited Markdown for agents and chat models (MCP results, context packs).

Everything taken from the archive is escaped (backlist.safe): a title cannot inject Markdown
links or HTML, and only http(s)/mailto URLs are shown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from backlist.index.search import Hit
from backlist.model import Document, Passage
from backlist.safe import md_link, md_quote_text, md_text, safe_url
from backlist.tokens import Budget

# What JSON output writes as \uXXXX even though JSON allows it raw: DEL and C1 controls,
# bidirectional overrides, isolates and marks, line/paragraph separators, lone surrogates
# (json.dumps escapes C0 itself). Outside strings JSON is ASCII, so replacing them in the
# encoded text keeps it valid JSON.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                          "\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def json_text(data: Any, indent: int | None = 2) -> str:
    """The one JSON encoding of every surface (CLI --json, MCP): readable UTF-8, with control
    characters and bidi overrides escaped as \\uXXXX so no terminal or viewer acts on them."""
    text = json.dumps(data, ensure_ascii=False, indent=indent)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def citation(doc: Document) -> str:
    """A result's citation for agents: **title** · date · kind · <url> · id `…`."""
    bits = [f"**{md_text(doc.title) or '(untitled)'}**", doc.date or "undated", doc.kind]
    url = safe_url(doc.url)
    if url:
        bits.append(f"<{url}>")
    bits.append(f"id `{doc.id}`")
    return " · ".join(bits)


def paste_citation(doc: Document, passage: Passage | None = None) -> str:
    """A Markdown citation to paste into a draft (the web's "copy citation"): the quote, then the
    title linked, date and URL, or the backlist id when there is no web URL."""
    url = safe_url(doc.url)
    web = url if url and url.lower().startswith(("http://", "https://")) else None
    lines = []
    if passage is not None:
        lines += [f"> {md_quote_text(window(passage.text, [], 600))}", ""]
    tail = f" — {web}" if web else f" (backlist id {doc.id})"
    lines.append(f"— {md_link(doc.title or '(untitled)', web)}, {doc.date or 'undated'}{tail}")
    return "\n".join(lines)


def entities_markdown(rows: Sequence[dict[str, Any]], max_tokens: int) -> str:
    """The entity table for agents, archive names escaped like every Markdown answer."""
    budget = Budget(max_tokens)
    budget.add(plural(len(rows), "entity", "entities"))
    for r in rows:
        guest = f" · guest in {r['guest_in']}" if r.get("guest_in") else ""
        line = (f"- **{md_text(r['entity'])}** ({md_text(r['kind'])}) · "
                f"{plural(r['documents'], 'document')} · {plural(r['mentions'], 'mention')}"
                f"{guest} · first {r.get('first') or 'undated'} · last {r.get('last') or 'undated'}")
        if not budget.add(line):
            break
    return budget.text("({n} more left out to fit the token budget.)")


def topics_markdown(rows: Sequence[dict[str, Any]], max_tokens: int) -> str:
    """Topics with counts per year, for agents, names escaped."""
    budget = Budget(max_tokens)
    budget.add(plural(len(rows), "topic") if rows else "No topics yet (run `backlist topics suggest`, "
               "then `backlist tag`).")
    for r in rows:
        years = ", ".join(f"{md_text(y)}: {n}" for y, n in sorted(r.get("by_year", {}).items()))
        about = f" — {md_text(r['description'])}" if r.get("description") else ""
        if not budget.add(f"- **{md_text(r['name'])}**{about} · {plural(r['documents'], 'document')}"
                          + (f" ({years})" if years else "")):
            break
    return budget.text("({n} more left out to fit the token budget.)")


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
    meta = [doc.kind, doc.date or "undated", f"{doc.words} words", f"id `{doc.id}`"]
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


def plural(n: int, word: str, many: str | None = None) -> str:
    """"1 draft", "2 drafts", "3 linked copies" (many given for irregular plurals)."""
    return f"{n:,} {word if n == 1 else many or word + 's'}"


def metric_text(name: str, value: float) -> str:
    """A metric as people read it: a rate (open_rate, click_rate…) between 0 and 1 as a
    percent (50.5%), anything else as the number."""
    if name.lower().endswith("rate") and 0 <= value <= 1:
        return f"{value * 100:.1f}%"
    return f"{value:g}"
