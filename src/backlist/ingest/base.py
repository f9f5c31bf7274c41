"""What every reader shares: the context it reports problems to, and small helpers."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from backlist.errors import IngestError
from backlist.ingest.textio import Limits


@dataclass
class ReadContext:
    limits: Limits = field(default_factory=Limits)
    problems: list[IngestError] = field(default_factory=list)
    fetch_remote: bool = False  # only for inputs the user gave as URLs
    # What the ingest report says per input besides errors. Counts use these keys:
    # drafts, metrics_attached, metrics_missing, transcripts_not_fetched, files_skipped.
    counts: Counter[str] = field(default_factory=Counter)
    # Warnings (one line each, naming the file): not errors, the input is still recorded.
    warnings: list[str] = field(default_factory=list)
    # Files inside an input that were skipped on purpose, with the reason ("path: reason").
    skipped: list[str] = field(default_factory=list)
    # time.monotonic() after which a reader must give up on this input (see check_time).
    deadline: float | None = None

    def problem(self, label: str, reason: str) -> None:
        self.problems.append(IngestError(label, reason))

    def warn(self, label: str, reason: str) -> None:
        self.warnings.append(f"{label}: {reason}")

    def check_time(self, label: str) -> None:
        """Readers call this between expensive steps: past the deadline, the input fails
        with one clear line instead of holding up the whole ingest."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise IngestError(label, "took too long to read (over the per-file time budget; "
                                     "raise it with --max-seconds)")

    def skip(self, label: str, reason: str) -> None:
        self.skipped.append(f"{label}: {reason}")
        self.counts["files_skipped"] += 1


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
