"""The Store contract, run against BOTH backends with the same test functions: SQLiteStore in a
temp folder and PostgresStore in a fresh database of a scratch PostgreSQL server (one per session).
Then a whole Library (ingest, search, related, timeline, the CLI) on PostgreSQL against SQLite."""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pg_server import PgServer
from typer.testing import CliRunner

from backlist.errors import BacklistError
from backlist.model import Document, Passage, Turn
from backlist.service import Library
from backlist.store.base import DocFilter, DocLink, KeywordQuery, Store
from backlist.store.migrate import copy_library
from backlist.store.postgres import PostgresStore
from backlist.store.sqlite import SQLiteStore

DIM = 8
DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo-archive"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = PgServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path: Path, pg_server: PgServer) -> Iterator[Store]:
    s: Store
    if request.param == "sqlite":
        s = SQLiteStore(tmp_path / "library.db")
    else:
        s = PostgresStore(pg_server.create_database())
    yield s
    s.close()


def vec(*values: float) -> bytes:
    v = np.zeros(DIM, np.float32)
    v[: len(values)] = values
    return (v / np.linalg.norm(v)).tobytes()


def doc(doc_id: str, text: str, **kw) -> Document:
    kw.setdefault("kind", "post")
    kw.setdefault("source", "archive/posts.zip")
    kw.setdefault("position", f"item {doc_id}")
    return Document(id=doc_id, text=text, **kw)


def passages_of(d: Document, speaker: str | None = None) -> list[Passage]:
    out, start = [], 0
    for i, part in enumerate(d.text.split("\n\n")):
        out.append(Passage(d.id, i, part, start, start + len(part), speaker))
        start += len(part) + 2
    return out


def put(store: Store, d: Document, speaker: str | None = None, entities=None) -> int:
    return store.write_document(d, passages_of(d, speaker), entities)


CORPUS = [
    doc("garden", "The tomato plants grew wild this summer.\n\nGardening teaches patience.",
        title="Notes from the Garden", date="2021-06-01", authors=["Ann Author"]),
    doc("models", "Large language models are trained on text.\n\nEmbedding models map words.",
        title="On Models", date="2023-02-10", authors=["Ben Writer"], kind="podcast",
        speakers=["Nathan Lambert", "Guest Host"], source="feeds/pod.xml", position="item 3"),
    doc("draft", "A draft about language and gardens.", title="Draft", date="2022-01-01",
        is_draft=True, source="notes/draft.md", position=""),
    doc("undated", "Writing every morning before the house wakes.", title="Morning pages",
        source="notes/morning.md", position="line 12"),
    doc("copy", "Large language models are trained on text.\n\nEmbedding models map words.",
        title="On Models (repost)", date="2023-02-11", url="https://example.com/models"),
]
ENTITIES = {"models": [("GPT-4", "model", "OpenAI", 2, "mention"), ("OpenAI", "lab", None, 1, "mention")],
            "garden": [("Claude", "model", "Anthropic", 1, "mention")]}


def fill(store: Store) -> None:
    for d in CORPUS:
        put(store, d, "Nathan Lambert" if d.id == "models" else None, ENTITIES.get(d.id, []))


def ids(docs) -> list[str]:
    return [d.id for d in docs]


# --- documents ----------------------------------------------------------------------------------
def test_write_read_round_trip(store: Store) -> None:
    d = doc("iv1", "Q: hello?\n\nA: hi there, welcome.", kind="interview", title="An interview",
            subtitle="with someone", date="2020-05-05", url="https://x.test/iv1",
            authors=["Ann Author", "Co Writer"], speakers=["Host", "Guest"], audience="public",
            comments=["nice", "ünïcode ✓"], turns=[Turn("Host", "hello?", "00:01"), Turn("Guest", "hi")],
            metadata={"format": "markdown", "tags": ["a", "b"], "n": 3}, metrics={"likes": 7, "opens": 1.5})
    assert store.write_document(d, passages_of(d), [("Guest", "person", None, 1, "speaker")]) == 2
    got = store.get_document("iv1")
    assert got is not None
    for field in ("kind", "source", "position", "text", "title", "subtitle", "date", "url", "authors",
                  "speakers", "audience", "comments", "metadata", "is_draft", "duplicate_of"):
        assert getattr(got, field) == getattr(d, field), field
    assert got.turns == d.turns and got.metrics == {"likes": 7.0, "opens": 1.5}
    assert store.doc_hash("iv1") == d.content_hash and store.doc_hash("nope") is None
    assert store.get_documents(["iv1", "nope"])["iv1"].turns == []  # turns only when asked
    assert store.get_documents(["iv1"], with_turns=True)["iv1"].turns == d.turns
    assert store.get_documents([]) == {}
    assert store.resolve_id("iv") == ["iv1"] and store.resolve_id("i%") == []
    assert [p.text for p in store.doc_passages("iv1")] == ["Q: hello?", "A: hi there, welcome."]
    assert store.get_document("nope") is None


