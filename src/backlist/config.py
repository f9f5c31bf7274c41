"""Where the library lives: --library, else BACKLIST_LIBRARY, else the per-user data folder."""

from __future__ import annotations

import os
from pathlib import Path

DB_NAME = "library.sqlite"


def library_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    if env := os.environ.get("BACKLIST_LIBRARY"):
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "backlist"
