"""Builds examples/demo-archive/substack-export.zip, a small Substack export in the real layout.

Run it again after editing the posts below; the zip is committed so the quickstart needs nothing.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

HERE = Path(__file__).parent / "demo-archive"

POSTS = [
    {
        "post_id": "101.oyster-reefs-are-infrastructure",
        "post_date": "2025-03-04T13:00:00.000Z",
        "is_published": "true",
        "email_sent_at": "2025-03-04T13:00:05.000Z",
        "inbox_sent_at": "2025-03-04T13:00:06.000Z",
        "type": "newsletter",
        "audience": "everyone",
        "title": "Oyster reefs are infrastructure",
        "subtitle": "Why the cheapest breakwater in the bay is alive",
        "podcast_url": "",
        "html": """<p>Every spring the county asks how much a new concrete breakwater will cost.
Almost nobody asks what the oyster reefs already do for free.</p>
<h2>What a reef does</h2>
<p>A healthy reef knocks down wave energy before it reaches the marsh edge, filters the water,
and gives juvenile fish somewhere to hide. The restored reef off Gull Point cut shoreline
erosion behind it by roughly a third in two seasons.</p>
<ul><li><p>Wave attenuation</p></li><li>Water filtration</li><li>Nursery habitat</li></ul>
<p>Read the <a href="https://example.org/reef-report">county reef report</a>.</p>
<script>alert('archive scripts must never run')</script>
<img src="https://example.org/reef.png" onerror="alert(1)">""",
        "delivers": 1200,
        "opens": 540,
    },
    {
        "post_id": "102.kelp-farming-winter-season",
        "post_date": "2025-06-10T12:30:00.000Z",
        "is_published": "true",
        "email_sent_at": "2025-06-10T12:30:04.000Z",
        "inbox_sent_at": "2025-06-10T12:30:05.000Z",
        "type": "newsletter",
        "audience": "only_paid",
        "title": "What a winter of kelp farming taught me",
        "subtitle": "Seed lines, storms, and a harvest that came late",
        "podcast_url": "",
        "html": """<p>I spent the winter on a small kelp farm in the outer harbor, helping set seed
lines in November and hauling the harvest in May.</p>
<p>Kelp grows in the cold months, which makes it one of the few crops a fishing family can tend
when the lobster season is closed. The catch is the storms: one nor'easter can strip a line.</p>
<p>Sugar kelp pulls nitrogen out of the water as it grows, so a farm doubles as a small
water-quality project.</p>""",
        "delivers": 1250,
        "opens": 700,
    },
    {
        "post_id": "103.marsh-migration-draft",
        "post_date": "",
        "is_published": "false",
        "email_sent_at": "",
        "inbox_sent_at": "",
        "type": "newsletter",
        "audience": "everyone",
        "title": "Where the marsh goes next (draft)",
        "subtitle": "",
        "podcast_url": "",
        "html": """<p>As the sea rises, salt marsh tries to move inland. Whether it can depends on
what we built behind it: a road, a seawall, or an open field.</p>""",
        "delivers": 0,
        "opens": 0,
    },
]

COLUMNS = ["post_id", "post_date", "is_published", "email_sent_at", "inbox_sent_at", "type",
           "audience", "title", "subtitle", "podcast_url"]


def _csv(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def build(target: Path = HERE / "substack-export.zip") -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("posts.csv", _csv([COLUMNS] + [[p[c] for c in COLUMNS] for p in POSTS]))
        for p in POSTS:
            zf.writestr(f"posts/{p['post_id']}.html", p["html"])
            if not p["delivers"]:
                continue
            pid = p["post_id"].split(".")[0]
            delivers = [["post_id", "timestamp", "email"]] + [
                [pid, p["email_sent_at"], f"reader{i}@example.com"] for i in range(p["delivers"])]
            # Opens are events: some readers open twice, and count once as a unique open.
            opens = [["post_id", "timestamp", "email"]] + [
                [pid, p["email_sent_at"], f"reader{i}@example.com"] for i in range(p["opens"])] + [
                [pid, p["email_sent_at"], f"reader{i}@example.com"] for i in range(p["opens"] // 10)]
            zf.writestr(f"posts/{p['post_id']}.delivers.csv", _csv(delivers))
            zf.writestr(f"posts/{p['post_id']}.opens.csv", _csv(opens))
    return target


if __name__ == "__main__":
    print(build())