def test_rewrite_keeps_unchanged_passages_and_their_vectors(store: Store) -> None:
    d = doc("a", "one fish\n\ntwo fish\n\nred fish", title="Fish")
    assert put(store, d) == 3
    store.ensure_vectors(DIM, "test-model")
    store.save_embeddings([(pid, vec(1, i)) for i, (pid, _, _) in enumerate(store.unembedded(10))])
    assert store.count_unembedded() == 0
    before = {p.text: pid for pid, p in store.passages(r[0] for r in store.all_passages()).items()}
    d2 = doc("a", "one fish\n\nblue fish\n\nred fish\n\nold fish", title="Fish, revisited", metrics={"x": 1})
    assert put(store, d2) == 2
    after = {p.text: pid for pid, p in store.passages(r[0] for r in store.all_passages()).items()}
    assert after["one fish"] == before["one fish"] and after["red fish"] == before["red fish"]
    assert "two fish" not in after and store.passage_count() == 4
    assert store.count_unembedded() == 2 and store.stats()["embedded_passages"] == 2
    assert [p.idx for p in store.doc_passages("a")] == [0, 1, 2, 3]
    # the kept passages now carry the new title for keyword search
    titled = store.keyword_search(KeywordQuery(terms=("revisited",)), 10)
    assert {h.passage_id for h in titled} == set(after.values())
    assert store.integrity_check() == "ok"
    store.save_embeddings([(999_999, vec(1))])  # a passage that went away meanwhile: ignored
    assert store.stats()["embedded_passages"] == 2


def test_record_source_drops_stale_documents(store: Store) -> None:
    fill(store)
    store.set_copies({"copy": "models"}, {})
    assert store.source_fingerprint("archive/posts.zip") is None
    dropped = store.record_source("archive/posts.zip", "substack", "fp1", ["garden"])
    assert dropped == ["copy"]
    assert store.get_document("copy") is None and store.get_document("garden") is not None
    assert store.source_fingerprint("archive/posts.zip") == "fp1"
    row = store.sources()[0]
    assert (row["path"], row["kind"], row["fingerprint"], row["documents"]) == \
        ("archive/posts.zip", "substack", "fp1", 1)
    assert store.record_source("feeds/pod.xml", "feed", "fp2", []) == ["models"]
    assert store.canonical_map() == {}
    assert [s["path"] for s in store.sources()] == ["archive/posts.zip", "feeds/pod.xml"]
    assert store.stats()["sources"] == 2 and store.integrity_check() == "ok"


# --- filters: one case table generated from DocFilter's fields, run on both stores ---------------
def filter_corpus(store: Store) -> None:
    bounded_corpus(store)
    store.set_copies({"copy": "models"}, {"models": "https://example.com/models"})
    store.set_doc_topics("garden", [("Gardening", 0.9)])
    store.set_doc_topics("models", [("ai", 0.8)])
    store.set_effective("u9", {"reading": True}, {"reading": "marked"})


DEFAULT = {"garden", "models", "undated", "copy", "before", "between", "u9", "u10", "u100", "saved"}
# For every DocFilter field: values and the documents of filter_corpus they must give. Each answer
# differs from DEFAULT (DocFilter()'s), so a store that ignores the field fails.
FILTER_CASES: dict[str, list[tuple[Any, set[str]]]] = {
    "kinds": [(["podcast"], {"models"}), (["article", "podcast"], {"saved", "models"})],
    "since": [("2022-01-01", {"models", "copy", "saved", "between"}),
              ("2022-04-01", {"models", "copy", "saved"})],  # between may be earlier: left out
    "until": [("2021-12-31", {"garden", "before"}), ("2020-01-01", set())],
    "include_drafts": [(True, DEFAULT | {"draft"})],
    "include_duplicates": [(False, DEFAULT - {"copy"})],
    "speaker": [("lambert", {"models"}), ("NATHAN L", {"models"}), ("nobody", set())],
    "entity": [("gpt-4", {"models"}), ("openai", {"models"}), ("anthropic", {"garden"})],  # or parent
    "ids": [(["garden", "draft", "zzz"], {"garden"}), ([], set())],
    "topic": [("gardening", {"garden"}), ("AI", {"models"}), ("garden", set())],
    "author": [("ben writer", {"models"}), ("ANN AUTHOR", {"garden"}),
               ("Ben", set()), ("Author", set())],  # the whole name of one author, any case
    "reading": [(True, {"saved", "u9"}), (False, DEFAULT - {"saved", "u9"})],
}


def test_every_docfilter_field_has_a_case_with_an_effect() -> None:
    """A field added to DocFilter fails here until it has cases (and so runs on both stores)."""
    assert set(FILTER_CASES) == {f.name for f in dataclasses.fields(DocFilter)}
    for name, cases in FILTER_CASES.items():
        assert cases and all(expected != DEFAULT for _, expected in cases), name


def test_every_filter_on_every_store(store: Store) -> None:
    filter_corpus(store)
    assert store.filtered_ids(DocFilter()) == DEFAULT
    wrong = []
    for name, cases in FILTER_CASES.items():
        for value, expected in cases:
            flt = DocFilter(**{name: value})
            got = store.filtered_ids(flt)
            listed = {d.id for d in store.list_documents(flt)}
            if got != expected or listed != expected:
                wrong.append(f"{name}={value!r}: {sorted(got)} / listed {sorted(listed)}, "
                             f"want {sorted(expected)}")
    assert not wrong, "\n".join(wrong)


def test_filter_combinations_agree_across_stores(tmp_path: Path, pg_server: PgServer) -> None:
    """Every pair of cases of two fields, on SQLite and PostgreSQL: the same documents, in the
    same order, for every order."""
    stores = [SQLiteStore(tmp_path / "a.db"), PostgresStore(pg_server.create_database())]
    for s in stores:
        filter_corpus(s)
    singles = [(name, value) for name, cases in FILTER_CASES.items() for value, _ in cases]
    checked = 0
    for (a, va), (b, vb) in itertools.combinations(singles, 2):
        if a == b:
            continue
        flt = DocFilter(**{a: va, b: vb})
        for order in ("date", "date_desc", "source"):
            answers = [[d.id for d in s.list_documents(flt, order)] for s in stores]
            assert answers[0] == answers[1], (a, va, b, vb, order)
        checked += 1
    assert checked > 200
    for s in stores:
        s.close()


