"""The archive's own citation graph and the pieces a draft names (links, titles, phrases).

A fictional writer, Maya Fenn, writes the Tidewater newsletter about coasts, on a custom domain
(tidewater.news) and its Substack twin (tidewater.substack.com)."""

from __future__ import annotations

import pytest

from backlist.index.citations import Reference, citation_graph, find_references, norm_words, parse_url
from backlist.model import Document

SITE = "https://www.tidewater.news/p/"
TWIN = "https://tidewater.substack.com/p/"


def doc(id: str, title: str | None, date: str | None, text: str = "", url: str | None = None,
        **kw) -> Document:
    return Document(id=id, kind=kw.pop("kind", "post"), source="fixture", position=id, text=text,
                    title=title, date=date, url=url, authors=["Maya Fenn"], **kw)


def library() -> list[Document]:
    return [
        doc("reefs", "Why Oyster Reefs Beat Seawalls", "2023-03-10",
            url=SITE + "why-oyster-reefs-beat-seawalls", metadata={"slug": "why-oyster-reefs-beat-seawalls"}),
        doc("pools", "The Quiet Economics of Tide Pools", "2023-06-02",
            url=TWIN + "quiet-economics-of-tide-pools", subtitle="What a rock pool earns a town"),
        doc("pools-audio", "Tide pools (audio)", None, url=SITE + "tide-pools-audio-edition",
            kind="episode", duplicate_of="pools"),
        doc("kelp", "Kelp", "2023-08-01", url=SITE + "kelp"),
        doc("storms", "Storm Season", "2023-08-20", url=SITE + "storm-season"),
        doc("ruiz", "Interview with Ana Ruiz", "2023-09-15", kind="episode",
            speakers=["Maya Fenn", "Ana Ruiz"],
            metadata={"guests": ["Ana Ruiz"], "title_basis": "speaker names"}),
        doc("review23", "Tidewater Year in Review: 2023", "2023-12-30", url=SITE + "tidewater-2023-review"),
        doc("marsh", "Salt Marsh Carbon, Measured Carefully", "2024-05-01", url=SITE + "salt-marsh-carbon"),
        doc("seagrass", "Seagrass After the Heatwave", "2025-02-01",
            url=SITE + "seagrass-after-the-heatwave"),
        doc("wip", "Dunes, Unfinished", None, url=SITE + "dunes-unfinished", is_draft=True),
        doc("shorelines", "Living Shorelines in Practice", None, kind="article",
            url="https://coastjournal.org/living-shorelines-in-practice"),
    ]


def refs(text: str, self_id: str | None = None, date: str = "2024-06-15") -> list[tuple[str, str]]:
    return [(r.doc_id, r.how) for r in find_references(text, library(), self_id=self_id, date=date)]


