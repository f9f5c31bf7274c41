"""Quotations as citations (index/quotes.py): a later piece repeating an earlier one word for
word, furniture and copies left out, the direction from dates or the quoting piece's cues, in
the archive graph and first in `related` for a draft. Self-written texts (the harbour, compost
and cycling pieces of eval/quote_cases.py); the threshold is the tune choice of
eval/quotes_eval.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from backlist.index.citations import citation_graph
from backlist.index.quotes import QUOTE_MIN_WORDS, QuoteIndex, introduces
from backlist.model import Document

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "eval"))
from quote_cases import _BIKES, _COMPOST, _HARBOUR, _TRAINS, HELD_OUT, TUNE  # noqa: E402
from quotes_eval import found, score  # noqa: E402


def doc(id: str, text: str, date: str | None = None, **kw) -> Document:
    return Document(id=id, kind=kw.pop("kind", "post"), source=f"{id}.md", position="1",
                    text=text, date=date, **kw)


def test_the_threshold_is_the_tune_choice() -> None:
    """Fewest errors on the tune cases, then fewest false citations, then the shortest."""
    ranked = []
    for n in range(8, 41):
        _, fp, fn, _ = score(TUNE, n)
        ranked.append((fp + fn, fp, n))
    assert min(ranked)[2] == QUOTE_MIN_WORDS


def test_held_out_cases_make_no_false_citation() -> None:
    assert HELD_OUT, "the held-out set is written"
    tp, fp, fn, wrong = score(HELD_OUT, QUOTE_MIN_WORDS)
    assert fp == 0, wrong
    assert tp >= fn, wrong


SHORT = {"a sentence of thirteen words repeated, dated", "fifteen words with a cue, undated"}


@pytest.mark.parametrize("case", [c for c in TUNE if c.quote and c.name not in SHORT],
                         ids=lambda c: c.name)
def test_long_quotations_are_found(case) -> None:
    assert found(case, QUOTE_MIN_WORDS)


QUOTED = ("the hard part of a cooperative is never the fish, it is the trust between families who "
          "have undercut each other for three generations")
SIGN_OFF = ("Thanks for reading the Quay Letter. If someone forwarded this to you, you can sign up "
            "for free at the harbour office and every reply reaches me directly.")


def test_a_quotation_in_the_graph_with_its_passage_and_first_words() -> None:
    docs = [doc("harbour", _HARBOUR, "2023-03-01"),
            doc("later", "Ten years on. As I wrote back then: " + QUOTED + ". Still true.",
                "2024-05-01")]
    links = citation_graph(docs, paragraph=lambda doc_id, offset: 1 if offset > 10 else 0)
    assert [(lk.source_id, lk.target_id, lk.how) for lk in links] == [("later", "harbour", "quote")]
    assert links[0].evidence == "quotes harbour ¶1: The hard part of a cooperative is never the fish, it is…"


def test_furniture_in_many_pieces_is_not_a_quotation() -> None:
    bodies = [_HARBOUR, _COMPOST, _BIKES, _TRAINS]
    pieces = [doc(f"p{i}", body + "\n\n" + SIGN_OFF, f"2024-0{i + 1}-01")
              for i, body in enumerate(bodies)]
    assert QuoteIndex(pieces).quotes() == []
    assert QuoteIndex(pieces[:2]).quotes(), "in two pieces only, the same words are a quotation"


def test_copies_and_excerpts_are_not_quotations() -> None:
    copy = doc("copy", _HARBOUR, "2024-01-01")
    excerpt = doc("excerpt", _HARBOUR[:400], "2024-02-01")
    assert QuoteIndex([doc("h", _HARBOUR, "2023-01-01"), copy]).quotes() == []
    assert QuoteIndex([doc("h", _HARBOUR, "2023-01-01"), excerpt]).quotes() == []
    marked = doc("dup", _HARBOUR, "2024-01-01", duplicate_of="h")
    assert QuoteIndex([doc("h", _HARBOUR, "2023-01-01"), marked]).quotes() == []


def test_direction_from_dates_then_cues() -> None:
    earlier = doc("bikes", _BIKES, None)
    later = doc("note", "A reader reminded me: “the real obstacle to cycling in a small city is "
                "not hills or rain but the sense that you are doing something slightly eccentric”.",
                None)
    q = QuoteIndex([later, earlier]).quotes()
    assert [(x.source_id, x.target_id) for x in q] == [("note", "bikes")]
    # dated the other way round, the dates decide… unless both mark it as quoted
    earlier.date, later.date = "2025-01-01", "2020-01-01"
    assert [(x.source_id, x.target_id) for x in QuoteIndex([later, earlier]).quotes()] == \
        [("bikes", "note")]
    # "2020" (a year) and 2020-05-03 overlap: the dates give no order, the cue decides
    earlier.date, later.date = "2020-05-03", "2020-01-01"
    later.metadata = {"date_precision": "year"}
    assert [(x.source_id, x.target_id) for x in QuoteIndex([later, earlier]).quotes()] == \
        [("note", "bikes")]
    later.metadata = {}  # as a day, 2020-01-01 is older: the bikes piece quotes it
    assert [(x.source_id, x.target_id) for x in QuoteIndex([later, earlier]).quotes()] == \
        [("bikes", "note")]
    plain = doc("plain", "Then this: " + _BIKES.split("\n\n")[1], None)
    assert QuoteIndex([plain, doc("bikes", _BIKES.replace("The real", "“The real"), None)]).quotes() == []


def test_introduces() -> None:
    text = "As I wrote then, nothing. Elsewhere the span sits alone here."
    assert not introduces(text, text.index("the span"), text.index(" alone"))
    assert introduces("I said: span", 8, 12)
    assert introduces("x\n> span", 4, 8)
    assert introduces("He wrote “span” once", 10, 14)
    elided = "This line from my interview was spot on:My worry is that... span goes on"
    assert introduces(elided, elided.index("span"), len(elided))
    label = "Ana Ruiz: span goes on"
    assert not introduces(label, label.index("span"), len(label)), "a speaker label is no cue"
    inner = "A good example is the episode with Ana Ruiz:One question I had was this"
    assert introduces(inner, inner.index("with"), len(inner)), "the span holds its introduction"
    own = "Watching bees looks like doing nothing: standing by the hive"
    assert not introduces(own, 0, len(own)), "a colon inside one's own sentence"


def test_a_draft_quoting_a_piece_against_the_index() -> None:
    index = QuoteIndex([doc("harbour", _HARBOUR, "2023-03-01"), doc("compost", _COMPOST, "2023-04-01")])
    draft = "Draft. Someone once told me that " + QUOTED.upper() + " and I believed it."
    got = index.quotes_in(draft)
    assert [(q.target_id, q.words) for q in got] == [("harbour", 25)]  # 24 quoted + "and"
    assert draft[got[0].source_start:got[0].source_end].lower() == QUOTED.lower() + " and"
    assert index.quotes_in("A draft about the harbour cooperative and the freezer.") == []
    assert index.quotes_in(_HARBOUR + " One more line.") == [], "a copy quotes nothing"


def test_index_has_no_pairwise_work_over_documents() -> None:
    """Unrelated pieces share no run of SHINGLE words: no candidate pair at all, however many."""
    docs = [doc(f"d{i}", " ".join(f"w{i}x{j}" for j in range(300))) for i in range(300)]
    index = QuoteIndex(docs)
    assert len(index._shared[0]) == 0
    assert index.shared_spans() == {}
