"""Field-level reconciliation, titles from the archive's own references and dates as bounds
(backlist.index.reconcile): pure inference over Documents as the real readers give them."""

from __future__ import annotations

from pathlib import Path

import pytest
from reconcile_fixture import SITE, write_archive

from backlist.dedup import link_copies
from backlist.index.citations import citation_graph
from backlist.index.reconcile import (
    Fact,
    _clean_title,
    apply_facts,
    as_read,
    date_bounds,
    fits_slug,
    infer,
    link_texts,
    reconcile_copies,
    respell_slug_title,
    titles_from_references,
)
from backlist.ingest.base import ReadContext
from backlist.ingest.markdown import read_markdown
from backlist.ingest.textdump import read_dump
from backlist.model import Document
from backlist.store.base import DocLink
from backlist.when import period, precision, when_text


def read_fixture(tmp: Path) -> list[Document]:
    """The fixture archive read by the real readers and its copies linked, as relink does (the
    URL a canonical takes from a copy is left to reconciliation, to see its basis)."""
    folder = write_archive(tmp)
    docs: list[Document] = []
    for name in ("feeds/tidewater-feed.txt", "feeds/tidewater-directory-page.txt"):
        docs += list(read_dump(folder / name, ReadContext()))
    docs += list(read_markdown(folder / "posts" / "2025-review.md", ReadContext()))
    duplicate_of, _ = link_copies(docs)
    for d in docs:
        d.duplicate_of = duplicate_of.get(d.id)
    return docs


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> tuple[list[Document], list[DocLink]]:
    docs = read_fixture(tmp_path_factory.mktemp("reconcile"))
    return docs, citation_graph(docs)


def by_position(docs: list[Document], source_end: str, position: str) -> Document:
    return next(d for d in docs if d.source.endswith(source_end) and d.position == position)


def fact(facts: dict[str, dict[str, Fact]], doc: Document, field: str) -> Fact | None:
    return facts.get(doc.id, {}).get(field)


# --- 1. copies ------------------------------------------------------------------------------

def test_a_canonical_piece_takes_the_url_and_a_better_title_from_its_copy(archive) -> None:
    docs, _ = archive
    e1 = by_position(docs, "tidewater-feed.txt", "line 5")
    d1 = by_position(docs, "tidewater-directory-page.txt", "line 11")
    assert d1.duplicate_of == e1.id and e1.metadata["title_basis"] == "opening sentence"
    facts = {(f.doc_id, f.field): f for f in reconcile_copies(docs)}
    url = facts[(e1.id, "url")]
    assert url.value == SITE + "winter-kelp-harvest"
    assert url.basis == f"copy {d1.id} (tidewater-directory-page.txt, line 11)"
    title = facts[(e1.id, "title")]
    assert title.value == "Winter kelp harvest" and title.basis.startswith("URL slug of copy")
    assert not any(f.doc_id == d1.id for f in facts.values())  # copies keep pointing, unchanged


def test_the_canonical_keeps_a_title_its_source_gave() -> None:
    post = Document("p", "post", "export", "posts.csv line 2", "Text " * 80, title="Real title",
                    duplicate_of=None)
    audio = Document("a", "episode", "dump", "line 9", "Text " * 80, title="Real title audio",
                     url=SITE + "real-title", duplicate_of="p",
                     metadata={"title_basis": "URL slug"}, speakers=["Maren Holt", "Ana Ruiz"])
    facts = {f.field: f for f in reconcile_copies([post, audio])}
    assert "title" not in facts
    assert facts["url"].value == SITE + "real-title"
    assert facts["speakers"].value == ["Maren Holt", "Ana Ruiz"]


def test_a_date_from_a_copy_is_only_one_that_copy_states() -> None:
    canon = Document("c", "episode", "feed", "line 3", "x " * 80)
    copy = Document("k", "episode", "page", "line 4", "x " * 60, date="2025-03-04",
                    duplicate_of="c", metadata={"date_basis": "stated in full: “March 4th, 2025”"})
    (f,) = [f for f in reconcile_copies([canon, copy]) if f.field == "date"]
    assert f.value == "2025-03-04" and "stated by copy k" in f.basis and "March 4th" in f.basis


# --- 2. titles from the archive's own references ---------------------------------------------