@pytest.mark.parametrize("text, expected", [
    # the writer's custom domain, Markdown link, trailing slash
    ("Read [the reef piece](https://www.tidewater.news/p/why-oyster-reefs-beat-seawalls/).",
     [("reefs", "link")]),
    # the same post on the writer's other domain (Substack twin), bare URL
    ("Old link: https://tidewater.substack.com/p/why-oyster-reefs-beat-seawalls, still works.",
     [("reefs", "link")]),
    # utm parameters, AMP and a fragment; /slug without /p/
    ("https://tidewater.news/quiet-economics-of-tide-pools/amp?utm_source=x&utm_medium=email#footnote-2",
     [("pools", "link")]),
    # an HTML href to a short slug on the writer's own host
    ('<a href="https://www.tidewater.news/p/kelp">kelp</a>', [("kelp", "link")]),
    # a link to a copy (the audio edition) points to its canonical
    ("Listen: https://www.tidewater.news/p/tide-pools-audio-edition", [("pools", "link")]),
    # a tag page on the writer's host is not a post; a short slug on an unknown host is not enough
    ("https://www.tidewater.news/t/kelp and https://example.org/p/kelp", []),
    # a link to a draft is not a citation
    ("https://www.tidewater.news/p/dunes-unfinished", []),
    # quoted title with a word changed
    ("as I argued in “The Hidden Economics of Tide Pools”, towns undervalue them", [("pools", "title")]),
    # a Title-Cased run with a word dropped
    ("Remember Why Reefs Beat Seawalls? It still holds.", [("reefs", "title")]),
    # a short title needs an exact quoted match
    ("Prepare: “Storm Season” is back.", [("storms", "title")]),
    # phrases
    ("This builds on my post on salt marsh carbon and its critics.", [("marsh", "mention")]),
    ("As I wrote in quiet economics of tide pools, the money is in the shallows.", [("pools", "mention")]),
    ("In my interview with Ana Ruiz we walked the marsh.", [("ruiz", "mention")]),
    ("It came up when I talked to Ana last autumn.", [("ruiz", "mention")]),
    ("Last year's review undersold the dunes.", [("review23", "mention")]),
    ("my post in May on salt marsh carbon", [("marsh", "mention")]),
    ("Years ago I wrote about the quiet economics of tide pools.", [("pools", "title")]),
    ("I've written about the salt marsh carbon question before.", [("marsh", "mention")]),
    # ordinary words that resemble short titles, and a date that rules the only candidate out
    ("Storm season is here, the kelp is thick, and my post on storms is late.", []),
    ("my post last March on salt marsh carbon", []),
    # a date between the owner and the noun: the one piece of that month, or the object within it
    ("As my May 2024 post showed, the numbers hold.", [("marsh", "mention")]),
    ("my August 2023 write-up on storm season", [("storms", "mention")]),
    ("my August 2023 post", []),  # two pieces that month: ambiguous, so nothing
    ("my March piece", []),  # March 2024 (before the draft's date): nothing was published
    # reviews by another name
    ("My 2023 year-end recap was too kind to seawalls.", [("review23", "mention")]),
    ("Last year's annual roundup missed the dunes.", [("review23", "mention")]),
    ("the 2022 recap", []),
    ("my 2023 wrap-up", [("review23", "mention")]),
    # an object that names no title is not the month's one piece; plurals name no one piece
    ("My May 2024 post on quantum gravity and black holes", []),
    ("When I wrote my May 2024 post, what struck me was the cost.", [("marsh", "mention")]),
    ("all my 2023 posts", []),
    ("our May 2024 episode", []),  # the only May 2024 piece is a post
])
def test_find_references(text: str, expected: list[tuple[str, str]]) -> None:
    assert refs(text) == expected


def test_unknown_host_with_a_distinctive_slug_is_accepted_and_said_so() -> None:
    found = find_references("mirrored at https://mirror.example.org/why-oyster-reefs-beat-seawalls",
                            library(), date="2024-06-15")
    assert [(r.doc_id, r.how) for r in found] == [("reefs", "link")]
    assert found[0].evidence == ("https://mirror.example.org/why-oyster-reefs-beat-seawalls"
                                 " (slug on mirror.example.org, not one of the writer's hosts)")


def test_each_piece_once_with_its_best_evidence_in_order_of_position() -> None:
    text = ("In my interview with Ana Ruiz she quoted “The Quiet Economics of Tide Pools”. "
            "Details: https://tidewater.substack.com/p/quiet-economics-of-tide-pools")
    found = find_references(text, library(), date="2024-06-15")
    link_at = text.index("https://")
    assert found == [
        Reference("ruiz", "mention", "my interview with Ana Ruiz", 3, 29),
        Reference("pools", "link", text[link_at:], link_at, len(text)),
    ]


def test_self_and_own_copy_are_never_cited() -> None:
    text = "See https://www.tidewater.news/p/why-oyster-reefs-beat-seawalls and " + TWIN + \
        "quiet-economics-of-tide-pools"
    assert refs(text, self_id="reefs") == [("pools", "link")]
    assert refs(text, self_id="pools-audio") == [("reefs", "link")]  # a copy citing its canonical


def test_find_references_defaults_to_the_pieces_date() -> None:
    found = find_references("Last year's review undersold the dunes.", library(), self_id="marsh")
    assert [(r.doc_id, r.how) for r in found] == [("review23", "mention")]


def test_citation_graph() -> None:
    docs = library()
    by = {d.id: d for d in docs}
    by["marsh"].text = ("Back in [the reef post](" + SITE + "why-oyster-reefs-beat-seawalls), "
                        "and as I wrote in quiet economics of tide pools, value hides in the shallows. "
                        "Next year: https://www.tidewater.news/p/seagrass-after-the-heatwave. "
                        "Unpublished: https://www.tidewater.news/p/dunes-unfinished. "
                        "Also https://www.tidewater.news/p/salt-marsh-carbon (this very post).")
    by["seagrass"].text = ("My post on salt marsh carbon was too cautious. "
                           "The Quiet Economics of Tide Pools holds.")
    by["review23"].text = "The year in a list: kelp, storms, reefs."
    by["review23"].metadata["links"] = [{"text": "kelp", "url": SITE + "kelp"},
                                        SITE + "tide-pools-audio-edition"]
    by["pools-audio"].text = "A reading of https://www.tidewater.news/p/why-oyster-reefs-beat-seawalls"
    by["wip"].text = "Drafting on top of https://www.tidewater.news/p/why-oyster-reefs-beat-seawalls"
    by["shorelines"].text = ("Maya Fenn's " + SITE + "why-oyster-reefs-beat-seawalls is good; "
                             "my post on salt marsh carbon disagrees.")
    by["kelp"].text = "Unlike Storm Season, kelp needs calm water; see Why Oyster Reefs Beat Seawalls."
    got = sorted((link.source_id, link.target_id, link.how) for link in citation_graph(docs))
    assert got == [
        ("kelp", "reefs", "title"),
        ("marsh", "pools", "mention"),
        ("marsh", "reefs", "link"),
        ("review23", "kelp", "link"),
        ("review23", "pools", "link"),
        ("seagrass", "marsh", "mention"),
        ("seagrass", "pools", "title"),
        ("shorelines", "reefs", "link"),
    ]


