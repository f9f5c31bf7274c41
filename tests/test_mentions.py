"""'my post on X' in a draft: the phrases found (pure), and X resolved by content on the sample
archive, where titles are mostly a piece's opening words and rarely what a writer calls it.

The twelve objects below chose the acceptance rule (service.MENTION_COSINE / MENTION_MARGIN);
eval/sample-archive-drafts.jsonl, written by someone else, measures it."""

from __future__ import annotations

import pytest

from backlist.index.citations import mention_objects
from backlist.index.evaluate import resolver


@pytest.mark.parametrize("text, objects", [
    ("As I argued in my post on why tide pools pay for themselves, towns gain.",
     ["why tide pools pay for themselves"]),
    ("I wrote about the economics of rock pools last spring.",
     ["the economics of rock pools"]),  # the date words are no part of the subject
    ("as I wrote in the kelp piece, the lines held", ["the kelp piece"]),
    ("My May 2024 post on salt marsh carbon held up.", ["salt marsh carbon held up"]),
    ("my post on kelp", []),  # one content word: too little to resolve by content
    ("They wrote about reefs; my friend's post on reefs too.", []),  # not the writer's
    ("all my posts on storm surge maps", []),  # several pieces
    ("my post, the one with storm surge maps, aged well", []),  # an apposition names nothing
    ("my piece “Storm Surge Maps Explained” holds", ["Storm Surge Maps Explained"]),
])
def test_mention_objects(text, objects):
    assert [m.object for m in mention_objects(text, "2024-06-15")] == objects


def test_dated_mention_carries_its_window():
    (m,) = mention_objects("my March 2023 episode on storm surge maps", "2024-06-15")
    assert (m.object, m.since, m.until) == ("storm surge maps", "2023-03-01", "2023-03-31")


FEED = "interconnects-podcast-feed.txt:line "
TUNE = [
    ("why continual learning isn't the bottleneck people think", FEED + "41"),
    # the object stops at "where": "coding being the last general domain" is too vague to resolve
    ("coding being the last general domain where frontier models keep improving", None),
    ("how benchmarks for agents need more axes than a single correctness score", FEED + "14"),
    ("Google finally taking the lead with its new Gemini Pro model", FEED + "65"),
    ("defending open-weight models after the Mythos cybersecurity scare", FEED + "11"),
    ("why hiring top AI researchers feels impossible for both sides", FEED + "21"),
    ("OpenAI's Deep Research and the difference between information and insight",
     "interconnects-podcast-directory-page.txt:line 24"),
    ("Meta's Llama 4 release losing the plot", FEED + "63"),  # by its title, "Llama 4"
    ("sourdough starters and home fermentation", None),
    ("the history of the printing press", None),
    ("why open models matter", None),  # many pieces: no one piece is meant
    ("the best hiking trails in Oregon", None),
]


@pytest.mark.parametrize("obj, want", TUNE)
def test_my_post_on_resolved_by_content(sample_lib, obj, want):
    names = resolver(sample_lib)
    refs = sample_lib.references(f"This follows my post on {obj}, which still holds.")
    how = "mention" if "Llama" in obj else "mention by content"
    assert [(r.doc_id, r.how) for r in refs] == ([(names[want.lower()], how)] if want else [])
    if want and how == "mention by content":
        assert refs[0].evidence == f"my post on {obj}"


def test_drafts_find_the_pieces_they_cite(sample_lib):
    """eval/sample-archive-drafts.jsonl: 14 drafts by another writer of this project, 14
    references (url 3, title 2, my-post-on 5, interview 2, dated 2), two drafts citing nothing.
    Measured: 10 of 14 found (every url, title, interview and dated one; 1 of 5 my-post-on),
    no piece marked cited that the draft does not cite."""
    import json
    from pathlib import Path

    names = resolver(sample_lib)
    path = Path(__file__).resolve().parent.parent / "eval" / "sample-archive-drafts.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    found = wrong = total = 0
    for row in rows:
        want = {names[c["doc"].lower()] for c in row["cites"]}
        cited = {h.doc.id for h in sample_lib.related(row["draft"], k=10)
                 if (h.reason or "").startswith("cited in the draft")}
        found += len(want & cited)
        wrong += len(cited - want)
        total += len(want)
    assert total == 14 and wrong == 0
    assert found >= 10, f"{found} of {total}"


def _jsonl(name: str) -> list[dict]:
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "eval" / name
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def test_titles_known_nowhere_else_resolve_by_content(sample_lib):
    """eval/sample-archive-named.*.jsonl: "In my post <Title>, I argued…" with invented titles.
    The tune set chose the query (the title and the rest of its sentence: 5 of 6, the title
    alone 3 of 6); the held-out set, written after, measured 5 of 6 (3 of 4 pieces found, both
    titles that name nothing left unresolved). No piece may be named wrongly."""
    names = resolver(sample_lib)
    for split, floor in (("tune", 5), ("held-out", 5)):
        right = 0
        for row in _jsonl(f"sample-archive-named.{split}.jsonl"):
            want = [(names[c["doc"].lower()], c["title"]) for c in row["cites"]]
            got = [(r.doc_id, r.evidence) for r in sample_lib.references(row["draft"])
                   if r.how == "named"]
            assert not got or got == want, (split, row["draft"][:60], got)
            hits = sample_lib.related(row["draft"], k=3)
            cited = [h.doc.id for h in hits if (h.reason or "").startswith("cited in the draft")]
            assert cited == [d for d, _ in got]
            if want and got:
                assert hits[0].doc.id == want[0][0]
                assert hits[0].reason == f"cited in the draft (named: {want[0][1]})"
            right += got == want
        assert right >= floor, (split, right)


def test_drafts_quoting_the_archive_get_the_quoted_piece_first(sample_lib):
    """eval/sample-archive-quote-drafts.jsonl: drafts that quote 18-40 words of a piece (the
    words are taken from the library at run time, so no sentence of the archive is stored here),
    with the cues writers use, and two drafts that only share a piece's topic."""
    import re

    names = resolver(sample_lib)
    for row in _jsonl("sample-archive-quote-drafts.jsonl"):
        draft = row["before"]
        if row.get("quote"):
            q = row["quote"]
            _, passages = sample_lib.passages(names[q["doc"].lower()])
            text = passages[q["passage"]].text
            spans = [m.span() for m in re.finditer(r"\S+", text)]
            draft += text[spans[0][0]:spans[q["words"] - 1][1]] + row["after"]
        want = [names[c.lower()] for c in row["cites"]]
        hits = sample_lib.related(draft, k=3)
        cited = [h.doc.id for h in hits if (h.reason or "").startswith("cited in the draft")]
        assert cited == want, row["before"][:60]
        if want:
            assert hits[0].doc.id == want[0]
            assert hits[0].reason.startswith(f"cited in the draft (quote: quotes {want[0]} ¶"
                                             f"{row['quote']['passage']}: ")
            assert hits[0].passages[0][0].idx == row["quote"]["passage"]
