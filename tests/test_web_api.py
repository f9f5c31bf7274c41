"""`backlist serve` without a browser: the JSON API equals the CLI's JSON, errors are clear with
the right status, and the safety layers (CSP, Host, cross-site, body size, token) hold.

The library is the demo archive (hash embedder: no model is loaded), its metrics, and one
hostile document written straight to the store, as a reader that let markup through would.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from backlist.cli import app as cli_app
from backlist.errors import BacklistError
from backlist.index.chunking import chunk
from backlist.model import Document
from backlist.service import Library
from backlist.web.app import MAX_BODY, create_app

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo-archive"
HOSTILE_ID = "bad0c0ffee01"
ATTACKER = "attacker.example"
HOSTILE = Document(
    id=HOSTILE_ID, kind="post", source="hostile.md", position="whole file", date="2025-02-01",
    title="<script>alert('title')</script><img src=x onerror=alert(1)> Hostile </textarea> tides",
    subtitle="<b onmouseover=alert(2)>bold</b>",
    url="javascript:alert(document.cookie)",
    authors=["<svg onload=alert(6)>"],
    text=("Hostile tides notes about mudflats. </textarea><script>alert('body')</script>\n\n"
          f'<img src="http://{ATTACKER}/pixel.png" onerror="alert(3)"> [click](javascript:alert(4)) '
          f'<a href="javascript:alert(5)">x</a> {{{{ 7*7 }}}} <iframe src="http://{ATTACKER}/f"></iframe>'),
    comments=[f"<script>alert('comment')</script><img src=http://{ATTACKER}/c.png>"],
)
REEF_DOCS = ("c579eda85991", "a2233cc85042")  # the oyster reef post and the living shorelines episode
runner = CliRunner()


def build_web_library(folder: Path) -> Path:
    """The demo archive, its dashboard metrics, and the hostile document, in folder."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BACKLIST_EMBEDDER", "hash")
        with Library(folder) as lib:
            report = lib.ingest([str(DEMO)])
            assert not report.errors, report.errors
            assert lib.import_metrics(DEMO / "metrics" / "dashboard.csv").matched == 4
            lib.store.write_document(HOSTILE, chunk(HOSTILE))
            (folder / "topics.yaml").write_text("topics:\n- name: Reefs\n  description: oyster reefs\n")
            for doc_id in REEF_DOCS:  # a topic, so --topic has something to filter on
                lib.store.set_doc_topics(doc_id, [("Reefs", 1.0)], manual=True)
            lib.embed_pending()
            assert lib.get(HOSTILE_ID).url.startswith("javascript:")
    return folder


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.bad: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith("on") or (name in ("href", "src", "action", "formaction") and value
                                         and not value.startswith(("/", "#", "http://", "https://"))):
                self.bad.append(f"<{tag} {name}={value!r}>")
        if tag in ("iframe", "object", "embed", "base") or (tag == "script" and
                                                             dict(attrs).get("src") != "/static/app.js"):
            self.bad.append(f"<{tag}>")


def live_markup(page: str) -> list[str]:
    """Elements that could run or load something the app did not put there: event handler
    attributes, script/iframe/object tags, non-http(s) links."""
    parser = _Tags()
    parser.feed(page)
    return parser.bad


