"""Shared fixtures. Libraries with embeddings are built once per session, not once per test."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from backlist.service import Library

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "demo-archive"
SAMPLE = ROOT.parent / "shared" / "sample-archive"
FEED = "interconnects-podcast-feed.txt"
PAGE = "interconnects-podcast-directory-page.txt"


def sample_archive() -> Path:
    if not SAMPLE.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{SAMPLE} is missing: CI must have ../shared beside the checkout")
        pytest.skip("the shared sample archive is not beside this checkout")
    return SAMPLE


@contextmanager
def hash_library(root: Path, files: dict[str, str]) -> Iterator[Library]:
    """A library of the given files (name -> text) under root, embedded by the deterministic
    test embedder: for module fixtures of the fast tests."""
    mp = pytest.MonkeyPatch()
    mp.setenv("BACKLIST_EMBEDDER", "hash")
    src = root / "files"
    src.mkdir()
    for name, text in files.items():
        (src / name).write_text(text, encoding="utf-8")
    library = Library(root / "lib")
    try:
        report = library.ingest([str(src)])
        assert not report.errors, report.errors
        yield library
    finally:
        library.close()
        mp.undo()


@pytest.fixture(scope="session")
def demo_lib(tmp_path_factory) -> Library:
    lib = Library(tmp_path_factory.mktemp("demo-lib"))
    report = lib.ingest([str(DEMO)])
    assert not report.errors, report.errors
    yield lib
    lib.close()


@pytest.fixture(scope="session")
def sample_lib(tmp_path_factory) -> Library:
    src = sample_archive()
    lib = Library(tmp_path_factory.mktemp("sample-lib"))
    report = lib.ingest([str(src)])
    assert not report.errors, report.errors
    yield lib
    lib.close()


@pytest.fixture
def demo_copy(tmp_path) -> Path:
    dest = tmp_path / "archive"
    shutil.copytree(DEMO, dest)
    return dest


# Tests on the real MiniLM model (the demo and sample libraries), real servers and browsers are
# the upper floors of the pyramid: marked slow, so `pytest -m "not slow"` runs the fast base.
_SLOW_FIXTURES = {"demo_lib", "sample_lib"}
_SLOW_MODULES = {"test_mcp", "test_web_browser", "test_store_contract", "test_postgres_faults",
                 "test_pg_server", "test_typecheck", "test_sample_archive"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or \
                item.module.__name__.rsplit(".", 1)[-1] in _SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
