"""What every reader shares: the context it reports problems to, and small helpers."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from backlist.errors import IngestError
from backlist.ingest.textio import Limits


@dataclass
class ReadContext:
    limits: Limits = field(default_factory=Limits)
    problems: list[IngestError] = field(default_factory=list)
    fetch_remote: bool = False  # only for inputs the user gave as URLs

    def problem(self, label: str, reason: str) -> None:
        self.problems.append(IngestError(label, reason))


def iso_date(value: object) -> str | None:
    """ISO date (YYYY-MM-DD) from a date, datetime or a machine-written timestamp string."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})", text)
    if m:
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        except ValueError:
            return None
    return None


def slug_of_url(url: str | None) -> str | None:
    """The last path segment of a post URL (Substack: /p/<slug>)."""
    if not url:
        return None
    path = urlsplit(url).path.rstrip("/")
    seg = path.rsplit("/", 1)[-1]
    return seg.lower() or None


def clip(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:—-")
    return cut + "…"