def cli_json(library: Path, *args: str):
    result = runner.invoke(cli_app, ["--library", str(library), *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running(app, host: str = "127.0.0.1"):
    """The app on a real socket (uvicorn in a thread); yields its base URL."""
    import uvicorn

    port = free_port(host)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    return build_web_library(tmp_path_factory.mktemp("web-lib"))


@pytest.fixture(scope="module")
def client(library):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BACKLIST_EMBEDDER", "hash")
        with TestClient(create_app(library), base_url="http://127.0.0.1",
                        raise_server_exceptions=False) as c:
            yield c


# --- the API equals the CLI -------------------------------------------------------------------------
@pytest.mark.parametrize("path, cli", [
    ("/api/search?q=oyster%20reefs&k=5", ["search", "oyster reefs", "-k", "5"]),
    ("/api/search?q=storm&speaker=Ana%20Ruiz", ["search", "storm", "--speaker", "Ana Ruiz"]),
    ("/api/documents", ["ls"]),
    ("/api/documents/a2233cc85042", ["get", "a2233cc85042"]),
    ("/api/timeline?q=oyster", ["timeline", "oyster"]),
    ("/api/top?by=views", ["top", "--by", "views"]),
    ("/api/insights?by=views", ["insights", "--by", "views"]),
    ("/api/entities", ["entities"]),
    ("/api/stats", ["stats"]),
])
def test_api_equals_cli_json(client, library, monkeypatch, path, cli):
    monkeypatch.setenv("BACKLIST_EMBEDDER", "hash")
    r = client.get(path)
    assert r.status_code == 200, r.text
    assert r.json() == cli_json(library, *cli)
    assert r.json()  # not trivially equal


# every option of each command, through the API and the CLI: the same answer
@pytest.mark.parametrize("path, cli", [
    ("/api/search?q=oyster&topic=Reefs", ["search", "oyster", "--topic", "Reefs"]),
    ("/api/search?q=oyster&author=Maren%20Holt", ["search", "oyster", "--author", "Maren Holt"]),
    ("/api/search?q=oyster&sort=date&k=3", ["search", "oyster", "--sort", "date", "-k", "3"]),
    ("/api/search?q=oyster%20storms&recent=true", ["search", "oyster storms", "--recent"]),
    ("/api/search?q=oyster&explain=true&mode=keyword", ["search", "oyster", "--explain", "--mode",
                                                          "keyword"]),
    ("/api/search?q=oyster&min_score=0.2", ["search", "oyster", "--min-score", "0.2"]),
    ("/api/search?q=oyster&kind=post&kind=episode", ["search", "oyster", "--kind", "post", "--kind",
                                                       "episode"]),
    ("/api/search?q=oyster&since=2025-03-01&until=2025-05-31",
     ["search", "oyster", "--since", "2025-03-01", "--until", "2025-05-31"]),
    ("/api/search?q=living%20shorelines&entity=Ana%20Ruiz", ["search", "living shorelines", "--entity",
                                                            "Ana Ruiz"]),
    ("/api/search?q=oyster&since=2025-03&until=2025", ["search", "oyster", "--since", "2025-03",
                                                         "--until", "2025"]),
    ("/api/documents?until=last%20year", ["ls", "--until", "last year"]),  # words: the façade's
    ("/api/search?q=oyster&per_doc=1&drafts=true", ["search", "oyster", "--per-doc", "1", "--drafts"]),
    ("/api/documents?kind=episode&drafts=true", ["ls", "--kind", "episode", "--drafts"]),
    ("/api/documents?sort=date_desc&topic=Reefs", ["ls", "--sort", "date_desc", "--topic", "Reefs"]),
    ("/api/documents?sort=metric:views", ["ls", "--sort", "metric:views"]),
    ("/api/documents?author=Maren%20Holt", ["ls", "--author", "Maren Holt"]),
    ("/api/timeline?q=oyster&since=2025&topic=Reefs", ["timeline", "oyster", "--since", "2025",
                                                       "--topic", "Reefs"]),
    ("/api/top?by=views&kind=post", ["top", "--by", "views", "--kind", "post"]),
    ("/api/documents?since=2025-04-01&until=2025-06-30", ["ls", "--since", "2025-04-01", "--until",
                                                          "2025-06-30"]),
    ("/api/timeline?q=oyster&kind=post", ["timeline", "oyster", "--kind", "post"]),
    ("/api/top?by=views&topic=Reefs&k=1", ["top", "--by", "views", "--topic", "Reefs", "-k", "1"]),
    ("/api/top?by=views&year=2025", ["top", "--by", "views", "--year", "2025"]),
    ("/api/entities?kind=person", ["entities", "--kind", "person"]),
    ("/api/topics", ["topics"]),
])
def test_api_options_equal_the_cli_options(client, library, monkeypatch, path, cli):
    test_api_equals_cli_json(client, library, monkeypatch, path, cli)


def test_narrowing_options_narrow(client):
    """The options are applied, not accepted and dropped (as /api/search once did)."""
    everything = {h["doc_id"] for h in client.get("/api/search?q=oyster&k=20").json()}
    reefs = {h["doc_id"] for h in client.get("/api/search?q=oyster&k=20&topic=Reefs").json()}
    assert reefs == set(REEF_DOCS) < everything
    by_date = [h["date"] for h in client.get("/api/search?q=oyster&k=20&sort=date").json()]
    assert by_date == sorted(by_date, reverse=True) and len(by_date) >= 3
    assert all("explain" in h for h in client.get("/api/search?q=oyster&explain=true").json())


@pytest.mark.parametrize("body, cli", [
    ({"kind": ["episode"]}, ["--kind", "episode"]),
    ({"since": "2025-05-01", "until": "2025-12-31"}, ["--since", "2025-05-01", "--until", "2025-12-31"]),
    ({"topic": "Reefs"}, ["--topic", "Reefs"]),
    ({"exclude": ["ef7cbb6811b8"]}, ["--exclude", "ef7cbb6811b8"]),
    ({"not_cited": True}, ["--not-cited"]),
    ({"author": "Maren Holt", "drafts": True}, ["--author", "Maren Holt", "--drafts"]),
    ({"entity": "Ana Ruiz"}, ["--entity", "Ana Ruiz"]),
])
def test_related_options_equal_the_cli(client, library, monkeypatch, tmp_path, body, cli):
    monkeypatch.setenv("BACKLIST_EMBEDDER", "hash")
    draft = ("Kelp lines and oyster reefs both soften storms; my post 'What a winter of kelp farming "
             "taught me' said so.")
    (tmp_path / "draft.md").write_text(draft)
    r = client.post("/api/related", json={"draft": draft, "k": 5, **body})
    assert r.status_code == 200, r.text
    assert r.json() == cli_json(library, "related", str(tmp_path / "draft.md"), "-k", "5", *cli)


def route_table(app) -> list[tuple[str, set[str] | None]]:
    """(path, methods) of every route, included routers flattened (FastAPI >= 0.16x keeps them
    nested; older ones list them flat). methods None: a mounted app that takes any."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:
        return [(r.path, getattr(r, "methods", None)) for r in app.routes]
    return [(c.path, c.methods) for c in iter_route_contexts(app.routes)]


def _api_get_routes(app) -> list[str]:
    return [path for path, methods in route_table(app) if methods and "GET" in methods
            and path != "/openapi.json"]


def test_unknown_options_are_refused_on_every_route(client):
    """Generated from the route table: no route ignores an option it does not take."""
    fastapi_app = client.app.app
    paths = [p.replace("{doc_id}", "c579eda85991").replace("{job_id}", "1")
             .replace("{name}", "2025-01-01_to_2025-12-31").replace("{file}", "x.svg")
             for p in _api_get_routes(fastapi_app)]
    assert "/api/search" in paths and "/" in paths and len(paths) >= 15
    needs = {"/api/search": "q=oyster&", "/api/timeline": "q=oyster&", "/api/top": "by=views&"}
    for path in paths:
        r = client.get(f"{path}?{needs.get(path, '')}topik=Reefs", headers={"accept": "application/json"})
        assert r.status_code == 400 and "topik" in r.text, (path, r.status_code, r.text[:200])
    typo = client.post("/api/related", json={"draft": "kelp", "not_citted": True})
    assert typo.status_code == 400 and "not_citted" in typo.json()["error"]
    ingest = client.post("/api/ingest", json={"paths": ["x"], "knd": "feed"})
    assert ingest.status_code == 400 and "knd" in ingest.json()["error"]


def test_k_is_capped_at_the_facades_limit(client):
    from backlist.service import MAX_K

    assert client.get(f"/api/search?q=oyster&k={MAX_K}").status_code == 200
    for bad in (client.get(f"/api/search?q=oyster&k={MAX_K + 1}"),
                client.post("/api/related", json={"draft": "kelp", "k": MAX_K + 1})):
        assert bad.status_code == 400 and "k" in bad.json()["error"]


def test_ingest_with_an_unknown_kind_names_the_reader_kinds(client, tmp_path):
    from backlist.ingest import KINDS

    r = client.post("/api/ingest", json={"paths": [str(tmp_path)], "kind": "podcast"})
    assert r.status_code == 400
    assert "podcast" in r.json()["error"] and all(k in r.json()["error"] for k in KINDS)
    page = client.post("/library/ingest", data={"paths": str(tmp_path), "kind": "podcast"},
                       headers={"accept": "text/html"})
    assert page.status_code == 400 and all(k in page.text for k in KINDS)


def test_related_puts_the_kelp_post_first(client, library, monkeypatch, tmp_path):
    draft = "What I learned growing kelp and seaweed lines through a cold winter on the farm."
    r = client.post("/api/related", json={"draft": draft, "k": 5})
    assert r.status_code == 200
    assert r.json()[0]["title"] == "What a winter of kelp farming taught me"
    assert r.json()[0]["reason"]
    monkeypatch.setenv("BACKLIST_EMBEDDER", "hash")
    (tmp_path / "draft.md").write_text(draft)
    assert r.json() == cli_json(library, "related", str(tmp_path / "draft.md"), "-k", "5")


# --- bad input: a clear message with the right status, never a traceback ------------------------------
@pytest.mark.parametrize("method, path, status, words", [
    ("get", "/api/documents/ffffffffffff", 404, "no document"),
    ("get", "/doc/ffffffffffff", 404, "no document"),
    ("get", "/api/search?q=oyster&since=not-a-date", 400, "not a date"),
    ("get", "/?q=oyster&since=not-a-date", 400, "not a date"),
    ("get", "/api/search?q=", 400, "empty query"),
    ("get", "/api/search?q=%20%20", 400, "empty query"),
    ("get", "/api/search?q=x&mode=psychic", 400, "mode"),
    ("get", "/api/search?q=x&kind=poem", 400, "kind"),
    ("get", "/api/search?q=x&k=0", 400, "k"),
    ("get", "/api/timeline?q=", 400, "empty query"),
    ("get", "/api/top?by=no_such_metric", 400, "no_such_metric"),
    ("get", "/no/such/page", 404, "no such page"),
    ("get", "/review/2025-01-01_to_2025-12-31/../../library.sqlite", 404, ""),
    ("get", "/review/nonsense/", 404, "no such review"),
    ("get", "/api/ingest/999", 404, "no such ingest job"),
])
def test_bad_input_is_a_clear_message(client, method, path, status, words):
    r = getattr(client, method)(path, headers={"accept": "text/html" if not path.startswith("/api")
                                               else "application/json"})
    assert r.status_code == status, r.text
    assert "Traceback" not in r.text and 'File "' not in r.text
    assert words.lower() in r.text.lower()
    if path.startswith("/api/"):
        assert "error" in r.json()


def test_a_10mb_draft_is_refused_with_413(client):
    big = "word " * (10 * 1024 * 1024 // 5)
    page = client.post("/draft", data={"draft": big}, headers={"accept": "text/html"})
    assert page.status_code == 413 and "limit" in page.text and "<html" not in page.text.lower()[:5]
    api = client.post("/api/related", json={"draft": big})
    assert api.status_code == 413 and "limit" in api.json()["error"]

    def chunks():  # no Content-Length: the body is counted as it streams in
        for _ in range(3):
            yield b"x" * MAX_BODY

    streamed = client.post("/api/related", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413


def test_empty_and_undecodable_drafts(client):
    assert client.post("/draft", data={"draft": "  "}).status_code == 400
    r = client.post("/draft", files={"file": ("d.md", b"\xff\xfe\x00bad", "text/markdown")})
    assert r.status_code == 400 and "UTF-8" in r.text
    ok = client.post("/draft", files={"file": ("d.md", b"kelp farming in winter", "text/markdown")})
    assert ok.status_code == 200 and "What a winter of kelp farming taught me" in ok.text


def test_context_pack_downloads_as_markdown(client):
    r = client.post("/draft/context", data={"draft": "oyster reefs against storms", "budget": "600"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/markdown")
    assert "attachment" in r.headers["content-disposition"]
    assert "Oyster reefs are infrastructure" in r.text
    assert client.post("/draft/context", data={"draft": "x", "budget": "5"}).status_code == 400


# --- safety ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/", "/api/stats", "/static/app.js", "/no/such/page", "/docs"])
def test_every_response_has_the_csp(client, path):
    csp = client.get(path).headers["content-security-policy"]
    for rule in ("script-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert rule in csp
    assert "unsafe-inline" not in csp


def test_hostile_document_is_escaped_in_html(client):
    for path in (f"/doc/{HOSTILE_ID}", "/?q=hostile%20tides", "/timeline?q=hostile%20tides"):
        body = client.get(path).text
        assert "Hostile" in body, path
        assert "<script>alert" not in body and "<img src=x" not in body and "<iframe" not in body
        assert 'href="javascript:' not in body.lower()
        assert live_markup(body) == [], path
        assert "&lt;script&gt;alert(" in body
    doc = client.get(f"/doc/{HOSTILE_ID}").text
    assert "49" not in doc.split("Hostile tides notes")[1][:400]  # {{ 7*7 }} stays text


def test_html_in_a_draft_stays_in_the_textarea(client):
    r = client.post("/draft", data={"draft": "oyster </textarea><script>alert(1)</script>"})
    assert "&lt;/textarea&gt;&lt;script&gt;" in r.text and "</textarea><script>" not in r.text


def test_host_and_cross_site_checks(client):
    assert client.get("/", headers={"host": "evil.example"}).status_code == 421
    cross = client.post("/api/related", json={"draft": "kelp"},
                        headers={"origin": "http://evil.example"})
    assert cross.status_code == 403
    fetched = client.post("/api/related", json={"draft": "kelp"},
                          headers={"sec-fetch-site": "cross-site"})
    assert fetched.status_code == 403
    same = client.post("/api/related", json={"draft": "kelp"}, headers={"origin": "http://127.0.0.1"})
    assert same.status_code == 200


def _state_changing_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every route that is not GET/HEAD, from the app's route table (mounted
    apps such as /mcp included: a Route with no methods takes any)."""
    out = []
    for path, methods in route_table(app):
        if path.startswith("/static"):
            continue
        methods = methods or {"POST", "PUT", "DELETE"}
        for method in sorted(set(methods) - {"GET", "HEAD", "OPTIONS"}):
            out.append((method, path.replace("{job_id}", "1").replace("{doc_id}", "x")
                        .replace("{name}", "2025-01-01_to_2025-12-31").replace("{file}", "x.svg")))
    return out


def test_origin_null_is_refused_on_every_state_changing_route(client):
    # under Referrer-Policy no-referrer browsers send Origin: null on the app's own forms
    assert client.get("/").headers["referrer-policy"] == "same-origin"
    routes = _state_changing_routes(client.app.app)
    assert {("POST", p) for p in ("/api/ingest", "/review", "/draft", "/draft/context",
                                  "/library/ingest", "/api/related", "/mcp")} <= set(routes)
    for method, path in routes:
        for origin in ("null", "NULL", "http://evil.example", ""):
            r = client.request(method, path, headers={"origin": origin}, content=b"{}")
            assert r.status_code == 403, (method, path, origin, r.status_code)
            assert "cross-site" in r.text
        own = client.request(method, path, headers={"origin": "http://127.0.0.1"}, content=b"{}")
        assert own.status_code != 403, (method, path)  # the refusal is the Origin's doing


def test_binding_off_loopback_needs_a_token(library):
    with pytest.raises(BacklistError, match="token"):
        create_app(library, host="127.0.0.2")


@pytest.mark.slow  # a real server on a socket
def test_token_required_off_loopback_for_pages_api_and_mcp(library, monkeypatch):
    monkeypatch.setenv("BACKLIST_EMBEDDER", "hash")
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                       "clientInfo": {"name": "t", "version": "1"}}}
    mcp_headers = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
    port = free_port("127.0.0.2")
    app = create_app(library, token="s3cret", host="127.0.0.2", port=port)
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.2", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.2:{port}"
    try:
        for path in ("/", "/api/stats", "/static/app.css", "/doc/c579eda85991"):
            assert httpx.get(base + path).status_code == 401, path
            assert httpx.get(base + path, headers={"authorization": "Bearer nope"}).status_code == 401
            ok = httpx.get(base + path, headers={"authorization": "Bearer s3cret"})
            assert ok.status_code == 200, path
        visit = httpx.get(base + "/?token=s3cret")
        assert visit.status_code == 200 and "backlist_token=s3cret" in visit.headers["set-cookie"]
        assert "HttpOnly" in visit.headers["set-cookie"]
        assert httpx.get(base + "/library", cookies={"backlist_token": "s3cret"}).status_code == 200
        assert httpx.post(base + "/mcp", json=init, headers=mcp_headers).status_code == 401
        mcp = httpx.post(base + "/mcp", json=init, headers={**mcp_headers, "authorization": "Bearer s3cret"})
        assert mcp.status_code == 200 and "serverInfo" in mcp.text
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.mark.slow  # a real server on a socket
def test_mcp_is_served_at_mcp_on_loopback(library, monkeypatch):
    monkeypatch.setenv("BACKLIST_EMBEDDER", "hash")
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async def call(url: str) -> str:
        async with streamable_http_client(url) as (read, write, *_), ClientSession(read, write) as s:
            await s.initialize()
            result = await s.call_tool("search", {"query": "living shorelines", "k": 2})
            return result.content[0].text

    import anyio

    with running(create_app(library)) as base:
        text = anyio.run(call, base + "/mcp")
        evil = httpx.post(base + "/mcp", json={}, headers={"origin": "http://evil.example",
                                                           "content-type": "application/json"})
    assert "Building living shorelines" in text
    assert evil.status_code in (400, 403)


