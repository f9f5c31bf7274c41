"""Shared fixtures. Libraries with embeddings are built once per session, not once per test."""

from __future__ import annotations

import os
import shutil
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
