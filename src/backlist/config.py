"""Where the library lives: --library, else BACKLIST_LIBRARY, else the per-user data folder."""

from __future__ import annotations

import os
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
    if path.exists() and not path.is_dir():
        what = "a file" if path.is_file() else "not a folder"
        raise BacklistError(f"{path} is {what}, not a folder" if what == "a file" else f"{path} is {what}")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:  # a broken link, or a file that appeared meanwhile
        raise BacklistError(f"cannot create {path}: {exc.strerror or exc}") from exc
    except OSError as exc:
        raise BacklistError(f"cannot create {path}: {exc.strerror or exc}") from exc
    return path
