"""The Substack export reader on an export in the real layout (tests/fixtures/substack/export)."""

from __future__ import annotations

from pathlib import Path

import pytest

from backlist.ingest.base import ReadContext
from backlist.ingest.substack import read_substack
from backlist.service import Library
from backlist.store.base import DocFilter

EXPORT = Path(__file__).parent / "fixtures" / "substack" / "export"
SITE = "https://saltmarsh.example.org"


@pytest.fixture(scope="module")
def read() -> tuple[dict[str, object], ReadContext]:
    ctx = ReadContext()
    docs = {d.metadata["post_id"]: d for d in read_substack(EXPORT, ctx, site=SITE)}
    return docs, ctx


def test_metrics_from_number_named_email_files(read):
    docs, ctx = read
    tides = docs["201.reading-the-tide-tables"]
    # 4 delivered; 3 opens from 2 readers (ADA@ and ada@ are one reader)
    assert tides.metrics == {"delivered": 4.0, "opens": 3.0, "unique_opens": 2.0, "open_rate": 0.5}
    assert docs["202.storm-surge-questions"].metrics["open_rate"] == 0.5
    assert ctx.counts["metrics_attached"] == 2 and ctx.counts["metrics_missing"] == 2
    assert ctx.counts["drafts"] == 1 and not ctx.problems


def test_subscriber_list_skipped_once_and_never_read(read):
    docs, ctx = read
    assert ctx.skipped == [f"{EXPORT}/email_list.salt-marsh-almanac.csv: "
                           "holds subscribers' personal data; not ingested"]
    for doc in docs.values():
        assert "@example.com" not in doc.text + str(doc.metadata)


def test_post_text_reads_like_the_post(read):
    tides = read[0]["201.reading-the-tide-tables"]
    assert tides.text.split("\n\n") == [
        "Every almanac prints two high tides a day, and most readers stop there [1]. "
        "The interesting part is the range between them.",
        "A spring-tide week at Heron Inlet.",
        "Here is the little script I use to find the biggest range in a month:",
        "def biggest_range(tides):\n    pairs = zip(tides, tides[1:])\n"
        "    return max(abs(a - b) for a, b in pairs)",
        "Heron Inlet Watch (@heron_watch): King tide this morning: the boardwalk was an island. "
        "pic.x.com/abc",
        "h(t) = A \\cos(\\omega t)",
        "Tides are only half the story; wind does the rest [2].",
        "[1] Mixed semidiurnal tides on this coast make the two highs unequal.",
        "[2] A steady onshore wind can add a foot of setup.",
    ]
    for furniture in ("Subscribe", "Share", "Leave a comment", "Read more", "Thanks for reading"):
        assert furniture not in tides.text
    assert tides.metadata["links"] == [
        {"text": "YouTube video", "url": "https://www.youtube.com/watch?v=Xy12ab34Cd"},
        {"text": "tweet by @heron_watch",
         "url": "https://x.com/heron_watch/status/1834000000000000000"},
        {"text": "King tides, explained", "url": "https://saltmarsh.example.org/p/king-tides"}]
    assert tides.metadata["image_alts"] == {
        "https://cdn.example.net/tide-chart.png": "Tide heights for one week at Heron Inlet"}


def test_fields_types_audiences_and_dates_as_written(read):
    docs = read[0]
    tides = docs["201.reading-the-tide-tables"]
    # post_date 2024-09-15T23:30-04:00 is 03:30 UTC the next day: the date written is kept
    assert tides.date == "2024-09-15" and tides.metadata["date_basis"] == "posts.csv post_date"
    assert tides.subtitle == "What the numbers in the harbor almanac mean, and what they leave out"
    assert tides.url == f"{SITE}/p/reading-the-tide-tables" and tides.kind == "post"
    surge = docs["202.storm-surge-questions"]
    assert (surge.kind, surge.audience, surge.metadata["paid"]) == ("episode", "only_paid", True)
    assert surge.metadata["podcast_url"] == "https://api.example-audio.com/salt-marsh/ep14.mp3"
    thread = docs["203.open-thread-october"]
    assert (thread.kind, thread.audience, thread.metadata["paid"]) == ("note", "founding", True)
    draft = docs["204.eelgrass-notes"]
    assert draft.is_draft and draft.date is None and draft.metrics == {}
    assert draft.text == "Eelgrass beds are coming back in the north cove, slowly."


def test_number_only_post_id_finds_its_html(read):
    snails = read[0]["205"]
    assert snails.title == "Why I count snails" and snails.date == "2024-11-01"
    assert snails.metadata["slug"] == "why-i-count-snails"
    assert snails.url == f"{SITE}/p/why-i-count-snails"
    assert snails.text.startswith("Marsh periwinkles climb the cordgrass")


def test_report_carries_counts_and_skip(tmp_path):
    lib = Library(tmp_path / "lib")
    report = lib.ingest([str(EXPORT)], embed=False)
    assert not report.errors and report.documents_new == 5
    assert report.totals["metrics_attached"] == 2 and report.totals["drafts"] == 1
    assert any("email_list.salt-marsh-almanac.csv" in s for s in report.skipped_files)
    assert len(lib.list(DocFilter())) == 4  # the draft is hidden
    lib.close()


def test_a_sign_off_the_publication_repeats_is_furniture(tmp_path):
    """A sentence printed under many posts of one export is the publication's, not the post's;
    a sentence two posts share stays (it may be one quoting the other)."""
    posts = tmp_path / "export" / "posts"
    posts.mkdir(parents=True)
    rows = ["post_id,post_date,is_published,email_sent_at,inbox_sent_at,type,audience,title,subtitle,"
            "podcast_url"]
    sign_off = "Until next week, keep your boots muddy and your notebooks dry."
    shared = "The marsh keeps its own calendar, and the birds read it better than we do."
    for n in range(7):
        post_id = f"30{n}.marsh-notes-{n}"
        rows.append(f"{post_id},2024-0{n + 1}-05T10:00:00.000Z,true,,,newsletter,everyone,"
                    f"Marsh notes {n},,")
        body = [f"<p>Week {n}: the herons came back to the north pool, {n + 2} of them.</p>"]
        if n < 2:
            body.append(f"<p>{shared}</p>")
        body.append(f"<p>{sign_off}</p>")
        (posts / f"{post_id}.html").write_text("\n".join(body), encoding="utf-8")
    (tmp_path / "export" / "posts.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    docs = list(read_substack(tmp_path / "export", ReadContext()))
    assert len(docs) == 7
    for doc in docs:
        assert sign_off not in doc.text and "the herons came back" in doc.text
        assert doc.metadata["furniture_dropped"] == 1
    assert sum(shared in d.text for d in docs) == 2