def test_a_filter_field_no_store_handles_is_an_error(store: Store) -> None:
    @dataclass
    class WithMood(DocFilter):
        mood: str | None = None

    with pytest.raises(ValueError, match="DocFilter field 'mood' is not handled by the store"):
        store.filtered_ids(WithMood(mood="glad"))


def test_list_orders_and_undated_last(store: Store) -> None:
    fill(store)
    flt = DocFilter(include_drafts=True)
    assert ids(store.list_documents(flt)) == ["garden", "draft", "models", "copy", "undated"]
    assert ids(store.list_documents(flt, "date_desc")) == ["copy", "models", "draft", "garden", "undated"]
    put(store, doc("p10", "ten", position="item 10"))
    put(store, doc("p9", "nine", position="item 9"))
    by_source = ids(store.list_documents(flt, "source"))
    assert by_source == ["p9", "p10", "copy", "garden", "models", "draft", "undated"]  # 9 before 10
    assert all(d.turns == [] for d in store.list_documents(flt))
    assert store.list_documents(DocFilter(ids=["models"]), with_turns=True)[0].speakers == \
        ["Nathan Lambert", "Guest Host"]


def bounded_corpus(store: Store) -> None:
    """Undated pieces: two bounded (set_effective, as inference does), three with neither."""
    fill(store)
    for d in (doc("before", "Bounded above only.", source="dump.txt", position="line 30"),
              doc("between", "Bounded on both sides.", source="dump.txt", position="line 20"),
              doc("u10", "Neither, line ten.", source="dump.txt", position="line 10"),
              doc("u9", "Neither, line nine.", source="dump.txt", position="line 9"),
              doc("u100", "Neither, line hundred.", source="dump.txt", position="line 100"),
              doc("saved", "Someone else's article.", kind="article", date="2022-05-05")):
        put(store, d)
    store.set_effective("before", {"date_latest": "2021-12-31"}, {"date_latest": "before review r1"})
    store.set_effective("between", {"date_earliest": "2022-03-01", "date_latest": "2023-01-31"},
                        {"date_earliest": "feed order", "date_latest": "feed order"})


def test_date_bounds_filter_only_pieces_certainly_in_range(store: Store) -> None:
    bounded_corpus(store)
    dated_after = {"models", "copy", "saved"}
    # since: dated on/after, or undated with an earliest bound on/after; a latest bound says nothing
    assert store.filtered_ids(DocFilter(since="2022-01-01")) == dated_after | {"between"}
    assert store.filtered_ids(DocFilter(since="2022-04-01")) == dated_after  # between may be earlier
    # until: dated on/before, or undated with a latest bound on/before
    assert store.filtered_ids(DocFilter(until="2021-12-31")) == {"garden", "before"}
    assert store.filtered_ids(DocFilter(until="2023-01-31")) == {"garden", "before", "between", "saved"}
    assert store.filtered_ids(DocFilter(since="2022-01-01", until="2023-01-31")) == {"between", "saved"}
    # a bound is never shown as a date
    between = store.get_document("between")
    assert between is not None and between.date is None
    assert (between.date_earliest, between.date_latest) == ("2022-03-01", "2023-01-31")
    assert between.basis == {"date_earliest": "feed order", "date_latest": "feed order"}


def test_date_order_uses_bounds_and_keeps_source_order(store: Store) -> None:
    bounded_corpus(store)
    flt = DocFilter(include_drafts=True)
    assert ids(store.list_documents(flt)) == [
        "garden", "before", "draft", "between", "saved", "models", "copy",  # date, else a bound
        "u9", "u10", "u100", "undated"]  # neither: by source, then position (numbers as numbers)
    assert ids(store.list_documents(flt, "date_desc")) == [
        "copy", "models", "saved", "between", "draft", "before", "garden",
        "u9", "u10", "u100", "undated"]
    assert ids(store.list_documents(DocFilter(ids=["u100", "u9", "before", "between", "u10"]),
                                    "source")) == ["u9", "u10", "between", "before", "u100"]


def test_reading_filter(store: Store) -> None:
    bounded_corpus(store)
    store.set_effective("u9", {"reading": True}, {"reading": "saved from a newsletter"})
    everything = store.filtered_ids(DocFilter())
    assert store.filtered_ids(DocFilter(reading=True)) == {"saved", "u9"}
    assert store.filtered_ids(DocFilter(reading=False)) == everything - {"saved", "u9"}
    got = store.get_documents(["saved", "u9", "u10"])
    assert got["saved"].is_reading and not got["saved"].reading  # by kind
    assert got["u9"].is_reading and got["u9"].reading and not got["u10"].is_reading


