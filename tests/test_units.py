"""Fast unit tests: pure functions, the store's migrations, the façade's checks, safe output.
No model is loaded here (the deterministic 'hash' embedder stands in where vectors are needed)."""

from __future__ import annotations

import json
import sqlite3 as stdlib_sqlite3
import threading
import time

import pytest

from backlist.analysis.entities import Entry, extract
from backlist.dedup import link_copies
from backlist.errors import BacklistError, UsageError
from backlist.index.embed import HashEmbedder, load_embedder
from backlist.ingest.article import split_trailing_comments
from backlist.ingest.textdump import split_dump
from backlist.model import Document, Turn
from backlist.safe import md_link, md_text, one_line, safe_url, terminal_text
from backlist.service import Library
from backlist.store.base import DocFilter
from backlist.store.sqlite import _V1, SCHEMA_VERSION, SQLiteStore
from backlist.tokens import Budget, count_tokens

WORDS = " ".join(f"word{i}" for i in range(60))


def doc(id_: str, text: str = WORDS, **kw) -> Document:
    return Document(id=id_, kind=kw.pop("kind", "post"), source="s", position=id_, text=text, **kw)


# --- dedup -----------------------------------------------------------------------------------------
def test_link_copies_prefers_the_post_and_passes_the_url():
    post = doc("a", title="Essay", kind="post")
    audio = doc("b", kind="episode", url="https://x.example/p/essay-slug")
    other = doc("c", text="something else entirely " * 20)
    duplicate_of, urls = link_copies([audio, post, other])
    assert duplicate_of == {"a": None, "b": "a", "c": None}
    assert urls == {"a": "https://x.example/p/essay-slug"}


def test_link_copies_by_slug_and_short_texts_stay_apart():
    one = doc("a", text="short", url="https://x.example/p/the-same-slug")
    two = doc("b", text="also short", url="https://y.example/p/the-same-slug", kind="episode")
    three = doc("c", text="short")
    duplicate_of, _ = link_copies([one, two, three])
    assert duplicate_of["b"] == "a" and duplicate_of["c"] is None


# --- plain-text helpers ------------------------------------------------------------------------
def test_split_trailing_comments_after_the_sign_off():
    body = [f"Paragraph {i} of the essay, with enough words to count as text." for i in range(12)]
    paras = body + ["Thanks for reading!", "Great piece, I disagree on one point.",
                    "https://example.org/reply"]
    text, comments = split_trailing_comments(paras)
    assert text[-1] == "Thanks for reading!"
    assert comments == ["Great piece, I disagree on one point.\nhttps://example.org/reply"]


def test_split_trailing_comments_without_a_sign_off_keeps_everything():
    paras = [f"Paragraph {i}." for i in range(10)]
    assert split_trailing_comments(paras) == (paras, [])


def test_split_dump_finds_episodes_and_stops_at_the_footer():
    episode = "https://show.example/p/first-episode " + "An episode about tides. " * 20
    second = "A second episode about marsh birds and their winter counts. " * 8
    header, episodes = split_dump(f"The Show\nThe Show\n\n{episode}\n{second}\nComments\n"
                                  f"{'unrelated footer link text ' * 20}\n")
    assert [e.line for e in episodes] == [4, 5]
    assert episodes[0].url == "https://show.example/p/first-episode"


# --- tokens ------------------------------------------------------------------------------------------
def test_budget_keeps_blocks_that_fit_and_says_what_it_left_out():
    b = Budget(60)
    assert b.add("a short line")
    assert not b.add("word " * 200)
    text = b.text("({n} left out)")
    assert text.startswith("a short line") and "(1 left out)" in text
    assert count_tokens(text) <= 60


def test_budget_clips_a_long_block_at_a_word():
    b = Budget(80)
    assert not b.add("lorem ipsum " * 100, clip=True)
    assert b.text().endswith("…") and count_tokens(b.text()) <= 80


# --- entities: one extraction path ---------------------------------------------------------------
def test_a_gazetteer_person_is_counted_once():
    entries = [Entry("Ana Ruiz", "person", ["Ana Ruiz"]), Entry("Kelpco", "org", ["Kelpco"])]
    d = doc("a", text="Ana Ruiz said Kelpco grows kelp. Later Ana Ruiz laughed.",
            speakers=["Ana Ruiz", "Host"])
    rows = extract(d, entries, set(d.speakers))
    mentions = {(r[0], r[4]): r[3] for r in rows}
    assert mentions[("Ana Ruiz", "mention")] == 2
    assert mentions[("Kelpco", "mention")] == 1


