"""A Substack export, zipped or unzipped: posts.csv, posts/<post_id>.html and per-post email CSVs."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from backlist.errors import IngestError
from backlist.ingest.base import ReadContext, iso_date
from backlist.ingest.html import html_to_text
from backlist.ingest.textio import SafeZip, check_not_empty_or_binary, decode, read_bytes
from backlist.model import Document, stable_id

REQUIRED = ("post_id", "title")
KIND_BY_TYPE = {"newsletter": "post", "podcast": "episode", "thread": "note", "video": "episode"}


class ExportFiles:
    """The files of an export, the same whether it sits in a folder or a zip."""

    def __init__(self, path: Path, ctx: ReadContext) -> None:
        self.path = path
        self.ctx = ctx
        self.zip: SafeZip | None = None
        self.prefix = ""
        if path.is_dir():
            self._names = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()}
        else:
            self.zip = SafeZip(path, ctx.limits)
            ctx.problems.extend(self.zip.problems)
            self._names = set(self.zip.names())
        # Exports are sometimes re-zipped with a top folder: find posts.csv wherever it sits.
        tops = sorted((n for n in self._names if n.rsplit("/", 1)[-1] == "posts.csv"), key=len)
        if not tops:
            raise IngestError(str(path), "not a Substack export: no posts.csv")
        self.prefix = tops[0][: -len("posts.csv")]

    def has(self, name: str) -> bool:
        return self.prefix + name in self._names

    def label(self, name: str) -> str:
        sep = "!" if self.zip else "/"
        return f"{self.path}{sep}{self.prefix}{name}"

    def read(self, name: str) -> str:
        label = self.label(name)
        if self.zip is not None:
            data = self.zip.read(self.prefix + name)
            check_not_empty_or_binary(data, label)
        else:
            data = read_bytes(self.path / (self.prefix + name), self.ctx.limits, label)
        return decode(data, label)

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def is_substack_export(path: Path) -> bool:
    if path.is_dir():
        return (path / "posts.csv").is_file()
    return False


def read_substack(path: Path, ctx: ReadContext, site: str | None = None) -> Iterator[Document]:
    files = ExportFiles(path, ctx)
    try:
        rows = _rows(files.read("posts.csv"), files.label("posts.csv"))
        for line_no, row in rows:
            try:
                doc = _post(files, row, line_no, site)
            except IngestError as exc:
                ctx.problems.append(exc)
                continue
            if doc is not None:
                yield doc
    finally:
        files.close()


def _rows(text: str, label: str) -> list[tuple[int, dict[str, str]]]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise IngestError(label, f"malformed CSV ({exc})") from exc
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise IngestError(label, f"malformed CSV: missing column(s) {', '.join(missing)}")
    out = []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise IngestError(label, f"malformed CSV at line {reader.line_num}: "
                                         f"{len(row)} fields where the header has {len(header)}")
            out.append((reader.line_num, dict(zip(header, row))))
    except csv.Error as exc:
        raise IngestError(label, f"malformed CSV at line {reader.line_num} ({exc})") from exc
    return out


def _post(files: ExportFiles, row: dict[str, str], line_no: int, site: str | None) -> Document | None:
    post_id = row["post_id"].strip()
    if not post_id:
        raise IngestError(files.label("posts.csv"), f"line {line_no}: empty post_id")
    html_name = f"posts/{post_id}.html"
    is_draft = row.get("is_published", "true").strip().lower() not in ("true", "1", "yes")
    if files.has(html_name):
        converted = html_to_text(files.read(html_name))
    elif is_draft:
        converted = html_to_text("")
    else:
        raise IngestError(files.label(html_name), "listed in posts.csv but missing from the export")
    slug = post_id.split(".", 1)[1] if "." in post_id else None
    date = iso_date(row.get("post_date")) or iso_date(row.get("email_sent_at"))
    kind = KIND_BY_TYPE.get(row.get("type", "").strip().lower(), "post")
    url = f"{site.rstrip('/')}/p/{slug}" if site and slug else None
    metadata = {
        "format": "substack-export",
        "post_id": post_id,
        "slug": slug,
        "type": row.get("type") or None,
        "email_sent_at": row.get("email_sent_at") or None,
        "inbox_sent_at": row.get("inbox_sent_at") or None,
        "podcast_url": row.get("podcast_url") or None,
        "date_basis": "posts.csv post_date" if date else None,
        "links": converted.links,
        "images": converted.images,
    }
    return Document(
        id=stable_id("post", post_id),
        kind=kind,
        source=str(files.path),
        position=f"posts.csv line {line_no}",
        title=(row.get("title") or "").strip() or None,
        subtitle=(row.get("subtitle") or "").strip() or None,
        date=date,
        url=url,
        audience=(row.get("audience") or "").strip() or None,
        text=converted.text,
        metadata=metadata,
        metrics=_email_metrics(files, post_id),
        is_draft=is_draft,
    )


def _email_metrics(files: ExportFiles, post_id: str) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for name in ("delivers", "opens"):
        fname = f"posts/{post_id}.{name}.csv"
        if not files.has(fname):
            continue
        try:
            rows, distinct = _recipients(files.read(fname), files.label(fname))
        except IngestError as exc:
            files.ctx.problems.append(exc)
            continue
        if name == "delivers":
            metrics["delivered"] = float(distinct)
        else:
            metrics["opens"] = float(rows)
            metrics["unique_opens"] = float(distinct)
    if metrics.get("delivered") and "unique_opens" in metrics:
        metrics["open_rate"] = round(metrics["unique_opens"] / metrics["delivered"], 4)
    return metrics


def _recipients(text: str, label: str) -> tuple[int, int]:
    """(rows, distinct recipients): one row per event, so opens count a reader once per open."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise IngestError(label, f"malformed CSV ({exc})") from exc
    key = next((f for f in (reader.fieldnames or []) if f.strip().lower() == "email"), None)
    if key is None:
        return len(rows), len(rows)
    return len(rows), len({(r.get(key) or "").strip().lower() for r in rows if r.get(key)})
