"""Reconciliation on the shared sample archive (read at run time, hash embedder): titles from the
2024 review's link text and from titles other pieces write out, respelt slugs, date bounds from
page order (a feed with one dated item shows no order) and from the review's links; no date is
ever inferred."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import FEED, PAGE, sample_archive

from backlist.service import Library
from backlist.store.base import DocFilter

pytestmark = pytest.mark.slow  # reads and indexes the whole sample archive


@pytest.fixture(scope="module")
def lib(tmp_path_factory) -> Iterator[Library]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BACKLIST_EMBEDDER", "hash")
        library = Library(tmp_path_factory.mktemp("reconcile-sample"))
        report = library.ingest([str(sample_archive())])
        assert not report.errors, report.errors
        yield library
        library.close()


def lines(lib: Library, name: str) -> dict[int, object]:
    return {d.metadata["line"]: d for d in lib.list(DocFilter(include_drafts=True))
            if d.source.endswith(name)}


def test_titles_from_the_archive(lib: Library) -> None:
    page = lines(lib, PAGE)
    review = next(d for d in lib.list() if d.title == "2024 Interconnects year in review")
    o3 = page[34]
    assert o3.title == "OpenAI's o3: The grand finale of AI in 2024"
    assert o3.basis["title"] == f"link text in {review.id}"
    assert o3.aliases == ["Openais o3 the 2024 finale of ai"]
    feed = lines(lib, FEED)
    assert feed[65].title == "Gemini 2.5 Pro Google’s second AI chance"  # the text's own spelling
    assert feed[65].basis["title"] == "URL slug, spelt as the piece's own text spells it"
    assert page[19].title.startswith("GPT-4.5")
    # pieces that only open with a sentence keep it: nothing in the archive names them
    assert feed[39].title == "Hello everyone!" and feed[39].basis["title"] == "opening sentence"


def test_bounds_from_order_and_links(lib: Library) -> None:
    page, feed = lines(lib, PAGE), lines(lib, FEED)
    assert (page[22].date_earliest, page[22].date_latest) == ("2024-12-31", "2025-02-24")
    assert "directory-page.txt order" in page[22].basis["date_latest"]
    assert page[34].date_latest == "2024-12-31" and page[34].date_earliest is None
    # the feed has one dated item: its order is not evidence, so nothing in it is bounded by
    # position (only links and copies may bound its pieces)
    for n in range(1, 67):
        d = feed.get(n)
        if d is not None and d.duplicate_of is None and not d.date:
            assert (d.date_earliest, d.date_latest) == (None, None), n
    assert all("feed.txt order" not in b for d in feed.values() for b in d.basis.values())


def test_only_stated_dates(lib: Library) -> None:
    docs = lib.list(DocFilter(include_drafts=True))
    reader = lib.store.reader_fields()
    stated = {d.id: reader[d.id].get("date") for d in docs}
    for d in docs:
        if d.duplicate_of is None and d.date:
            copies = {stated[c.id] for c in docs if c.duplicate_of == d.id}
            assert d.date == stated[d.id] or d.date in copies
    assert sum(1 for d in docs if d.date and d.duplicate_of is None) == 4
