"""Transcripts as hosts export them: labels on the first caption of a turn only, voices,
entities and tags in captions, Podcasting 2.0 JSON, and the plain-text exports."""

from __future__ import annotations

from pathlib import Path

import pytest

from backlist.errors import IngestError
from backlist.ingest import detect_kind
from backlist.ingest.base import ReadContext
from backlist.ingest.transcript import (
    looks_like_json_transcript,
    parse_transcript,
    read_transcript_file,
)

HERE = Path(__file__).parent / "fixtures" / "transcripts"


def read(name: str):
    return next(read_transcript_file(HERE / name, ReadContext()))


def speaker_of(doc, word: str) -> str | None:
    return next(t.speaker for t in doc.turns if word in t.text)


def test_label_once_srt_every_word_belongs_to_its_speaker():
    doc = read("label-once.srt")  # BOM, CRLF, a missing blank line, labels on first captions only
    assert [t.speaker for t in doc.turns] == ["Odile Brand", "Tomas Reyes", "Odile Brand", "Tomas Reyes"]
    # "mulch" is four captions after Tomas Reyes' label, in a caption with no label
    assert speaker_of(doc, "mulch") == "Tomas Reyes"
    assert doc.turns[1].text == (
        "Thanks. My raised bed floods every March. I tried sand, and the note from the county "
        "said: add more compost. Note: the bed sits below the patio, so maybe it is a drainage "
        "problem, not mulch.")
    assert doc.turns[1].start == "00:00:04"


def test_uppercase_label_shown_in_title_case_and_entities_decoded():
    doc = read("label-once.srt")
    # "ODILE BRAND:" once and ">> Odile Brand:" once are the same speaker
    assert doc.speakers == ["Odile Brand", "Tomas Reyes"]
    assert doc.turns[0].text == "Welcome to the Q&A hour. First caller, go ahead."
    assert "Note" not in doc.speakers  # a word and a colon, once, inside dialogue


def test_vtt_voices_notes_tags_and_entities():
    doc = read("voices.vtt")
    assert [t.speaker for t in doc.turns] == ["Odile Brand", "Wen Li", "Odile Brand", "Wen Li", "Odile Brand"]
    assert doc.turns[0].text == "Our next caller grows tomatoes & peppers on a balcony."
    # the unlabelled caption after <v Wen Li> is still Wen Li's; the inline timestamp is gone
    assert doc.turns[1].text == ("Hi! My peppers drop their flowers every July. The pots sit on the "
                                 "south rail <in full sun> all afternoon.")
    # two voices in one cue are two turns; NOTE blocks are never captions
    assert doc.turns[3].text == "Shade cloth, then?"
    assert "comment" not in doc.text and "color" not in doc.text


def test_json_transcript_file():
    doc = read("kitchen-garden.json")
    assert doc.metadata["format"] == "json" and doc.kind == "transcript"
    assert [(t.speaker, t.start) for t in doc.turns] == [
        ("Odile Brand", "00:00:00"), ("Tomas Reyes", "00:00:03"), ("Odile Brand", "01:02:05")]
    assert doc.turns[1].text == "Low phosphorus, and a pH of six point two."


def test_json_transcript_detection():
    head = (HERE / "kitchen-garden.json").read_text()[:120]
    assert looks_like_json_transcript(head)
    assert not looks_like_json_transcript('{"chapters": [{"startTime": 0, "title": "Intro"}]}')
    assert not looks_like_json_transcript('[{"segments": []}]')
    assert detect_kind(HERE / "kitchen-garden.json") == "transcript"


