"""Shared fixtures. Libraries with embeddings are built once per session, not once per test."""

from __future__ import annotations

import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from backlist.index.embed import DEFAULT_SPEC
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
    src = root / "files"
    src.mkdir()
    for name, text in files.items():
        (src / name).write_text(text, encoding="utf-8")
    library = Library(root / "lib")
    # Recorded in the library, not in $BACKLIST_EMBEDDER: a module fixture's environment change
    # could outlive the fast-base guard's and reach the session libraries built on the model.
    library.use_embedder("hash")
    try:
        report = library.ingest([str(src)])
        assert not report.errors, report.errors
        yield library
    finally:
        library.close()


# --- slow jobs run beside the tests --------------------------------------------------------------
# mypy over the package runs once per session in a child process started as soon as collection
# ends (only if test_typecheck is selected), at a lower priority, so it runs on the second core
# while the tests run on the first. (The sample library was built the same way, but a library
# ingested in a child process answered the mentions and quality tests differently from one
# ingested in this process: the libraries stay in-process until that difference is understood.)
class BackgroundJob:
    """A child process of this Python, with this backlist, its output in files in its own
    temporary folder (self.folder, removed with the job); result() waits for it."""

    def __init__(self, name: str, args: list[str], cwd: Path | None = None) -> None:
        import backlist

        self.folder = Path(tempfile.mkdtemp(prefix=f"backlist-{name}-"))
        package_root = str(Path(backlist.__file__).resolve().parents[1])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (package_root, os.environ.get("PYTHONPATH")) if p)}
        with open(self.folder / "out", "wb") as out, open(self.folder / "err", "wb") as err:
            # niced: the tests in this process keep their core (some time themselves)
            self.proc = subprocess.Popen([sys.executable, *args], stdout=out, stderr=err, env=env,
                                         cwd=cwd, stdin=subprocess.DEVNULL,
                                         preexec_fn=lambda: os.nice(10))

    def result(self, timeout: float = 1800) -> tuple[int, str, str]:
        """Exit code, stdout and stderr, once the child has ended."""
        returncode = self.proc.wait(timeout=timeout)
        out, err = ((self.folder / name).read_text(encoding="utf-8", errors="replace")
                    for name in ("out", "err"))
        return returncode, out, err

    def remove(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


_JOBS: dict[str, BackgroundJob] = {}


def pytest_collection_finish(session):
    if session.config.option.collectonly:
        return
    wanted = {name for item in session.items for name in getattr(item, "fixturenames", ())}
    if "mypy_report" in wanted:
        _JOBS["mypy"] = BackgroundJob("mypy", ["-m", "mypy", "--no-error-summary"], cwd=ROOT)


def pytest_sessionfinish(session, exitstatus):
    while _JOBS:
        _JOBS.popitem()[1].remove()


def _job(name: str) -> BackgroundJob:
    assert name in _JOBS, f"{name} was not started when collection ended"
    return _JOBS[name]


@pytest.fixture(scope="session")
def demo_lib(tmp_path_factory) -> Iterator[Library]:
    lib = Library(tmp_path_factory.mktemp("demo-lib"))
    lib.use_embedder(DEFAULT_SPEC)  # the real model, whatever the environment says
    report = lib.ingest([str(DEMO)])
    assert not report.errors, report.errors
    yield lib
    lib.close()


@pytest.fixture(scope="session")
def sample_lib(tmp_path_factory) -> Iterator[Library]:
    src = sample_archive()
    lib = Library(tmp_path_factory.mktemp("sample-lib"))
    lib.use_embedder(DEFAULT_SPEC)  # the real model, whatever the environment says
    report = lib.ingest([str(src)])
    assert not report.errors, report.errors
    yield lib
    lib.close()


@pytest.fixture(scope="session")
def mypy_report() -> tuple[int, str]:
    """mypy over the package (configured in pyproject.toml): its exit code and output."""
    returncode, out, err = _job("mypy").result(timeout=900)
    return returncode, out + err


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
    tier: dict[str, int] = {}  # per module: 0 fast only, 1 some slow, 2 some on a built library
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        module = item.module.__name__
        if _SLOW_FIXTURES & fixtures or module.rsplit(".", 1)[-1] in _SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
        level = 2 if _SLOW_FIXTURES & fixtures else 1 if item.get_closest_marker("slow") else 0
        tier[module] = max(tier.get(module, 0), level)
    # Whole modules keep their order and stay together (module fixtures are built once); the fast
    # ones run first (a failure there shows in a minute), those on the model's libraries last.
    items.sort(key=lambda item: tier[item.module.__name__])


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
