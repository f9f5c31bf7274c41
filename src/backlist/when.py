"""When a piece appeared, as honestly as the library knows it: one place that words a date or date
bounds ("2025-03-04", "between Jan 2025 and Mar 2025", "no later than 2024-12-31"), orders pieces
by them and decides whether a piece falls in a span. A bound is never shown as a date."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any, Protocol

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DAYS_SHOWN_AS_DAYS = 62  # bounds closer than this are worded with days, wider ones with months


class Dated(Protocol):
    date: str | None
    date_earliest: str | None
    date_latest: str | None


def day_range(date: str, precision: str | None) -> tuple[str, str]:
    """The first and last day a (possibly month- or year-precise) ISO date may mean."""
    y = int(date[:4])
    if precision == "year" or len(date) == 4:
        return f"{y:04d}-01-01", f"{y:04d}-12-31"
    m = int(date[5:7])
    if precision == "month" or len(date) == 7:
        return f"{y:04d}-{m:02d}-01", f"{y:04d}-{m:02d}-{calendar.monthrange(y, m)[1]:02d}"
    return date[:10], date[:10]


def precision(doc: Dated) -> str | None:
    """"day", "month" or "year" for a dated piece (None undated): a writer's corrected date is a
    day; a date given by a copy carries its period as bounds; else what the reader recorded."""
    if not doc.date:
        return None
    if "date" in (getattr(doc, "corrected", None) or []):
        return "day"
    lo, hi = getattr(doc, "date_earliest", None), getattr(doc, "date_latest", None)
    if lo and hi and (lo, hi) != (doc.date[:10], doc.date[:10]):
        if (lo, hi) == day_range(lo, "year"):
            return "year"
        if (lo, hi) == day_range(lo, "month"):
            return "month"
    said = (getattr(doc, "metadata", None) or {}).get("date_precision")
    return said if said in ("month", "year") else "day"


def period(doc: Dated) -> tuple[str, str] | None:
    """(first day, last day) a piece's date may mean: one day for a day-precise date, the whole
    month or year for a month- or year-precise one; None when undated (bounds are not a date)."""
    if not doc.date:
        return None
    return day_range(doc.date, precision(doc))


def stored_bounds(date: str | None, precision_: str | None, earliest: str | None,
                  latest: str | None) -> tuple[str | None, str | None]:
    """The date_earliest/date_latest to store with a piece: an undated piece keeps its bounds; a
    day-precise date has none (a bound never differs from the date); a month- or year-precise
    date stores its period (tightened by bounds inside it), so date filters treat it as a span."""
    if not date:
        return earliest, latest
    if precision_ not in ("month", "year"):
        return None, None
    lo, hi = day_range(date, precision_)
    lo2, hi2 = max(lo, earliest or lo), min(hi, latest or hi)
    return (lo2, hi2) if lo2 <= hi2 else (lo, hi)


def period_basis(precision_: str | None) -> str:
    """The basis recorded for bounds that are a month- or year-precise date's period."""
    return f"the {precision_} the date names"


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
    """The date as stated, as precise as the source ("2025-03-04", "Mar 2025", "2025"), else its
    bounds, else `undated`."""
    if doc.date:
        kind = precision(doc)
        if kind == "year":
            return doc.date[:4]
        if kind == "month":
            return _month(doc.date[:10] if len(doc.date) >= 10 else f"{doc.date[:7]}-01")
        return doc.date[:10]
    return bounds_text(getattr(doc, "date_earliest", None), getattr(doc, "date_latest", None)) \
        or undated


def has_when(doc: Dated) -> bool:
    return bool(doc.date or getattr(doc, "date_earliest", None) or getattr(doc, "date_latest", None))


def sort_day(doc: Dated, newest_first: bool = False) -> str | None:
    """The day to order a piece by: its date, else the bound it is known to lie beyond in the
    direction of the order (oldest first: the earliest bound, else the latest; newest first: the
    latest, else the earliest). None when nothing is known (keep such pieces in source order)."""
    span = period(doc)
    if span:  # a month or a year: its last day newest first, its first day oldest first
        return span[1] if newest_first else span[0]
    lo, hi = getattr(doc, "date_earliest", None), getattr(doc, "date_latest", None)
    return (hi or lo) if newest_first else (lo or hi)


def span_relation(doc: Dated, since: str | None, until: str | None) -> str:
    """"in" (its date's period, or both its bounds, within the span), "maybe" (they overlap the
    span, or only one bound is known and it allows the span), "out" (they exclude it) or
    "unknown" (no date, no bounds). since/until are ISO days, inclusive; None is open. A date
    known only to the month or year is its whole period, never its first day."""
    lo_span, hi_span = since or "0000-01-01", until or "9999-12-31"
    span = period(doc)
    if span:
        first, last = span
        if last < lo_span or first > hi_span:
            return "out"
        return "in" if lo_span <= first and last <= hi_span else "maybe"
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
