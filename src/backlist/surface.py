"""Shapes shared by every surface (CLI JSON, MCP, web): one definition of each contract."""

from __future__ import annotations

from typing import Any

from backlist.index.search import Hit


def hit_json(h: Hit) -> dict[str, Any]:
    """The search/related JSON contract."""
    d = h.doc
    best = h.passages[0][0].text if h.passages else ""
    out = {"doc_id": d.id, "title": d.title, "date": d.date, "kind": d.kind, "url": d.url,
           "score": h.score, "text": best,
           "passages": [{"text": p.text, "start": p.start, "end": p.end, "score": s}
                        for p, s in h.passages]}
    if h.reason:
        out["reason"] = h.reason
    return out