def test_link_fragments_to_one_url_are_read_as_one_link_text(archive) -> None:
    docs, _ = archive
    review = next(d for d in docs if d.kind == "post")
    texts = dict(link_texts(review))
    assert texts[SITE + "oyster-reefs-20-army-corps-plan"] == \
        "Oyster Reefs 2.0: the Army Corps plan, revisited"
    assert texts[SITE + "tidal-gauge-data"] == "the gauge post"


def test_a_slug_title_becomes_the_link_text_and_the_old_title_an_alias(archive) -> None:
    docs, links = archive
    e3 = by_position(docs, "tidewater-feed.txt", "line 7")
    review = next(d for d in docs if d.kind == "post")
    facts = infer(docs, links)
    title = fact(facts, e3, "title")
    assert title and title.value == "Oyster Reefs 2.0: the Army Corps plan, revisited"
    assert title.basis == f"link text in {review.id}"
    aliases = fact(facts, e3, "aliases")
    assert aliases and aliases.value == [e3.title]


def test_link_text_that_is_not_the_pieces_title_is_not_adopted(archive) -> None:
    docs, links = archive
    d2 = by_position(docs, "tidewater-directory-page.txt", "line 12")
    assert fact(infer(docs, links), d2, "title") is None  # "the gauge post" is not its title
    assert not fits_slug("the gauge post", "tidal-gauge-data")
    assert fits_slug("Llama 3: Scaling open LLMs to AGI", "llama-3-and-scaling-open-llms")
    assert not fits_slug("2023", "2023-review")


def _piece(id: str, title: str, basis: str | None, url: str | None = None, **kw) -> Document:
    meta = {"title_basis": basis} if basis else {}
    return Document(id, kw.pop("kind", "episode"), "dump", f"line {id}", kw.pop("text", "body"),
                    title=title, url=url, metadata=meta, **kw)


def _linking(id: str, url: str, text: str, **kw) -> Document:
    return Document(id, kw.pop("kind", "post"), "posts", "whole file", f"See {text}.",
                    title=f"Piece {id}", date="2025-06-01",
                    metadata={"links": [{"text": text, "url": url}]}, **kw)


def test_disagreeing_link_texts_adopt_nothing() -> None:
    url = SITE + "kelp-lines"
    target = _piece("t", "Kelp lines", "URL slug", url=url)
    docs = [target, _linking("a", url, "Kelp lines in the cold"),
            _linking("b", url, "Counting kelp lines at dawn")]
    assert not [f for f in titles_from_references(docs, []) if f.field == "title"]
    docs = [target, _linking("a", url, "Kelp lines in the cold"),
            _linking("b", url, "Kelp lines in the cold: a field report")]
    (title,) = [f for f in titles_from_references(docs, []) if f.field == "title"]
    assert title.value == "Kelp lines in the cold: a field report"  # the others are its start


def test_one_url_two_pieces_or_a_reading_source_give_no_title() -> None:
    url = SITE + "kelp-lines"
    twins = [_piece("t", "Kelp lines", "URL slug", url=url),
             _piece("u", "Kelp lines again", "URL slug", url=url)]
    assert not titles_from_references([*twins, _linking("a", url, "Kelp lines in the cold")], [])
    target = _piece("t", "Kelp lines", "URL slug", url=url)
    saved = _linking("a", url, "Kelp lines in the cold", kind="article")
    assert not titles_from_references([target, saved], [])


def test_a_title_the_source_gave_is_never_replaced() -> None:
    url = SITE + "kelp-lines"
    target = _piece("t", "Kelp Lines", None, url=url)
    assert not titles_from_references([target, _linking("a", url, "Kelp lines in the cold")], [])


def test_titles_written_out_and_named_titles() -> None:
    slugged = _piece("s", "GPT 45 not a frontier model", "URL slug",
                     url="https://example.org/p/gpt-45-not-a-frontier-model")
    opening = _piece("o", "Hello everyone!", "opening sentence")
    sloped = _piece("n", "Marsh grass notes", "URL slug", url=SITE + "marsh-grass-notes")
    writer = _linking("w", "https://elsewhere.example/x", "x")
    links = [DocLink("w", "s", "title", 'GPT-4.5: "Not a frontier model'),
             DocLink("w", "o", "named", "The Winter Kelp Diaries"),
             DocLink("w", "n", "named", "Why I Count Grass")]
    facts = {(f.doc_id, f.field): f for f in
             titles_from_references([slugged, opening, sloped, writer], links)}
    assert facts[("s", "title")].value == "GPT-4.5: Not a frontier model"  # unbalanced quote dropped
    assert facts[("s", "title")].basis == "title as written in w"
    assert facts[("o", "title")].value == "The Winter Kelp Diaries"
    assert facts[("o", "title")].basis == "named in w"
    assert facts[("o", "aliases")].value == ["Hello everyone!"]
    # a named title that does not fit the URL slug: known as, not the title
    assert ("n", "title") not in facts
    assert facts[("n", "aliases")].value == ["Why I Count Grass"]


