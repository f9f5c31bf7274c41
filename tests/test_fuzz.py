"""Fuzz: folders of hostile files (tests/fuzz_inputs.py, seeded) beside one good file.

For each batch: no exception escapes ingest; every error, warning and skip is one line starting
with the offending file's path; the good file is always read; the library passes SQLite's
integrity check; a second ingest finds no new or changed documents.
A few hundred cases run by default; `pytest -m slow tests/test_fuzz.py` runs thousands.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from backlist.service import Library
from fuzz_inputs import cases

GOOD_MD = "---\ntitle: Fine post\ndate: 2025-01-02\n---\nA perfectly good paragraph about tides.\n"
BATCH = 10
SECONDS_PER_FILE = 20.0  # far above what a few hundred KB should take; a hang shows as an error
# An exception a reader did not turn into a reason: the ingest survives, but it is a reader bug.
READER_BUG = re.compile(r": could not be read \((\w+(?:Error|Exception|Warning)?)\b")


def run_batch(tmp_path: Path, seed: int, n: int) -> Counter[str]:
    """Ingest one batch twice and check every property; returns what the errors were, by kind."""
    batch = cases(seed, n)
    folder = tmp_path / f"in{seed}"
    folder.mkdir()
    (folder / "good.md").write_text(GOOD_MD)
    for _, name, data in batch:
        (folder / name).write_bytes(data)
    made_by = {str(folder / name): gen for gen, name, _ in batch}
    where = f"seed {seed}: " + ", ".join(f"{name} ({gen})" for gen, name, _ in batch)
    lib = Library(tmp_path / f"lib{seed}")
    try:
        first = lib.ingest([str(folder)], embed=False, max_seconds=SECONDS_PER_FILE)
        kinds = check_report(first, made_by, where)
        sources = {d.source for d in lib.list(None)}
        assert str(folder / "good.md") in sources, f"good file not read; {where}"
        assert lib.store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", where
        again = lib.ingest([str(folder)], embed=False, max_seconds=SECONDS_PER_FILE)
        check_report(again, made_by, where)
        assert (again.documents_new, again.documents_updated) == (0, 0), \
            f"re-run changed documents ({again.documents_new} new, {again.documents_updated} " \
            f"updated); {where}"
    finally:
        lib.close()
    return kinds


def check_report(report, made_by: dict[str, str], where: str) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for line in [*report.errors, *report.warnings, *report.skipped_files]:
        assert "\n" not in line and "\r" not in line, f"not one line: {line!r}; {where}"
        owner = next((p for p in made_by if line.startswith(p)), None)
        assert owner is not None, f"does not start with the file's path: {line!r}; {where}"
    for line in report.errors:
        owner = next(p for p in made_by if line.startswith(p))
        bug = READER_BUG.search(line)
        assert bug is None, f"reader bug ({made_by[owner]}): {line!r}"
        assert "took too long" not in line, f"over {SECONDS_PER_FILE} s ({made_by[owner]}): {line!r}"
        kinds[_reason_kind(line[len(owner):])] += 1
    return kinds


def _reason_kind(rest: str) -> str:
    rest = rest.lstrip(":/ ").split(": ", 1)[-1] if rest.startswith((":", "/")) else rest
    return re.split(r"[(:,]", rest, maxsplit=1)[0].strip()[:40]


@pytest.mark.parametrize("seed", range(30))
def test_fuzz_batch(tmp_path, seed):
    run_batch(tmp_path, seed, BATCH)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(1000, 1300))
def test_fuzz_batch_slow(tmp_path, seed):
    run_batch(tmp_path, seed, BATCH)
