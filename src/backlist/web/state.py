"""What the web app keeps between requests: the read-only library, ingest jobs, review folders."""

from __future__ import annotations

import itertools
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backlist.config import library_dir
from backlist.errors import BacklistError, UsageError
from backlist.service import Library


@dataclass(frozen=True)
class IngestOptions:
    """The options of `backlist ingest`, as the web takes them (kind checked by the façade's
    rule, against the one reader registry)."""

    kind: str | None = None
    site: str | None = None
    max_bytes: int | None = None
    max_seconds: float | None = 300.0
    embed: bool = True
    fetch: bool = False
    follow_links: bool = False

    def __post_init__(self) -> None:
        from backlist.service import check_reader_kind

        check_reader_kind(self.kind)  # before the job starts: a 400, not a failed job


@dataclass
class Job:
    """One ingest started from the web: progress as the pipeline reports it."""

    id: str
    paths: list[str]
    state: str = "running"  # running | done | failed
    phase: str = "starting"
    total: int = 0
    done: int = 0
    embed_done: int = 0
    embed_total: int = 0
    current: str = ""
    started: float = field(default_factory=time.time)
    finished: float | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def on(self, event: str, data: dict[str, Any]) -> None:
        """The ingest `progress` callback."""
        if event == "start":
            self.phase, self.total = "reading", int(data.get("total", 0))
        elif event == "source":
            self.done += 1
            self.current = Path(str(data.get("path", ""))).name
        elif event == "embed":
            self.phase = "embedding"
            self.embed_done, self.embed_total = int(data["done"]), int(data["total"])

    @property
    def percent(self) -> int:
        if self.state != "running":
            return 100
        read = self.done / self.total if self.total else 0.0
        embed = self.embed_done / self.embed_total if self.embed_total else 0.0
        return int(100 * (0.5 * read + 0.5 * embed if self.phase == "embedding" else 0.5 * read))

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "paths": self.paths, "state": self.state, "phase": self.phase,
                "sources_total": self.total, "sources_done": self.done,
                "embed_done": self.embed_done, "embed_total": self.embed_total,
                "current": self.current, "percent": self.percent,
                "seconds": round((self.finished or time.time()) - self.started, 1),
                "summary": self.summary, "error": self.error}


class WebState:
    """The library folder, a read-only Library opened on first use (so the server starts before
    the first ingest), and the ingest jobs, each run with its own writable Library."""

    def __init__(self, library_path: str | Path | None, database: str | None) -> None:
        self.library_path = library_path
        self.database = database
        self.dir = library_dir(library_path)
        self._lib: Library | None = None
        self._lock = threading.Lock()
        self.jobs: dict[str, Job] = {}
        self._ids = itertools.count(1)
        self._running: Job | None = None

    def library(self) -> Library:
        with self._lock:
            if self._lib is None:
                self._lib = Library(self.library_path, read_only=True, database=self.database)
            return self._lib

    def writable(self) -> Library:
        return Library(self.library_path, read_only=False, database=self.database)

    def close(self) -> None:
        with self._lock:
            if self._lib is not None:
                self._lib.close()
                self._lib = None

    def start_ingest(self, paths: list[str], options: IngestOptions | None = None) -> Job:
        paths = [p.strip() for p in paths if p and p.strip()]
        if not paths:
            raise UsageError("give a file or folder to ingest")
        with self._lock:
            if self._running is not None and self._running.state == "running":
                raise UsageError(f"an ingest is already running (job {self._running.id})")
            job = Job(id=str(next(self._ids)), paths=paths)
            self.jobs[job.id] = job
            self._running = job
        threading.Thread(target=self._ingest, args=(job, options or IngestOptions()), daemon=True,
                         name=f"backlist-ingest-{job.id}").start()
        return job

    def _ingest(self, job: Job, o: IngestOptions) -> None:
        try:
            with self.writable() as lib:
                report = lib.ingest(job.paths, kind=o.kind, site=o.site, max_bytes=o.max_bytes,
                                    embed=o.embed, fetch_remote=o.fetch, max_seconds=o.max_seconds,
                                    progress=job.on, follow_links=o.follow_links)
                stats = lib.stats()
            job.summary = _report_json(report, stats)
            job.state = "done"
        except BacklistError as exc:
            job.state, job.error = "failed", str(exc)
        except Exception as exc:  # a bug, not the writer's input: keep the server up, say so
            traceback.print_exc()
            job.state, job.error = "failed", f"ingest stopped: {type(exc).__name__}: {exc}"
        finally:
            job.phase = job.state
            job.finished = time.time()

    def job(self, job_id: str) -> Job:
        from backlist.errors import NotFoundError

        if job_id not in self.jobs:
            raise NotFoundError(f"{job_id}: no such ingest job")
        return self.jobs[job_id]


def _report_json(report: Any, stats: dict[str, Any]) -> dict[str, Any]:
    keys = ("sources_read", "sources_unchanged", "documents_new", "documents_updated",
            "documents_unchanged", "documents_removed", "passages_added", "passages_embedded")
    out: dict[str, Any] = {k: getattr(report, k) for k in keys}
    out.update(errors=list(report.errors), warnings=list(report.warnings),
               skipped_files=list(report.skipped_files)[:50],
               documents=stats["documents"], embeddings_missing=stats["embeddings_missing"])
    return out