def test_effective_values_keep_the_content_hash_and_search_both_titles(store: Store) -> None:
    d = doc("slug", "Models were compared.\n\nBenchmarks moved.", title="GPT 45 not a frontier model",
            authors=["Ann Author"])
    put(store, d)
    store.set_effective("slug", {"title": "Why GPT-4.5 hit a wall",
                                 "aliases": ["GPT 45 not a frontier model"],
                                 "url": "https://x.test/gpt45", "date_earliest": "2025-02-01"},
                        {"title": "link text in r1", "url": "directory page"})
    got = store.get_document("slug")
    assert got is not None and got.title == "Why GPT-4.5 hit a wall" and got.url == "https://x.test/gpt45"
    assert got.aliases == ["GPT 45 not a frontier model"] and got.corrected == []
    assert got.basis == {"title": "link text in r1", "url": "directory page"}
    assert store.doc_hash("slug") == d.content_hash  # unchanged input stays unchanged
    assert store.reader_fields(["slug"])["slug"] == {
        "title": "GPT 45 not a frontier model", "subtitle": None, "date": None, "url": None,
        "kind": "post", "authors": ["Ann Author"]}
    # the keyword index holds the new title and the old one
    for word in ("wall", "frontier"):
        assert {h.doc_id for h in store.keyword_search(KeywordQuery(terms=(word,)), 5)} == {"slug"}, word
    # passages are embedded with the reader's title, so vectors never depend on whether
    # reconciliation or a correction ran before or after embedding
    assert store.unembedded(5)[0][2] == "GPT 45 not a frontier model"
    with pytest.raises(ValueError, match="words"):
        store.set_effective("slug", {"words": 3}, {})
    store.set_effective("nope", {"title": "x"}, {})  # no such document: nothing happens
    assert store.get_document("nope") is None and store.integrity_check() == "ok"


def test_corrections_win_and_survive_reingest(store: Store) -> None:
    d = doc("hello", "Hello everyone! Today a long post.\n\nAbout tomatoes.", title="Hello everyone!",
            authors=["Ann Author"])
    put(store, d)
    store.set_correction("hello", "title", "Tomato season")
    store.set_correction("hello", "date", "2024-07-01")
    store.set_correction("hello", "authors", ["Ben Writer"])
    got = store.get_document("hello")
    assert got is not None
    assert (got.title, got.date, got.authors) == ("Tomato season", "2024-07-01", ["Ben Writer"])
    assert got.corrected == ["authors", "date", "title"]
    assert got.basis["title"] == "corrected by the writer"
    assert store.corrections() == {"hello": {"authors": ["Ben Writer"], "date": "2024-07-01",
                                             "title": "Tomato season"}}
    assert store.corrections("nope") == {}
    assert {h.doc_id for h in store.keyword_search(KeywordQuery(terms=("season",)), 5)} == {"hello"}
    assert store.filtered_ids(DocFilter(author="ben writer")) == {"hello"}
    assert store.filtered_ids(DocFilter(since="2024-01-01")) == {"hello"}
    # inference never overwrites a correction, but sets what is not corrected
    store.set_effective("hello", {"title": "Inferred", "url": "https://x.test/hello"},
                        {"title": "slug", "url": "feed"})
    got = store.get_document("hello")
    assert got is not None and got.title == "Tomato season" and got.url == "https://x.test/hello"
    assert got.basis["title"] == "corrected by the writer" and got.basis["url"] == "feed"
    # re-ingest rewrites the document: the corrections are applied again at once
    put(store, doc("hello", "Hello everyone! Today a longer post.\n\nAbout tomatoes.",
                   title="Hello everyone!", authors=["Ann Author"]))
    got = store.get_document("hello")
    assert got is not None and got.title == "Tomato season" and got.date == "2024-07-01"
    assert store.reader_fields(["hello"])["hello"]["title"] == "Hello everyone!"
    # even when the source dropped it for a while (no cascade: ids are stable)
    store.record_source("archive/posts.zip", "substack", "fp", [])
    assert store.get_document("hello") is None and "hello" in store.corrections()
    put(store, d)
    assert store.get_document("hello").title == "Tomato season"  # type: ignore[union-attr]
    # clearing brings the reader's value back
    store.clear_correction("hello", "title")
    got = store.get_document("hello")
    assert got is not None and got.title == "Hello everyone!" and got.corrected == ["authors", "date"]
    assert "title" not in got.basis
    assert store.keyword_search(KeywordQuery(terms=("season",)), 5) == []
    store.clear_correction("hello", "title")  # nothing to clear: fine
    for bad in ("words", "date_earliest", "text"):
        with pytest.raises(ValueError, match=f"'{bad}' cannot be corrected; correctable fields: title"):
            store.set_correction("hello", bad, "x")
        with pytest.raises(ValueError, match="cannot be corrected"):
            store.clear_correction("hello", bad)


def test_reading_correction(store: Store) -> None:
    fill(store)
    store.set_correction("garden", "reading", True)
    assert store.filtered_ids(DocFilter(reading=True)) == {"garden"}
    got = store.get_document("garden")
    assert got is not None and got.reading and got.is_reading and got.corrected == ["reading"]
    store.set_effective("garden", {"reading": False}, {"reading": "inferred"})
    assert store.filtered_ids(DocFilter(reading=True)) == {"garden"}
    store.clear_correction("garden", "reading")
    assert store.filtered_ids(DocFilter(reading=True)) == set()
    store.set_correction("models", "kind", "article")  # a kind that is reading
    assert store.filtered_ids(DocFilter(reading=True)) == {"models"}


