"""`backlist serve` in a real browser: Debian's Chromium driven by Playwright, one server and
one browser for the module, over the demo archive plus a hostile document (test_web_api).

Every page visit records dialogs, console errors and requests: archive text must never run a
script, open a dialog, or make the browser fetch anything from elsewhere.
"""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from test_web_api import ATTACKER, HOSTILE_ID, build_web_library, cli_json, running

from backlist.web.app import create_app

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
KELP = "What a winter of kelp farming taught me"


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    return build_web_library(tmp_path_factory.mktemp("web-browser-lib"))


@pytest.fixture(scope="module")
def base_url(library):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BACKLIST_EMBEDDER", "hash")
        with running(create_app(library)) as url:
            yield url


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).exists(), "run scripts/setup-browser.sh first"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


class Watch:
    """What a page did that it should not: dialogs, console errors, off-server requests."""

    def __init__(self, page: Page, base: str) -> None:
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.host = urlsplit(base).netloc
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r.url))

    @property
    def elsewhere(self) -> list[str]:
        return [u for u in self.requests if urlsplit(u).netloc != self.host]

    def assert_clean(self) -> None:
        assert self.dialogs == [], self.dialogs
        assert self.errors == [], self.errors
        assert self.elsewhere == [], self.elsewhere


@pytest.fixture
def page(browser, base_url):
    context = browser.new_context(base_url=base_url, viewport={"width": 1200, "height": 860})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    pg.watch = Watch(pg, base_url)
    yield pg
    context.close()


def test_search_as_you_type_with_a_filter_and_keyboard(page, shots):
    page.goto("/")
    expect(page.locator("#q")).to_be_focused()  # autofocus; "/" brings it back from elsewhere
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("/")
    expect(page.locator("#q")).to_be_focused()
    assert page.input_value("#q") == ""
    page.keyboard.type("oyster reefs", delay=40)
    first = page.locator(".hit").first
    expect(first).to_be_visible()
    expect(page.locator(".hit h3").first).to_have_text("Oyster reefs are infrastructure")
    assert page.locator(".hit mark").count() > 0
    assert {m.lower() for m in page.locator(".hit mark").all_inner_texts()} <= {"oyster", "reefs", "reef"}
    assert "q=oyster+reefs" in page.url  # the URL follows, so a search can be shared or reloaded
    page.screenshot(path=str(shots / "search-full.png"), full_page=True)
    page.screenshot(path=str(shots / "search.png"))  # the first screenful, for the README
    shutil.copy(shots / "search.png", ROOT / "docs" / "screenshot-search.png")

    page.locator("summary", has_text="Filters").click()
    page.select_option("#f-kind", "episode")
    expect(page.locator(".hit .kind").first).to_have_text("episode")
    kinds = set(page.locator(".hit .kind").all_text_contents())
    assert kinds == {"episode"}
    assert "kind=episode" in page.url

    page.locator("#q").focus()
    page.keyboard.press("ArrowDown")
    expect(page.locator(".hit-link").first).to_be_focused()
    target = page.locator(".hit-link").first.get_attribute("href")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(target.split("#")[0])))
    expect(page.locator("article.document h1")).to_be_visible()
    page.watch.assert_clean()


def test_copy_citation_puts_markdown_on_the_clipboard(page):
    page.goto("/?q=living%20shorelines")
    page.locator(".hit .copy").first.click()
    expect(page.locator(".hit .copy").first).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("> ")
    assert "Building living shorelines, with Dr. Ana Ruiz" in copied and "2025-05-20" in copied
    assert "https://tidewater.example.org/p/living-shorelines-ana-ruiz" in copied
    page.watch.assert_clean()


def test_document_opens_at_a_passage_anchor(page, shots, base_url):
    import httpx

    doc = httpx.get(f"{base_url}/api/documents/a2233cc85042").json()
    assert "Ana Ruiz" in doc["speakers"]
    page.set_viewport_size({"width": 900, "height": 500})
    page.goto("/doc/a2233cc85042#p2")
    target = page.locator("#p2")
    expect(target).to_be_visible()
    assert page.evaluate("document.querySelector(':target').id") == "p2"
    assert page.evaluate("(() => { const r = document.getElementById('p2').getBoundingClientRect();"
                         " return r.top >= 0 && r.top < window.innerHeight; })()")
    speakers = page.locator(".speaker").all_text_contents()
    assert "Ana Ruiz" in speakers and len(speakers) >= 2
    page.screenshot(path=str(shots / "document.png"), full_page=True)

    page.goto("/doc/601d11006196")  # the saved article: its reader comments stay apart
    expect(page.locator(".comments h2")).to_contain_text("Reader comments")
    body = page.locator(".doc-body > .passage-block").all_inner_texts()
    comments = page.locator(".comments .comment").all_inner_texts()
    assert comments and not any(c[:40] in " ".join(body) for c in comments)
    page.watch.assert_clean()


