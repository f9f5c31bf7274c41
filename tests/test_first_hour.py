"""What a new user meets in the first hour (issue 21): the demo, clear lines for slips, help
that reads well, numbers people read, and servers that start cleanly."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from backlist.cli import _misplaced_global, app
from backlist.errors import UsageError
from backlist.query_args import add_months, month_end, parse_date
from backlist.service import Library

runner = CliRunner()
DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo-archive"
SRC = str(Path(__file__).resolve().parent.parent / "src")


@pytest.fixture(scope="module")
def demo_hash(tmp_path_factory) -> Path:
    """The demo archive with its metrics, embedded by the hash test embedder."""
    mp = pytest.MonkeyPatch()
    mp.setenv("BACKLIST_EMBEDDER", "hash")
    lib = Library(tmp_path_factory.mktemp("first-hour") / "lib")
    try:
        assert not lib.ingest([str(DEMO)]).errors
    finally:
        lib.close()
    yield lib.dir
    mp.undo()


def cli(*args: str, code: int = 0):
    res = runner.invoke(app, list(args))
    assert res.exit_code == code, res.output
    return res


def backlist(*args: str, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": SRC, "BACKLIST_EMBEDDER": "hash"}
    return subprocess.run([sys.executable, "-m", "backlist.cli", *args], capture_output=True,
                          text=True, timeout=120, env=env, **kw)


# --- the demo -------------------------------------------------------------------------------------
def test_demo_ingests_searches_relates_and_says_how_to_go_on(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKLIST_EMBEDDER", "hash")
    res = cli("--library", str(tmp_path / "demo"), "demo")
    out = res.stdout
    search, related = out.split("2. A search")[1].split("3. Related to a draft")
    assert "1. What a winter of kelp farming taught me" in search and "2025-06-10" in search
    assert "1. Oyster reefs are infrastructure" in related and "why:" in related
    for step in ("ingest PATH", "serve", "mcp"):
        assert step in out.split("Go on:")[1]
    with Library(tmp_path / "demo", read_only=True) as lib:
        assert lib.stats()["documents"] == 7


def test_demo_without_library_uses_a_fresh_temporary_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKLIST_EMBEDDER", "hash")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setenv("BACKLIST_LIBRARY", str(tmp_path / "mine"))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR is read again
    from backlist import cli as cli_module

    monkeypatch.setitem(cli_module.STATE, "library", None)
    cli("demo")
    made = [p for p in tmp_path.iterdir() if p.name.startswith("backlist-demo-")]
    assert len(made) == 1 and (made[0] / "library.sqlite").exists()
    assert not (tmp_path / "mine").exists()  # the user's own library is left alone


# --- slips --------------------------------------------------------------------------------------
def test_a_mistyped_path_creates_no_library_folder(tmp_path):
    res = cli("--library", str(tmp_path / "new-lib"), "ingest", str(tmp_path / "typo"), code=1)
    assert res.output.strip() == f"error: {tmp_path / 'typo'}: no such file or folder"
    assert not (tmp_path / "new-lib").exists()


def test_an_unknown_reader_kind_is_refused_before_anything_is_made(tmp_path):
    res = cli("--library", str(tmp_path / "lib"), "ingest", str(DEMO), "--kind", "pdf", code=1)
    assert "--kind pdf: unknown kind" in res.output and not (tmp_path / "lib").exists()
    with Library(tmp_path / "lib2") as lib, pytest.raises(UsageError, match="unknown kind"):
        lib.ingest([str(DEMO)], kind="pdf")


def test_reader_kinds_have_one_registry():
    from backlist.contracts import READERS
    from backlist.ingest import KINDS

    assert tuple(READERS) == KINDS  # the help text names exactly the readers that exist


def test_library_after_the_command_gives_a_hint():
    assert _misplaced_global(["search", "kelp", "--library", "x"]) == \
        "--library goes before the command: backlist --library VALUE search …"
    assert _misplaced_global(["--library", "x", "search", "kelp"]) is None
    assert _misplaced_global(["search", "--", "--library"]) is None
    res = backlist("ls", "--library=lib")
    assert res.returncode == 2 and res.stderr.strip() == \
        "error: --library goes before the command: backlist --library VALUE ls …"


@pytest.mark.slow  # a real server holds the port
def test_a_busy_port_is_one_line_and_nothing_says_serving():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        for command in (["serve"], ["mcp", "--http"]):
            res = backlist(*command, "--port", port)
            assert res.returncode == 1 and "serving" not in res.stdout + res.stderr, command
            assert res.stderr.count("\n") == 1 and f"cannot listen on 127.0.0.1:{port}" in \
                res.stderr and "--port" in res.stderr


@pytest.mark.parametrize(("module", "command", "extra"), [
    ("fastapi", ["serve"], "backlist[web]"),
    ("psycopg", ["migrate", "--to", "postgresql://localhost/x"], "backlist[postgres]"),
    ("matplotlib", ["review", "2025"], "backlist[web]")])
def test_a_missing_extra_is_one_line_naming_it(demo_hash, tmp_path, module, command, extra):
    code = (f"import sys; sys.modules[{module!r}] = None; sys.argv = ['backlist', '--library', "
            f"{str(demo_hash)!r}, *{command!r}]; from backlist.cli import run; run()")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "PYTHONPATH": SRC}, cwd=tmp_path)
    assert res.returncode == 1 and res.stderr.count("\n") == 1, res.stderr
    assert f"pip install '{extra}'" in res.stderr and "Traceback" not in res.stderr
    assert not list(tmp_path.iterdir())  # nothing half-written


# --- help ---------------------------------------------------------------------------------------
def _commands(group, prefix=()):
    for name, command in group.commands.items():
        yield (*prefix, name)
        if hasattr(command, "commands"):
            yield from _commands(command, (*prefix, name))


def test_help_shows_no_python_types():
    for path in _commands(typer.main.get_command(app)):
        text = cli(*path, "--help").output
        assert "<bool>" not in text and "<list" not in text and "<str>" not in text, path


def test_search_help_says_hybrid_is_the_default():
    text = " ".join(cli("search", "--help").output.split())
    assert "hybrid" in text and "OR-ed" not in text and "default: meaning and words" in text


# --- numbers people read ---------------------------------------------------------------------------
def test_stats_lists_metrics_and_counts_read_well(demo_hash):
    out = " ".join(cli("--library", str(demo_hash), "stats").output.split())
    assert "open_rate (2 pieces)" in out and "backlist top --by NAME" in out
    assert "1 draft," in out and "drafts" not in out and "linked cop" not in out
    assert cli("--library", str(demo_hash), "stats", "--json").stdout.count('"open_rate": 2') == 1


def test_open_rate_reads_as_a_percent(demo_hash):
    with Library(demo_hash, read_only=True) as lib:
        (doc, rate), *_ = lib.top("open_rate", k=1)
    out = cli("--library", str(demo_hash), "top", "--by", "open_rate", "-k", "1").output
    assert 0 < rate < 1 and f"open_rate {rate * 100:.1f}%" in out
    out = cli("--library", str(demo_hash), "insights", "--by", "open_rate").output
    assert "%" in out and f"{rate:g}" not in out


def test_ingest_report_has_no_maybe_plurals(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKLIST_EMBEDDER", "hash")
    (tmp_path / "one.md").write_text("---\ntitle: One\ndate: 2025-01-01\n---\nA single post.\n")
    out = cli("--library", str(tmp_path / "lib"), "ingest", str(tmp_path / "one.md")).output
    assert "(s)" not in out and "1 document," in out and "linked cop" not in out
    assert "Read 1 input: 1 new document; 1 passage indexed" in out


# --- date words, one parser -----------------------------------------------------------------------
@pytest.mark.parametrize(("words", "end", "day"), [
    ("2025", False, "2025-01-01"), ("2025", True, "2025-12-31"),
    ("2024-02", True, "2024-02-29"), ("2025-03-14", True, "2025-03-14"),
    ("last year", False, "2025-01-01"), ("last year", True, "2025-12-31"),
    ("this month", True, "2026-06-30"), ("last month", False, "2026-05-01"),
    ("last May", False, "2026-05-01"), ("last July", False, "2025-07-01"),
    ("May", True, "2026-05-31"), ("last June", True, "2025-06-30"),
    ("this June", True, "2026-06-30"),
    ("May 2024", True, "2024-05-31"), ("in December of 2023", False, "2023-12-01"),
    ("3 days ago", False, "2026-06-12")])
def test_date_words(words, end, day):
    assert parse_date(words, end=end, today=dt.date(2026, 6, 15)) == day


def test_date_words_that_are_not_dates():
    for bad in ("2025-13", "2025-02-30", "whenever"):
        with pytest.raises(ValueError, match="not a date"):
            parse_date(bad)


def test_month_arithmetic():
    assert add_months(dt.date(2025, 11, 20), 3) == dt.date(2026, 2, 1)
    assert add_months(dt.date(2025, 1, 31), -1) == dt.date(2024, 12, 1)
    assert month_end(dt.date(2024, 2, 3)) == dt.date(2024, 2, 29)


# --- servers: the model loads at start, and no log lines leak -------------------------------------
def _start(args: list[str]) -> tuple[subprocess.Popen, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": SRC, "BACKLIST_EMBEDDER": "hash"}
    proc = subprocess.Popen([sys.executable, "-m", "backlist.cli", *args, "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("the server did not start")


@pytest.mark.slow
@pytest.mark.parametrize("command", [["serve"], ["mcp", "--http"], ["serve", "--lazy"]])
def test_servers_load_the_model_first_and_print_no_log_lines(demo_hash, command):
    import httpx

    proc, port = _start(["--library", str(demo_hash), *command])
    try:
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"}}}
        res = httpx.post(f"http://127.0.0.1:{port}/mcp", json=init,
                         headers={"accept": "application/json, text/event-stream"})
        assert res.status_code == 200
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    text = out + err
    assert "INFO" not in text and "Processing request" not in text, text
    assert ("loading the embedding model (hash)" in err) == ("--lazy" not in command), err
    assert ("model ready in" in err) == ("--lazy" not in command)