def test_clean_title() -> None:
    assert _clean_title("“The American DeepSeek Project”") == "The American DeepSeek Project"
    assert _clean_title("OpenAI\\'s o1 using \\\"search\\\" was a PSYOP") == \
        'OpenAI\'s o1 using "search" was a PSYOP'


def test_slug_titles_are_respelt_only_from_the_pieces_own_spelling(archive) -> None:
    docs, links = archive
    e4 = by_position(docs, "tidewater-feed.txt", "line 8")
    title = fact(infer(docs, links), e4, "title")
    assert title and title.value == "The Corps 2.0 plan and Maren's notes"
    assert title.basis == "URL slug, spelt as the piece's own text spells it"
    body = "GPT-4.5 is here. We tested GPT-4.5 for a week; OpenAI's launch was quiet."
    assert respell_slug_title("GPT 45 not a frontier model", "gpt-45-not-a-frontier-model",
                              body) == "GPT-4.5 not a frontier model"
    # no spelling in the text: nothing guessed
    assert respell_slug_title("GPT 45 not a frontier model", "gpt-45-not-a-frontier-model",
                              "A model came out.") is None
    # the text also spells it the slug's way ("its"): ambiguous, left alone
    assert respell_slug_title("Its the tide", "its-the-tide",
                              "It's late. The bay and its tide. It's cold.") is None


# --- 3. dates as bounds ------------------------------------------------------------------------

def test_feed_order_bounds_undated_pieces_between_dated_neighbours(archive) -> None:
    docs, links = archive
    facts = infer(docs, links)
    e1, e3, e4 = (by_position(docs, "tidewater-feed.txt", f"line {n}") for n in (5, 7, 8))
    for e in (e3, e4):
        early, late = fact(facts, e, "date_earliest"), fact(facts, e, "date_latest")
        assert early and late and (early.value, late.value) == ("2025-01-06", "2025-03-04")
        assert "tidewater-feed.txt order (newest first (as its dated items show))" in early.basis
        assert "January 6th, 2025" in early.basis and "March 4th, 2025" in late.basis
    assert fact(facts, e1, "date_earliest").value == "2025-03-04"  # newest: no upper bound
    assert fact(facts, e1, "date_latest") is None


def test_citations_bound_dates_both_ways(archive) -> None:
    docs, links = archive
    facts = infer(docs, links)
    review = next(d for d in docs if d.kind == "post")
    gauge = by_position(docs, "tidewater-directory-page.txt", "line 12")
    tables = by_position(docs, "tidewater-directory-page.txt", "line 10")
    late = fact(facts, gauge, "date_latest")
    assert late and late.value == "2025-12-30" and late.basis.startswith(f"link from {review.id}")
    early = fact(facts, tables, "date_earliest")
    assert early and early.value == "2025-12-30" and early.basis.startswith(f"link to {review.id}")
    assert fact(facts, gauge, "date_earliest") is None  # nothing older is dated: no made-up bound


def _dated(id: str, position: str, date: str | None, source: str = "feed.txt") -> Document:
    return Document(id, "episode", source, position, "x", date=date)


def test_an_ascending_source_is_read_in_its_own_order() -> None:
    docs = [_dated("a", "line 1", "2025-01-01"), _dated("b", "line 2", None),
            _dated("c", "line 3", "2025-02-01")]
    facts = {(f.doc_id, f.field): f.value for f in date_bounds(docs, [])}
    assert facts == {("b", "date_earliest"): "2025-01-01", ("b", "date_latest"): "2025-02-01"}


def test_contradicting_evidence_gives_no_bound() -> None:
    # the source's dated items disagree with any order: no order bounds at all
    docs = [_dated("a", "line 1", "2025-01-01"), _dated("b", "line 2", None),
            _dated("c", "line 3", "2025-03-01"), _dated("d", "line 4", "2025-02-01")]
    assert date_bounds(docs, []) == []
    # order says no later than 2025-01-01, a citation says no earlier than 2025-06-01: dropped
    docs = [_dated("a", "line 1", "2025-01-01"), _dated("b", "line 2", None),
            _dated("c", "line 3", "2024-12-01"),
            _dated("r", "whole file", "2025-06-01", source="review.md")]
    assert date_bounds(docs, [DocLink("b", "r", "link", SITE + "r")]) == []


