"""A Substack export, zipped or unzipped: posts.csv, posts/<post_id>.html and per-post email CSVs.

The real layout: posts.csv (post_id = "<numeric id>.<slug>", post_date, is_published,
email_sent_at, inbox_sent_at, type, audience, title, subtitle, podcast_url), the post HTML as
posts/<numeric id>.<slug>.html, and one row per delivered or opened email in
posts/<numeric id>.delivers.csv and posts/<numeric id>.opens.csv (post_id, timestamp, email,
...). email_list.<publication>.csv holds the subscribers: it is never read.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path

from backlist.errors import IngestError
from backlist.ingest.base import ReadContext, iso_date
from backlist.ingest.furniture import Furniture
from backlist.ingest.html import html_to_text
from backlist.ingest.textio import (
    MAX_FOLDER_DEPTH,
    SafeZip,
    check_not_empty_or_binary,
    decode,
    inside,
    read_bytes,
)
from backlist.model import Document, stable_id

REQUIRED = ("post_id", "title")
KIND_BY_TYPE = {"newsletter": "post", "podcast": "episode", "thread": "note", "video": "episode",
                "page": "note"}
PAID_AUDIENCES = ("only_paid", "founding")
PRIVATE = "holds subscribers' personal data; not ingested"


class ExportFiles:
    """The files of an export, the same whether it sits in a folder or a zip."""

    def __init__(self, path: Path, ctx: ReadContext) -> None:
        self.path = path
        self.ctx = ctx
        self.zip: SafeZip | None = None
        self.prefix = ""
        if path.is_dir():
            self._names = _export_files(path, ctx)
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

    def find(self, *names: str) -> str | None:
        """The first of these names the export holds."""
        return next((n for n in names if self.has(n)), None)

    def html_by_number(self) -> dict[str, str]:
        """posts/<number>.<slug>.html by number, for rows whose post_id is the number alone."""
        found: dict[str, str] = {}
        head = self.prefix + "posts/"
        for name in sorted(self._names):
            if name.startswith(head) and name.endswith(".html"):
                rel = name[len(self.prefix):]
                found.setdefault(rel[len("posts/"):].split(".", 1)[0], rel)
        return found

    def private_files(self) -> list[str]:
        """Subscriber lists (email_list.<publication>.csv), named so they can be skipped."""
        return sorted(n for n in self._names
                      if n.rsplit("/", 1)[-1].lower().startswith("email_list")
                      and n.lower().endswith(".csv"))

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


def _export_files(top: Path, ctx: ReadContext) -> set[str]:
    """The regular files of an unzipped export, by relative path. Walked without recursion; a
    link whose target lies outside the export (or any link to a folder), a folder nested too
    deep or one that cannot be listed is one skip line, and the rest of the export is read."""
    real_top = os.path.realpath(top)
    names: set[str] = set()
    stack: list[tuple[str, str]] = [("", str(top))]
    while stack:
        rel, folder = stack.pop()
        if rel.count("/") >= MAX_FOLDER_DEPTH:
            ctx.skip(f"{top}/{rel}", f"folder nested over {MAX_FOLDER_DEPTH} levels deep inside the "
                                     "export, not read")
            continue
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as exc:
            ctx.skip(f"{top}/{rel}", f"cannot read folder ({exc.strerror or exc})")
            continue
        for entry in entries:
            name = f"{rel}{entry.name}"
            try:
                if entry.is_symlink():
                    target = os.path.realpath(entry.path)
                    if not ctx.limits.follow_links and not inside(target, real_top):
                        ctx.skip(f"{top}/{name}", "symbolic link out of the export, not read "
                                                  "(--follow-links reads it)")
                    elif os.path.isfile(target):
                        names.add(name)
                    else:
                        ctx.skip(f"{top}/{name}", "symbolic link to a folder or nothing, not read")
                elif entry.is_dir(follow_symlinks=False):
                    stack.append((name + "/", entry.path))
                elif entry.is_file(follow_symlinks=False):
                    names.add(name)
            except OSError as exc:
                ctx.skip(f"{top}/{name}", f"cannot read ({exc.strerror or exc})")
    return names


def is_substack_export(path: Path) -> bool:
    if path.is_dir():
        return (path / "posts.csv").is_file()
    return False


def read_substack(path: Path, ctx: ReadContext, site: str | None = None) -> Iterator[Document]:
    files = ExportFiles(path, ctx)
    try:
        for name in files.private_files():
            sep = "!" if files.zip else "/"
            ctx.skip(f"{path}{sep}{name}", PRIVATE)
        rows = _rows(files.read("posts.csv"), files.label("posts.csv"))
        by_number = files.html_by_number()
        docs: list[Document] = []
        for line_no, row in rows:
            ctx.check_time(str(path))
            try:
                doc = _post(files, row, line_no, site, by_number)
            except IngestError as exc:
                ctx.problems.append(exc)
                continue
            if doc is not None:
                docs.append(doc)
        # What this publication repeats around its posts (learned from the export's own posts,
        # drafts left out so an unpublished copy cannot teach), dropped like the fixed calls to action.
        furniture = Furniture.learn(d.text for d in docs if not d.is_draft)
        for doc in docs:
            doc.text, dropped = furniture.drop(doc.text)
            if dropped:
                doc.metadata["furniture_dropped"] = dropped
            _count(ctx, doc)
            yield doc
    finally:
        files.close()


def _count(ctx: ReadContext, doc: Document) -> None:
    if doc.is_draft:
        ctx.counts["drafts"] += 1
    elif doc.metrics:
        ctx.counts["metrics_attached"] += 1
    else:
        ctx.counts["metrics_missing"] += 1


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


def _field(row: dict[str, str], name: str) -> str | None:
    return (row.get(name) or "").strip() or None


def _post(files: ExportFiles, row: dict[str, str], line_no: int, site: str | None,
          by_number: dict[str, str]) -> Document | None:
    post_id = row["post_id"].strip()
    if not post_id:
        raise IngestError(files.label("posts.csv"), f"line {line_no}: empty post_id")
    number = post_id.split(".", 1)[0]
    is_draft = (row.get("is_published") or "true").strip().lower() not in ("true", "1", "yes")
    html_name = files.find(f"posts/{post_id}.html") or by_number.get(number)
    if html_name:
        converted = html_to_text(files.read(html_name))
        for warning in converted.warnings:
            files.ctx.warn(files.label(html_name), warning)
    elif is_draft:
        converted = html_to_text("")
    else:
        raise IngestError(files.label(f"posts/{post_id}.html"),
                          "listed in posts.csv but missing from the export")
    slug = post_id.split(".", 1)[1] if "." in post_id else (
        html_name[len("posts/"):-len(".html")].split(".", 1)[1]
        if html_name and html_name.count(".") >= 2 else None)
    date, basis = _date(row, is_draft)
    audience = _field(row, "audience")
    metadata = {
        "format": "substack-export",
        "post_id": post_id,
        "slug": slug,
        "type": _field(row, "type"),
        "paid": audience in PAID_AUDIENCES if audience else None,
        "email_sent_at": _field(row, "email_sent_at"),
        "inbox_sent_at": _field(row, "inbox_sent_at"),
        "podcast_url": _field(row, "podcast_url"),
        "date_basis": basis,
        "links": converted.links,
        "images": converted.images,
    }
    if converted.image_alts:
        metadata["image_alts"] = converted.image_alts  # type: ignore[assignment]
    return Document(
        id=stable_id("post", post_id),
        kind=KIND_BY_TYPE.get((row.get("type") or "").strip().lower(), "post"),
        source=str(files.path),
        position=f"posts.csv line {line_no}",
        title=_field(row, "title"),
        subtitle=_field(row, "subtitle"),
        date=date,
        url=f"{site.rstrip('/')}/p/{slug}" if site and slug else None,
        audience=audience,
        text=converted.text,
        metadata=metadata,
        metrics={} if is_draft else _email_metrics(files, post_id, number),
        is_draft=is_draft,
    )


def _date(row: dict[str, str], is_draft: bool) -> tuple[str | None, str | None]:
    """The date as written in posts.csv (its own offset, never shifted), and where it came from."""
    for column in ("post_date", "email_sent_at"):
        date = iso_date(row.get(column))
        if date:
            note = " (a draft: never published)" if is_draft else ""
            return date, f"posts.csv {column}{note}"
    return None, None


def _email_metrics(files: ExportFiles, post_id: str, number: str) -> dict[str, float]:
    """Counts from the per-post email CSVs, which real exports name by the number alone."""
    metrics: dict[str, float] = {}
    for name in ("delivers", "opens"):
        fname = files.find(f"posts/{number}.{name}.csv", f"posts/{post_id}.{name}.csv")
        if fname is None:
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
    """(rows, distinct recipients): one row per event, so opens count a reader once per open.
    Addresses are only compared, never kept or shown."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise IngestError(label, f"malformed CSV at line {reader.line_num}") from exc
    key = next((f for f in (reader.fieldnames or []) if f.strip().lower() == "email"), None)
    if key is None:
        return len(rows), len(rows)
    return len(rows), len({(r.get(key) or "").strip().lower() for r in rows if r.get(key)})
