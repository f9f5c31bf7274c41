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
