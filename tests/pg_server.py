"""A throwaway PostgreSQL server for tests and benchmarks: one cluster in a temp folder.

The cluster listens on a unix socket inside its own temp folder (no port to collide with;
``tcp=True`` adds 127.0.0.1 on a free port), runs with durability off (fsync, full-page writes
and synchronous commit: a crash only loses a scratch database), and has the ``vector``
extension created in ``template1`` and ``postgres``, so every database made from it has pgvector.

initdb and postgres refuse to run as root. As root the cluster is run as an unprivileged
user (``postgres`` when it exists, else ``nobody``) that owns the temp folder; the processes are
started with ``subprocess``'s ``user=``/``group=`` (a plain setuid, no PAM or login shell), which
works the same in containers and CI as on a developer's machine.

    with PgServer() as server:
        conn = psycopg.connect(server.dsn)
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

SUPERUSER = "backlist"
SETUP_HINT = "run scripts/setup-postgres.sh (as root) to install PostgreSQL and pgvector"

# Settings for a scratch server: speed over durability, small footprint, quiet log.
FAST_SETTINGS: dict[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_wal_size": "1GB",
    "checkpoint_timeout": "30min",
    "shared_buffers": "128MB",
    "max_connections": "40",
    "jit": "off",  # JIT compiles every bigger query: seconds of startup cost for short queries
    "huge_pages": "off",
    "dynamic_shared_memory_type": "posix",
    "logging_collector": "off",
    "log_min_messages": "warning",
    "timezone": "UTC",
}


class PgServerError(RuntimeError):
    """The throwaway server could not be found, created or started."""


def find_bindir() -> Path:
    """Where initdb and postgres live: $BACKLIST_PG_BINDIR, pg_config --bindir, Debian's
    /usr/lib/postgresql/<major>/bin (newest first), then PATH."""
    candidates: list[Path] = []
    if os.environ.get("BACKLIST_PG_BINDIR"):
        candidates.append(Path(os.environ["BACKLIST_PG_BINDIR"]))
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                 timeout=10, check=True).stdout.strip()
            if out:
                candidates.append(Path(out))
        except (OSError, subprocess.SubprocessError):
            pass
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                    key=lambda p: [int(x) for x in Path(p).parent.name.split(".") if x.isdigit()],
                    reverse=True)
    candidates += [Path(p) for p in debian]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for c in candidates:
        if (c / "initdb").is_file() and (c / "postgres").is_file():
            return c
    raise PgServerError(f"PostgreSQL server binaries (initdb, postgres) not found; {SETUP_HINT}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_as() -> pwd.struct_passwd | None:
    """The unprivileged account to run the server as when we are root; None when we are not."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PgServerError("running as root and neither a 'postgres' nor a 'nobody' user exists")


