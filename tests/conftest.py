"""Shared fixtures. Libraries with embeddings are built once per session, not once per test."""

from __future__ import annotations

import os
import resource
import shutil
import socket
import sys
import time
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
                 "test_pg_server", "test_typecheck", "test_sample_archive",
                 "test_remote_and_plugins"}  # local HTTP servers and the demo library


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or \
                item.module.__name__.rsplit(".", 1)[-1] in _SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


# --- the fast base's guard ----------------------------------------------------------------------
MODEL_STACK = ("torch", "sentence_transformers", "transformers")


class FastBaseGuard:
    """Holds a test that is not marked slow to the fast base, from the setup of its fixtures (module
    fixtures included) to their teardown: $BACKLIST_EMBEDDER is the hash embedder, asking for the
    real model (the default spec or a model folder) or listening on a socket (any server) fails it,
    and so does importing the model stack by any other way. The fix is to mark the test slow."""

    def __init__(self, nodeid: str) -> None:
        from backlist.index import embed

        self.nodeid = nodeid
        self.broken: list[str] = []
        self.had = set(MODEL_STACK) & sys.modules.keys()
        self.mp = pytest.MonkeyPatch()
        self.mp.setenv("BACKLIST_EMBEDDER", "hash")
        real = embed.load_embedder

        def load_embedder(spec: str = embed.DEFAULT_SPEC) -> embed.Embedder:
            if spec in ("", embed.DEFAULT_SPEC) or Path(spec).expanduser().is_dir():
                raise self._break(f"loads the real embedding model ({spec!r})")
            return real(spec)

        # every module that holds the function by name (from backlist.index.embed import ...)
        for module in list(sys.modules.values()):
            if vars(module).get("load_embedder") is real:
                self.mp.setattr(module, "load_embedder", load_embedder)

        def listen(sock: socket.socket, *args: object) -> None:
            raise self._break(f"starts a server (listens on {sock.getsockname()})")

        self.mp.setattr(socket.socket, "listen", listen)

    def _break(self, what: str) -> AssertionError:
        self.broken.append(what)
        return AssertionError(f"{self.nodeid} {what}: mark it @pytest.mark.slow")

    def close(self) -> None:
        self.mp.undo()
        imported = sorted((set(MODEL_STACK) & sys.modules.keys()) - self.had)
        if imported:
            self.broken.append(f"imports {', '.join(imported)}")
        if self.broken:
            pytest.fail(f"a fast test {'; '.join(self.broken)}: mark it @pytest.mark.slow",
                        pytrace=False)


_GUARDS: dict[str, FastBaseGuard] = {}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    if item.get_closest_marker("slow") is None:
        _GUARDS[item.nodeid] = FastBaseGuard(item.nodeid)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    try:
        return (yield)
    finally:
        guard = _GUARDS.pop(item.nodeid, None)
        if guard is not None:
            guard.close()


# --- CPU time per test: $BACKLIST_TEST_CPU=FILE writes one line per test (CPU s, wall s, id) ------
# On a shared machine wall times follow the load; CPU seconds (this process and the subprocesses it
# waited for) do not, and on an idle machine a test takes about its CPU time (less where torch
# uses both cores). Sort the file to find the costs: sort -rn FILE | head -40.
def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    path = os.environ.get("BACKLIST_TEST_CPU")
    if not path:
        return (yield)
    cpu, wall = _cpu(), time.monotonic()
    try:
        return (yield)
    finally:
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"{_cpu() - cpu:8.2f} {time.monotonic() - wall:8.2f} {item.nodeid}\n")
