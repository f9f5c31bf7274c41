"""When a piece appeared, as honestly as the library knows it: one place that words a date or date
bounds ("2025-03-04", "between Jan 2025 and Mar 2025", "no later than 2024-12-31"), orders pieces
by them and decides whether a piece falls in a span. A bound is never shown as a date."""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DAYS_SHOWN_AS_DAYS = 62  # bounds closer than this are worded with days, wider ones with months


class Dated(Protocol):
    date: str | None
    date_earliest: str | None
    date_latest: str | None


def _month(day: str) -> str:
    return f"{MONTHS[int(day[5:7]) - 1]} {day[:4]}"


def bounds_text(earliest: str | None, latest: str | None) -> str | None:
    """"between 2025-01-06 and 2025-03-04" (close bounds), "between Feb 2025 and Feb 2026" (wide
    ones, widened to whole months), "no earlier than …", "no later than …"; None without bounds."""
    if earliest and latest:
        if earliest == latest:
            return f"on {earliest}"
        span = (dt.date.fromisoformat(latest) - dt.date.fromisoformat(earliest)).days
        if span < DAYS_SHOWN_AS_DAYS:
            return f"between {earliest} and {latest}"
        a, b = _month(earliest), _month(latest)
        return f"in {a}" if a == b else f"between {a} and {b}"
    if earliest:
        return f"no earlier than {earliest}"
    if latest:
        return f"no later than {latest}"
    return None


def when_text(doc: Dated, undated: str = "undated") -> str:
    """The date as stated (ISO, as precise as the source), else its bounds, else `undated`."""
    if doc.date:
        return doc.date[:10]
    return bounds_text(getattr(doc, "date_earliest", None), getattr(doc, "date_latest", None)) \
        or undated


def has_when(doc: Dated) -> bool:
    return bool(doc.date or getattr(doc, "date_earliest", None) or getattr(doc, "date_latest", None))


def sort_day(doc: Dated, newest_first: bool = False) -> str | None:
    """The day to order a piece by: its date, else the bound it is known to lie beyond in the
    direction of the order (oldest first: the earliest bound, else the latest; newest first: the
    latest, else the earliest). None when nothing is known (keep such pieces in source order)."""
    if doc.date:
        return doc.date[:10]
    lo, hi = getattr(doc, "date_earliest", None), getattr(doc, "date_latest", None)
    return (hi or lo) if newest_first else (lo or hi)


def span_relation(doc: Dated, since: str | None, until: str | None) -> str:
    """"in" (its date, or both its bounds, within the span), "maybe" (its bounds overlap the span
    or only one bound is known and it allows the span), "out" (its date or bounds exclude it) or
    "unknown" (no date, no bounds). since/until are ISO days, inclusive; None is open."""
    lo_span, hi_span = since or "0000-01-01", until or "9999-12-31"
    if doc.date:
        day = doc.date[:10]
        return "in" if lo_span <= day <= hi_span else "out"
    lo, hi = getattr(doc, "date_earliest", None), getattr(doc, "date_latest", None)
    if not (lo or hi):
        return "unknown"
    if (hi and hi < lo_span) or (lo and lo > hi_span):
        return "out"
    if lo and hi and lo_span <= lo and hi <= hi_span:
        return "in"
    return "maybe"


def source_order(doc: Any) -> tuple[str, int, str]:
    """Where a piece sits in its source (a feed's line or item number): the order to keep pieces
    in when nothing is known of their dates, rather than relevance order."""
    import re

    m = re.search(r"(?:line|item)\s+(\d+)", getattr(doc, "position", "") or "")
    return (getattr(doc, "source", "") or "", int(m.group(1)) if m else 0,
            getattr(doc, "position", "") or "")
