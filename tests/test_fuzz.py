"""Fuzz: folders of hostile files (tests/fuzz_inputs.py, seeded) beside one good file.

For each batch: no exception escapes ingest; every error, warning and skip is one line starting
with the offending file's path; the good file is always read; the library passes SQLite's
integrity check; a second ingest finds no new documents.
A few hundred cases run by default; `pytest -m slow tests/test_fuzz.py` runs thousands.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from fuzz_inputs import BUDGET_CLASSES, Sparse, Special, cases

from backlist.service import Library

GOOD_MD = "---\ntitle: Fine post\ndate: 2025-01-02\n---\nA perfectly good paragraph about tides.\n"
BATCH = 10  # files per folder
SEEDS = 30  # the default run: 300 files
SLOW_SEEDS = 300  # with -m slow: 3,000 files
SECONDS_PER_FILE = 30.0  # far above what a few MB should take; a hang shows as an error
BATCH_SECONDS = 240.0  # two ingests of one batch: the budgets hold, so this bounds the run
# An exception a reader did not turn into a reason: the ingest survives, but it is a reader bug.
READER_BUG = re.compile(r": could not be read \((\w+)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Few hundred cases by default; thousands, marked slow, when the run selects -m slow."""
    if "seed" not in metafunc.fixturenames:
        return
    markexpr = metafunc.config.getoption("markexpr") or ""
    if re.search(r"(?<!not )\bslow\b", markexpr):
        params = [pytest.param(s, marks=pytest.mark.slow) for s in range(1000, 1000 + SLOW_SEEDS)]
    else:
        params = list(range(SEEDS))
    metafunc.parametrize("seed", params)


def test_fuzz_batch(tmp_path: Path, seed: int) -> None:
    problems = batch_violations(tmp_path, seed, BATCH)
    assert not problems, "\n".join(problems)


def batch_violations(tmp_path: Path, seed: int, n: int) -> list[str]:
    """Ingest one batch twice; every property that does not hold, one line each."""
    batch = cases(seed, n)
    folder = tmp_path / f"in{seed}"
    folder.mkdir()
    (folder / "good.md").write_text(GOOD_MD)
    secrets = []
    for _, name, data in batch:
        secrets += make(folder / name, data, tmp_path / "outside")
    made_by = {str(folder / name): gen for gen, name, _ in batch}
    lib = Library(tmp_path / f"lib{seed}")
    try:
        started = time.monotonic()
        out = _ingest_twice(lib, folder, made_by)
        if (took := time.monotonic() - started) > BATCH_SECONDS:
            out.append(f"seed {seed}: the batch took {took:.0f} s (over {BATCH_SECONDS:.0f} s)")
        leaked = [s for s in secrets for d in lib.list(None) if s in d.text]
        out += [f"seed {seed}: {s} from outside an export reached the library" for s in leaked]
        return out
    except Exception as exc:  # an escaping exception is the finding
        where = ", ".join(f"{Path(p).name} ({g})" for p, g in made_by.items())
        return [f"seed {seed}: exception escaped ingest: {type(exc).__name__}: {exc} [{where}]"]
    finally:
        lib.close()


def make(path: Path, data: bytes | Special, outside: Path) -> list[str]:
    """Write one case; the secrets that must never be read (from files outside the input)."""
    if isinstance(data, bytes):
        path.write_bytes(data)
        return []
    if isinstance(data, Sparse):
        with path.open("wb") as fh:
            fh.truncate(data.size)
        return []
    outside.mkdir(exist_ok=True)
    secret = outside / f"{data.secret}.html"
    secret.write_text(f"<p>{data.secret} lives outside the export.</p>")
    (path / "posts").mkdir(parents=True)
    (path / "posts.csv").write_text("post_id,post_date,is_published,type,audience,title\n"
                                    "7.linked,2024-02-02,true,newsletter,everyone,Linked\n")
    (path / "posts" / "7.linked.html").symlink_to(secret)
    return [data.secret]


def _ingest_twice(lib: Library, folder: Path, made_by: dict[str, str]) -> list[str]:
    first = lib.ingest([str(folder)], embed=False, max_seconds=SECONDS_PER_FILE)
    out = report_violations(first, made_by)
    if str(folder / "good.md") not in {d.source for d in lib.list(None)}:
        out.append(f"{folder}: the good file was not read")
    check = lib.store.db.execute("PRAGMA integrity_check").fetchone()[0]
    if check != "ok":
        out.append(f"{folder}: integrity_check says {check!r}")
    again = lib.ingest([str(folder)], embed=False, max_seconds=SECONDS_PER_FILE)
    out += report_violations(again, made_by)
    if again.documents_new:
        out.append(f"{folder}: the re-run found {again.documents_new} new document(s)")
    return out


def report_violations(report, made_by: dict[str, str]) -> list[str]:
    out = []
    for line in [*report.errors, *report.warnings, *report.skipped_files]:
        owner = next((p for p in made_by if line.startswith(p)), None)
        if "\n" in line or "\r" in line:
            out.append(f"not one line: {line!r}")
        elif owner is None:
            out.append(f"does not start with the offending file's path: {line!r}")
    for line in report.errors:
        owner = next((p for p in made_by if line.startswith(p)), "")
        if READER_BUG.search(line):
            out.append(f"reader bug ({made_by.get(owner)}): {line!r}")
        elif "took too long" in line and made_by.get(owner) not in BUDGET_CLASSES:
            out.append(f"over {SECONDS_PER_FILE} s ({made_by.get(owner)}): {line!r}")
    return out