# --- pages over the façade ---------------------------------------------------------------------------
def test_ingest_from_the_api_reports_progress(client, tmp_path):
    (tmp_path / "new-post.md").write_text("---\ntitle: Eelgrass returns\ndate: 2025-08-01\n---\n\n"
                                          "Eelgrass meadows came back to the cove this summer.\n")
    r = client.post("/api/ingest", json={"paths": [str(tmp_path)]})
    assert r.status_code == 202
    job = r.json()
    for _ in range(200):
        job = client.get(f"/api/ingest/{job['id']}").json()
        if job["state"] != "running":
            break
        time.sleep(0.05)
    assert job["state"] == "done", job
    assert job["summary"]["documents_new"] == 1 and job["percent"] == 100
    assert job["sources_done"] == job["sources_total"] >= 1
    hits = client.get("/api/search?q=eelgrass").json()
    assert hits[0]["title"] == "Eelgrass returns"
    assert client.post("/api/ingest", json={"paths": ["  "]}).status_code == 400


def test_review_renders_markdown_safely_with_charts(client):
    made = client.post("/review", data={"year": "2025"}, follow_redirects=False)
    assert made.status_code == 303
    page = client.get(made.headers["location"])
    assert page.status_code == 200 and "<h1>" in page.text
    charts = [src for src in re.findall(r'<img src="([^"]+)"', page.text)]
    assert charts, "the review shows its charts inline"
    chart = client.get(made.headers["location"] + charts[0])
    assert chart.status_code == 200 and chart.headers["content-type"].startswith("image/")
    md_name = re.search(r'href="(/review/[^"]+\.md)"', page.text).group(1)
    md = client.get(md_name)
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert "<script>alert" not in page.text and 'href="javascript:' not in page.text
    assert client.post("/review", data={"year": "20x5"}).status_code == 400


