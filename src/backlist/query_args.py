"""What users type for dates, and month arithmetic: the one place for both.

`parse_date` turns "2025", "2025-03", "2025-03-14", "last year", "this month", "last May",
"May 2025" or words dateparser knows ("3 weeks ago") into an ISO day. A year or a month is a
period: its first day as a start (`since`), its last day as an end (`until`). The façade
(`service.Library`) calls it for every `since`/`until`, so surfaces pass what the user typed.
Month arithmetic is python-dateutil's `relativedelta`.
"""

from __future__ import annotations

import datetime as dt
import re

from dateutil.relativedelta import relativedelta

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
_ISO_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_MONTH_WORDS = re.compile(r"(?:(last|this|in)\s+)?([a-z]+)(?:\s+(?:of\s+)?(\d{4}))?")


def month_end(day: dt.date) -> dt.date:
    """The last day of day's month."""
    return day + relativedelta(day=31)


def add_months(day: dt.date, n: int) -> dt.date:
    """The first day of the month n months after day's month (n may be negative)."""
    return day.replace(day=1) + relativedelta(months=n)


def _period(start: dt.date, last: dt.date, end: bool) -> str:
    return (last if end else start).isoformat()


def parse_date(value: str, end: bool = False, today: dt.date | None = None) -> str:
    """An ISO day for what a user typed; a year or month gives its first day, or its last day
    when end is true. ValueError (with the value and examples) if it is not a date."""
    v = " ".join(value.strip().lower().split())
    today = today or dt.date.today()
    if re.fullmatch(r"\d{4}", v):
        y = int(v)
        return _period(dt.date(y, 1, 1), dt.date(y, 12, 31), end)
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})", v):
        if not 1 <= int(m[2]) <= 12:
            raise ValueError(f"{value!r} is not a date")
        first = dt.date(int(m[1]), int(m[2]), 1)
        return _period(first, month_end(first), end)
    if m := _ISO_DAY.fullmatch(v):
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        except ValueError:
            raise ValueError(f"{value!r} is not a date") from None
    if v in ("last year", "this year"):
        y = today.year - (v == "last year")
        return _period(dt.date(y, 1, 1), dt.date(y, 12, 31), end)
    if v in ("last month", "this month"):
        first = add_months(today, -1 if v == "last month" else 0)
        return _period(first, month_end(first), end)
    if (m := _MONTH_WORDS.fullmatch(v)) and m[2] in MONTHS:
        first = _named_month(MONTHS.index(m[2]) + 1, m[1], m[3], today)
        return _period(first, month_end(first), end)
    return _dateparser_day(value, v, today)


def _named_month(month: int, word: str | None, year: str | None, today: dt.date) -> dt.date:
    """"May 2025" is that May; "last May" the latest May before this month; "May" / "this May"
    the latest May up to this month."""
    if year:
        return dt.date(int(year), month, 1)
    y = today.year
    if month > today.month or (word == "last" and month == today.month):
        y -= 1
    return dt.date(y, month, 1)


def _dateparser_day(value: str, words: str, today: dt.date) -> str:
    import dateparser

    parsed = dateparser.parse(words, languages=["en"], settings={
        "PREFER_DATES_FROM": "past", "RELATIVE_BASE": dt.datetime.combine(today, dt.time(12))})
    if parsed is None:
        raise ValueError(f"{value!r} is not a date (try 2025, 2025-03, 2025-03-14 or "
                         "'last year')")
    return parsed.date().isoformat()
