"""The writer's corrections (`backlist edit`, the web edit form): which fields can be corrected
and what a valid value is, checked in one place for every surface. The Store keeps them apart
from what the readers wrote and applies them over every re-ingest."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

from backlist.contracts import DOC_KINDS
from backlist.errors import UsageError

EDITABLE: tuple[str, ...] = ("title", "subtitle", "date", "url", "kind", "authors", "reading")
MAX_TITLE_CHARS = 500


def check_correction(field: str, value: Any) -> Any:
    """The value to store for a corrected field, or UsageError saying what is wrong."""
    if field not in EDITABLE:
        raise UsageError(f"{field!r} cannot be corrected; choose from {', '.join(EDITABLE)}")
    if field == "reading":
        if isinstance(value, str) and value.lower() in ("true", "yes", "1", "on", "false", "no",
                                                        "0", "off"):
            return value.lower() in ("true", "yes", "1", "on")
        if not isinstance(value, bool):
            raise UsageError("reading: give true or false")
        return value
    if field == "authors":
        names = [value] if isinstance(value, str) else list(value or [])
        names = [" ".join(str(n).split()) for n in names if str(n).strip()]
        if not names:
            raise UsageError("authors: give at least one name (or clear the field)")
        return names
    text = " ".join(str(value or "").split())
    if not text:
        raise UsageError(f"{field}: empty value (use --clear {field} to undo a correction)")
    if field in ("title", "subtitle") and len(text) > MAX_TITLE_CHARS:
        raise UsageError(f"{field}: {len(text):,} characters, over the {MAX_TITLE_CHARS} limit")
    if field == "date":
        return _day(text)
    if field == "url":
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.netloc or " " in text:
            raise UsageError(f"url {text!r}: give an http(s) address")
    if field == "kind" and text not in DOC_KINDS:
        raise UsageError(f"kind {text!r}: choose from {', '.join(DOC_KINDS)}")
    return text


def _day(text: str) -> str:
    """A correction states a day: YYYY-MM-DD, a real calendar day."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise UsageError(f"date {text!r}: give the day as YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise UsageError(f"date {text!r}: {exc}") from exc