def test_a_piece_cannot_cite_a_later_one_but_undated_pieces_link_both_ways() -> None:
    docs = library()
    by = {d.id: d for d in docs}
    by["reefs"].text = "Update: see https://www.tidewater.news/p/salt-marsh-carbon"  # 2023 -> 2024: dropped
    by["shorelines"].text = "https://www.tidewater.news/p/seagrass-after-the-heatwave"  # undated source: kept
    got = sorted((link.source_id, link.target_id, link.how) for link in citation_graph(docs))
    assert got == [("shorelines", "seagrass", "link")]


def test_helpers() -> None:
    assert norm_words("GPT-4.5: OpenAI’s Tülu") == ("gpt", "45", "openais", "tulu")
    assert parse_url("https://amp.Tidewater.news/p/kelp/amp/?utm_source=x#y") == (
        "tidewater.news", ["p", "kelp"])
    assert parse_url("https://www-tidewater-news.cdn.ampproject.org/c/s/www.tidewater.news/p/kelp") == (
        "tidewater.news", ["p", "kelp"])


def test_link_evidence_carries_the_link_text() -> None:
    from backlist.index.citations import parse_link_evidence

    docs = library()
    by = {d.id: d for d in docs}
    by["kelp"].text = ("Markdown: [Reefs, not walls](" + SITE + "why-oyster-reefs-beat-seawalls). "
                       'HTML: <a href="' + TWIN + 'quiet-economics-of-tide-pools">the <b>pools</b> '
                       "piece</a>.")
    by["marsh"].text = "Bare: " + SITE + "kelp"
    by["review23"].text = "The year in a list."
    by["review23"].metadata["links"] = [{"text": " Storm\n Season ", "url": SITE + "storm-season"}]
    got = {(lk.source_id, lk.target_id): lk.evidence for lk in citation_graph(docs) if lk.how == "link"}
    assert got[("kelp", "reefs")] == SITE + "why-oyster-reefs-beat-seawalls [link text: Reefs, not walls]"
    assert got[("kelp", "pools")] == TWIN + "quiet-economics-of-tide-pools [link text: the pools piece]"
    assert got[("marsh", "kelp")] == SITE + "kelp"
    assert got[("review23", "storms")] == SITE + "storm-season [link text: Storm Season]"
    assert parse_link_evidence(got[("kelp", "reefs")]) == (
        SITE + "why-oyster-reefs-beat-seawalls", "Reefs, not walls")
    assert parse_link_evidence(got[("marsh", "kelp")]) == (SITE + "kelp", None)
    assert parse_link_evidence("https://x.org/p/a-b-c (slug on x.org, not one of the writer's hosts)") \
        == ("https://x.org/p/a-b-c", None)


@pytest.mark.parametrize("text, titles", [
    ("In my post The Quiet Reef Ledger, I argued that reefs pay.", ["The Quiet Reef Ledger"]),
    ('See my essay "Salt and the Long Shore" for the numbers.', ["Salt and the Long Shore"]),
    ("my piece called *Nine Boats and a Freezer*, I said", ["Nine Boats and a Freezer"]),
    ("My column, “The Long Quay”, argued", ["The Long Quay"]),
    ("In my post Why Oyster Reefs Beat Seawalls, I argued", []),  # a known title: not named
    ("In my post I wrote that reefs pay", []),
    ("In my post A Thing, yes", []),  # one content word
    ("my post on the quiet reef ledger", []),  # "on X" is a subject, not a title
    ("her post The Quiet Reef Ledger says", []),  # not the writer's
])
def test_named_titles(text: str, titles: list[str]) -> None:
    from backlist.index.citations import CitationIndex, named_titles

    assert [n.title for n in named_titles(CitationIndex(library()), text)] == titles
