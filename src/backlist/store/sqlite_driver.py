"""The sqlite3 module to use: one that can load extensions (sqlite-vec) and has FTS5.

Many Python builds (pyenv's among them) ship sqlite3 without extension loading; the
pysqlite3-binary wheel is the same DB-API module with a recent SQLite that can load them.
"""

from __future__ import annotations

import sqlite3 as _stdlib

if hasattr(_stdlib.Connection, "enable_load_extension"):
    sqlite3 = _stdlib
else:  # pragma: no cover - depends on how Python was built
    try:
        import pysqlite3.dbapi2 as sqlite3  # type: ignore[no-redef]
    except ImportError as exc:
        raise ImportError(
            "this Python's sqlite3 cannot load extensions; install pysqlite3-binary") from exc

__all__ = ["sqlite3"]
