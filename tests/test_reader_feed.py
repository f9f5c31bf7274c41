"""Feeds as publishers write them: offset pubDates, GUIDs that are no links, iTunes and
Podcasting 2.0 tags, furniture, and transcripts that are local, remote or several."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from backlist.errors import IngestError
from backlist.ingest.base import ReadContext
from backlist.ingest.feed import drop_furniture, read_feed
from backlist.service import Library

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
SHOW = FEEDS / "night-garden.xml"


@pytest.fixture(scope="module")
def show() -> tuple[dict, ReadContext]:
    ctx = ReadContext()
    docs = {d.title: d for d in read_feed(str(SHOW), ctx)}
    return docs, ctx


def test_evening_pubdate_keeps_the_publishers_local_date(show):
    docs, _ = show
    frost = docs["Frost cloth and the first cold snap"]
    # 19:45 -0500 is already 00:45 UTC the next day; the show aired on the 2nd
    assert frost.date == "2016-12-02"
    assert frost.metadata["published"] == "2016-12-02T19:45:00-05:00"
    seeds = docs["Seed swaps and saving squash"]
    assert seeds.date == "2016-12-03" and seeds.metadata["published"] == "2016-12-03T21:10:00-05:00"


def test_a_guid_is_not_a_link(show):
    docs, _ = show
    assert docs["Frost cloth and the first cold snap"].url is None  # isPermaLink="false"
    assert docs["Trailer: Night Garden Radio"].url is None  # guid "ngr-trailer", no isPermaLink
    assert docs["Trailer: Night Garden Radio"].metadata["guid"] == "ngr-trailer"
    # a URL-looking guid marked isPermaLink="false" stays a guid; <link> gives the page
    seeds = docs["Seed swaps and saving squash"]
    assert seeds.url == "https://nightgarden.example/2016/12/seed-swaps/"
    assert seeds.metadata["guid"] == "https://nightgarden.example/?p=42"


def test_subtitle_from_itunes_subtitle_or_a_different_summary(show):
    docs, _ = show
    assert docs["Frost cloth and the first cold snap"].subtitle == \
        "Keeping tender greens alive through December"
    assert docs["Seed swaps and saving squash"].subtitle == \
        "Why squash seed from a mixed bed rarely comes true, with Wen Li."
    assert docs["Trailer: Night Garden Radio"].subtitle is None


def test_authors_are_a_set_in_order(show):
    docs, _ = show
    # author "email (Name)", dc:creator and itunes:author all name Odile Brand once
    assert docs["Frost cloth and the first cold snap"].authors == ["Odile Brand"]
    # no item author: the channel's itunes:author
    assert docs["Trailer: Night Garden Radio"].authors == ["Odile Brand"]


def test_furniture_dropped_from_show_notes(show):
    docs, _ = show
    frost = docs["Frost cloth and the first cold snap"]
    assert frost.text == ("Tomas Reyes brings a roll of frost cloth and a soil thermometer, and we "
                          "talk about when to cover chard and when to let it harden off.")
    assert frost.metadata["furniture_dropped"] == 3
    seeds = docs["Seed swaps and saving squash"]
    assert seeds.text.startswith("A bonus half hour from the seed swap table at the library.\n\n")
    assert "Continue reading" not in seeds.text


def test_drop_furniture_variants():
    text = "\n\n".join([
        "Real notes about leeks.",
        "Get full access to Night Garden at nightgarden.substack.com/subscribe",
        "Apple Podcasts | Spotify | Overcast",
        "Read more »",
        "Send us a text",
        "More notes, ending in an excerpt mark [...]",
    ])
    assert drop_furniture(text) == ("Real notes about leeks.\n\nMore notes, ending in an excerpt mark", 5)


def test_podcasting20_people_season_chapters_and_itunes_fields(show):
    docs, _ = show
    frost = docs["Frost cloth and the first cold snap"]
    assert frost.speakers == ["Odile Brand", "Tomas Reyes"]
    assert frost.metadata["guests"] == ["Tomas Reyes"] and frost.metadata["hosts"] == ["Odile Brand"]
    assert (frost.metadata["season"], frost.metadata["episode"]) == ("3", "41")
    assert frost.metadata["chapters_url"] == "https://nightgarden.example/ch/41.json"
    assert frost.metadata["duration_seconds"] == 2892 and frost.metadata["explicit"] is False
    assert frost.metadata["enclosures"] == [{"url": "https://cdn.nightgarden.example/a/41.mp3",
                                            "type": "audio/mpeg", "length": 46270000}]
    seeds = docs["Seed swaps and saving squash"]
    assert seeds.metadata["episode_type"] == "bonus" and seeds.metadata["duration_seconds"] == 1820
    trailer = docs["Trailer: Night Garden Radio"]
    assert trailer.metadata["episode_type"] == "trailer" and trailer.metadata["duration_seconds"] == 125
    # no podcast:person in the item: the channel's people stand
    assert trailer.metadata["hosts"] == ["Odile Brand"] and trailer.metadata["guests"] == []


def test_best_local_transcript_is_read(show):
    docs, _ = show
    seeds = docs["Seed swaps and saving squash"]
    # JSON beats the SRT beside it and the remote HTML
    assert seeds.metadata["transcript_url"] == "transcripts/ep42.json"
    assert [t.speaker for t in seeds.turns] == ["Odile Brand", "Wen Li", "Odile Brand", "Wen Li"]
    assert seeds.turns[1].text == "Squash cross freely, so a seed from a mixed bed rarely comes true."
    assert seeds.turns[1].start == "00:00:04"
    assert "Wen Li: Bag them, hand pollinate, then tape them shut." in seeds.text


def test_label_once_srt_in_a_feed(show):
    docs, _ = show
    trailer = docs["Trailer: Night Garden Radio"]
    assert len(trailer.turns) == 1 and trailer.turns[0].speaker == "Odile Brand"
    assert trailer.turns[0].text.endswith("Call in with your questions about compost and frost.")


def test_remote_transcripts_are_counted_not_errors(show):
    docs, ctx = show
    assert ctx.problems == []
    # only the first episode has nothing but remote transcripts; the others read a local one
    assert ctx.counts["transcripts_not_fetched"] == 1
    assert docs["Frost cloth and the first cold snap"].turns == []


def test_ingest_reports_unfetched_transcripts_without_error(tmp_path):
    report = Library(tmp_path / "lib").ingest([str(SHOW)], embed=False)
    assert report.errors == [] and report.documents_new == 3
    assert report.totals["transcripts_not_fetched"] == 1


def test_atom_feed():
    docs = {d.title: d for d in read_feed(str(FEEDS / "compost-letters.atom"), ReadContext())}
    leaf = docs["Leaf mould takes two winters"]
    assert leaf.date == "2016-12-02" and leaf.metadata["published"] == "2016-12-02T22:30:00-08:00"
    assert leaf.url == "https://compost.example/leaf-mould"  # rel=alternate, not the replies link
    assert leaf.authors == ["Wen Li"] and leaf.kind == "post"
    assert leaf.text == ("Oak leaves in a wire bin, left alone, become crumbly leaf mould by the "
                         "second spring.")
    worms = docs["Worm bins in a cold garage"]
    assert worms.date == "2016-12-05" and worms.metadata["published"] == "2016-12-05T07:15:00+01:00"
    assert worms.authors == ["Tomas Reyes"]


def test_missing_local_transcript_is_one_problem(tmp_path):
    shutil.copytree(FEEDS / "transcripts", tmp_path / "transcripts")
    feed = tmp_path / "feed.xml"
    feed.write_text(SHOW.read_text().replace("transcripts/trailer.srt", "transcripts/gone.srt"))
    ctx = ReadContext()
    docs = {d.title: d for d in read_feed(str(feed), ctx)}
    assert len(docs) == 3 and docs["Trailer: Night Garden Radio"].turns == []
    assert len(ctx.problems) == 1
    # the line names the feed (which of several feeds?) and the missing transcript
    assert ctx.problems[0].path == str(tmp_path / "feed.xml")
    assert "gone.srt" in ctx.problems[0].reason
    assert ctx.problems[0].reason == "transcript transcripts/gone.srt referenced by the feed is missing"


def test_transcript_outside_the_feed_folder_is_refused(tmp_path):
    shutil.copytree(FEEDS / "transcripts", tmp_path / "transcripts")
    feed = tmp_path / "feed.xml"
    feed.write_text(SHOW.read_text().replace("transcripts/trailer.srt", "../../etc/passwd"))
    ctx = ReadContext()
    list(read_feed(str(feed), ctx))
    assert len(ctx.problems) == 1 and isinstance(ctx.problems[0], IngestError)
    assert "outside the feed's folder" in str(ctx.problems[0])
