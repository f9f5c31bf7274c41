"""Passages never mix speakers; offsets stay true; documents without turns chunk as before."""

from __future__ import annotations

from pathlib import Path

from backlist.index.chunking import chunk
from backlist.ingest.base import ReadContext
from backlist.ingest.feed import read_feed
from backlist.ingest.transcript import turns_text
from backlist.model import Document, Turn


def words(texts):
    return [len(t.split()) for t in texts]


def sentence(n: int, word: str = "compost") -> str:
    return " ".join([word] * (n - 1)) + " end."


def interview() -> Document:
    turns = [
        Turn("Odile Brand", "Welcome back to the show."),
        Turn("Tomas Reyes", " ".join(sentence(30, f"leek{i}") for i in range(10)) + " lateword here."),
        Turn("Odile Brand", "Thanks."),
        Turn("Wen Li", "Garlic goes in after the first frost."),
    ]
    notes = "Show notes about leeks and garlic."
    return Document(id="d1", kind="episode", source="x", position="item 1",
                    text=notes + "\n\n" + turns_text(turns), turns=turns)


def test_one_speaker_per_passage_and_true_offsets():
    doc = interview()
    passages = chunk(doc, max_tokens=100, counter=words)
    assert [p.speaker for p in passages] == [None, "Odile Brand", "Tomas Reyes", "Tomas Reyes",
                                             "Tomas Reyes", "Tomas Reyes", "Odile Brand", "Wen Li"]
    for p in passages:
        assert doc.text[p.start:p.end] == p.text
    assert passages[0].text == "Show notes about leeks and garlic."
    assert passages[6].text == "Odile Brand: Thanks."
    # the last words of a long turn are in a passage of that speaker
    late = next(p for p in passages if "lateword" in p.text)
    assert late.speaker == "Tomas Reyes" and "Odile" not in late.text
    assert all(sum(words([p.text])) <= 100 for p in passages)


def test_short_turns_are_not_merged_across_speakers():
    turns = [Turn("Odile Brand", "Hello."), Turn("Wen Li", "Hi."), Turn("Odile Brand", "Ready?")]
    doc = Document(id="d2", kind="transcript", source="x", position="", text=turns_text(turns), turns=turns)
    passages = chunk(doc, counter=words)
    assert [(p.speaker, p.text) for p in passages] == [
        ("Odile Brand", "Odile Brand: Hello."), ("Wen Li", "Wen Li: Hi."),
        ("Odile Brand", "Odile Brand: Ready?")]


def test_text_rebuilt_differently_from_turns_still_finds_speakers():
    # a text dump keeps its own wording of the turns (glued lines), so the text is not turns_text
    turns = [Turn("Odile Brand", "Frost\ntonight."), Turn("Wen Li", "Cover\nthe chard.")]
    text = "Episode page intro.\n\nOdile Brand: Frost tonight.\n\nWen Li: Cover the chard."
    doc = Document(id="d3", kind="episode", source="x", position="", text=text, turns=turns)
    passages = chunk(doc, counter=words)
    assert [(p.speaker, p.text) for p in passages] == [
        (None, "Episode page intro."), ("Odile Brand", "Odile Brand: Frost tonight."),
        ("Wen Li", "Wen Li: Cover the chard.")]


def test_documents_without_turns_chunk_as_before():
    paras = [sentence(40), "Update: " + sentence(40, "mulch"), sentence(40, "kale")]
    doc = Document(id="d4", kind="post", source="x", position="", text="\n\n".join(paras))
    passages = chunk(doc, max_tokens=100, counter=words)
    # paragraphs fill a passage up to the window; a "Name: " paragraph only splits after 60 tokens
    assert [(p.start, p.end) for p in passages] == [(0, len(paras[0]) + 2 + len(paras[1])),
                                                    (len(doc.text) - len(paras[2]), len(doc.text))]
    assert [p.speaker for p in passages] == ["Update", None]


def test_feed_episode_passages_keep_speakers():
    feed = Path(__file__).parent / "fixtures" / "feeds" / "night-garden.xml"
    seeds = next(d for d in read_feed(str(feed), ReadContext()) if d.title == "Seed swaps and saving squash")
    passages = chunk(seeds, counter=words)
    assert [p.speaker for p in passages] == [None, "Odile Brand", "Wen Li", "Odile Brand", "Wen Li"]
    assert passages[2].text == "Wen Li: Squash cross freely, so a seed from a mixed bed rarely comes true."
    for p in passages:
        assert seeds.text[p.start:p.end] == p.text


def test_a_heading_opens_the_passage_after_it():
    paras = [sentence(50), sentence(40, "mulch"), "Why the kale bolted", sentence(50, "kale"),
             "- a list item without a stop", sentence(60, "leek")]
    doc = Document(id="d5", kind="post", source="x", position="", text="\n\n".join(paras))
    passages = chunk(doc, max_tokens=100, counter=words)
    assert [p.text.split("\n\n")[0] for p in passages] == [paras[0], "Why the kale bolted", paras[5]]
    assert passages[1].text == "\n\n".join(paras[2:5])  # a list item is no heading: it stays
    assert passages[0].text.endswith("mulch end.")
    for p in passages:
        assert doc.text[p.start:p.end] == p.text and sum(words([p.text])) <= 100
