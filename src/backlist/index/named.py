"""Named references in the citation graph: "In my post <Title>, I argued…" where the title is
known nowhere else in the archive, resolved by what the pieces say (Searcher.resolve_by_content,
the rule "my post on X" uses for drafts). Needs embeddings, so the ingest adds these links after
embedding (Ingestor.link_named), on top of the links, titles, mentions and quotations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backlist.contracts import DOC_KINDS
from backlist.index.citations import CitationIndex, named_titles
from backlist.store.base import DocFilter, DocLink, Store

OWN_KINDS = tuple(k for k in DOC_KINDS if k != "article")


@dataclass
class _Shim:
    """What Searcher needs of a Library: its store and its embedder."""

    store: Store
    embedder: Callable[[], Any]


def named_links(store: Store, embedder: Callable[[], Any], cosine: float,
                margin: float) -> list[DocLink]:
    """Links (how="named", evidence the title as written) from the writer's canonical pieces to
    the one earlier (or undated) piece each unknown title resolves to by content."""
    from backlist.index.search import Searcher

    searcher = Searcher(_Shim(store, embedder))
    if not searcher.has_vectors():
        return []
    docs = store.list_documents(DocFilter(include_duplicates=True))
    index = CitationIndex(docs)
    dates = {d.id: (d.date or "")[:10] for d in docs}
    out: list[DocLink] = []
    for d in docs:
        if d.duplicate_of or d.is_draft or d.kind == "article":
            continue
        seen: set[str] = set()
        for n in named_titles(index, d.text):
            target = searcher.resolve_by_content(n.context, DocFilter(kinds=OWN_KINDS), cosine,
                                                 margin, exclude={d.id})
            if not target or target in seen or target == d.id:
                continue
            if dates[d.id] and dates.get(target) and dates[target] > dates[d.id]:
                continue  # a piece cannot name a later one
            seen.add(target)
            out.append(DocLink(d.id, target, "named", n.title))
    return out


def add_named_links(store: Store, embedder: Callable[[], Any]) -> int:
    """Replace the graph's named links with fresh ones (a pair already linked otherwise keeps
    its stronger evidence), with the thresholds drafts use (service.MENTION_COSINE and
    MENTION_MARGIN); returns how many were added."""
    from backlist.service import MENTION_COSINE as cosine
    from backlist.service import MENTION_MARGIN as margin

    links = [lk for lk in store.links() if lk.how != "named"]
    pairs = {(lk.source_id, lk.target_id) for lk in links}
    named = [lk for lk in named_links(store, embedder, cosine, margin)
             if (lk.source_id, lk.target_id) not in pairs]
    if named or len(links) != len(store.links()):
        store.set_links(links + named)
    return len(named)