def test_pasted_draft_finds_the_related_piece_first(page, shots):
    page.goto("/draft")
    page.fill("#draft", "This winter I hung kelp lines from the farm's buoys and learned how "
                        "seaweed grows in cold water, storms and all.")
    page.click("#find-related")
    expect(page.locator("#related .hit h3").first).to_have_text(KELP)
    assert page.locator("#related .hit .reason").first.inner_text().startswith("Why:")
    page.screenshot(path=str(shots / "draft.png"), full_page=True)
    with page.expect_download() as info:
        page.click("#export-pack")
    pack = Path(info.value.path()).read_text(encoding="utf-8")
    assert info.value.suggested_filename == "context-pack.md" and KELP in pack
    page.watch.assert_clean()


def test_timeline_draws_its_chart(page, shots, base_url):
    import httpx

    page.goto("/timeline")
    page.fill("#tq", "oyster")
    page.keyboard.press("Enter")
    chart = page.locator("svg#timeline-chart")
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box["width"] > 300 and box["height"] > 80
    counts = [int(c) for c in page.locator("svg#timeline-chart .bar").evaluate_all(
        "els => els.map(e => e.dataset.count)")]
    dated = httpx.get(f"{base_url}/api/timeline", params={"q": "oyster"}).json()["dated"]
    assert sum(counts) == len(dated) >= 2
    heights = page.locator("svg#timeline-chart .bar path").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().height)")
    assert max(heights) > 20
    # the stylesheet themes the chart (the SVG has no inline style for the CSP to block)
    fill = page.locator("svg#timeline-chart .bar path").first.evaluate("e => getComputedStyle(e).fill")
    accent = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--accent')")
    assert fill.replace(" ", "") == _rgb(accent.strip())
    assert page.locator("svg#timeline-chart [style]").count() == 0
    assert page.locator("#dated .hit").count() == len(dated)
    page.screenshot(path=str(shots / "timeline.png"), full_page=True)
    page.watch.assert_clean()


def _rgb(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    return "rgb({},{},{})".format(*(int(h[i:i + 2], 16) for i in (0, 2, 4)))


def test_performance_numbers_equal_the_cli(page, library, shots, monkeypatch):
    monkeypatch.setenv("BACKLIST_EMBEDDER", "hash")
    top = cli_json(library, "top", "--by", "views")
    report = cli_json(library, "insights", "--by", "views")
    page.goto("/performance?by=views")
    rows = page.locator("#top-table tbody tr").evaluate_all(
        "els => els.map(e => [e.dataset.id, Number(e.dataset.value)])")
    assert rows == [[r["id"], r["views"]] for r in top]
    shown = page.locator("#top-table tbody tr td.num:nth-child(5)").all_inner_texts()
    assert shown == [f"{r['views']:,g}" for r in top]
    assert float(page.locator("#overall").get_attribute("data-median")) == report["overall"]["median"]
    for name, groups in report["groups"].items():
        table = page.locator(f'table.insights[data-group="{name}"] tbody tr')
        got = table.evaluate_all("els => els.map(e => [e.dataset.group, Number(e.dataset.n), "
                                 "Number(e.dataset.median), e.classList.contains('few')])")
        assert got == [[g["group"], g["n"], g["median"], g["verdict"].startswith("too few")]
                       for g in groups], name
    assert page.locator("tr.few .flag").count() >= 1  # the demo is small: flags must show
    page.screenshot(path=str(shots / "performance.png"), full_page=True)
    page.watch.assert_clean()


def test_hostile_document_renders_inert(page, shots):
    title = "<script>alert('title')</script><img src=x onerror=alert(1)> Hostile </textarea> tides"
    page.goto("/")
    page.fill("#q", "hostile tides")
    expect(page.locator(".hit h3").first).to_have_text(title)
    page.locator(".hit-link").first.click()
    expect(page.locator("article.document h1")).to_have_text(title)
    assert page.url.endswith(f"/doc/{HOSTILE_ID}#p0") or f"/doc/{HOSTILE_ID}" in page.url
    expect(page.locator(".doc-body")).to_contain_text("</textarea><script>alert('body')</script>")
    expect(page.locator(".comments")).to_contain_text("<script>alert('comment')</script>")
    assert page.locator("a.orig").count() == 0  # a javascript: URL is never a link
    hrefs = page.locator("a[href]").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert all(h.startswith(("/", "#", "http://", "https://")) for h in hrefs), hrefs
    assert page.locator("img, iframe, object, embed").count() == 0
    assert page.evaluate("document.scripts.length") == 1
    page.screenshot(path=str(shots / "hostile.png"), full_page=True)

    page.goto("/draft")
    page.fill("#draft", "oyster </textarea><script>alert('draft')</script><img src=x onerror=alert(9)>")
    page.click("#find-related")
    expect(page.locator("#draft")).to_have_value(re.compile(r"</textarea><script>alert\('draft'\)"))
    page.goto(f"/timeline?q={'hostile tides'}")
    expect(page.locator("#dated .hit h3").first).to_have_text(title)
    page.watch.assert_clean()
    assert not any(ATTACKER in u for u in page.watch.requests)


def test_every_page_looks_right_in_dark_mode_and_on_a_phone(browser, base_url, shots):
    context = browser.new_context(base_url=base_url, color_scheme="dark",
                                  viewport={"width": 390, "height": 844}, device_scale_factor=2)
    pg = context.new_page()
    watch = Watch(pg, base_url)
    for name, path in [("search-dark", "/?q=storm"), ("doc-dark", "/doc/a2233cc85042"),
                       ("library-dark", "/library"), ("topics-dark", "/topics")]:
        pg.goto(path)
        assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), name
        pg.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    background = pg.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(21, 23, 26)"
    watch.assert_clean()
    context.close()


