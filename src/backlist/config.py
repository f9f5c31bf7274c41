"""Where the library lives: --library, else BACKLIST_LIBRARY, else the per-user data folder."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from backlist.errors import BacklistError

DB_NAME = "library.sqlite"


def library_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    if env := os.environ.get("BACKLIST_LIBRARY"):
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "backlist"


def check_library_dir(path: Path) -> Path:
    """Make sure the library folder exists and is a folder, creating it if need be; otherwise one
    clear line (BacklistError) instead of a traceback from deep inside SQLite."""
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):  # mkdir says which, below
        mode = None
    except OSError as exc:  # e.g. a parent folder without search permission
        raise BacklistError(f"cannot open {path}: {exc.strerror or exc}") from exc
    if mode is not None and stat.S_ISREG(mode):
        raise BacklistError(f"{path} is a file, not a folder")
    if mode is not None and not stat.S_ISDIR(mode):
        raise BacklistError(f"{path} is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # also FileExistsError: a broken link, or a file made meanwhile
        raise BacklistError(f"cannot create {path}: {exc.strerror or exc}") from exc
    return path
