"""Builds examples/demo-archive/substack-export.zip, a small Substack export in the real layout.

The layout is the one Substack's "Export your data" gives: posts.csv; the post HTML as
posts/<number>.<slug>.html with Substack's own furniture (subscribe widget, share and comment
buttons) and footnote markup; one row per email in posts/<number>.delivers.csv and
posts/<number>.opens.csv, named by the number alone; and email_list.<publication>.csv with the
subscribers (fake addresses here), which backlist never reads.

Run it again after editing the posts below; the zip is committed so the quickstart needs nothing.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

HERE = Path(__file__).parent / "demo-archive"

PUB = "https://tidewater.example.org"
SUBSCRIBE = f"""
<div class="subscription-widget-wrap-editor" data-attrs="{{&quot;url&quot;:&quot;{PUB}/subscribe?\
&quot;,&quot;text&quot;:&quot;Subscribe&quot;,&quot;language&quot;:&quot;en&quot;}}" \
data-component-name="SubscribeWidgetToDOM"><div class="subscription-widget show-subscribe">\
<div class="preamble"><p class="cta-caption">Tidewater Notes is reader-supported. Subscribe for \
free to get new posts.</p></div><form class="subscription-widget-subscribe"><input type="email" \
class="email-input" name="email" placeholder="Type your email…" tabindex="-1"><input \
type="submit" class="button primary" value="Subscribe"></form></div></div>"""
SHARE = f"""
<div class="captioned-button-wrap" data-attrs="{{&quot;url&quot;:&quot;{PUB}/p/share&quot;,\
&quot;text&quot;:&quot;Share&quot;}}" data-component-name="CaptionedButtonToDOM">\
<div class="preamble"><p class="cta-caption">This post is public, so feel free to pass it on.</p>\
</div><p class="button-wrapper" data-attrs="{{&quot;url&quot;:&quot;{PUB}/p/share&quot;,\
&quot;text&quot;:&quot;Share&quot;}}" data-component-name="ButtonCreateButton"><a \
class="button primary" href="{PUB}/p/share?action=share"><span>Share</span></a></p></div>"""
COMMENT = f"""
<p class="button-wrapper" data-attrs="{{&quot;url&quot;:&quot;{PUB}/p/comments&quot;,\
&quot;text&quot;:&quot;Leave a comment&quot;}}" data-component-name="ButtonCreateButton"><a \
class="button primary" href="{PUB}/p/comments"><span>Leave a comment</span></a></p>"""

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
erosion behind it by roughly a third in two seasons<a class="footnote-anchor" \
data-component-name="FootnoteAnchorToDOM" id="footnote-anchor-1" href="#footnote-1" \
target="_self">1</a>.</p>
<ul><li><p>Wave attenuation</p></li><li>Water filtration</li><li>Nursery habitat</li></ul>
<p>Read the <a href="https://example.org/reef-report">county reef report</a>.</p>
<script>alert('archive scripts must never run')</script>
<img src="https://example.org/reef.png" onerror="alert(1)">""" + SHARE + """
<div class="footnote" data-component-name="FootnoteToDOM"><a id="footnote-1" \
href="#footnote-anchor-1" class="footnote-number" contenteditable="false" target="_self">1</a>\
<div class="footnote-content"><p>Measured against the unprotected shore north of the point, \
from the county's spring and autumn surveys.</p></div></div>""" + SUBSCRIBE,
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
water-quality project.</p>
<p>The line plan we used, for anyone setting their own:</p>
<pre><code>longline:      60 m, 2 m below low water
seed string:   wrapped every 0.5 m
anchors:       2 x 50 kg helix
check after:   every storm over 25 kn</code></pre>""" + COMMENT + SUBSCRIBE,
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
DELIVER_COLUMNS = ["post_id", "timestamp", "email", "post_type", "post_audience",
                   "active_subscription"]
OPEN_COLUMNS = DELIVER_COLUMNS + ["country", "city", "region", "device_type", "client_os",
                                  "client_type", "user_agent"]
SUBSCRIBER_COLUMNS = ["email", "active_subscription", "expiry", "plan", "email_disabled",
                      "created_at", "first_payment_at"]
READERS = 1300


def _csv(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _reader(i: int) -> str:
    return f"reader{i}@example.com"


def _email_rows(p: dict, count: int, opens: bool) -> list[list[str]]:
    number = p["post_id"].split(".")[0]
    rows = []
    for i in range(count):
        row = [number, p["email_sent_at"], _reader(i), p["type"], p["audience"], "false"]
        if opens:
            row += ["US", "Harbor Town", "ME", "mobile" if i % 3 else "desktop",
                    "iOS" if i % 3 else "macOS", "email", "Mozilla/5.0"]
        rows.append(row)
    return rows


def build(target: Path = HERE / "substack-export.zip") -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("posts.csv", _csv([COLUMNS] + [[p[c] for c in COLUMNS] for p in POSTS]))
        subscribers = [[_reader(i), "false", "", "other", "false", "2024-11-02T09:00:00.000Z", ""]
                       for i in range(READERS)]
        zf.writestr("email_list.tidewater.csv", _csv([SUBSCRIBER_COLUMNS] + subscribers))
        for p in POSTS:
            zf.writestr(f"posts/{p['post_id']}.html", p["html"])
            if not p["delivers"]:
                continue
            number = p["post_id"].split(".")[0]
            # Opens are events: some readers open twice, and count once as a unique open.
            opens = _email_rows(p, p["opens"], True) + _email_rows(p, p["opens"] // 10, True)
            zf.writestr(f"posts/{number}.delivers.csv",
                        _csv([DELIVER_COLUMNS] + _email_rows(p, p["delivers"], False)))
            zf.writestr(f"posts/{number}.opens.csv", _csv([OPEN_COLUMNS] + opens))
    return target


if __name__ == "__main__":
    print(build())
