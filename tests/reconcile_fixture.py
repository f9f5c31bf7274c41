"""A small self-written archive in the real shapes of the sample archive, for reconciliation: a
feed dump (one episode per line, newest first, no titles, some lines opening with the post URL),
a podcast directory page for the same show (header, "N Episodes", "Reverse", Link:/Post: lines)
and a dated year-in-review post (Substack-export Markdown) whose links name pieces by title.

The writer is Maren Holt of "Tidewater Notes" (tidewater.example.org)."""

from __future__ import annotations

from pathlib import Path

SITE = "https://tidewater.example.org/p/"


def _filler(topic: str, n: int = 14) -> str:
    """Long enough lines for a dump (each episode is one long line), varied per topic."""
    parts = [
        f"The {topic} question came up again at the harbor meeting this week.",
        f"Fishers and planners both had numbers on {topic}, and the numbers did not agree.",
        f"I walked the shore at low tide to see the {topic} problem for myself.",
        f"What the county calls progress on {topic} looks different from a kayak.",
    ]
    return " ".join(parts[i % len(parts)] for i in range(n))


# Newest first. E1 opens with a greeting (its title would be its opening sentence) and has no
# URL; its directory-page copy gives the URL. E2 and E5 state their dates. E3 and E4 open with
# their post URL (titles from slugs); the 2025 review links E3 by its real title.
E1 = ("Hello everyone! This week the winter kelp harvest finally started on the north flats, "
      "and I spent two mornings on the boats counting lines and weighing the first cut. "
      + _filler("kelp harvest"))
E2 = ("On Tuesday, March 4th, 2025, the county voted to fund the marsh restoration plan, "
      "after three years of hearings. " + _filler("marsh funding"))
E3 = (SITE + "oyster-reefs-20-army-corps-plan The Army Corps came back with Oyster Reefs 2.0, "
      "its second try at a reef plan for the bay. Oyster Reefs 2.0 is bigger and slower. "
      + _filler("reef plan"))
E4 = (SITE + "the-corps-20-plan-and-marens-notes I went through the Corps 2.0 plan line by line. "
      "These are Maren's notes from the public comment period, with the Corps 2.0 maps beside "
      "them. " + _filler("comment period"))
E5 = ("On Monday, January 6th, 2025, the first storm of the year took out the south dune "
      "fence. " + _filler("dune fence"))

FEED = "\n".join([
    "Tidewater Notes",
    "Tidewater Notes",
    "<p>Audio essays about the coast, the harbor and the people who work them.</p>",
    "",
    E1, E2, E3, E4, E5,
]) + "\n"

# Newest first as well: D3 links the 2025 review's URL (so it is no earlier than the review);
# D1 is E1's copy with its post URL; D2 is known only from here and is linked by the review.
D3 = ("Post: " + SITE + "tide-tables-for-2026 A short one: the new tide tables are out, and as "
      "I said in " + SITE + "tidewater-2025-in-review the spring tides will be the story. "
      + _filler("tide table"))
D1 = "Link: " + SITE + "winter-kelp-harvest " + E1[:1200]
D2 = ("Full post: " + SITE + "tidal-gauge-data A reader asked where my water-level numbers come "
      "from: the tidal gauge at the harbor mouth, and here is how to read it. "
      + _filler("tidal gauge"))

DIRECTORY = "\n".join([
    "Discover",
    "Tidewater Notes",
    "Author: Maren Holt",
    "Subscribed: 12Played: 140Subscribe",
    "Share",
    "Description",
    "<p>Audio essays about the coast, the harbor and the people who work them.</p>",
    "12 Episodes",
    "Reverse",
    D3, D1, D2,
    "Comments",
    "Top Podcasts",
]) + "\n"

REVIEW = f"""---
title: "Tidewater Notes: 2025 in review"
subtitle: "A year on the water."
date: 2025-12-30
type: newsletter
audience: everyone
canonical_url: {SITE}tidewater-2025-in-review
post_id: 171000001.tidewater-2025-in-review
---
This year I wrote about reefs, marshes and the numbers behind them.

-   **[Oyster Reefs 2.0]({SITE}oyster-reefs-20-army-corps-plan)**[: the Army Corps plan,
revisited]({SITE}oyster-reefs-20-army-corps-plan)

-   Where my numbers come from: [the gauge post]({SITE}tidal-gauge-data), still the most
    asked-about piece.

-   [The harbor dredging fight]({SITE}harbor-dredging-fight), which is not in this archive.

Thank you for reading, and see you in the new year.
"""


def write_archive(root: Path) -> Path:
    """The three files under root/archive; returns that folder."""
    folder = root / "archive"
    (folder / "feeds").mkdir(parents=True)
    (folder / "posts").mkdir()
    (folder / "feeds" / "tidewater-feed.txt").write_text(FEED, encoding="utf-8")
    (folder / "feeds" / "tidewater-directory-page.txt").write_text(DIRECTORY, encoding="utf-8")
    (folder / "posts" / "2025-review.md").write_text(REVIEW, encoding="utf-8")
    return folder
