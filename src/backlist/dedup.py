"""The same piece often arrives twice (a post and its audio reading, a feed and a directory page).
Copies are linked to one canonical document, which search shows once."""

from __future__ import annotations

import re
from collections.abc import Iterable

from backlist.ingest.base import slug_of_url
from backlist.model import Document

PREFIX_WORDS = 50
_KIND_RANK = {"post": 0, "article": 1, "episode": 2, "transcript": 3}


def link_copies(docs: Iterable[Document]) -> tuple[dict[str, str | None], dict[str, str]]:
    """Returns {doc id: canonical id or None} and {canonical id: URL learnt from a copy}."""
    docs = list(docs)
    parent = {d.id: d.id for d in docs}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    seen: dict[str, str] = {}
    for d in docs:
        for key in _keys(d):
            if key in seen:
                parent[find(d.id)] = find(seen[key])
            else:
                seen[key] = d.id
    groups: dict[str, list[Document]] = {}
    for d in docs:
        groups.setdefault(find(d.id), []).append(d)
    duplicate_of: dict[str, str | None] = {}
    urls: dict[str, str] = {}
    for members in groups.values():
        members.sort(key=_preference)
        canon = members[0]
        duplicate_of[canon.id] = None
        for m in members[1:]:
            duplicate_of[m.id] = canon.id
        if not canon.url:
            url = next((m.url for m in members[1:] if m.url), None)
            if url:
                urls[canon.id] = url
    return duplicate_of, urls


def _keys(d: Document) -> list[str]:
    keys = []
    slug = d.metadata.get("slug") or slug_of_url(d.url)
    if slug and len(slug) >= 4:
        keys.append("slug:" + slug)
    words = re.findall(r"\w+", d.text.lower())
    if len(words) >= PREFIX_WORDS:
        keys.append("text:" + " ".join(words[:PREFIX_WORDS]))
    return keys


def _preference(d: Document) -> tuple:
    return (d.is_draft, bool(d.metadata.get("truncated")), _KIND_RANK.get(d.kind, 9),
            -d.words, d.date is None, d.id)
