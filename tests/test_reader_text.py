"""Plain-text articles: a date line in the opening lines dates the piece with its precision."""

from __future__ import annotations

from pathlib import Path

from backlist.ingest.article import read_text_article
from backlist.ingest.base import ReadContext

TEXT = Path(__file__).parent / "fixtures" / "text"


def read(path: Path):
    docs = list(read_text_article(path, ReadContext()))
    assert len(docs) == 1
    return docs[0]


def test_month_line_dates_with_month_precision_not_as_subtitle():
    doc = read(TEXT / "essay-month.txt")
    assert doc.title == "What the tide pools taught me about patience"
    assert doc.subtitle is None
    assert doc.date == "2021-02-01"
    assert doc.metadata["date_precision"] == "month"
    assert doc.metadata["date_basis"] == "stated on its own line: “February 2021”"
    assert doc.text.startswith("Every low tide that winter")
    assert "February 2021" not in doc.text


def test_full_date_and_byline_lines():
    doc = read(TEXT / "essay-day.txt")
    assert doc.title == "Counting eelgrass shoots in March"
    assert doc.subtitle == "Notes from the first survey of the season"
    assert doc.authors == ["Maren Holt"]
    assert (doc.date, doc.metadata["date_precision"]) == ("2021-03-03", "day")
    assert doc.text.startswith("We laid the quadrats")


def test_year_line_dates_with_year_precision():
    doc = read(TEXT / "essay-year.txt")
    assert (doc.date, doc.metadata["date_precision"]) == ("2021-01-01", "year")
    assert doc.subtitle is None and doc.title == "A year of composting seaweed"


def test_title_that_reads_like_a_byline_or_year_stays_the_title(tmp_path):
    a = tmp_path / "a.txt"
    a.write_text("By the shore at dawn\nA morning walk\n\nThe gulls were already up and arguing over the "
                 "net floats when I reached the jetty.\n")
    doc = read(a)
    assert doc.title == "By the shore at dawn" and doc.authors == [] and doc.subtitle == "A morning walk"
    b = tmp_path / "b.txt"
    b.write_text("1984\nA summer on the island\n\nThe year the ferry stopped running we learned to bake "
                 "our own bread.\n")
    doc = read(b)
    assert doc.title == "1984" and doc.date is None and doc.metadata["date_precision"] is None


def test_month_and_day_without_year_and_a_passing_mention_stay_undated(tmp_path):
    p = tmp_path / "c.txt"
    p.write_text("Notes on the herring run\nMarch 3\n\nThe run came early, and by May 2021 the weirs "
                 "were empty again.\n")
    doc = read(p)
    assert doc.date is None and doc.subtitle == "March 3"


def test_dated_byline_line(tmp_path):
    p = tmp_path / "d.txt"
    p.write_text("Winter kelp lines\nPosted on January 12, 2022 by Ana Ruiz\n\nWe hung the seeded lines "
                 "from the raft in November and the first blades showed a month later.\n")
    doc = read(p)
    assert (doc.date, doc.authors, doc.subtitle) == ("2022-01-12", ["Ana Ruiz"], None)