def test_a_version_2_library_is_upgraded_with_the_readers_values(tmp_path: Path, pg_server: PgServer) -> None:
    """Step 3 adds the new columns to a library written before it and keeps each document's
    reader values (so a later correction can be undone)."""
    import sqlite3

    import psycopg

    from backlist.store import postgres_schema as ps
    from backlist.store import sqlite as sq

    row = ("old", "post", "a.md", "line 1", "Old title", "2020-01-01", '["Ann Author"]', "Some text.", 2, "h")
    conn = sqlite3.connect(tmp_path / "old.db")
    for _, script in sq.MIGRATIONS[:2]:
        conn.executescript(script)
    conn.execute("INSERT INTO documents(id, kind, source, position, title, date, authors, text, words, "
                 "content_hash, ingested_at) VALUES (?,?,?,?,?,?,?,?,?,?, 'now')", row)
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    dsn = pg_server.create_database()
    with psycopg.connect(dsn, autocommit=True) as pconn:
        with pconn.transaction():
            pconn.execute("CREATE TABLE schema_version (version integer PRIMARY KEY, "
                          "applied_at timestamptz NOT NULL DEFAULT now())")
            for version, script in ps.migrations()[:2]:
                pconn.execute(script)
                pconn.execute("INSERT INTO schema_version(version) VALUES (%s)", (version,))
        pconn.execute("INSERT INTO documents(id, kind, source, position, title, date, authors, text, words, "
                      "content_hash, ingested_at) VALUES (%s,%s,%s,%s,%s,%s,%s::jsonb,%s,%s,%s, 'now')", row)
    for s in (SQLiteStore(tmp_path / "old.db"), PostgresStore(dsn)):
        assert s.schema_version == 3  # type: ignore[attr-defined]
        assert s.reader_fields() == {"old": {"title": "Old title", "subtitle": None, "date": "2020-01-01",
                                             "url": None, "kind": "post", "authors": ["Ann Author"]}}
        s.set_correction("old", "title", "New title")
        s.clear_correction("old", "title")
        got = s.get_document("old")
        assert got is not None and got.title == "Old title" and not got.reading and got.aliases == []
        s.close()


# --- keyword search ---------------------------------------------------------------------------
def test_keyword_search(store: Store) -> None:
    fill(store)
    hits = store.keyword_search(KeywordQuery(terms=("tomato",)), 10)
    assert [h.doc_id for h in hits] == ["garden"] and hits[0].score > 0 and hits[0].rank == 0
    hits = store.keyword_search(KeywordQuery(terms=("gardens",)), 10)  # stemmed: garden(s)
    assert {h.doc_id for h in hits} >= {"garden"}
    hits = store.keyword_search(KeywordQuery(terms=("models",)), 10)
    assert {h.doc_id for h in hits} == {"models", "copy"}
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert [h.rank for h in hits] == list(range(len(hits)))
    assert {h.speaker for h in hits if h.doc_id == "models"} == {"Nathan Lambert"}
    phrase = store.keyword_search(KeywordQuery(phrases=(("language", "models"),)), 10)
    assert {h.doc_id for h in phrase} == {"models", "copy"}
    assert store.keyword_search(KeywordQuery(phrases=(("models", "language"),)), 10) == []
    prefix = store.keyword_search(KeywordQuery(prefixes=("embed",)), 10)
    assert {h.doc_id for h in prefix} == {"models", "copy"}
    both = KeywordQuery(terms=("tomato", "patience"), require_all=True)
    assert store.keyword_search(both, 10) == []
    either = store.keyword_search(KeywordQuery(terms=("tomato", "patience")), 10)
    assert {h.doc_id for h in either} == {"garden"} and len(either) == 2
    assert store.keyword_count(KeywordQuery(terms=("models",))) == 4
    assert store.keyword_count(KeywordQuery(terms=("tomato", "summer"), require_all=True)) == 1
    assert store.keyword_count(KeywordQuery()) == 0 and store.keyword_search(KeywordQuery(), 5) == []
    assert len(store.keyword_search(KeywordQuery(terms=("models",)), 2)) == 2
    tf = store.term_frequencies(["models", "model", "tomatoes", "zebra"])
    assert tf["models"] == tf["model"] == 4 and tf["tomatoes"] == 1 and tf["zebra"] == 0
    assert store.term_frequencies([]) == {}
    # user text is never syntax
    assert store.keyword_search(KeywordQuery(terms=("o'reilly", "a&b|!c", ":*")), 5) == []


# --- vectors ----------------------------------------------------------------------------------
def test_vectors(store: Store) -> None:
    fill(store)
    assert store.vector_search(vec(1), 5) == [] and store.doc_vectors() == {}
    store.ensure_vectors(DIM, "m1")
    assert store.get_meta("embed_model") == "m1" and store.get_meta("embed_dim") == str(DIM)
    rows = store.unembedded(100)
    assert len(rows) == store.passage_count() == store.count_unembedded() == 8
    assert {r[2] for r in rows} >= {"On Models", "Notes from the Garden"}
    store.save_embeddings([(pid, vec(1, i / 10)) for i, (pid, _, _) in enumerate(rows)])
    assert store.count_unembedded() == 0
    target = rows[5][0]
    hits = store.vector_search(vec(1, 0.5), 3)
    assert hits[0].passage_id == target and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len(hits) == 3 and hits[1].score < hits[0].score
    models_hits = [h for h in store.vector_search(vec(1, 0.3), 8) if h.doc_id == "models"]
    assert models_hits and all(h.speaker == "Nathan Lambert" for h in models_hits)
    dv = store.doc_vectors()
    assert sum(len(v) for v in dv.values()) == 8 and len(dv["garden"][0]) == DIM * 4
    store.ensure_vectors(DIM, "m1")  # same model: nothing happens
    assert store.count_unembedded() == 0
    store.reset_index(embeddings_only=True)
    assert store.count_unembedded() == 8 and store.passage_count() == 8
    store.save_embeddings([(pid, vec(1)) for pid, _, _ in rows])
    store.ensure_vectors(DIM * 2, "m2")  # another model: start afresh
    assert store.count_unembedded() == 8 and store.get_meta("embed_dim") == str(DIM * 2)
    store.reset_index()
    assert store.passage_count() == 0 and store.integrity_check() == "ok"


