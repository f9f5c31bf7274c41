"""Text dumps of a podcast feed (one episode per line) as they come: speaker labels run on into
the previous sentence, publication furniture repeated in every episode, headings glued to the
sentence after them. All text here is self-written in the dumps' shape."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from backlist.index.chunking import chunk
from backlist.ingest.base import ReadContext
from backlist.ingest.textdump import read_dump, split_dump

ROOT = Path(__file__).resolve().parent.parent


def words(texts):
    return [len(t.split()) for t in texts]


def filler(topic: str, n: int, first: int = 0) -> str:
    return "".join(f"The {topic} count in plot {i} rose by {i + 2} percent over the season. "
                   for i in range(first, first + n))


# An interview line as the dump holds it: an intro, then turns whose labels follow the previous
# sentence with no space ("…tonight.Wen Li: …"), after "?" or "…", or glued to a cut-off word.
INTERVIEW = (
    "https://garden.example/p/frost-and-fleece" "This week I talk with Wen Li about frost. "
    + filler("chard", 3).strip()
    + "Odile Brand: Welcome to the show, Wen. Frost is due tonight.Wen Li: Then cover the chard. "
    "Note: the fleece must be dry.Odile Brand: With fleece? Or straw?Wen Li: Fleece or straw, "
    "whatever you haveOdile Brand: Straw it is. We lift it at 10:30: not before.Wen Li: Good…"
    "Odile Brand: Thanks for coming on.Wen Li: Bye! Tomas Reyes: he wrote to us once. "
    + filler("leek", 2)
)


def interview_file(tmp_path: Path) -> Path:
    essay = "https://garden.example/p/leeks-in-may" + filler("leek", 40)
    other = filler("garlic", 40)
    third = filler("kale", 40)
    path = tmp_path / "garden-feed.txt"
    path.write_text(f"Night Garden\nNight Garden\n\nA show about growing food at night.\n\n"
                    f"{INTERVIEW}\n{essay}\n{other}\n{third}\n", encoding="utf-8")
    return path


def test_run_on_labels_of_known_speakers_start_their_own_turns():
    _, episodes = split_dump(f"Night Garden\n\n{INTERVIEW}\n")
    turns = episodes[0].turns
    assert [(t.speaker, t.text) for t in turns] == [
        ("Odile Brand", "Welcome to the show, Wen. Frost is due tonight."),
        ("Wen Li", "Then cover the chard. Note: the fleece must be dry."),
        ("Odile Brand", "With fleece? Or straw?"),
        ("Wen Li", "Fleece or straw, whatever you have"),
        ("Odile Brand", "Straw it is. We lift it at 10:30: not before."),
        ("Wen Li", "Good…"),
        ("Odile Brand", "Thanks for coming on."),
        # a name labelling no other turn is no speaker: its words stay where they are
        ("Wen Li", "Bye! Tomas Reyes: he wrote to us once. " + filler("leek", 2).strip()),
    ]


def test_no_passage_holds_another_speakers_words(tmp_path):
    doc = next(read_dump(interview_file(tmp_path), ReadContext()))
    assert doc.speakers == ["Odile Brand", "Wen Li"]
    passages = chunk(doc, max_tokens=60, counter=words)
    label = re.compile(r"(?:^|(?<=[.!?…])|(?<=[a-z]))\s*(Odile Brand|Wen Li):")
    labelled = [p for p in passages if p.speaker]
    assert len(labelled) == 8
    for p in labelled:
        assert {m.group(1) for m in label.finditer(p.text)} <= {p.speaker}, p
    assert next(p for p in passages if "whatever you have" in p.text).speaker == "Wen Li"
    assert next(p for p in passages if "Straw it is" in p.text).speaker == "Odile Brand"


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_wrong_speaker_script_finds_other_speakers_labels():
    script = load_script("count_wrong_speakers")
    assert script.labelled_names(INTERVIEW) == {"Odile Brand", "Wen Li"}
    names = {"Odile Brand", "Wen Li"}
    assert script.label_starts("Then cover it.Wen Li: Fleece or straw.", names) == ["Wen Li"]
    assert script.label_starts("whatever you haveOdile Brand: Straw.", names) == ["Odile Brand"]
    assert script.label_starts("We met Wen Li: she grows kale. Note: dry.", names) == []
    assert script.label_starts("Then. Wen Li [00:01:02]: Yes. 00:01:09 Odile Brand: No.", names) == \
        ["Wen Li", "Odile Brand"]


def test_wrong_speaker_script_counts_none_after_ingest(tmp_path, monkeypatch):
    from backlist.service import Library

    monkeypatch.setenv("BACKLIST_EMBEDDER", "hash")
    path = interview_file(tmp_path)
    with Library(tmp_path / "lib") as lib:
        report = lib.ingest([str(path)], embed=False)
        assert not report.errors
    counts = load_script("count_wrong_speakers").count(tmp_path / "lib")
    assert counts["episodes with speakers"] == 1 and counts["passages"] >= 8
    assert counts["wrong"] == 0 and counts["unattributed"] == 0


PLUG = "Tide Notes is a reader-supported publication. Consider becoming a subscriber."
REPEAT = "Every count starts at the north flats before dawn."


def essay(i: int) -> str:
    """An essay line as the feed dump holds it: paragraphs and headings run together."""
    return (f"https://tide.example/p/survey-{i}" f"Survey {i} was a cold one. " + filler("dunlin", 4, 100 * i)
            + f"The wind dropped at {i} past noon.{PLUG}Why the dunlin leftThe dunlin left on day {i}. "
            + (f"{REPEAT} " if i < 3 else "")
            + f"The SeaGrass beds held {i}. SeaGrass needs {i} clear days. MarshWatch sent {i} people. "
            + f"Watch {i} plovers. We left {i} nets behind.1. What we countedWe counted {i} knots. "
            + filler("knot", 30, 100 * i))


def test_dump_drops_the_sources_furniture_and_splits_glued_headings(tmp_path):
    path = tmp_path / "tide-feed.txt"
    path.write_text("Tide Notes\nTide Notes\n\nA letter about the shore.\n\n"
                    + "\n".join(essay(i) for i in range(8)) + "\n", encoding="utf-8")
    docs = list(read_dump(path, ReadContext()))
    assert len(docs) == 8
    doc = docs[0]
    assert "reader-supported" not in doc.text and "Consider becoming" not in doc.text
    assert doc.metadata["furniture_dropped"] == 2
    paras = doc.text.split("\n\n")
    assert "Why the dunlin left" in paras and "1. What we counted" in paras
    assert any(p.startswith("The dunlin left on day 0.") for p in paras)
    assert any(p.startswith("We counted 0 knots.") for p in paras)
    # a repeated name ("SeaGrass") and a one-off one whose second part opens no sentence stay whole
    assert "The SeaGrass beds held 0. SeaGrass needs 0 clear days. MarshWatch sent 0 people." in doc.text
    assert REPEAT in doc.text  # in 3 of 8 pieces: not furniture
    # the episode keeps its id when its text is cleaned (the key is the text as read)
    assert doc.id == next(read_dump(path, ReadContext())).id


def test_furniture_in_turns_goes_only_by_the_fixed_list(tmp_path):
    line = (INTERVIEW.replace("Then cover the chard.", "Then cover the chard. Consider becoming a "
                              "subscriber.")
            + " Night Garden is a show about food.")
    path = tmp_path / "feed.txt"
    path.write_text(f"Night Garden\n\n{line}\n", encoding="utf-8")
    doc = next(read_dump(path, ReadContext()))
    assert "Consider becoming" not in doc.text
    assert next(t for t in doc.turns if t.text.startswith("Then cover")).text == \
        "Then cover the chard. Note: the fleece must be dry."
    assert doc.metadata["furniture_dropped"] == 1
    assert chunk(doc, max_tokens=60, counter=words)[-1].end == len(doc.text)


def test_sample_archive_dumps_keep_speakers_apart_and_lose_their_furniture():
    from conftest import FEED, PAGE, sample_archive

    from backlist.ingest.furniture import Furniture, is_fixed, sentences

    script = load_script("count_wrong_speakers")
    for name in (FEED, PAGE):
        path = sample_archive() / "feeds" / name
        speakers_by_line = script.dump_speakers(str(path))
        docs = list(read_dump(path, ReadContext()))
        interviews = 0
        for doc in docs:
            names = speakers_by_line.get(int(doc.position.removeprefix("line ")), set()) | set(doc.speakers)
            if len(names) >= 2:
                interviews += 1
                for p in chunk(doc, counter=words):
                    assert set(script.label_starts(p.text, names)) <= {p.speaker}, (doc.id, p.idx)
        assert interviews >= 2
        leftover = Furniture.learn(d.text for d in docs).learned
        assert not leftover, leftover
        assert not [s for d in docs for line in d.text.split("\n") for s in sentences(line)
                    if is_fixed(s)]
        assert sum(d.metadata["furniture_dropped"] for d in docs) >= 10


def test_timed_labels_glued_to_the_previous_sentence_keep_the_name_alone():
    line = ("Guests: Odile Brand and Wen Li. " + filler("chard", 3)
            + "Odile Brand [00:00:05]: Welcome. We read the OPT.Wen Li [00:00:09]: Yes, the OPT "
            "logs.Odile Brand [00:00:15]: And then? Wen Li [00:00:20]: We sowed on Day Two.Odile "
            "Brand [00:00:30]: Thanks.Wen Li: Bye.")
    _, episodes = split_dump(f"Night Garden\n\n{line}\n")
    assert [(t.speaker, t.start, t.text) for t in episodes[0].turns] == [
        ("Odile Brand", "00:00:05", "Welcome. We read the OPT."),
        ("Wen Li", "00:00:09", "Yes, the OPT logs."),
        ("Odile Brand", "00:00:15", "And then?"),
        ("Wen Li", "00:00:20", "We sowed on Day Two."),
        ("Odile Brand", "00:00:30", "Thanks."),
        ("Wen Li", None, "Bye.")]
