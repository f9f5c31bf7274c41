"""Dates and date bounds worded, ordered and placed in a span in one place (backlist.when), and
an entity's first and last mention with bounds (analysis.entities.first_and_last)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from backlist.analysis.entities import first_and_last
from backlist.when import (
    bounds_text,
    has_when,
    period,
    precision,
    sort_day,
    source_order,
    span_relation,
    stored_bounds,
    when_text,
)


@dataclass
class Piece:
    date: str | None = None
    date_earliest: str | None = None
    date_latest: str | None = None
    source: str = "feed.txt"
    position: str = "line 1"
    metadata: dict = field(default_factory=dict)
    corrected: list = field(default_factory=list)


def year(date: str = "2021-01-01") -> Piece:
    return Piece(date, metadata={"date_precision": "year"})


def month(date: str = "2021-02-01") -> Piece:
    return Piece(date, metadata={"date_precision": "month"})


@pytest.mark.parametrize("piece, text", [
    (Piece("2025-03-04"), "2025-03-04"),
    (Piece(None, "2025-01-06", "2025-03-04"), "between 2025-01-06 and 2025-03-04"),
    (Piece(None, "2025-02-24", "2026-02-05"), "between Feb 2025 and Feb 2026"),
    (Piece(None, "2025-03-02", "2025-03-30"), "between 2025-03-02 and 2025-03-30"),
    (Piece(None, "2025-01-02", "2025-03-30"), "between Jan 2025 and Mar 2025"),
    (Piece(None, None, "2024-12-31"), "no later than 2024-12-31"),
    (Piece(None, "2026-02-05", None), "no earlier than 2026-02-05"),
    (Piece(None, "2025-12-30", "2025-12-30"), "on 2025-12-30"),
    (Piece(), "undated"),
])
def test_when_text(piece: Piece, text: str) -> None:
    assert when_text(piece) == text
    assert has_when(piece) == (text != "undated")


def test_a_bound_is_never_shown_as_a_bare_date() -> None:
    for lo, hi in [("2025-01-06", "2025-03-04"), (None, "2024-12-31"), ("2026-02-05", None)]:
        shown = bounds_text(lo, hi) or ""
        assert shown.split()[0] in ("between", "no")


def test_sort_day_and_source_order() -> None:
    p = Piece(None, "2025-01-06", "2025-03-04")
    assert sort_day(p) == "2025-01-06" and sort_day(p, newest_first=True) == "2025-03-04"
    assert sort_day(Piece(None, None, "2024-12-31")) == "2024-12-31"
    assert sort_day(Piece()) is None
    pieces = [Piece(position="line 10"), Piece(position="line 9"), Piece(position="item 2")]
    assert [p.position for p in sorted(pieces, key=source_order)] == ["item 2", "line 9", "line 10"]


@pytest.mark.parametrize("piece, relation", [
    (Piece("2025-03-04"), "in"),
    (Piece("2024-03-04"), "out"),
    (Piece(None, "2025-01-06", "2025-03-04"), "in"),  # both bounds inside: counted
    (Piece(None, "2024-12-01", "2025-03-04"), "maybe"),  # overlaps: listed apart
    (Piece(None, None, "2025-03-04"), "maybe"),
    (Piece(None, None, "2024-12-31"), "out"),  # no later than the span's start
    (Piece(None, "2026-01-01", None), "out"),
    (Piece(), "unknown"),
])
def test_span_relation(piece: Piece, relation: str) -> None:
    assert span_relation(piece, "2025-01-01", "2025-12-31") == relation


def test_first_and_last_mention_with_bounds() -> None:
    # a dated piece and one known only to be no later than an earlier day: the first mention is
    # no later than that day, and open below (that piece has no earliest bound)
    first, last = first_and_last([("2025-03-04", "2025-03-04"), (None, "2025-02-01")])
    assert first == (None, "2025-02-01") and last == ("2025-03-04", "2025-03-04")
    assert bounds_text(*first) == "no later than 2025-02-01"
    # all dated: the plain first and last days
    first, last = first_and_last([("2025-01-01", "2025-01-01"), ("2025-05-01", "2025-05-01")])
    assert first == ("2025-01-01", "2025-01-01") and last == ("2025-05-01", "2025-05-01")
    # a piece with nothing known leaves the last mention open above
    first, last = first_and_last([("2025-01-01", "2025-01-01"), (None, None)])
    assert last == ("2025-01-01", None) and first == (None, "2025-01-01")


def test_a_month_or_year_is_its_period_never_its_first_day() -> None:
    assert when_text(year()) == "2021" and when_text(month()) == "Feb 2021"
    assert period(year()) == ("2021-01-01", "2021-12-31")
    assert period(month()) == ("2021-02-01", "2021-02-28")
    assert period(Piece("2021-02-01")) == ("2021-02-01", "2021-02-01")
    assert sort_day(year()) == "2021-01-01" and sort_day(year(), newest_first=True) == "2021-12-31"
    # "2021" is neither certainly after 2021-06-01 nor certainly before 2021-03-01
    assert span_relation(year(), "2021-06-01", None) == "maybe"
    assert span_relation(year(), None, "2021-03-01") == "maybe"
    assert span_relation(year(), "2021-01-01", "2021-12-31") == "in"
    assert span_relation(year(), "2022-01-01", None) == "out"
    assert span_relation(month(), "2021-02-15", "2021-02-20") == "maybe"
    assert span_relation(month(), None, "2021-01-31") == "out"


def test_precision_of_a_corrected_or_donated_date() -> None:
    fixed = Piece("2021-01-01", metadata={"date_precision": "year"}, corrected=["date"])
    assert precision(fixed) == "day" and when_text(fixed) == "2021-01-01"
    # a date given by a copy carries its period as bounds; the canonical's metadata says nothing
    donated = Piece("2021-02-01", "2021-02-01", "2021-02-28")
    assert precision(donated) == "month" and when_text(donated) == "Feb 2021"
    assert precision(Piece("2021-02-01")) == "day" and precision(Piece()) is None


def test_stored_bounds() -> None:
    assert stored_bounds("2021-01-01", "year", None, None) == ("2021-01-01", "2021-12-31")
    assert stored_bounds("2021-02-01", "month", "2021-02-10", None) == ("2021-02-10", "2021-02-28")
    # a day never carries bounds that differ from its date (here: none at all)
    assert stored_bounds("2021-02-01", "day", "2020-01-01", "2022-01-01") == (None, None)
    assert stored_bounds("2021-02-01", None, None, None) == (None, None)
    assert stored_bounds(None, None, "2020-01-01", None) == ("2020-01-01", None)