def test_entity_filter_does_not_depend_on_refresh(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKLIST_EMBEDDER", "hash")
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.md").write_text("---\ntitle: One\ndate: 2025-01-02\n---\nWe compared GPT-4o and "
                              "Llama 3.1 405B on tide tables.\n")
    lib = Library(tmp_path / "lib")
    lib.ingest([str(src)], embed=False)
    before = sorted(map(str, lib.entities()), key=str)
    found = {h.doc.title for h in lib.search("tide", mode="keyword", flt=DocFilter(entity="Llama"))}
    lib.refresh_entities()
    after = sorted(map(str, lib.entities()), key=str)
    again = {h.doc.title for h in lib.search("tide", mode="keyword", flt=DocFilter(entity="Llama"))}
    assert found == again == {"One"} and before == after
    lib.close()


# --- store: migrations, threads, errors ---------------------------------------------------------
def test_a_library_from_schema_1_is_upgraded_in_place(tmp_path):
    path = tmp_path / "library.sqlite"
    old = stdlib_sqlite3.connect(path)
    old.executescript(_V1.replace("CREATE VIRTUAL TABLE IF NOT EXISTS passages_fts USING fts5(\n"
                                  "  text, title, tokenize = 'porter unicode61 remove_diacritics 2'"
                                  ", prefix = '2 3');", ""))
    old.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    old.execute("INSERT INTO documents(id, kind, source, text, words, content_hash, ingested_at) "
                "VALUES ('d1', 'post', 's', 'old text', 2, 'h', 'now')")
    old.commit()
    old.close()
    store = SQLiteStore(path)
    assert store.schema_version == SCHEMA_VERSION
    assert store.get_document("d1").text == "old text"
    assert store.links() == []  # the table schema 2 added exists
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    store.close()


def test_read_only_opening_upgrades_an_old_library_once(tmp_path):
    path = tmp_path / "library.sqlite"
    SQLiteStore(path).close()
    conn = stdlib_sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("DROP TABLE doc_links")
    conn.commit()
    conn.close()
    ro = SQLiteStore(path, read_only=True)
    assert ro.schema_version == SCHEMA_VERSION and ro.links() == []
    ro.close()


def test_not_a_library_is_one_clear_error(tmp_path):
    bad = tmp_path / "lib"
    bad.mkdir()
    (bad / "library.sqlite").write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(BacklistError, match="not a usable backlist library"):
        Library(bad)
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(BacklistError, match="file"):
        Library(a_file)


def test_empty_library_file_is_created_on_write_and_refused_on_read(tmp_path):
    (tmp_path / "library.sqlite").write_bytes(b"")
    with pytest.raises(BacklistError, match="no library here yet"):
        Library(tmp_path, read_only=True)
    lib = Library(tmp_path)
    assert lib.stats()["documents"] == 0
    lib.close()


def test_each_thread_gets_its_own_connection(tmp_path):
    store = SQLiteStore(tmp_path / "library.sqlite")
    seen = []
    together = threading.Barrier(4)

    def work():
        seen.append(store.db)
        store.db.execute("SELECT COUNT(*) FROM documents").fetchone()
        together.wait()  # all four alive at once

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(c) for c in seen}) == 4 and all(c is not store.db for c in seen)
    # finished threads' connections are closed when the next thread connects
    threading.Thread(target=lambda: store.db).start()
    time.sleep(0.2)
    assert len(store._conns) <= 2
    store.close()


# --- the façade's checks ------------------------------------------------------------------------
@pytest.fixture
def small_lib(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKLIST_EMBEDDER", "hash")
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.md").write_text("---\ntitle: Tides\ndate: 2025-01-02\n---\nThe tide came in over the "
                              "marsh grass at dawn.\n")
    lib = Library(tmp_path / "lib")
    lib.ingest([str(src)], embed=False)
    yield lib
    lib.close()


