"""Context packs: one Markdown file of the most relevant excerpts, grouped by document and
cited, that fits a token budget, for pasting into any chat model."""

from __future__ import annotations

from backlist.index.search import Hit
from backlist.render import citation, quote
from backlist.safe import md_text
from backlist.tokens import Budget


def build_context(hits: list[Hit], about: str, budget: int = 4000) -> str:
    out = Budget(budget)
    out.add(f"# Context from the archive: {md_text(about)}\n")
    out.add(f"{len(hits)} documents, most relevant first. Quote with the citation given.\n")
    for h in hits:
        if not out.add(f"## {citation(h.doc)}"):
            break
        if h.reason:
            out.add(f"_Why: {md_text(h.reason)}_")
        for p, _ in sorted(h.passages, key=lambda ps: ps[0].start):
            if not out.add(quote(p.text) + "\n", clip=True):
                break
        out.add("")
    return out.text("\n_({n} further excerpts left out to fit the budget.)_") + "\n"
