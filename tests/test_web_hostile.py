"""Hostile archive text through the web app: JSON escapes controls and bidi overrides as \\uXXXX,
pages autoescape, and every SVG the app serves (inline or as a file) has no inline style, under a
CSP that forbids inline styles.

The corpus is one interview written straight to the store, as a reader that let everything
through would: `<script>` in a topic name, `onerror=` in a speaker's and an entity's name, a C1
control (U+009B, the 8-bit CSI) and a right-to-left override (U+202E) in its title and text.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_web_api import live_markup

from backlist.index.chunking import chunk
from backlist.model import Document, Turn
from backlist.service import Library
from backlist.web.app import create_app

C1 = "\u009b"  # CSI: "ESC [" in one byte to an 8-bit terminal
RLO = "\u202e"  # right-to-left override: "txt.exe" shows as "exe.txt"
TOPIC = "<script>alert('topic')</script>Mudflats"
SPEAKER = "<img src=x onerror=alert(7)>"
ENTITY = f"<b onmouseover=alert(8)>{RLO}Tidebot"
DOC_ID = "7e57ba5e0001"
DOC = Document(
    id=DOC_ID, kind="episode", source="hostile.vtt", position="whole file", date="2025-03-03",
    title=f"Mudflat tides {C1}31m{RLO}gnp.exe interview",
    speakers=[SPEAKER, "Host"],
    turns=[Turn(SPEAKER, f"The mudflat tides rise twice a day {C1}2J and {RLO}evil reversed."),
           Turn("Host", "And the mudflat birds follow the tides.")],
    text=(f"{SPEAKER}: The mudflat tides rise twice a day {C1}2J and {RLO}evil reversed.\n\n"
          "Host: And the mudflat birds follow the tides."),
)
OTHER = Document(id="7e57ba5e0002", kind="post", source="b.md", position="whole file",
                 date="2025-06-01", title="Later mudflat notes", text="Mudflat tides again in June.")
RAW_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile-web")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BACKLIST_EMBEDDER", "hash")
        with Library(folder) as lib:
            for doc in (DOC, OTHER):
                lib.store.write_document(doc, chunk(doc))
            assert any(p.speaker == SPEAKER for p in lib.store.doc_passages(DOC_ID))
            (folder / "topics.yaml").write_text(json.dumps({"topics": [{"name": TOPIC}]}))
            lib.store.set_doc_topics(DOC_ID, [(TOPIC, 1.0)], manual=True)
            lib.store.set_doc_topics(OTHER.id, [(TOPIC, 1.0)], manual=True)
            lib.store.set_entities(DOC_ID, [(ENTITY, "model", None, 2, "mention")])
            lib.embed_pending()
        with TestClient(create_app(folder), base_url="http://127.0.0.1",
                        raise_server_exceptions=False) as c:
            yield c


API_GETS = ["/api/search?q=mudflat", f"/api/search?q=mudflat&speaker={SPEAKER}",
            "/api/search?q=mudflat&explain=true", "/api/documents", f"/api/documents/{DOC_ID}",
            "/api/timeline?q=mudflat", "/api/topics", "/api/entities", "/api/stats"]


@pytest.mark.parametrize("path", API_GETS)
def test_json_escapes_controls_and_bidi_overrides(client, path):
    r = client.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    raw = r.content.decode("utf-8")
    assert not RAW_UNSAFE.search(raw), RAW_UNSAFE.findall(raw)
    assert json.loads(raw) == r.json()  # still plain JSON; the data itself is kept whole
    if path != "/api/stats" and "topics" not in path and "entities" not in path:
        assert "\\u009b" in raw and "\\u202e" in raw and C1 in json.dumps(r.json(), ensure_ascii=False)


def test_related_and_errors_are_escaped_too(client):
    r = client.post("/api/related", json={"draft": f"mudflat tides {RLO} {C1}"})
    assert r.status_code == 200 and r.json()
    assert not RAW_UNSAFE.search(r.content.decode()) and "\\u202e" in r.text
    bad = client.get(f"/api/documents/{RLO}nothing{C1}")
    assert bad.status_code == 404 and not RAW_UNSAFE.search(bad.content.decode())


def test_topic_and_entity_names_are_escaped_in_json(client):
    topics = client.get("/api/topics").json()
    assert [t["name"] for t in topics] == [TOPIC]  # the name is kept, as data
    raw = client.get("/api/entities").content.decode()
    assert "\\u202eTidebot" in raw and ENTITY in [e["entity"] for e in json.loads(raw)]


PAGES = ["/", "/?q=mudflat", f"/?q=mudflat&speaker={SPEAKER}", f"/doc/{DOC_ID}",
         "/timeline?q=mudflat", "/topics", "/library", "/draft", "/docs"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_autoescape_hostile_text(client, path):
    r = client.get(path)
    assert r.status_code == 200, r.text
    assert live_markup(r.text) == [], path
    for raw in ("<script>alert", "<img src=x", "<b onmouseover"):
        assert raw not in r.text, (path, raw)


def test_the_escaped_text_is_shown(client):
    doc = client.get(f"/doc/{DOC_ID}").text
    assert "&lt;img src=x onerror=alert(7)&gt;" in doc  # the speaker, as text
    assert "&lt;script&gt;alert(&#39;topic&#39;)&lt;/script&gt;Mudflats" in doc  # the topic
    topics = client.get("/topics").text
    assert "&lt;script&gt;alert(&#39;topic&#39;)" in topics and "&lt;b onmouseover=alert(8)&gt;" in topics
    posted = client.post("/draft", data={"draft": f"mudflat {SPEAKER} tides"})
    assert posted.status_code == 200 and live_markup(posted.text) == []


# --- SVG: no inline styles anywhere the app serves one -------------------------------------------------
SVG_NS = "{http://www.w3.org/2000/svg}"


def styled(svg: str) -> list[str]:
    """Elements of an SVG that carry a style attribute or are <style> elements."""
    root = ET.fromstring(svg)
    return [el.tag for el in root.iter() if "style" in el.attrib or el.tag == f"{SVG_NS}style"]


def inline_svgs(page: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", page, flags=re.S)


def test_every_served_svg_has_no_inline_style_and_the_csp_forbids_them(client):
    timeline = client.get("/timeline?q=mudflat")
    csp = timeline.headers["content-security-policy"]
    assert "style-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-hashes" not in csp
    svgs = inline_svgs(timeline.text)
    assert len(svgs) == 1 and 'id="timeline-chart"' in svgs[0]
    made = client.post("/review", data={"year": "2025"}, follow_redirects=False)
    assert made.status_code == 303, made.text
    folder = made.headers["location"]
    review = client.get(folder)
    files = re.findall(r'src="([^"]+\.png)"', review.text)
    assert files, "the review shows its charts"
    served = {"favicon": client.get("/favicon.ico")}
    for png in files:
        served[png] = client.get(folder + png.replace(".png", ".svg"))
    for name, r in served.items():
        assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml"), name
        assert r.headers["content-security-policy"] == csp
        svgs.append(r.text)
    for svg in svgs:
        assert styled(svg) == [] and " style=" not in svg
    legend = [t for s in served.values() for t in ET.fromstring(s.text).itertext() if "alert(" in t]
    assert legend and all("<script>" in t for t in legend)  # the topic, as SVG text, not markup
    assert not any(el.tag.endswith("script") for s in served.values()
                   for el in ET.fromstring(s.text).iter())


def test_the_timeline_chart_counts_the_dated_pieces(client):
    page = client.get("/timeline?q=mudflat").text
    svg = ET.fromstring(inline_svgs(page)[0])
    bars = [el for el in svg.iter() if el.get("class") == "bar"]
    dated = client.get("/api/timeline?q=mudflat").json()["dated"]
    assert sum(int(b.get("data-count")) for b in bars) == len(dated) == 2
    assert [b.get("data-period") for b in bars] == ["2025-03", "2025-04", "2025-05", "2025-06"]
    assert [int(b.get("data-count")) for b in bars] == [1, 0, 0, 1]  # empty months stay as gaps
    assert svg.find(f"{SVG_NS}title").text == "Pieces about mudflat per month"


def test_chart_files_are_the_ones_the_module_writes(tmp_path):
    """The review's SVG (charts.save) and the web's inline SVG are the same writer's output."""
    import datetime as dt

    from backlist.analysis import charts as ch

    fig = ch.monthly_counts_figure({dt.date(2025, 3, 1): {TOPIC: 2}}, dt.date(2025, 1, 1),
                                   dt.date(2025, 6, 30), ch.topic_colours([TOPIC]), "Per month")
    chart = ch.save(fig, tmp_path, "c", "Per month", "Two in March.")
    text = Path(chart.path_svg).read_text()
    assert styled(text) == [] and text.startswith("<?xml")
    assert 'font-size="' in text and 'fill="#0072b2"' in text.lower()  # styles kept, as attributes
    assert "&lt;script&gt;" in text
