"""Performance metrics: from the Substack export (at ingest) and from any dashboard's CSV, and
what they say about what performs, with no claim the numbers cannot carry."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backlist.errors import BacklistError
from backlist.ingest.base import slug_of_url
from backlist.ingest.textio import Limits, read_text
from backlist.model import Document
from backlist.store.base import DocFilter

KEY_COLUMNS = ("id", "post_id", "url", "slug")
MIN_GROUP = 5  # fewer pieces than this in a group: the spread is shown, no comparison is drawn
LENGTH_BUCKETS = ((0, 800, "under 800 words"), (800, 1500, "800-1,500 words"),
                  (1500, 3000, "1,500-3,000 words"), (3000, 10**9, "over 3,000 words"))


@dataclass
class MetricsImport:
    matched: int = 0
    columns: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)


_SUFFIXES = {"k": 1e3, "m": 1e6, "b": 1e9}
_THOUSANDS_DOTS = re.compile(r"^-?\d{1,3}(?:\.\d{3})+$")


def _number(value: str, decimal_comma: bool = False) -> float | None:
    """A dashboard's number: "3,100", "$12", "45%", "1.2k", "3M"; with decimal_comma (semicolon
    exports from European locales) "1.234,5" and "12,5 %" too. Anything else is not a number."""
    v = (value or "").strip().replace("$", "").replace("€", "").replace("£", "")
    v = v.replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    pct = v.endswith("%")
    v = v.rstrip("%")
    scale = _SUFFIXES.get(v[-1:].lower(), 1.0) if v[:-1] else 1.0
    if scale != 1.0:
        v = v[:-1]
    if decimal_comma:
        v = v.replace(".", "").replace(",", ".") if "," in v or _THOUSANDS_DOTS.match(v) else v
    else:
        v = v.replace(",", "")
    try:
        n = float(v) * scale
    except ValueError:
        return None
    if n != n or n in (float("inf"), float("-inf")):
        return None
    return n / 100 if pct else n


def _index(docs: list[Document]) -> dict[str, str]:
    idx: dict[str, str] = {}
    for d in docs:
        canon = d.duplicate_of or d.id
        for key in (d.id, d.metadata.get("post_id"), str(d.metadata.get("post_id") or "").split(".")[0],
                    d.url, slug_of_url(d.url), d.metadata.get("slug")):
            if key:
                idx.setdefault(str(key).strip().lower().rstrip("/"), canon)
    return idx


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, Any]], bool]:
    """Header, rows and whether numbers use a decimal comma. Comma, semicolon or tab separated
    (sniffed from the header line); a UTF-8/16 byte-order mark is dropped by decode."""
    text = read_text(path, Limits()).lstrip("\ufeff")  # IngestError is a BacklistError: one line
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count) if first.strip() else ","
    try:
        reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
        header = [(h or "").strip() for h in reader.fieldnames or []]
        rows = list(reader)
    except csv.Error as exc:
        reason = str(exc)
        if "field larger than field limit" in reason:
            reason = f"a field is over {csv.field_size_limit() // 1024} KB, too long for a metrics table"
        raise BacklistError(f"{path}: malformed metrics CSV ({reason})") from exc
    return header, rows, delimiter == ";"


def import_csv(library, path: Path) -> MetricsImport:
    header, rows, decimal_comma = _read_csv(path)
    keys = [h for h in header if h.lower() in KEY_COLUMNS]
    if not keys:
        raise BacklistError(f"{path}: malformed metrics CSV: needs one of the columns "
                            f"{', '.join(KEY_COLUMNS)}")
    idx = _index(library.list(DocFilter(include_drafts=True)))
    result = MetricsImport()
    numeric: set[str] = set()
    for n, row in enumerate(rows, start=2):
        row = {(k or "").strip(): v for k, v in row.items()}
        doc_id = None
        for k in keys:
            raw = (row.get(k) or "").strip().lower().rstrip("/")
            doc_id = idx.get(raw) or idx.get(slug_of_url(raw) or "") if raw else None
            if doc_id:
                break
        if doc_id is None:
            result.unmatched.append(f"line {n}: " + ", ".join(f"{k}={row.get(k)}" for k in keys))
            continue
        values = {k: v for k in header if k not in keys
                  if (v := _number(row.get(k) or "", decimal_comma)) is not None}
        numeric |= set(values)
        library.store.add_metrics(doc_id, values, origin=path.name)
        result.matched += 1
    result.columns = sorted(numeric)
    return result


def doc_format(d: Document) -> str:
    if d.is_reading:
        return "reading"
    if d.metadata.get("guests") or len(set(d.speakers) - set(d.authors)) >= 1:
        return "interview"
    return "essay"


def top(library, metric: str, year: str | None = None, topic: str | None = None,
        k: int = 20) -> list[tuple[Document, float]]:
    docs = [d for d in library.list(DocFilter(include_duplicates=False)) if metric in d.metrics]
    if not docs:
        raise BacklistError(f"no document has the metric {metric!r} (see `backlist stats`)")
    if year:
        docs = [d for d in docs if d.date and d.date.startswith(year)]
    if topic:
        tags = library.store.doc_topics()
        docs = [d for d in docs if topic in {t for t, _, _ in tags.get(d.id, [])}]
    docs.sort(key=lambda d: -d.metrics[metric])
    return [(d, d.metrics[metric]) for d in docs[:k]]


def _summary(values: list[float]) -> dict[str, Any]:
    values = sorted(values)
    out: dict[str, Any] = {"n": len(values), "median": statistics.median(values),
                           "min": values[0], "max": values[-1]}
    if len(values) >= 4:
        q = statistics.quantiles(values, n=4)
        out["p25"], out["p75"] = q[0], q[2]
    return out


def insights(library, metric: str) -> dict[str, Any]:
    docs = [d for d in library.list(DocFilter(include_duplicates=False)) if metric in d.metrics]
    if not docs:
        raise BacklistError(f"no document has the metric {metric!r}")
    tags = library.store.doc_topics()
    overall = _summary([d.metrics[metric] for d in docs])
    groupings = {
        "topic": lambda d: [t for t, _, _ in tags.get(d.id, [])] or ["(untagged)"],
        "format": lambda d: [doc_format(d)],
        "length": lambda d: [next(lbl for lo, hi, lbl in LENGTH_BUCKETS if lo <= d.words < hi)],
        "weekday": lambda d: [dt.date.fromisoformat(d.date).strftime("%A")] if d.date else
        ["(undated)"],
    }
    report: dict[str, Any] = {"metric": metric, "overall": overall, "groups": {}}
    for name, key in groupings.items():
        buckets: dict[str, list[float]] = {}
        for d in docs:
            for g in key(d):
                buckets.setdefault(g, []).append(d.metrics[metric])
        rows = []
        for g, vals in sorted(buckets.items(), key=lambda kv: -statistics.median(kv[1])):
            s = _summary(vals)
            s["group"] = g
            if s["n"] < MIN_GROUP:
                s["verdict"] = f"too few pieces ({s['n']}) to compare"
            else:
                ratio = s["median"] / overall["median"] if overall["median"] else None
                s["verdict"] = (f"median {ratio:.2f}x the overall median" if ratio is not None
                                else "overall median is zero")
            rows.append(s)
        report["groups"][name] = rows
    return report
