"""Dates a text states: date lines with their precision, and date values from page metadata."""

from __future__ import annotations

import datetime as dt

import pytest

from backlist.ingest.dates import date_line, parse_date_value, stated_date

TODAY = dt.date(2025, 6, 1)


@pytest.mark.parametrize(("line", "date", "precision"), [
    ("February 2021", "2021-02-01", "month"),
    ("Feb. 2021", "2021-02-01", "month"),
    ("September, 2019", "2019-09-01", "month"),
    ("March 3, 2021", "2021-03-03", "day"),
    ("3rd March 2021", "2021-03-03", "day"),
    ("Wednesday, March 3, 2021", "2021-03-03", "day"),
    ("Published: 2021-03-03", "2021-03-03", "day"),
    ("Posted on February 3, 2021", "2021-02-03", "day"),
    ("(2021)", "2021-01-01", "year"),
    ("2021", "2021-01-01", "year"),
])
def test_date_lines(line, date, precision):
    got = date_line(line, today=TODAY)
    assert got is not None and (got.date, got.precision) == (date, precision)


@pytest.mark.parametrize("line", [
    "Six field notes from July to December",  # months, no year
    "Tuesday, March 3, 2021",  # the weekday contradicts the date
    "March 3",  # no year
    "Spring 2021",
    "May 2021 was the wettest on record",  # a sentence, not a date line
    "2030",  # after today
    "July 2025",  # after today
])
def test_not_date_lines(line):
    assert date_line(line, today=TODAY) is None


@pytest.mark.parametrize(("value", "expected"), [
    ("2021-03-03T22:40:00-08:00", ("2021-03-03", "day")),  # the writer's local date, not UTC's
    ("2020-11-08T00:15:00+01:00", ("2020-11-08", "day")),
    ("Wed, 03 Mar 2021 22:40:00 -0800", ("2021-03-03", "day")),
    ("2021-02", ("2021-02-01", "month")),
    ("October 18, 2019 at 7:02 AM", ("2019-10-18", "day")),
    ("not a date", None),
    ("", None),
    (None, None),
])
def test_parse_date_value(value, expected):
    assert parse_date_value(value) == expected


def test_stated_date_in_opening_words_keeps_day_precision():
    got = stated_date("On Monday, February 24th, 2025, the survey began.", today=TODAY)
    assert got is not None and (got.date, got.precision) == ("2025-02-24", "day")