# --- copies, links, topics, entities, metrics, meta --------------------------------------------
def test_copies_take_the_canonical_url(store: Store) -> None:
    fill(store)
    store.set_copies({"copy": "models", "garden": None}, {"models": "https://example.com/models"})
    assert store.canonical_map() == {"copy": "models"}
    models = store.get_document("models")
    assert models is not None and models.url == "https://example.com/models"
    assert models.metadata["url_basis"] == "from a linked copy"
    assert store.get_documents(["copy"])["copy"].duplicate_of == "models"
    assert store.stats()["duplicates"] == 1
    store.set_copies({}, {})
    assert store.canonical_map() == {} and store.get_document("models").url is None  # type: ignore[union-attr]


def test_links(store: Store) -> None:
    fill(store)
    links = [DocLink("models", "garden", "title", "Notes from the Garden"),
             DocLink("undated", "models", "link", "https://example.com/models"),
             DocLink("undated", "models", "mention", "duplicate pair is ignored")]
    store.set_links(links)
    assert store.links() == links[:2]
    assert store.links("models") == links[:2]
    assert store.links("garden") == links[:1] and store.links("copy") == []
    store.record_source("notes/morning.md", "markdown", "fp", [])  # drops "undated": its links go
    assert store.links() == links[:1]
    store.set_links([])
    assert store.links() == []


def test_topics_manual_survive_retagging(store: Store) -> None:
    fill(store)
    store.set_doc_topics("garden", [("gardening", 0.9), ("food", 0.4)])
    store.set_doc_topics("garden", [("writing", 1.0)], manual=True)
    store.set_doc_topics("garden", [("nature", 0.7), ("writing", 0.2)])  # automatic again
    topics = store.doc_topics()["garden"]
    assert topics[0] == ("writing", 1.0, True)
    assert [(t, m) for t, _, m in topics] == [("writing", True), ("nature", False)]
    store.set_doc_topics("models", [("ai", 0.8)])
    assert set(store.doc_topics()) == {"garden", "models"}


def test_entities_and_metrics(store: Store) -> None:
    fill(store)
    rows = store.entity_rows()
    assert {(r["doc_id"], r["entity"], r["parent"]) for r in rows} == \
        {("models", "GPT-4", "OpenAI"), ("models", "OpenAI", None), ("garden", "Claude", "Anthropic")}
    assert {"doc_id", "entity", "kind", "parent", "mentions", "role", "date", "duplicate_of"} <= set(rows[0])
    store.set_entities("models", [("Llama", "model", "Meta", 3, "mention")])
    assert store.filtered_ids(DocFilter(entity="meta")) == {"models"}
    assert store.filtered_ids(DocFilter(entity="openai")) == set()
    store.add_metrics("garden", {"views": 120, "likes": 4}, "csv")
    put(store, doc("garden", "The tomato plants grew wild.", title="Garden", metrics={"words_read": 3}))
    assert store.metrics(["garden"]) == {"garden": {"views": 120.0, "likes": 4.0, "words_read": 3.0}}
    assert store.metrics()["garden"]["views"] == 120.0 and "models" not in store.metrics()
    assert store.metrics([]) == {}


def test_meta_stats_integrity(store: Store) -> None:
    assert store.get_meta("x") is None
    store.set_meta("x", "1")
    store.set_meta("x", "2")
    assert store.get_meta("x") == "2"
    assert store.schema_version >= 2  # type: ignore[attr-defined]
    fill(store)
    st = store.stats()
    assert st["documents"] == 5 and st["drafts"] == 1 and st["undated"] == 1 and st["passages"] == 8
    assert st["by_kind"]["podcast"]["documents"] == 1
    assert list(st["by_year"]) == ["2021", "2022", "2023", "undated"]
    assert store.integrity_check() == "ok"


def test_stats_equal_across_backends(tmp_path: Path, pg_server: PgServer) -> None:
    stores = [SQLiteStore(tmp_path / "a.db"), PostgresStore(pg_server.create_database())]
    results = []
    for s in stores:
        fill(s)
        s.set_copies({"copy": "models"}, {})
        s.record_source("archive/posts.zip", "substack", "fp", ["garden", "copy"])
        results.append((s.stats(), s.canonical_map(), ids(s.list_documents(DocFilter(include_drafts=True)))))
        s.close()
    assert results[0] == results[1]
    assert set(results[0][0]) == {"documents", "words", "duplicates", "drafts", "undated", "passages",
                                  "embedded_passages", "sources", "by_kind", "by_year"}


# --- PostgreSQL only: what SQLite has no counterpart for yet ----------------------------------
def test_postgres_read_only_and_hnsw(pg_server: PgServer) -> None:
    dsn = pg_server.create_database()
    with pytest.raises(BacklistError, match="no library"):
        PostgresStore(dsn, read_only=True)
    s = PostgresStore(dsn)
    fill(s)
    s.ensure_vectors(DIM, "m1")
    s.save_embeddings([(pid, vec(1, i)) for i, (pid, _, _) in enumerate(s.unembedded(100))])
    exact, hnsw = s.vector_search(vec(1, 3), 4, exact=True), s.vector_search(vec(1, 3), 4, exact=False)
    assert [h.passage_id for h in hnsw] == [h.passage_id for h in exact]  # tiny: HNSW finds all
    ro = PostgresStore(dsn, read_only=True)
    assert ro.stats() == s.stats()
    with pytest.raises(BacklistError, match="read-only"):
        ro.set_meta("x", "1")
    ro.close()
    s.close()