def test_pages_render(client):
    for path, words in [("/", "Type to search"), ("/library", "documents"), ("/topics", "Entities"),
                        ("/performance?by=views", "Top pieces by views"), ("/timeline", "What did I say"),
                        ("/docs", "/api/search"), ("/review", "Year in review"), ("/draft", "Paste")]:
        r = client.get(path)
        assert r.status_code == 200 and words in r.text, path
    assert "/api/search" in client.get("/openapi.json").json()["paths"]


def test_server_starts_before_the_first_ingest(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKLIST_EMBEDDER", "hash")
    with TestClient(create_app(tmp_path / "empty"), base_url="http://127.0.0.1") as c:
        lib_page = c.get("/library")
        assert lib_page.status_code == 200 and "no library here yet" in lib_page.text
        r = c.get("/api/search?q=x")
        assert r.status_code == 400 and "no library here yet" in r.json()["error"]


# --- the API takes exactly the CLI's options, command by command (generated from both) ----------------
API_OF_COMMAND = {"search": ("get", "/api/search"), "related": ("post", "/api/related"),
                  "ls": ("get", "/api/documents"), "get": ("get", "/api/documents/{doc_id}"),
                  "timeline": ("get", "/api/timeline"), "top": ("get", "/api/top"),
                  "insights": ("get", "/api/insights"), "entities": ("get", "/api/entities"),
                  "stats": ("get", "/api/stats"), "ingest": ("post", "/api/ingest")}
# the CLI's arguments under their API names, and what only the terminal or a writable library has
POSITIONAL = {"search": {"query": "q"}, "timeline": {"query": "q"}, "related": {"draft": "draft"},
              "get": {"doc_id": "doc_id"}, "ingest": {"paths": "paths"}}
CLI_ONLY = {"entities": {"refresh", "limit"}}  # refresh writes (the web reads); limit: table rows


def cli_options(command: str) -> set[str]:
    import typer.main

    group = typer.main.get_command(cli_app)
    cmd = group.commands[command]  # type: ignore[attr-defined]
    names = set()
    for param in cmd.params:
        if param.param_type_name == "argument":
            names.add(POSITIONAL[command][param.name])
        elif param.name not in ("as_json", "help"):
            names.add(max(param.opts, key=len).lstrip("-").replace("-", "_"))
    return names - CLI_ONLY.get(command, set())


def api_options(schema: dict, method: str, path: str) -> set[str]:
    op = schema["paths"][path][method]
    names = {p["name"] for p in op.get("parameters", [])}
    ref = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in ref:
        names |= set(schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[-1]]["properties"])
    return names