def test_month_dates_bound_by_their_whole_month() -> None:
    docs = [_dated("a", "line 1", "2025-02-01"), _dated("b", "line 2", None),
            _dated("c", "line 3", "2024-11-01")]
    docs[0].metadata["date_precision"] = "month"
    facts = {(f.doc_id, f.field): f.value for f in date_bounds(docs, [])}
    assert facts[("b", "date_latest")] == "2025-02-28"


def test_no_date_is_ever_set_by_inference(archive) -> None:
    """Every ``date`` fact is a date some copy of the piece states, as precise as that copy
    states it (a year stays a year); bounds are never dates."""
    docs, links = archive
    stated = {(d.duplicate_of or d.id, d.date) for d in docs if d.date}
    kinds = {(d.duplicate_of or d.id, d.date): precision(d) for d in docs if d.date}
    facts = [f for fs in infer(docs, links).values() for f in fs.values()]
    assert any(f.field.startswith("date_") for f in facts)
    applied = {d.id: d for d in apply_facts(docs, facts)}
    for f in facts:
        if f.field == "date":
            assert (f.doc_id, f.value) in stated
            assert precision(applied[f.doc_id]) == kinds[(f.doc_id, f.value)]
    for d in applied.values():  # a dated piece's bounds are its period, never a tighter "day"
        if d.date and (d.date_earliest or d.date_latest):
            assert (d.date_earliest, d.date_latest) == period(d) != (d.date, d.date)
    assert not [f for f in date_bounds(docs, links) if f.field == "date"]
    # the documents themselves are untouched
    assert {(d.duplicate_of or d.id, d.date) for d in docs if d.date} == stated


def test_link_citations_give_their_link_text() -> None:
    url = SITE + "kelp-lines"
    target = _piece("t", "Kelp lines", "URL slug", url=url)
    writer = _linking("w", "https://elsewhere.example/x", "x")
    links = [DocLink("w", "t", "link", f"{url} [link text: Kelp lines in the cold]")]
    (title,) = [f for f in titles_from_references([target, writer], links) if f.field == "title"]
    assert title.value == "Kelp lines in the cold" and title.basis == "link text in w"
    bare = [DocLink("w", "t", "link", url)]  # a URL alone names no title
    assert not titles_from_references([target, writer], bare)


def test_one_dated_item_gives_no_order() -> None:
    # a feed with a single dated item shows no order: nothing is bounded by position
    docs = [_dated("a", "line 1", "2025-01-01"), _dated("b", "line 2", None),
            _dated("c", "line 3", None)]
    assert date_bounds(docs, []) == []


def test_a_copy_gives_its_date_with_its_precision() -> None:
    canon = Document("c", "post", "posts", "whole file", "x")
    copy = Document("k", "post", "dump", "line 1", "x", date="2021-01-01", duplicate_of="c",
                    metadata={"date_precision": "year"})
    facts = reconcile_copies([canon, copy])
    got = {f.field: f.value for f in facts}
    assert got == {"date": "2021-01-01", "date_earliest": "2021-01-01", "date_latest": "2021-12-31"}
    (done,) = [d for d in apply_facts([canon, copy], facts) if d.id == "c"]
    assert precision(done) == "year" and when_text(done) == "2021"


def test_a_year_anchors_bounds_with_its_whole_period() -> None:
    # a feed newest first: b lies between "2021" and 2020-03-01 -> no later than 2021-12-31
    docs = [_dated("a", "line 1", "2021-01-01"), _dated("b", "line 2", None),
            _dated("c", "line 3", "2020-03-01")]
    docs[0].metadata = {"date_precision": "year"}
    facts = {(f.doc_id, f.field): f.value for f in date_bounds(docs, [])}
    assert facts == {("b", "date_earliest"): "2020-03-01", ("b", "date_latest"): "2021-12-31"}


def test_a_corrected_date_is_a_day() -> None:
    d = Document("a", "post", "posts", "whole file", "x", date="2021-01-01",
                 metadata={"date_precision": "year"})
    (base,) = as_read([d], {}, {"a": {"date": "2021-05-03"}})
    assert precision(base) == "day" and period(base) == ("2021-05-03", "2021-05-03")
