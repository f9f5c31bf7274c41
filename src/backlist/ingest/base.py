"""What every reader shares: the context it reports problems to, and small helpers."""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from backlist.errors import IngestError
from backlist.ingest.textio import Limits

# Memory one input may take on top of what the process already holds. The structures that once
# grew with the input (tokenizer encodings, word lists) are bounded; this is the backstop.
MEMORY_BUDGET = 1536 * 1024 * 1024
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes() -> int:
    """This process's resident memory now (Linux /proc), or 0 where it cannot be read."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


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
    seconds: float | None = None  # the per-input time budget the deadline was set from
    # Resident memory (bytes) past which a reader gives up on this input (see check_time).
    memory_limit: int | None = None

    def budget_memory(self, extra: int = MEMORY_BUDGET) -> None:
        """Allow this input `extra` bytes of memory on top of what the process holds now."""
        now = resident_bytes()
        self.memory_limit = now + extra if now else None

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
        if self.memory_limit is not None and resident_bytes() > self.memory_limit:
            raise IngestError(label, f"needs more than {MEMORY_BUDGET >> 20} MB of memory to read "
                                     "(over the per-file memory budget), not stored")

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
