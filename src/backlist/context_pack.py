"""Context packs: one Markdown file of the most relevant excerpts, grouped by document and
cited, that fits a token budget, for pasting into any chat model."""

from __future__ import annotations

from backlist.index.search import Searcher
from backlist.render import citation, quote
from backlist.tokens import Budget


def build_context(library, topic: str | None, draft: str | None, budget: int = 4000,
                  k: int = 15) -> str:
    searcher = Searcher(library)
    if draft:
        hits = searcher.related(draft if not topic else f"{topic}\n\n{draft}", k=k)
    else:
        hits = searcher.search(topic or "", k=k, per_doc=4)
    about = topic or "the draft"
    out = Budget(budget)
    out.add(f"# Context from the archive: {about}\n")
    out.add(f"{len(hits)} documents, most relevant first. Quote with the citation given.\n")
    for h in hits:
        if not out.add(f"## {citation(h.doc)}"):
            break
        if h.reason:
            out.add(f"_Why: {h.reason}_")
        for p, _ in sorted(h.passages, key=lambda ps: ps[0].start):
            if not out.add(quote(p.text) + "\n", clip=True):
                break
        out.add("")
    return out.text("\n_({n} further excerpts left out to fit the budget.)_") + "\n"