def test_ingest_from_the_page_shows_progress_until_done(page, shots, tmp_path):
    folder = tmp_path / "new-posts"
    folder.mkdir()
    for n in range(60):
        body = "\n\n".join(textwrap.fill(f"Paragraph {p} of note {n} on eelgrass meadows, tides, "
                                         f"mudflats and the herons that stalk them. " * 6)
                           for p in range(6))
        (folder / f"note-{n:02d}.md").write_text(
            f"---\ntitle: Eelgrass note {n}\ndate: 2025-09-{n % 28 + 1:02d}\n---\n\n{body}\n")
    polls: list[dict] = []
    page.on("response", lambda r: polls.append(r.json()) if "/api/ingest/" in r.url else None)
    page.goto("/library")
    before = page.locator("#stats-line").inner_text()
    page.fill("#paths", str(folder))
    page.click("#start-ingest")
    expect(page.locator("#ingest-progress")).to_be_visible()
    expect(page.locator("#job-summary")).to_contain_text("60 new", timeout=60_000)
    expect(page.locator("#ingest-progress")).to_have_attribute("value", "100")
    assert polls, "the page polled the job's progress"
    assert any(p["state"] == "running" for p in polls) or polls[-1]["state"] == "done"
    assert polls[-1]["state"] == "done" and polls[-1]["percent"] == 100
    after = page.locator("#stats-line").inner_text()
    assert before != after and int(after.split()[0]) == int(before.split()[0]) + 60
    page.screenshot(path=str(shots / "library.png"), full_page=True)
    page.goto("/?q=eelgrass%20herons")
    expect(page.locator(".hit h3").first).to_contain_text("Eelgrass note")
    page.watch.assert_clean()


def test_token_is_required_when_bound_elsewhere(browser, library, monkeypatch):
    monkeypatch.setenv("BACKLIST_EMBEDDER", "hash")
    from test_web_api import free_port

    port = free_port("127.0.0.2")
    app = create_app(library, token="s3cret", host="127.0.0.2", port=port)
    with running_at(app, "127.0.0.2", port) as base:
        context = browser.new_context()
        pg = context.new_page()
        assert pg.goto(f"{base}/").status == 401
        assert json.loads(pg.inner_text("body"))["error"].startswith("a valid token")
        assert pg.goto(f"{base}/?token=s3cret").status == 200
        assert pg.goto(f"{base}/library").status == 200  # the cookie carries the token now
        pg.goto(f"{base}/?token=s3cret")
        pg.fill("#q", "kelp")
        expect(pg.locator(".hit h3").first).to_have_text(KELP)  # the live fetches carry it too
        context.close()


def running_at(app, host: str, port: int):
    """running() on a chosen port (the app's Host checks were built for it)."""
    import contextlib
    import threading
    import time

    import uvicorn

    @contextlib.contextmanager
    def run():
        server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        try:
            yield f"http://{host}:{port}"
        finally:
            server.should_exit = True
            thread.join(10)

    return run()