@pytest.mark.parametrize("command", sorted(API_OF_COMMAND))
def test_the_api_takes_the_cli_options(client, command):
    schema = client.get("/openapi.json").json()
    method, path = API_OF_COMMAND[command]
    assert api_options(schema, method, path) == cli_options(command)


def test_the_web_asks_the_facade_not_the_index_or_the_store():
    """Surfaces call backlist.service.Library: no import of backlist.index (but for type names),
    no `.store` reached through the library."""
    import ast

    web = Path(__file__).resolve().parent.parent / "src" / "backlist" / "web"
    found = []
    for path in sorted(web.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                       and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("backlist.index") \
                    and id(node) not in typing_only:
                found.append(f"{path.name}:{node.lineno} imports {node.module}")
            if isinstance(node, ast.Attribute) and node.attr == "store":
                found.append(f"{path.name}:{node.lineno} reaches .store")
    assert found == []


def test_the_api_docs_page_reads_well(client):
    page = client.get("/docs").text
    assert "`" not in page  # summaries are prose, not Markdown shown raw
    for shown in ("integer (1–100)", "post | episode | article | transcript | note",
                  "relevance | date", "unknown fields are refused", "Only pieces by this writer."):
        assert shown in page, shown
    schema = client.get("/openapi.json").json()
    params = schema["paths"]["/api/search"]["get"]["parameters"]
    assert all(p.get("description") for p in params), [p["name"] for p in params if not p.get("description")]


def test_the_search_page_offers_the_api_search_filters(client):
    """The page's form fields are the API's search options, but for the JSON-only ones and k (the
    page takes it in its address, it shows no field for it)."""
    page = client.get("/").text
    fields = set(re.findall(r'<(?:input|select)\b[^>]*\bname="([^"]+)"', page))
    api = api_options(client.get("/openapi.json").json(), "get", "/api/search")
    assert fields == api - {"explain", "per_doc", "min_score", "k"}


@pytest.mark.parametrize("reading", ["true", "false"])
def test_the_search_page_filters_by_reading_as_the_api_does(client, reading):
    params = {"q": "oyster reefs water", "k": "20", "reading": reading, "drafts": "true"}
    page = client.get("/", params=params)
    assert page.status_code == 200
    shown = re.findall(r'<article class="hit" data-doc="([^"]+)"', page.text)
    api = [h["doc_id"] for h in client.get("/api/search", params=params).json()]
    assert shown == api and api
    kinds = {client.get(f"/api/documents/{i}").json()["reading"] for i in api}
    assert kinds == {reading == "true"}


def test_the_api_schema_says_a_null_date_may_have_bounds(client):
    models = client.get("/openapi.json").json()["components"]["schemas"]
    for model in ("HitOut", "DocOut"):
        said = models[model]["properties"]["date"]["description"]
        assert "date_earliest" in said and "undated" not in said, model
    assert "bounds" in models["TimelineOut"]["properties"]["dated"]["description"]
