"""Parsing what users type for dates: ISO, a year, a month, or words dateparser knows."""

from __future__ import annotations

import calendar
import re

import dateparser


def parse_date(value: str, end: bool = False) -> str:
    """'2025' -> 2025-01-01 (or 2025-12-31 as an end); '2025-03' likewise; else dateparser."""
    v = value.strip()
    if re.fullmatch(r"\d{4}", v):
        return f"{v}-12-31" if end else f"{v}-01-01"
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})", v):
        y, mo = int(m[1]), int(m[2])
        if not 1 <= mo <= 12:
            raise ValueError(f"{value!r} is not a date")
        return f"{y:04d}-{mo:02d}-{calendar.monthrange(y, mo)[1] if end else 1:02d}"
    parsed = dateparser.parse(v, languages=["en"], settings={"PREFER_DAY_OF_MONTH": "first"})
    if parsed is None:
        raise ValueError(f"{value!r} is not a date (try 2025, 2025-03 or 2025-03-14)")
    return parsed.date().isoformat()