class PgServer:
    """One scratch cluster. ``start()`` returns the DSN; ``stop()`` (also run at interpreter exit)
    shuts the server down and deletes its folder."""

    def __init__(self, bindir: Path | None = None, tcp: bool = False,
                 settings: dict[str, str] | None = None, extensions: tuple[str, ...] = ("vector",),
                 start_timeout: float = 60.0) -> None:
        self.bindir = Path(bindir) if bindir else find_bindir()
        self.tcp = tcp
        self.settings = {**FAST_SETTINGS, **(settings or {})}
        self.extensions = extensions
        self.start_timeout = start_timeout
        self.root: Path | None = None
        self.port = free_port() if tcp else 5432
        self.proc: subprocess.Popen[bytes] | None = None
        self.startup_seconds: float | None = None
        self._account = _run_as()
        self._log: Any = None

    # --- paths and connection strings -------------------------------------------------------
    @property
    def datadir(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        assert self.root is not None
        return self.root / "sock"

    @property
    def logfile(self) -> Path:
        assert self.root is not None
        return self.root / "postgres.log"

    def dsn_for(self, dbname: str = "postgres") -> str:
        """A libpq connection string for one database of this server."""
        host = "127.0.0.1" if self.tcp else str(self.socket_dir)
        return f"host={host} port={self.port} user={SUPERUSER} dbname={dbname}"

    def url_for(self, dbname: str = "postgres") -> str:
        """The same as a postgresql:// URL (what Library, the CLI and $BACKLIST_DATABASE_URL take)."""
        if self.tcp:
            return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"
        return (f"postgresql://{SUPERUSER}@/{dbname}?host={quote(str(self.socket_dir), safe='')}"
                f"&port={self.port}")

    @property
    def dsn(self) -> str:
        return self.dsn_for("postgres")

    # --- life cycle -----------------------------------------------------------------------------
    def _popen_kwargs(self) -> dict[str, Any]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C.UTF-8", LANG="C.UTF-8", TZ="UTC")
        kw: dict[str, Any] = {"env": env, "cwd": str(self.root)}
        if self._account is not None:
            env.update(HOME=str(self.root), USER=self._account.pw_name, LOGNAME=self._account.pw_name)
            kw.update(user=self._account.pw_uid, group=self._account.pw_gid, extra_groups=[])
        return kw

    def _chown(self, path: Path) -> None:
        if self._account is not None:
            os.chown(path, self._account.pw_uid, self._account.pw_gid)

    def start(self) -> str:
        if self.proc is not None:
            return self.dsn
        t0 = time.monotonic()
        self.root = Path(tempfile.mkdtemp(prefix="backlist-pg-"))
        atexit.register(self.stop)
        try:
            os.chmod(self.root, 0o755)  # the socket directory must be reachable by clients
            self._chown(self.root)
            self.socket_dir.mkdir()
            self._chown(self.socket_dir)
            self._initdb()
            self._launch()
            self._wait_ready(t0)
            self._create_extensions()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - t0
        return self.dsn

    def _initdb(self) -> None:
        cmd = [str(self.bindir / "initdb"), "-D", str(self.datadir), "-U", SUPERUSER,
               "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions"]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, **self._popen_kwargs())
        if res.returncode != 0 and "--no-instructions" in res.stderr:  # PostgreSQL < 14
            cmd.remove("--no-instructions")
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, **self._popen_kwargs())
        if res.returncode != 0:
            raise PgServerError(f"initdb failed ({res.returncode}): {res.stderr.strip()[-2000:]}")

    def _launch(self) -> None:
        settings = {**self.settings, "port": str(self.port),
                    "unix_socket_directories": str(self.socket_dir),
                    "listen_addresses": "127.0.0.1" if self.tcp else ""}
        cmd = [str(self.bindir / "postgres"), "-D", str(self.datadir)]
        for key, value in settings.items():
            cmd += ["-c", f"{key}={value}"]
        self._log = open(self.logfile, "ab")  # noqa: SIM115 - kept open for the server's life
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     **self._popen_kwargs())

    def _log_tail(self) -> str:
        try:
            return self.logfile.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def _wait_ready(self, t0: float) -> None:
        import psycopg

        last: Exception | None = None
        while time.monotonic() - t0 < self.start_timeout:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise PgServerError(f"postgres exited with {self.proc.returncode}:\n{self._log_tail()}")
            try:
                with psycopg.connect(self.dsn, connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as exc:
                last = exc
                time.sleep(0.05)
        raise PgServerError(f"postgres not ready after {self.start_timeout:.0f}s ({last}):\n"
                            f"{self._log_tail()}")

    def _create_extensions(self) -> None:
        import psycopg

        for db in ("template1", "postgres"):
            with psycopg.connect(self.dsn_for(db), autocommit=True) as conn:
                for ext in self.extensions:
                    try:
                        conn.execute(f'CREATE EXTENSION IF NOT EXISTS "{ext}"')
                    except psycopg.Error as exc:
                        raise PgServerError(f"cannot create extension {ext!r} ({exc}); "
                                            f"{SETUP_HINT}") from exc

    def create_database(self, name: str | None = None) -> str:
        """A fresh database (with the extensions, copied from template1); returns its DSN."""
        import psycopg

        name = name or f"db_{uuid.uuid4().hex[:12]}"
        if not name.replace("_", "").isalnum():
            raise ValueError(f"database name {name!r}: letters, digits and _ only")
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template1')
        return self.dsn_for(name)

    def stop(self) -> None:
        """Fast shutdown (SIGINT: roll back sessions, then exit), SIGKILL if that hangs, then
        delete the folder. Safe to call more than once."""
        self._shutdown()
        root, self.root = self.root, None
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)
            atexit.unregister(self.stop)

    def _shutdown(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            try:
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self, down_seconds: float = 0.0) -> None:
        """Stop the server (fast shutdown: sessions are cut) and start it again on the same data
        after down_seconds, as an operator's restart or a failover would."""
        if self.root is None:
            raise PgServerError("the server was never started")
        self._shutdown()
        time.sleep(down_seconds)
        self._launch()
        self._wait_ready(time.monotonic())

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self) -> PgServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_server(**kwargs: Any) -> PgServer:
    """Start a scratch server (see PgServer) and return it; call ``.stop()`` when done."""
    server = PgServer(**kwargs)
    server.start()
    return server
