"""Dates a text states about itself. Anything less certain leaves the item undated."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import dateparser

MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|"
          "December|Jan\\.?|Feb\\.?|Mar\\.?|Apr\\.?|Jun\\.?|Jul\\.?|Aug\\.?|Sept?\\.?|Oct\\.?|"
          "Nov\\.?|Dec\\.?")
WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_FULL = re.compile(
    rf"(?:(?P<wd>{WEEKDAYS}),?\s+)?(?:(?P<month>{MONTHS})\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?"
    rf"|(?P<day2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<month2>{MONTHS}))"
    rf"(?:,?\s+(?P<year>(?:19|20)\d{{2}}))?\b"
)
OPENING_CHARS = 320  # a date must be stated where a piece opens, not in a passing reference


@dataclass
class StatedDate:
    date: str  # ISO
    evidence: str  # the words that state it
    basis: str  # how the year was known
    precision: str = "day"  # "day", "month" or "year": how much of the date the words state


def stated_date(text: str, today: dt.date | None = None) -> StatedDate | None:
    """The date a piece gives for itself in its opening words, with the words as evidence.

    A full date ("February 24th, 2025") counts. A day and month with a weekday and no year
    ("Last Tuesday, March 4th") counts when the weekday fixes the year: the latest year not
    after today in which that day falls on that weekday. A month and day alone do not count.
    """
    today = today or dt.date.today()
    for m in _FULL.finditer(text[:OPENING_CHARS]):
        phrase = m.group(0).strip()
        month = m["month"] or m["month2"]
        day = int(m["day"] or m["day2"])
        if m["year"]:
            parsed = dateparser.parse(phrase, languages=["en"],
                                      settings={"REQUIRE_PARTS": ["day", "month", "year"]})
            if parsed and (not m["wd"] or parsed.strftime("%A") == m["wd"]):
                if parsed.date() <= today:
                    return StatedDate(parsed.date().isoformat(), phrase, "stated in full")
            continue
        if m["wd"]:
            year = _year_from_weekday(month, day, m["wd"], today)
            if year is not None:
                return StatedDate(f"{year:04d}-{_month_number(month):02d}-{day:02d}",
                                  phrase, "year fixed by the weekday")
    return None


def _month_number(name: str) -> int:
    return dateparser.parse(f"1 {name.rstrip('.')} 2000", languages=["en"]).month


def _year_from_weekday(month: str, day: int, weekday: str, today: dt.date) -> int | None:
    mnum = _month_number(month)
    for year in range(today.year, today.year - 7, -1):
        try:
            d = dt.date(year, mnum, day)
        except ValueError:
            continue
        if d <= today and d.strftime("%A") == weekday:
            return year
    return None


_DATE_LINE_LEAD = re.compile(
    r"^(?:(?:first\s+)?(?:published|posted|written|dated|updated)(?:\s+on)?\s*:?\s*)", re.I)
_MONTH_YEAR = re.compile(rf"^(?P<month>{MONTHS}),?\s+(?P<year>(?:19|20)\d{{2}})$", re.I)
_YEAR_ONLY = re.compile(r"^(?P<year>(?:19|20)\d{2})$")
_ISO = re.compile(r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2}))?)?(?:[T ].*)?$")


def date_line(line: str, today: dt.date | None = None) -> StatedDate | None:
    """A line that states a date and nothing else ("February 2021", "March 3, 2021",
    "Published: 2021-03-03", "2021"), as a date with its precision. Not a date in the future."""
    today = today or dt.date.today()
    phrase = line.strip().strip("()[]").rstrip(".")
    core = _DATE_LINE_LEAD.sub("", phrase).strip()
    if not core or len(core) > 60:
        return None
    found = _iso_parts(core) or _month_year(core) or _full_date(core)
    if found is None:
        return None
    date, precision = found
    if dt.date.fromisoformat(date) > today:
        return None
    return StatedDate(date, phrase, "stated on its own line", precision)


def parse_date_value(value: str | None) -> tuple[str, str] | None:
    """(ISO date, precision) from a machine- or human-written date value (meta tags, JSON-LD,
    <time datetime>). The date is the one written, in the writer's own time zone: never shifted."""
    core = (value or "").strip()
    if not core:
        return None
    return _iso_parts(core) or _month_year(core) or _full_date(core) or _loose_date(core)


def _iso_parts(text: str) -> tuple[str, str] | None:
    m = _ISO.match(text)
    if not m:
        return None
    try:
        d = dt.date(int(m["y"]), int(m["m"] or 1), int(m["d"] or 1))
    except ValueError:
        return None
    if not 1900 <= d.year <= 2100:
        return None
    return d.isoformat(), "day" if m["d"] else "month" if m["m"] else "year"


def _month_year(text: str) -> tuple[str, str] | None:
    m = _MONTH_YEAR.match(text)
    if m:
        return f"{m['year']}-{_month_number(m['month']):02d}-01", "month"
    m = _YEAR_ONLY.match(text)
    return (f"{m['year']}-01-01", "year") if m else None


def _full_date(text: str) -> tuple[str, str] | None:
    m = _FULL.fullmatch(text)
    if not m or not m["year"]:
        return None
    found = _loose_date(text)
    if found and m["wd"] and dt.date.fromisoformat(found[0]).strftime("%A") != m["wd"]:
        return None  # a weekday that contradicts the date: which one is wrong is unknown
    return found


def _loose_date(text: str) -> tuple[str, str] | None:
    parsed = dateparser.parse(text, languages=["en"],
                              settings={"REQUIRE_PARTS": ["day", "month", "year"]})
    return (parsed.date().isoformat(), "day") if parsed else None
