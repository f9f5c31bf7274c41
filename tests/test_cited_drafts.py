"""`related` and the archive graph with quotations and titles known nowhere else: a draft that
quotes an earlier piece, or names it by a title the library does not know ("In my post <Title>,
I argued…"), gets that piece first, marked cited with the quoted span or the title as written;
a draft that only shares the topic is not marked cited. A small self-written library embedded
by the hash embedder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import hash_library

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "eval"))
from quote_cases import _BIKES, _COMPOST, _HARBOUR  # noqa: E402


def post(title: str, date: str, body: str) -> str:
    return f"---\ntitle: \"{title}\"\ndate: {date}\ntype: newsletter\n---\n{body}\n"


LATER = ("Ten years on I went back to the quay. As I wrote back then: the hard part of a "
         "cooperative is never the fish, it is the trust between families who have undercut each "
         "other for three generations and still remember every slight.\n\n"
         "In my post The Slow Fire by the Back Door, I argued that compost heaps fail when people "
         "want the fire without the patience.\n")


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    files = {
        "harbour.md": post("The Harbour Cooperative", "2023-03-01", _HARBOUR),
        "compost.md": post("Scraps on Our Street", "2023-04-01", _COMPOST),
        "bikes.md": post("Eleven Years on Two Wheels", "2023-05-01", _BIKES),
        "later.md": post("Back at the Quay", "2024-06-01", LATER),
    }
    with hash_library(tmp_path_factory.mktemp("cited"), files) as library:
        yield library


def ids(lib) -> dict[str, str]:
    return {d.title: d.id for d in lib.list()}


def test_a_draft_quoting_a_piece_gets_it_first_with_the_quoted_passage(lib):
    draft = ("Notes for a talk on fishing towns. Someone read me my own line: \"The hard part of a "
             "cooperative is never the fish, it is the trust between families who have undercut "
             "each other for three generations.\" Then we talked about ice plants and buyers.")
    hits = lib.related(draft, k=3)
    harbour = ids(lib)["The Harbour Cooperative"]
    assert hits[0].doc.id == harbour
    assert hits[0].reason.startswith(f"cited in the draft (quote: quotes {harbour} ¶")
    assert "The hard part of a cooperative is never the fish" in hits[0].reason
    assert "The hard part of a cooperative" in hits[0].passages[0][0].text
    assert [h for h in hits[1:] if h.reason and h.reason.startswith("cited")] == []


def test_a_draft_naming_a_piece_by_an_unknown_title_gets_it_first(lib):
    draft = ("In my post Patience and the Borrowed Bin, I argued that a street follows the "
             "neighbours with allotments who know what good soil smells like.\n\nThis draft is "
             "about something else entirely.")
    hits = lib.related(draft, k=3)
    assert hits[0].doc.id == ids(lib)["Scraps on Our Street"]
    assert hits[0].reason == "cited in the draft (named: Patience and the Borrowed Bin)"


def test_a_draft_sharing_only_the_topic_is_not_marked_cited(lib):
    draft = ("Fishing cooperatives are older than most people think: herring fleets ran shared "
             "curing sheds, and the trust between crews was built on debt as much as kinship.")
    hits = lib.related(draft, k=3)
    assert hits and not any((h.reason or "").startswith("cited") for h in hits)
    assert lib.references(draft) == []


def test_the_graph_holds_quotations_and_named_titles(lib):
    names = ids(lib)
    links = lib.links(names["Back at the Quay"])
    cites = {other.title: (lk.how, lk.evidence) for lk, other in links["cites"]}
    assert cites["The Harbour Cooperative"][0] == "quote"
    assert cites["The Harbour Cooperative"][1] == (
        f"quotes {names['The Harbour Cooperative']} ¶0: The hard part of a cooperative is never the "
        "fish, it is…")
    assert cites["Scraps on Our Street"] == ("named", "The Slow Fire by the Back Door")
    assert "Eleven Years on Two Wheels" not in cites
    back = lib.links(names["The Harbour Cooperative"])["cited_by"]
    assert [(other.title, lk.how) for lk, other in back] == [("Back at the Quay", "quote")]
