"""Saved web pages: comments with their authors, dates and replies; bylines; publisher dates;
widgets, forms and pagination kept out; huge link-heavy pages read fast."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from backlist.errors import IngestError
from backlist.ingest.article import clean_byline, read_saved_page
from backlist.ingest.base import ReadContext

PAGES = Path(__file__).parent / "fixtures" / "pages"


def read(path: Path) -> tuple:
    ctx = ReadContext()
    docs = list(read_saved_page(path, ctx))
    assert len(docs) == 1
    return docs[0], ctx


def test_wordpress_comment_list_with_nested_reply():
    doc, ctx = read(PAGES / "wordpress-post.html")
    assert doc.metadata["comments"] == [
        {"author": "Lena Ortiz", "date": "2021-03-04", "parent": None,
         "text": "We stopped raking at the harbour beach too. The hoppers came back within a season."},
        {"author": "Maren Holt", "date": "2021-03-04", "parent": 0,
         "text": "Good to hear. Did the town object?"},
        {"author": "Tomas Reyes", "date": "2021-03-06", "parent": None,
         "text": "Wrack also holds the seeds of sea rocket. Leave it and the dune plants follow.\n\n"
                 "Thanks for writing this."},
    ]
    assert doc.comments == [c["text"] for c in doc.metadata["comments"]]
    assert ctx.warnings == []


def test_wordpress_widgets_form_pagination_and_pingbacks_are_not_comments():
    doc, _ = read(PAGES / "wordpress-post.html")
    everything = doc.text + "\n".join(doc.comments)
    for furniture in ("Recent Comments", "Jo Park", "Ice on the creek", "Your email address",
                      "Required fields", "Leave a Reply", "last »", "Older comments", "Pingback",
                      "Weekend links", "says:", "Reply", "Report", "Edit", "2 comments", "thoughts on"):
        assert furniture not in everything, furniture
    assert doc.text.startswith("For years I raked the dark line")
    assert doc.text.endswith("two pairs of plovers nested where the pile was thickest.")
    assert "hoppers came back" not in doc.text


def test_wordpress_metadata_from_json_ld_graph_and_local_publication_date():
    doc, _ = read(PAGES / "wordpress-post.html")
    assert doc.title == "Why I stopped raking the salt marsh wrack line"
    assert doc.authors == ["Maren Holt"]  # JSON-LD author is an @id resolved in the @graph
    # 22:40 at UTC-8 is the 4th in UTC: the publisher's own date is kept, not the modified one
    assert doc.date == "2021-03-03"
    assert doc.metadata["date_precision"] == "day"
    assert doc.metadata["date_basis"] == "meta article:published_time"
    assert doc.url == "https://saltgrass.example.org/2021/03/03/wrack-line/"
    assert doc.subtitle == "What the seaweed line at the top of the beach does for beetles, birds and sand."
    assert doc.metadata["site"] == "Saltgrass Diary"


def test_view_all_posts_byline_declared_cp1252_and_script_loaded_comments_warned():
    doc, ctx = read(PAGES / "byline-disqus.html")
    assert doc.authors == ["Daniel Smith"]
    assert doc.title == "Planting a rain garden in clay"
    assert doc.date == "2020-11-08"  # <time class="published">, not the "updated" one, nor UTC
    assert doc.metadata["date_basis"] == "<time datetime>"
    assert "the neighbour\u2019s shed" in doc.text  # windows-1252 byte 0x92, as the page declares
    assert doc.comments == [] and doc.metadata["comments"] == []
    assert ctx.warnings == [f"{PAGES / 'byline-disqus.html'}: the page has a comment section (a Disqus "
                            "thread, loaded by script) but no comments were found in the saved HTML; "
                            "none stored"]
    assert "View all posts" not in doc.text and "Categories" not in doc.text


def test_blogger_classic_comments_block_and_abbr_published_date():
    doc, ctx = read(PAGES / "blogger-classic.html")
    assert doc.title == "Saving bean seed through a wet autumn"
    assert doc.authors == ["Ines Carvalho"]
    assert doc.date == "2019-10-17" and doc.metadata["date_basis"] == "itemprop datePublished"
    assert doc.metadata["comments"] == [
        {"author": "Ruth Okafor", "date": "2019-10-18", "parent": None,
         "text": "Rice in the jar is a good trick. We lost a whole batch to mould in 2017."},
        {"author": "Anonymous", "date": "2019-10-20", "parent": None,
         "text": "Which variety is the speckled one?"},
    ]
    assert "Post a Comment" not in doc.text and "said..." not in doc.text
    assert ctx.warnings == []


def test_ghost_comments_are_loaded_by_script_and_widget_text_is_not_stored(tmp_path):
    page = tmp_path / "ghost.html"
    page.write_text(
        "<html><head><title>Night herons</title><meta name='author' content='By Ana Ruiz'>"
        "<meta property='article:published_time' content='2024-06-01T05:00:00.000Z'></head><body>"
        "<article class='gh-article'><h1>Night herons</h1><section class='gh-content'>"
        + "<p>The night herons roost in the willows by the pumping station and leave at dusk.</p>" * 4
        + "</section></article><section class='gh-comments'><script src='/comments-ui.min.js'></script>"
        "</section><aside class='widget widget_recent_comments'><h3>Recent Comments</h3><ul>"
        "<li class='recentcomments'>Kit on Some Other Title</li></ul></aside></body></html>")
    doc, ctx = read(page)
    assert doc.authors == ["Ana Ruiz"] and doc.date == "2024-06-01"
    assert doc.comments == []
    assert ctx.warnings == [f"{page}: the page has a comment section (Ghost comments, loaded by script) "
                            "but no comments were found in the saved HTML; none stored"]


@pytest.mark.parametrize(("raw", "name"), [
    ("View all posts by Daniel Smith →", "Daniel Smith"),
    ("By Daniel Smith", "Daniel Smith"),
    ("Posted by Daniel Smith", "Daniel Smith"),
    ("Posted on March 3, 2021 by Daniel Smith", "Daniel Smith"),
    ("By Daniel Smith | March 3, 2021", "Daniel Smith"),
    ("Written by: Ruby Kirby", "Ruby Kirby"),
    ("https://www.facebook.example/daniel.smith", None),
    ("daniel@example.org", None),
    ("", None),
])
def test_clean_byline(raw, name):
    assert clean_byline(raw) == name


def test_huge_link_page_reads_fast_with_a_warning(tmp_path):
    links = "".join(f'<li><a href="/tag/t{i}">tag {i}</a></li>' for i in range(200_000))
    page = tmp_path / "link-farm.html"
    page.write_text(
        "<html><head><title>Salt hay harvest</title>"
        "<meta property='article:published_time' content='2022-08-30T10:00:00+02:00'></head><body>"
        "<nav><ul>" + links + "</ul></nav><article><h1>Salt hay harvest</h1>"
        "<p>Salt hay is cut on the high marsh in late summer, when the ground is firm enough for "
        "the old tracked mowers.</p><p>Farmers sell it as mulch because it carries no weed seed.</p>"
        "</article><footer>Footer links</footer></body></html>")
    start = time.monotonic()
    doc, ctx = read(page)
    elapsed = time.monotonic() - start
    assert elapsed < 10, f"took {elapsed:.1f} s"
    assert doc.text == ("Salt hay harvest\n\nSalt hay is cut on the high marsh in late summer, when "
                        "the ground is firm enough for the old tracked mowers.\n\nFarmers sell it as "
                        "mulch because it carries no weed seed.")
    assert doc.date == "2022-08-30" and doc.metadata["links_total"] == 200_000
    assert len(doc.metadata["links"]) == 1_000
    assert len(ctx.warnings) == 1 and "200,000 links" in ctx.warnings[0]
    assert ctx.warnings[0].startswith(str(page))


def test_time_budget_checked_between_steps():
    ctx = ReadContext(deadline=time.monotonic() - 1)
    with pytest.raises(IngestError, match="took too long to read"):
        list(read_saved_page(PAGES / "wordpress-post.html", ctx))