def test_copy_library_sqlite_to_postgres_and_back(tmp_path: Path, pg_server: PgServer) -> None:
    src = SQLiteStore(tmp_path / "src.db")
    fill(src)
    src.ensure_vectors(DIM, "m1")
    src.save_embeddings([(pid, vec(1, i)) for i, (pid, _, _) in enumerate(src.unembedded(100))])
    src.set_copies({"copy": "models"}, {"models": "https://example.com/models"})
    src.set_links([DocLink("models", "garden", "title", "x")])
    src.set_doc_topics("garden", [("food", 0.5)])
    src.set_doc_topics("garden", [("writing", 1.0)], manual=True)
    src.add_metrics("garden", {"views": 3}, "csv")
    src.record_source("archive/posts.zip", "substack", "fp", ["garden", "copy"])
    src.set_meta("embedder_spec", "hash:8")
    src.set_effective("undated", {"title": "Morning pages, every day", "aliases": ["Morning pages"],
                                  "date_earliest": "2020-01-01", "date_latest": "2020-12-31",
                                  "reading": True},
                      {"title": "link text in models", "date_latest": "listed in review"})
    src.set_correction("garden", "title", "Garden notes")
    src.set_correction("garden", "authors", ["Ann Author", "Co Writer"])
    src.set_correction("gone", "date", "2020-02-02")  # of a piece not in the library now: kept
    pg = PostgresStore(pg_server.create_database())
    counts = copy_library(src, pg)
    assert counts["corrections"] == 3
    assert counts["documents"] == 5 and counts["vectors"] == counts["passages"] == 8
    q = vec(1, 2)
    assert sorted((round(h.score, 5), h.doc_id) for h in pg.vector_search(q, 8)) == \
        sorted((round(h.score, 5), h.doc_id) for h in src.vector_search(q, 8))
    assert pg.get_meta("embedder_spec") == "hash:8" and pg.doc_topics()["garden"][0] == ("writing", 1.0, True)
    assert pg.get_document("models").url == "https://example.com/models"  # type: ignore[union-attr]
    back = SQLiteStore(tmp_path / "back.db")
    assert copy_library(pg, back)["vectors"] == 8
    assert back.stats() == src.stats() and back.links() == src.links()
    for copy in (pg, back):  # what the library knows beyond the readers goes both ways
        assert copy.corrections() == src.corrections()
        assert copy.reader_fields() == src.reader_fields()
        assert copy.get_documents(["garden", "undated"]) == src.get_documents(["garden", "undated"])
        assert [h.doc_id for h in copy.keyword_search(KeywordQuery(terms=("every",)), 5)] == ["undated"]
        assert copy.filtered_ids(DocFilter(reading=True)) == {"undated"}
    undated = back.get_document("undated")
    assert undated is not None and undated.aliases == ["Morning pages"] and undated.date is None
    assert undated.basis == {"title": "link text in models", "date_latest": "listed in review"}
    garden = back.get_document("garden")
    assert garden is not None and garden.title == "Garden notes" and garden.corrected == ["authors", "title"]
    with pytest.raises(BacklistError, match="not empty"):
        copy_library(src, pg)
    lossy = PostgresStore(pg_server.create_database())
    keep = lossy.import_vectors
    lossy.import_vectors = lambda rows: keep(rows[:-1])  # type: ignore[method-assign]
    with pytest.raises(BacklistError, match="incomplete: embedded_passages: 8 in the source, 7"):
        copy_library(src, lossy)
    for s in (src, pg, back, lossy):
        s.close()


# --- a whole Library on PostgreSQL vs SQLite ----------------------------------------------------
QUERIES = ["oyster reef restoration", "harbor dredging plan", "storm season on the barrier island"]


@pytest.fixture(scope="module")
def twin_libraries(tmp_path_factory, pg_server: PgServer):
    mp = pytest.MonkeyPatch()
    mp.setenv("BACKLIST_EMBEDDER", "hash")
    mp.delenv("BACKLIST_DATABASE_URL", raising=False)
    name = "demo_e2e"
    pg_server.create_database(name)
    url = pg_server.url_for(name)
    sqlite_lib = Library(tmp_path_factory.mktemp("sqlite-lib"))
    pg_lib = Library(tmp_path_factory.mktemp("pg-lib"), database=url)
    for lib in (sqlite_lib, pg_lib):
        report = lib.ingest([str(DEMO)])
        assert not report.errors, report.errors
    yield sqlite_lib, pg_lib, url
    sqlite_lib.close()
    pg_lib.close()
    mp.undo()


def top_docs(hits, n: int) -> list[str]:
    return [h.doc.id for h in hits[:n]]


def test_library_on_postgres_matches_sqlite(twin_libraries) -> None:
    a, b, _ = twin_libraries
    assert isinstance(b.store, PostgresStore)
    sa, sb = a.stats(), b.stats()
    for key in ("documents", "passages", "embedded_passages", "words", "duplicates", "drafts", "by_kind",
                "by_year", "sources"):
        assert sa[key] == sb[key], key
    assert sb["embeddings_missing"] == 0 and b.store.integrity_check() == "ok"
    for q in QUERIES:
        sa_hits, sb_hits = a.search(q, mode="semantic"), b.search(q, mode="semantic")
        assert sa_hits and sa_hits[0].score > 0.1, q  # the query shares words with the archive
        assert [(h.doc.id, round(h.score, 4)) for h in sa_hits if h.score > 0] == \
            [(h.doc.id, round(h.score, 4)) for h in sb_hits if h.score > 0], q
        ka, kb = a.search(q, mode="keyword"), b.search(q, mode="keyword")
        assert top_docs(ka, 1) == top_docs(kb, 1), q
        assert len(set(top_docs(ka, 5)) & set(top_docs(kb, 5))) >= min(3, len(ka)), q
        ha, hb = a.search(q), b.search(q)
        assert top_docs(ha, 1) == top_docs(hb, 1), q
    draft = "A draft on oyster reefs and the harbor dredging fight after the storm."
    assert top_docs(a.related(draft, k=3), 1) == top_docs(b.related(draft, k=3), 1)
    ta, tb = a.timeline("harbor"), b.timeline("harbor")
    assert ta.dated
    assert [h.doc.id for h in ta.dated] == [h.doc.id for h in tb.dated]
    assert len(ta.undated) == len(tb.undated)


