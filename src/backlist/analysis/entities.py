"""Entities a writer keeps returning to: AI models (versions folded into families), labs and
organisations, people (speakers and guests apart from mentions), and papers (arXiv ids).

A gazetteer, not a statistical tagger: the names in this field are new every month and no
maintained NER model on PyPI knows them, while a list the writer can extend (entities.yaml in
the library) is exact and explainable. Precision is measured on a hand-checked sample (see note).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from backlist.model import Document
from backlist.when import bounds_text

GAZETTEER = Path(__file__).with_name("gazetteer.yaml")
_ARXIV = re.compile(r"(?:arxiv\.org/(?:abs|pdf)/|arXiv:\s?)(\d{4}\.\d{4,5})", re.I)


@dataclass
class Entry:
    name: str
    kind: str
    aliases: list[str]
    versioned: bool = False
    variants: list[str] = field(default_factory=list)
    joiner: str = " "
    pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.pattern = _pattern(self)


def load_gazetteer(library_dir: Path | None = None) -> list[Entry]:
    layers = [yaml.safe_load(GAZETTEER.read_text(encoding="utf-8"))]
    if library_dir and (library_dir / "entities.yaml").exists():
        layers.append(yaml.safe_load((library_dir / "entities.yaml").read_text(encoding="utf-8")) or {})
    entries: dict[tuple[str, str], Entry] = {}
    for layer in layers:
        for plural, kind in (("models", "model"), ("orgs", "org"), ("people", "person")):
            for row in layer.get(plural) or []:
                row = {"name": row} if isinstance(row, str) else row
                entries[(kind, row["name"])] = Entry(
                    row["name"], kind, [str(a) for a in row.get("aliases") or [row["name"]]],
                    bool(row.get("versioned")), [str(v) for v in row.get("variants") or []],
                    str(row.get("joiner") or " "))
    return list(entries.values())


def _pattern(e: Entry) -> re.Pattern[str]:
    alias = "|".join(sorted((re.escape(a) for a in e.aliases), key=len, reverse=True))
    if not e.versioned:
        return re.compile(rf"(?<![\w-])(?:{alias})(?![\w])")
    variants = "|".join(re.escape(v) for v in e.variants)
    version = r"(?:[\s-]?(?P<ver>\d+(?:\.\d+)*[a-z]?(?:-[A-Za-z]+)?))?"
    variant = rf"(?:[\s-](?P<var>{variants}))?" if variants else ""
    return re.compile(rf"(?<![\w-])(?:{alias}){version}{variant}(?![\w])")


def extract(doc: Document, entries: list[Entry],
            people: set[str]) -> list[tuple[str, str, str | None, int, str]]:
    """(entity, kind, parent, mentions, role) rows for one document."""
    counts: Counter[tuple[str, str, str | None]] = Counter()
    text = doc.text
    for e in entries:
        for m in e.pattern.finditer(text):
            counts[(e.name, e.kind, None)] += 1
            gd = m.groupdict()
            ver, var = gd.get("ver"), gd.get("var")
            if e.versioned and (ver or var):
                sub = e.joiner.join(x for x in (e.name, ver) if x) + (f" {var}" if var else "")
                counts[(sub, e.kind, e.name)] += 1
    for m in _ARXIV.finditer(text + " " + " ".join(doc.comments)):
        counts[(f"arXiv:{m.group(1)}", "paper", None)] += 1
    known = {e.name.lower() for e in entries} | {a.lower() for e in entries for a in e.aliases}
    for name in people:
        if name.lower() in known:  # the gazetteer already counted this person
            continue
        n = len(re.findall(rf"(?<![\w]){re.escape(name)}(?![\w])", text))
        if n:
            counts[(name, "person", None)] += n
    rows = [(name, kind, parent, n, "mention") for (name, kind, parent), n in counts.items()]
    guests = set(doc.metadata.get("guests") or []) or (set(doc.speakers) - set(doc.authors))
    for s in doc.speakers:
        rows.append((s, "person", None, 1, "guest" if s in guests else "speaker"))
    return rows


def extract_all(library) -> int:
    """Extract again for every document, by the same path ingest uses."""
    return library.refresh_entities()


def entity_table(library, kind: str | None = None) -> list[dict[str, Any]]:
    """Entities with their documents and mentions; `first`/`last` are the earliest and latest
    stated dates of the pieces that mention them, `first_when`/`last_when` say when the first and
    last mention fall once date bounds are counted too ("2025-03-04", "no later than …")."""
    from backlist.store.base import DocFilter

    spans = {d.id: _day_span(d) for d in library.list(DocFilter(include_drafts=True))}
    agg: dict[tuple[str, str], dict[str, Any]] = {}
    for r in library.store.entity_rows():
        if r["duplicate_of"] or (kind and r["kind"] != kind):
            continue
        key = (r["entity"], r["kind"])
        row = agg.setdefault(key, {"entity": r["entity"], "kind": r["kind"], "parent": r["parent"],
                                   "mentions": 0, "documents": set(), "guest_in": 0,
                                   "first": None, "last": None})
        row["mentions"] += r["mentions"] if r["role"] == "mention" else 0
        row["documents"].add(r["doc_id"])
        if r["role"] == "guest":
            row["guest_in"] += 1
        if r["date"]:
            row["first"] = min(filter(None, [row["first"], r["date"]]))
            row["last"] = max(filter(None, [row["last"], r["date"]]))
    out = []
    for row in agg.values():
        first, last = first_and_last([spans.get(i, (None, None)) for i in row["documents"]])
        row["first_when"] = bounds_text(*first) if first != (None, None) else None
        row["last_when"] = bounds_text(*last) if last != (None, None) else None
        row["documents"] = len(row["documents"])
        out.append(row)
    return sorted(out, key=lambda r: (-r["documents"], -r["mentions"], r["entity"]))


Bounds = tuple[str | None, str | None]


def _day_span(doc: Document) -> Bounds:
    """(earliest, latest) day a piece may date from: its date twice, its bounds, or None/None."""
    if doc.date:
        return doc.date[:10], doc.date[:10]
    return doc.date_earliest, doc.date_latest


def first_and_last(spans: list[Bounds]) -> tuple[Bounds, Bounds]:
    """When the first and the last of some pieces fall, from each piece's (earliest, latest):
    the first is no later than the smallest latest and no earlier than the smallest earliest (open
    when any piece has no earliest); the last likewise the other way round."""
    los, his = [lo for lo, _ in spans], [hi for _, hi in spans]
    first_hi = min((h for h in his if h), default=None)
    first_lo = None if any(lo is None for lo in los) else min(lo for lo in los if lo)
    last_lo = max((lo for lo in los if lo), default=None)
    last_hi = None if any(h is None for h in his) else max(h for h in his if h)
    if first_lo and first_hi and first_lo > first_hi:
        first_lo = None
    if last_lo and last_hi and last_lo > last_hi:
        last_hi = None
    return (first_lo, first_hi), (last_lo, last_hi)