@pytest.mark.parametrize(("call", "message"), [
    (lambda lib: lib.search("   "), "empty query"),
    (lambda lib: lib.search("x" * 3000), "over the 2,000 limit"),
    (lambda lib: lib.search("tide", k=-5), "k must be between 1 and 100"),
    (lambda lib: lib.search("tide", mode="fuzzy"), "mode 'fuzzy'"),
    (lambda lib: lib.search("tide", flt=DocFilter(kinds=["bogus"])), "kind 'bogus'"),
    (lambda lib: lib.timeline(""), "empty query"),
    (lambda lib: lib.related(""), "empty draft"),
    (lambda lib: lib.search("tide", mode="semantic"), "no embeddings"),
    (lambda lib: lib.passages(lib.list()[0].id, 5, 9), "outside"),
])
def test_facade_refuses_bad_arguments(small_lib, call, message):
    with pytest.raises(UsageError, match=message):
        call(small_lib)


def test_hybrid_without_embeddings_falls_back_and_says_so(small_lib):
    hits = small_lib.search("tide marsh")
    assert [h.doc.title for h in hits] == ["Tides"]
    assert hits.notes and "fell back to keyword" in hits.notes[0]
    assert small_lib.stats()["embeddings_missing"] == small_lib.stats()["passages"] > 0
    small_lib.embed_pending()
    assert not small_lib.search("tide marsh").notes


def test_hash_embedder_is_deterministic_and_normalised():
    emb = load_embedder("hash")
    a, b = emb.encode(["kelp farm", "kelp farm"]), HashEmbedder().encode(["kelp farm"])
    assert (a[0] == b[0]).all() and abs(float((a[0] ** 2).sum()) - 1) < 1e-5


# --- safe output -----------------------------------------------------------------------------------
def test_terminal_text_strips_escape_sequences():
    hostile = "Title\x1b[2J\x1b]0;pwned\x07 end\x9b31m\u202e"
    assert terminal_text(hostile) == "Title end"
    assert one_line("a\n\tb\r\nc") == "a b c"


@pytest.mark.parametrize(("url", "ok"), [
    ("https://example.org/p/x", True), ("http://a.b", True), ("mailto:a@b.c", True),
    ("javascript:alert(1)", False), ("JaVaScRiPt:alert(1)", False), ("data:text/html,x", False),
    ("vbscript:x", False), ("file:///etc/passwd", False), ("https://a.b/\x1b[2J", False),
    ("//evil.example", False), ("https:///nohost", False),
])
def test_safe_url_keeps_only_web_and_mail_links(url, ok):
    assert (safe_url(url) is not None) == ok


def test_markdown_escaping_makes_titles_inert():
    assert md_text("[x](javascript:alert(3)) <script>") == \
        r"\[x\]\(javascript:alert\(3\)\) \<script\>"
    assert md_link("<b>T</b>", "javascript:alert(1)") == r"\<b\>T\</b\>"
    assert md_link("T", "https://e.org/a>b") == "T"  # a URL that could close <…> is no link
    assert md_link("T", "https://e.org/a") == "[T](<https://e.org/a>)"


def test_json_contract_of_a_document_names_date_precision(small_lib):
    from backlist.contracts import doc_full

    d = small_lib.list()[0]
    out = doc_full(d, small_lib.links(d.id))
    assert out["date_precision"] == "day" and out["cites"] == [] and out["cited_by"] == []
    json.dumps(out)


def test_turn_model_defaults():
    assert Turn("A", "hi").start is None


def test_an_older_chunker_version_rechunks_keeping_unchanged_vectors(small_lib, tmp_path):
    from backlist.index.chunking import CHUNKER_VERSION

    small_lib.embed_pending()
    before = [(p.text, p.speaker) for d in small_lib.list() for p in small_lib.store.doc_passages(d.id)]
    small_lib.store.set_meta("chunker_version", "1")
    report = small_lib.ingest([str(tmp_path / "in")])
    assert small_lib.store.get_meta("chunker_version") == CHUNKER_VERSION
    after = [(p.text, p.speaker) for d in small_lib.list() for p in small_lib.store.doc_passages(d.id)]
    assert after == before and report.passages_added == 0  # same cuts: nothing re-embedded
    assert small_lib.stats()["embeddings_missing"] == 0
