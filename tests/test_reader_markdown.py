"""Markdown from other generators: Hugo (TOML), Jekyll, Astro, Eleventy, Obsidian, JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from backlist.errors import IngestError
from backlist.ingest.base import ReadContext
from backlist.ingest.markdown import read_markdown

FIX = Path(__file__).parent / "fixtures" / "markdown"


def read(name: str, ctx: ReadContext | None = None):
    docs = list(read_markdown(FIX / name, ctx or ReadContext()))
    return docs[0] if docs else None


def test_hugo_toml_offset_date_shortcodes_and_math():
    doc = read("hugo-toml-post.md")
    assert doc.title == "Counting fiddler crabs at dusk"
    assert doc.date == "2024-03-09"  # 22:15 at -08:00: not shifted to the UTC date
    assert doc.subtitle == "A field method that needs only a flashlight"
    assert doc.authors == ["Wren Calloway"] and not doc.is_draft
    assert doc.text.split("\n\n") == [
        "Fiddler crabs come out as the marsh drains. I count burrows in a one-metre square.",
        "Burrows along the creek bank.",
        "The density is n / A, where A is the plot area:",
        "d = \\frac{n}{A}",
        "Go out on a falling tide.",
    ]
    assert doc.metadata["images"] == ["/images/burrows.jpg"]
    assert doc.metadata["tags"] == ["crabs", "field notes"]


def test_astro_pubdatetime_draft_and_description():
    ctx = ReadContext()
    doc = read("astro-draft.md", ctx)
    assert doc.date == "2024-06-05" and doc.metadata["date_basis"] == "frontmatter pubdatetime"
    assert doc.is_draft and ctx.counts["drafts"] == 1
    assert doc.subtitle == "Where the tide leaves its seaweed, and why it moves"
    assert doc.authors == ["Wren Calloway"]


def test_astro_human_pubdate():
    doc = read("astro-pubdate.md")
    assert doc.date == "2022-07-08" and doc.subtitle == "Counting spat on a single shell"


def test_jekyll_file_name_date_liquid_and_multiline_link():
    doc = read("2024-06-05-jekyll-tide-pools.md")
    assert doc.title == "Tide pools after the storm"
    assert doc.date == "2024-06-05" and doc.metadata["date_basis"] == "file name"
    assert doc.subtitle == "Three pools, one afternoon, and a sea star I did not expect"
    assert doc.text.split("\n\n") == [
        "The storm moved more sand than I have ever seen. The first pool was gone; the second had "
        "a sea star sheltering under the ledge and two hermit crabs.",
        "Posted from .",
        'pools = ["gone", "sea star", "crabs"]\nfor p in pools:\n    print(p)',
    ]
    assert doc.metadata["links"] == [
        {"text": "sea star sheltering under the ledge", "url": "https://example.org/sea-star"}]


def test_frontmatter_date_wins_over_file_name():
    doc = read("2023-01-02-frontmatter-date-wins.md")
    assert doc.date == "2023-02-10" and doc.metadata["date_basis"] == "frontmatter date"


def test_jekyll_published_false_is_a_draft():
    doc = read("2024-07-01-jekyll-unpublished.md")
    assert doc.is_draft and doc.date == "2024-07-01"


def test_eleventy_keyword_date_stays_undated():
    doc = read("eleventy-post.md")
    assert doc.date is None and doc.metadata["date_basis"] is None
    assert doc.subtitle == "Meanders, beavers and one big storm"


def test_json_frontmatter():
    doc = read("json-frontmatter.md")
    assert (doc.title, doc.date, doc.subtitle) == ("Spartina in winter", "2024-01-20", "Dormant, not dead")
    assert doc.text == "Cordgrass looks dead in January, but its roots keep the marsh in place."


def test_obsidian_created_and_wikilinks():
    doc = read("obsidian-note.md")
    assert doc.title == "Ribbed mussels" and doc.date == "2024-02-11"
    assert "bind the cordgrass roots together, as noted in Field log 2023." in doc.text
    assert "[[" not in doc.text and "[!note]" not in doc.text and "mussels.jpg" not in doc.text


def test_frontmatter_only_is_a_warning_not_an_error():
    ctx = ReadContext()
    assert read("frontmatter-stub.md", ctx) is None
    assert ctx.warnings == [f"{FIX / 'frontmatter-stub.md'}: frontmatter but no body: a draft stub?"]
    assert not ctx.problems


def test_yaml_alias_bomb_refused(tmp_path):
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        levels.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")
    bomb = tmp_path / "bomb.md"
    bomb.write_text("---\n" + "\n".join(levels) + "\n---\nBody text.\n")
    with pytest.raises(IngestError) as err:
        list(read_markdown(bomb, ReadContext()))
    assert str(err.value) == (f"{bomb}: YAML frontmatter uses 72 aliases (over 8), refused "
                              "(possible alias bomb)")


def test_oversized_frontmatter_refused(tmp_path):
    big = tmp_path / "big.md"
    big.write_text("---\nnotes: " + "x" * 70_000 + "\n---\nBody text.\n")
    with pytest.raises(IngestError, match="frontmatter is over 64 KB, refused"):
        list(read_markdown(big, ReadContext()))


def test_metadata_capped_with_a_warning(tmp_path):
    path = tmp_path / "wide.md"  # 30 KB written once, kept three times through two aliases
    path.write_text("---\ntitle: Wide\nbig: &b " + "x" * 30_000 + "\ncopy1: *b\ncopy2: *b\n"
                    "---\nBody text.\n")
    ctx = ReadContext()
    doc = next(read_markdown(path, ctx))
    assert "big" not in doc.metadata and len(doc.metadata["copy1"]) == 30_000
    assert ctx.warnings == [f"{path}: frontmatter metadata over 64 KB: left out field(s) big"]