def test_malformed_json_transcript_is_one_clear_problem(tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text('{"version": "1.0.0", "segments": [{"speaker": "Wen Li", "body": "hi"')
    with pytest.raises(IngestError) as err:
        list(read_transcript_file(bad, ReadContext()))
    assert err.value.path == str(bad) and err.value.reason.startswith("malformed JSON transcript")


def test_text_labels_with_times_and_continuation_lines():
    doc = read("call-in.txt")
    assert [t.speaker for t in doc.turns] == [None, "Odile Brand", "Wen Li", "Odile Brand", "Wen Li"]
    assert speaker_of(doc, "garlic") == "Wen Li"  # a line of its own after Wen's label


def test_otter_text_export():
    doc = read("otter-export.txt")
    assert [(t.speaker, t.start) for t in doc.turns] == [
        ("Odile Brand", "0:02"), ("Tomas Reyes", "0:07"), ("Odile Brand", "0:12")]
    assert doc.turns[1].text == "Mine bolted in May. Was it the cold?"


def test_a_name_once_is_not_a_speaker_unless_known():
    srt = ("1\n00:00:00,000 --> 00:00:02,000\nOdile Brand: Hello.\n\n"
           "2\n00:00:02,000 --> 00:00:04,000\nWen Li: Hi there.\n\n"
           "3\n00:00:04,000 --> 00:00:06,000\nOdile Brand: Welcome.\n")
    turns = parse_transcript(srt, "srt", "x.srt")
    assert [t.speaker for t in turns] == ["Odile Brand"]
    assert turns[0].text == "Hello. Wen Li: Hi there. Welcome."
    known = parse_transcript(srt, "srt", "x.srt", known=["Wen Li"])  # e.g. a podcast:person
    assert [t.speaker for t in known] == ["Odile Brand", "Wen Li", "Odile Brand"]


def test_bracket_labels_and_sound_cues():
    text = ("[Odile Brand] Morning.\n[Music]\n[Wen Li] Morning!\n[Music]\n"
            "[Odile Brand] Seeds today.\n[Wen Li] Yes.")
    turns = parse_transcript(text, "txt", "x.txt")
    assert [t.speaker for t in turns] == ["Odile Brand", "Wen Li", "Odile Brand", "Wen Li"]
    assert turns[0].text == "Morning. [Music]"


def test_html_transcript_form():
    html = ("<cite>Odile Brand:</cite><time>0:00</time><p>Frost tonight.</p>"
            "<cite>Wen Li:</cite><time>0:04</time><p>Cover the chard.</p><p>And the kale.</p>")
    turns = parse_transcript(html, "html", "x.html")
    assert [(t.speaker, t.start, t.text) for t in turns] == [
        ("Odile Brand", "0:00", "Frost tonight."), ("Wen Li", "0:04", "Cover the chard. And the kale.")]


def test_a_known_speakers_label_run_on_after_a_sentence_starts_their_turn():
    # Caption text exported without the line break between turns: the label follows the last
    # sentence directly ("…tonight.Wen Li: …"), or a space after it, or a cut-off word.
    srt = ("1\n00:00:00,000 --> 00:00:04,000\nOdile Brand: Frost is due tonight.Wen Li: Then cover "
           "the chard.\n\n"
           "2\n00:00:04,000 --> 00:00:08,000\nOdile Brand: With fleece? Wen Li: Fleece or straw, "
           "whatever you haveOdile Brand: Straw it is.\n\n"
           "3\n00:00:08,000 --> 00:00:12,000\nWen Li: Note: the straw must be dry. Lift it at "
           "10:30: not before.\n\n"
           "4\n00:00:12,000 --> 00:00:14,000\nOdile Brand: Thanks.Wen Li: Bye!\n")
    turns = parse_transcript(srt, "srt", "x.srt")
    assert [(t.speaker, t.text) for t in turns] == [
        ("Odile Brand", "Frost is due tonight."), ("Wen Li", "Then cover the chard."),
        ("Odile Brand", "With fleece?"), ("Wen Li", "Fleece or straw, whatever you have"),
        ("Odile Brand", "Straw it is."),
        ("Wen Li", "Note: the straw must be dry. Lift it at 10:30: not before."),
        ("Odile Brand", "Thanks."), ("Wen Li", "Bye!")]
    assert [t.start for t in turns][:3] == ["00:00:00", "00:00:00", "00:00:04"]


def test_run_on_labels_in_timed_text_and_for_a_listed_speaker_only():
    text = ("00:00:01 Odile Brand: Welcome back. Who is calling?Tomas Reyes [00:00:04]: Tomas, "
            "from the coast.\n00:00:09 Tomas Reyes: My leeks bolted.Odile Brand: In May?\n"
            "00:00:12 Tomas Reyes: Yes.Ana Ruiz: she wrote about it once.\n")
    turns = parse_transcript(text, "txt", "x.txt")
    assert [(t.speaker, t.start, t.text) for t in turns] == [
        ("Odile Brand", "00:00:01", "Welcome back. Who is calling?"),
        ("Tomas Reyes", "00:00:04", "Tomas, from the coast."),
        ("Tomas Reyes", "00:00:09", "My leeks bolted."),
        ("Odile Brand", None, "In May?"),
        ("Tomas Reyes", "00:00:12", "Yes.Ana Ruiz: she wrote about it once.")]  # not a speaker here
    listed = parse_transcript(text, "txt", "x.txt", known=["Ana Ruiz"])  # e.g. a podcast:person
    assert [t.speaker for t in listed][-2:] == ["Tomas Reyes", "Ana Ruiz"]