def test_cli_with_database(twin_libraries, tmp_path: Path) -> None:
    from backlist.cli import app

    a, _, url = twin_libraries
    runner = CliRunner()
    env = {"BACKLIST_EMBEDDER": "hash"}
    res = runner.invoke(app, ["--library", str(tmp_path / "cli-lib"), "--database", url, "ingest",
                              str(DEMO)], env=env)
    assert res.exit_code == 0, res.output  # the same database: every source is unchanged
    res = runner.invoke(app, ["--library", str(tmp_path / "cli-lib"), "--database", url, "search",
                              QUERIES[0], "--json"], env=env)
    assert res.exit_code == 0, res.output
    hits = json.loads(res.stdout)
    assert hits and hits[0]["doc_id"] == top_docs(a.search(QUERIES[0]), 1)[0]
    res = runner.invoke(app, ["--database", "mysql://x/y", "search", "x"], env=env)
    assert res.exit_code != 0 and "postgresql" in res.output


def test_cli_migrate_copies_a_library_and_the_copy_answers_the_same(
        tmp_path: Path, pg_server: PgServer, monkeypatch) -> None:
    """`backlist migrate --to URL`, then the same search on both libraries."""
    import json

    from typer.testing import CliRunner

    from backlist.cli import app
    from backlist.service import Library

    monkeypatch.setenv("BACKLIST_EMBEDDER", "hash")
    demo = Path(__file__).resolve().parent.parent / "examples" / "demo-archive"
    lib = Library(tmp_path / "lib")
    lib.ingest([str(demo)])
    lib.close()
    pg_server.create_database("db_cli_migrate")
    url = pg_server.url_for("db_cli_migrate")
    runner = CliRunner()
    res = runner.invoke(app, ["--library", str(tmp_path / "lib"), "migrate", "--to", url])
    assert res.exit_code == 0 and "Copied and verified" in res.output, res.output
    again = runner.invoke(app, ["--library", str(tmp_path / "lib"), "migrate", "--to", url])
    assert again.exit_code == 1 and "not empty" in again.output
    query = ["search", "kelp farm winter", "--json", "-k", "3"]
    here = json.loads(runner.invoke(app, ["--library", str(tmp_path / "lib"), *query]).stdout)
    there = json.loads(runner.invoke(app, ["--library", str(tmp_path / "lib"), "--database", url,
                                           *query]).stdout)
    assert [h["doc_id"] for h in here][:1] == [h["doc_id"] for h in there][:1]


def test_a_month_or_year_date_is_filtered_as_its_period(store: Store) -> None:
    """"2021" is not certainly after 2021-06-01 nor certainly before 2021-03-01: the store keeps a
    month- or year-precise date's period as its bounds, a day never carries bounds."""
    from backlist.contracts import doc_full

    for d in (doc("yr", "Dated only by its year.", date="2021-01-01",
                  metadata={"date_precision": "year"}),
              doc("mo", "Dated only by its month.", date="2021-02-01",
                  metadata={"date_precision": "month"}),
              doc("dy", "Dated to the day.", date="2021-02-01", date_earliest="2020-01-01",
                  date_latest="2022-01-01", metadata={"date_precision": "day"})):
        put(store, d)
    got = {d.id: (d.date_earliest, d.date_latest) for d in store.list_documents(DocFilter())}
    assert got == {"yr": ("2021-01-01", "2021-12-31"), "mo": ("2021-02-01", "2021-02-28"),
                   "dy": (None, None)}
    assert store.filtered_ids(DocFilter(since="2021-06-01")) == set()
    assert store.filtered_ids(DocFilter(until="2021-03-01")) == {"mo", "dy"}
    assert store.filtered_ids(DocFilter(since="2021-02-01", until="2021-02-28")) == {"mo", "dy"}
    assert store.filtered_ids(DocFilter(since="2021-01-01", until="2021-12-31")) == {"yr", "mo", "dy"}
    yr = store.get_document("yr")
    assert yr is not None and doc_full(yr)["when"] == "2021"
    assert yr.basis["date_earliest"] == yr.basis["date_latest"] == "the year the date names"
    assert doc_full(yr)["date_precision"] == "year"
    # the writer's date is a day: no period, precision "day"; clearing it brings the year back
    store.set_correction("yr", "date", "2021-07-04")
    yr = store.get_document("yr")
    assert yr is not None and (yr.date_earliest, yr.date_latest) == (None, None)
    assert doc_full(yr)["date_precision"] == "day" and doc_full(yr)["when"] == "2021-07-04"
    assert store.filtered_ids(DocFilter(since="2021-06-01")) == {"yr"}
    store.clear_correction("yr", "date")
    yr = store.get_document("yr")
    assert yr is not None and (yr.date_earliest, yr.date_latest) == ("2021-01-01", "2021-12-31")
    assert doc_full(yr)["date_precision"] == "year"
