"""The part of a Store written once, for both backends: DocFilter -> WHERE (with a small dialect
table for what SQLite and PostgreSQL spell differently), row <-> Document mapping, document
writes, the writer's corrections and the library's effective values, stats, passage hashing.

A backend (store/sqlite.py, store/postgres.py) subclasses SqlStore and keeps only what is its
own: connections, schema, full-text search and vectors. It supplies four primitives (_query,
_exec, _executemany, _transaction), _call (how one store call gets a connection) and
_replace_passages / _set_search_title (its keyword index). Core SQL is written with ``?``
placeholders; a backend with another paramstyle translates them in its primitives.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import re
from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, TypeVar

from backlist.model import READING_KINDS, Document, Passage, Turn
from backlist.store.base import DocFilter, DocLink, Store
from backlist.when import period_basis, stored_bounds

T = TypeVar("T")

# Fields a reader writes that the library may later set otherwise (its "effective" value) and
# whose reader value is kept apart (documents.reader_fields), so a correction can be undone.
READER_FIELDS: tuple[str, ...] = ("title", "subtitle", "date", "url", "kind", "authors")
# Fields the writer can correct (backlist edit); a correction wins over readers and inference.
CORRECTABLE: tuple[str, ...] = (*READER_FIELDS, "reading")
# Fields set_effective may set (reconciliation across sources, date bounds, known-as titles).
EFFECTIVE: tuple[str, ...] = (*READER_FIELDS, "date_earliest", "date_latest", "aliases", "reading")
_JSON_FIELDS = {"authors", "aliases"}
CORRECTION_BASIS = "corrected by the writer"
BIG_ID_LIST = 500  # more ids than this: read a whole (small) table rather than a long IN list


@dataclass(frozen=True)
class Dialect:
    """What the two SQL dialects spell differently, and nothing else."""

    name: str
    json_param: Callable[[Any], Any]  # a Python value -> a parameter for a JSON column
    json_decoded: bool  # the driver returns JSON columns as Python objects (else as text)
    like_ci: str  # case-insensitive LIKE with % and _ as wildcards and no escape character
    collate_c: str  # byte-order collation suffix for ORDER BY ('' where that is the default)
    list_param: bool  # "= ANY(?)" with one list parameter (else "IN (?, ?, ...)")

    def elements(self, column: str, alias: str) -> str:
        """A FROM item with one row (column ``alias.value``) per string of a JSON array."""
        if self.name == "postgres":
            return f"jsonb_array_elements_text({column}) {alias}(value)"
        return f"json_each({column}) {alias}"

    def in_list(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        if self.list_param:
            return f"{column} = ANY(?)", [list(values)]
        return f"{column} IN ({','.join('?' * len(values))})", list(values)

    def load_json(self, value: Any, default: Any) -> Any:
        if value is None:
            return default
        if self.json_decoded or not isinstance(value, (str, bytes)):
            return value
        return json.loads(value)


SQLITE = Dialect(name="sqlite", json_param=lambda v: json.dumps(v, ensure_ascii=False, default=str),
                 json_decoded=False, like_ci="LIKE ?", collate_c="", list_param=False)


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def passage_hash(p: Passage) -> str:
    """What makes a passage the same passage across re-ingests (its speaker and text): a kept
    passage keeps its id and its vector."""
    return hashlib.blake2b(f"{p.speaker or ''}\x1f{p.text}".encode(), digest_size=10).hexdigest()


def plan_passages(old: Iterable[tuple[int, str]], passages: Sequence[Passage]
                  ) -> tuple[list[tuple[int, Passage]], list[tuple[Passage, str]], list[int]]:
    """Match a document's new passages to its stored (id, hash) ones: (kept: (id, passage),
    new: (passage, hash), gone: ids)."""
    by_hash: dict[str, list[int]] = {}
    for pid, h in sorted(old):
        by_hash.setdefault(h, []).append(pid)
    kept: list[tuple[int, Passage]] = []
    new: list[tuple[Passage, str]] = []
    for p in passages:
        h = passage_hash(p)
        if by_hash.get(h):
            kept.append((by_hash[h].pop(), p))
        else:
            new.append((p, h))
    return kept, new, [pid for ids in by_hash.values() for pid in ids]


def search_title(title: str | None, aliases: Sequence[str]) -> str:
    """The title the keyword index holds for a document's passages: its title and every other
    title it is known as, so searching the old or the new title finds it."""
    return " | ".join(t for t in dict.fromkeys([title or "", *aliases]) if t)


# --- DocFilter -> WHERE ---------------------------------------------------------------------------
Clause = tuple[str, list[Any]] | None


def _kinds(v: Sequence[str], d: Dialect) -> Clause:
    return d.in_list("d.kind", v) if v else None


def _since(v: str | None, d: Dialect) -> Clause:
    """Only pieces certainly on or after v: with an earliest bound so (an undated piece's bound,
    or the first day of a month- or year-precise date), else dated so (a day has no bounds)."""
    if not v:
        return None
    return "COALESCE(d.date_earliest, d.date) >= ?", [v]


def _until(v: str | None, d: Dialect) -> Clause:
    """Only pieces certainly on or before v: with a latest bound so (an undated piece's bound, or
    the last day of a month- or year-precise date), else dated so (a day has no bounds)."""
    if not v:
        return None
    return "COALESCE(d.date_latest, d.date) <= ?", [v]


def _drafts(v: bool, d: Dialect) -> Clause:
    return None if v else ("d.is_draft = ?", [False])


def _duplicates(v: bool, d: Dialect) -> Clause:
    return None if v else ("d.duplicate_of IS NULL", [])


def _speaker(v: str | None, d: Dialect) -> Clause:
    """Part of a speaker's name, case-insensitive (a label may be a first or last name)."""
    if not v:
        return None
    return (f"EXISTS (SELECT 1 FROM {d.elements('d.speakers', 's')} WHERE s.value {d.like_ci})",
            [f"%{v}%"])


def _entity(v: str | None, d: Dialect) -> Clause:
    if not v:
        return None
    return ("EXISTS (SELECT 1 FROM entity_mentions e WHERE e.doc_id = d.id AND "
            "(lower(e.entity) = lower(?) OR lower(e.parent) = lower(?)))", [v, v])


def _ids(v: Sequence[str] | None, d: Dialect) -> Clause:
    if v is None:
        return None
    return d.in_list("d.id", v) if v else ("1 = 0", [])


def _topic(v: str | None, d: Dialect) -> Clause:
    if not v:
        return None
    return ("EXISTS (SELECT 1 FROM doc_topics t WHERE t.doc_id = d.id AND lower(t.topic) = lower(?))",
            [v])


def _author(v: str | None, d: Dialect) -> Clause:
    """One of the document's authors, the whole name, case-insensitive."""
    if not v:
        return None
    return (f"EXISTS (SELECT 1 FROM {d.elements('d.authors', 'a')} WHERE lower(a.value) = lower(?))",
            [v])


def _reading(v: bool | None, d: Dialect) -> Clause:
    """True: only the writer's reading (marked so, or of a reading kind); False: leave it out."""
    if v is None:
        return None
    kinds, args = d.in_list("d.kind", READING_KINDS)
    if v:
        return f"(d.reading = ? OR {kinds})", [True, *args]
    return f"(d.reading = ? AND NOT {kinds})", [False, *args]


# One clause per DocFilter field: a field without one makes the module fail to import.
CLAUSES: dict[str, Callable[[Any, Dialect], Clause]] = {
    "kinds": _kinds, "since": _since, "until": _until, "include_drafts": _drafts,
    "include_duplicates": _duplicates, "speaker": _speaker, "entity": _entity, "ids": _ids,
    "topic": _topic, "author": _author, "reading": _reading,
}
_unhandled = {f.name for f in dataclasses.fields(DocFilter)} ^ set(CLAUSES)
if _unhandled:
    raise RuntimeError(f"store.core: DocFilter fields without a WHERE clause: {sorted(_unhandled)}")


def doc_where(flt: DocFilter, dialect: Dialect) -> tuple[str, list[Any]]:
    """' WHERE …' (or '') over documents aliased d, and its parameters."""
    clauses: list[str] = []
    args: list[Any] = []
    for f in dataclasses.fields(flt):
        if f.name not in CLAUSES:  # a subclass added a field no store knows
            raise ValueError(f"DocFilter field {f.name!r} is not handled by the store")
        clause = CLAUSES[f.name](getattr(flt, f.name), dialect)
        if clause is not None:
            clauses.append(clause[0])
            args += clause[1]
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


# --- order -------------------------------------------------------------------------------------
_DIGITS = re.compile(r"(\d+)")


def position_key(position: str | None) -> list[Any]:
    """Natural order of positions inside a source: "item 9" before "item 10", "posts.csv line
    2" before "posts.csv line 10" (digit runs compare as numbers)."""
    parts = _DIGITS.split(position or "")
    return [int(p) if i % 2 else p for i, p in enumerate(parts)]


def sort_date(doc: Document) -> str | None:
    """Where a piece stands in date order: its date, else a bound (earliest, then latest)."""
    return doc.date or doc.date_earliest or doc.date_latest


def order_documents(docs: list[Document], order: str) -> list[Document]:
    """"source": by source, then position; "date" / "date_desc": by date (or a bound), the
    pieces with neither last, in source order."""
    docs = sorted(docs, key=lambda d: (d.source, position_key(d.position), d.id))
    if order == "source":
        return docs
    placed = [d for d in docs if sort_date(d)]
    rest = [d for d in docs if not sort_date(d)]
    placed.sort(key=lambda d: sort_date(d) or "", reverse=order == "date_desc")  # stable
    return placed + rest


# --- rows <-> Documents ------------------------------------------------------------------------
DOC_COLUMNS: tuple[str, ...] = (
    "id", "kind", "source", "position", "title", "subtitle", "date", "url", "authors", "speakers",
    "audience", "text", "comments", "metadata", "is_draft", "duplicate_of", "linked_url",
    "date_earliest", "date_latest", "aliases", "basis", "reading")


def document_from_row(r: Mapping[str, Any], dialect: Dialect, metrics: Mapping[str, float],
                      corrected: Sequence[str] = ()) -> Document:
    """A stored row (DOC_COLUMNS, plus turns when asked for) as a Document."""
    load = dialect.load_json
    doc = Document(
        id=r["id"], kind=r["kind"], source=r["source"], position=r["position"] or "",
        text=r["text"], title=r["title"], subtitle=r["subtitle"], date=r["date"],
        url=r["url"] or r["linked_url"], authors=list(load(r["authors"], [])),
        speakers=list(load(r["speakers"], [])), audience=r["audience"],
        comments=list(load(r["comments"], [])),
        turns=[Turn(**t) for t in load(r.get("turns"), [])],
        metadata=dict(load(r["metadata"], {})), metrics=dict(metrics),
        is_draft=bool(r["is_draft"]), duplicate_of=r["duplicate_of"],
        date_earliest=r["date_earliest"], date_latest=r["date_latest"],
        aliases=list(load(r["aliases"], [])), basis=dict(load(r["basis"], {})),
        corrected=sorted(corrected), reading=bool(r["reading"]))
    if r["linked_url"] and not r["url"]:
        doc.metadata["url_basis"] = "from a linked copy"
    return doc


def reader_snapshot(doc: Document) -> dict[str, Any]:
    """The fields as the reader wrote them (documents.reader_fields)."""
    return {f: (list(doc.authors) if f == "authors" else getattr(doc, f)) for f in READER_FIELDS}


def store_call(retry: bool) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Run a store method through the backend's _call (a pooled connection on PostgreSQL;
    reads may be retried once on a fresh one)."""

    def wrap(fn: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(fn)
        def call(self: SqlStore, *args: Any, **kwargs: Any) -> T:
            return self._call(functools.partial(fn, self, *args, **kwargs), retry)

        return call

    return wrap


class SqlStore(Store):
    """Store methods written once over SQL; see the module docstring for what a backend adds."""

    dialect: Dialect = SQLITE

    # --- what a backend supplies -------------------------------------------------------------
    @abstractmethod
    def _call(self, fn: Callable[[], T], retry: bool) -> T: ...
    @abstractmethod
    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]: ...
    @abstractmethod
    def _exec(self, sql: str, params: Sequence[Any] = ()) -> None: ...
    @abstractmethod
    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...
    @abstractmethod
    def _transaction(self) -> AbstractContextManager[Any]:
        """One transaction (nested ones join it or are savepoints)."""
    @abstractmethod
    def _replace_passages(self, doc: Document, passages: Sequence[Passage], title: str) -> int:
        """Keep passages whose text is unchanged (and so their embeddings); add the rest, with
        title as their keyword-index title. Returns how many were added."""
    @abstractmethod
    def _set_search_title(self, doc_id: str, title: str) -> None:
        """The keyword index's title for every passage of a document."""

    def _lock(self, key: str) -> None:
        """Serialise writes on a name (a source, a document) across processes until the end of
        the transaction (PostgreSQL); nothing where one writer holds the whole file (SQLite)."""

    def _forget_passages(self, doc_ids: Sequence[str]) -> None:
        """Before documents are deleted: drop their passages from indexes that no foreign key
        cascades to (SQLite's FTS5 and vector tables)."""

    def _extra_columns(self, doc: Document) -> dict[str, Any]:
        """Backend-only documents columns and their values for a write."""
        return {}

    def _rows_for(self, sql: str, column: str, values: Sequence[Any] | None,
                  tail: str = "") -> list[dict[str, Any]]:
        """Rows of sql whose column is one of values (every row when values is None)."""
        if values is None:
            return self._query(sql + tail)
        if not values:
            return []
        where, args = self.dialect.in_list(column, values)
        return self._query(f"{sql} WHERE {where}{tail}", args)

    # --- documents -------------------------------------------------------------------------
    @store_call(retry=False)
    def write_document(self, doc: Document, passages: Sequence[Passage],
                       entities: Sequence[tuple[str, str, str | None, int, str]] | None = None) -> int:
        j = self.dialect.json_param
        earliest, latest = stored_bounds(doc.date, doc.metadata.get("date_precision"),
                                         doc.date_earliest, doc.date_latest)
        basis = dict(doc.basis)
        for name, value in (("date_earliest", earliest), ("date_latest", latest)):
            if value != getattr(doc, name):
                basis.pop(name, None)
                if value:
                    basis[name] = period_basis(doc.metadata.get("date_precision"))
        cols: dict[str, Any] = {
            "id": doc.id, "kind": doc.kind, "source": doc.source, "position": doc.position,
            "title": doc.title, "subtitle": doc.subtitle, "date": doc.date, "url": doc.url,
            "authors": j(doc.authors), "speakers": j(doc.speakers), "audience": doc.audience,
            "text": doc.text, "comments": j(doc.comments),
            "turns": j([t.__dict__ for t in doc.turns]), "metadata": j(doc.metadata),
            "words": doc.words, "content_hash": doc.content_hash, "is_draft": doc.is_draft,
            "ingested_at": now(), "date_earliest": earliest, "date_latest": latest,
            "aliases": j(doc.aliases), "basis": j(basis), "reading": doc.reading,
            "reader_fields": j(reader_snapshot(doc)), **self._extra_columns(doc)}
        names = list(cols)
        with self._transaction():
            self._lock(f"source:{doc.source}")
            self._lock(f"doc:{doc.id}")
            self._exec(
                f"INSERT INTO documents({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
                "ON CONFLICT (id) DO UPDATE SET "
                + ", ".join(f"{n} = excluded.{n}" for n in names[1:]), list(cols.values()))
            self._exec("DELETE FROM metrics WHERE doc_id = ? AND origin = 'source'", [doc.id])
            self._upsert_metrics(doc.id, doc.metrics, "source")
            if entities is not None:
                self._write_entities(doc.id, entities)
            self._apply_corrections(doc.id)
            row = self._query("SELECT title, aliases FROM documents WHERE id = ?", [doc.id])[0]
            title = search_title(row["title"], self.dialect.load_json(row["aliases"], []))
            return self._replace_passages(doc, passages, title)

    def _upsert_metrics(self, doc_id: str, values: Mapping[str, float], origin: str) -> None:
        self._executemany(
            "INSERT INTO metrics(doc_id, name, value, origin) VALUES (?, ?, ?, ?) ON CONFLICT "
            "(doc_id, name) DO UPDATE SET value = excluded.value, origin = excluded.origin",
            [(doc_id, k, float(v), origin) for k, v in values.items()])

    def _write_entities(self, doc_id: str, rows: Sequence[tuple[str, str, str | None, int, str]]) -> None:
        self._exec("DELETE FROM entity_mentions WHERE doc_id = ?", [doc_id])
        self._executemany(  # a repeated (entity, role): the last one wins
            "INSERT INTO entity_mentions(doc_id, entity, kind, parent, mentions, role) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (doc_id, entity, role) DO UPDATE SET "
            "kind = excluded.kind, parent = excluded.parent, mentions = excluded.mentions",
            [(doc_id, *r) for r in rows])

    @store_call(retry=True)
    def get_document(self, doc_id: str) -> Document | None:
        return self._documents([doc_id], with_turns=True).get(doc_id)

    @store_call(retry=True)
    def get_documents(self, ids: Sequence[str], with_turns: bool = False) -> dict[str, Document]:
        """Several documents in one query; speaker turns (large for interviews) only if asked."""
        return self._documents(ids, with_turns)

    def _documents(self, ids: Sequence[str], with_turns: bool) -> dict[str, Document]:
        if not ids:
            return {}
        where, args = self.dialect.in_list("d.id", list(dict.fromkeys(ids)))
        return {d.id: d for d in self._select_documents(" WHERE " + where, args, with_turns)}

    def _select_documents(self, where: str, args: list[Any], with_turns: bool) -> list[Document]:
        cols = ", ".join(f"d.{c}" for c in (*DOC_COLUMNS, *(("turns",) if with_turns else ())))
        rows = self._query(f"SELECT {cols} FROM documents d{where}", args)
        ids = None if len(rows) > BIG_ID_LIST else [r["id"] for r in rows]
        metrics = self._metrics_of(ids)
        corrected = self._corrections_of(ids)
        return [document_from_row(r, self.dialect, metrics.get(r["id"], {}), list(corrected.get(r["id"], {})))
                for r in rows]

    def _metrics_of(self, ids: Sequence[str] | None) -> dict[str, dict[str, float]]:
        """Metrics of many documents in one query (all of them when ids is None)."""
        out: dict[str, dict[str, float]] = {}
        for r in self._rows_for("SELECT doc_id, name, value FROM metrics", "doc_id", ids):
            out.setdefault(r["doc_id"], {})[r["name"]] = r["value"]
        return out

    @store_call(retry=True)
    def list_documents(self, flt: DocFilter, order: str = "date",
                       with_turns: bool = False) -> list[Document]:
        where, args = doc_where(flt, self.dialect)
        return order_documents(self._select_documents(where, args, with_turns), order)

    @store_call(retry=True)
    def filtered_ids(self, flt: DocFilter) -> set[str]:
        where, args = doc_where(flt, self.dialect)
        return {r["id"] for r in self._query(f"SELECT d.id FROM documents d{where}", args)}

    # --- reader values, effective values, corrections ----------------------------------------
    @store_call(retry=True)
    def reader_fields(self, ids: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
        """{doc id: the fields (READER_FIELDS) as its reader wrote them} (all documents when
        ids is None)."""
        return {r["id"]: dict(self.dialect.load_json(r["reader_fields"], {}))
                for r in self._rows_for("SELECT id, reader_fields FROM documents", "id", ids)}

    @store_call(retry=False)
    def set_effective(self, doc_id: str, values: Mapping[str, Any], basis: Mapping[str, str]) -> None:
        """Set what the library knows of a document beyond its reader (fields of EFFECTIVE),
        with where each value came from. A corrected field is left as the writer set it. The
        content hash stays the reader's, so re-ingesting unchanged input still does nothing;
        a changed input is written afresh (write_document), so inference runs again after it."""
        unknown = sorted(set(values) - set(EFFECTIVE))
        if unknown:
            raise ValueError(f"set_effective: {', '.join(unknown)} cannot be set "
                             f"(settable: {', '.join(EFFECTIVE)})")
        with self._transaction():
            corrected = set(self._corrections_of([doc_id]).get(doc_id, {}))
            rows = self._query("SELECT basis FROM documents WHERE id = ?", [doc_id])
            if not rows:
                return
            merged = dict(self.dialect.load_json(rows[0]["basis"], {}))
            merged.update({f: b for f, b in basis.items() if f not in corrected})
            update = {f: v for f, v in values.items() if f not in corrected}
            self._update_fields(doc_id, update, merged)

    def _update_fields(self, doc_id: str, values: Mapping[str, Any], basis: Mapping[str, str]) -> None:
        """Write effective values and the basis map, and refresh the keyword index's title."""
        j = self.dialect.json_param
        cols = {f: (j(list(v or [])) if f in _JSON_FIELDS else bool(v) if f == "reading" else v)
                for f, v in values.items()}
        cols["basis"] = j(dict(basis))
        self._exec(f"UPDATE documents SET {', '.join(f'{c} = ?' for c in cols)} WHERE id = ?",
                   [*cols.values(), doc_id])
        if "title" in values or "aliases" in values:
            row = self._query("SELECT title, aliases FROM documents WHERE id = ?", [doc_id])[0]
            self._set_search_title(doc_id, search_title(
                row["title"], self.dialect.load_json(row["aliases"], [])))

    @staticmethod
    def _check_correctable(field: str) -> None:
        if field not in CORRECTABLE:
            raise ValueError(f"{field!r} cannot be corrected; correctable fields: "
                             f"{', '.join(CORRECTABLE)}")

    @store_call(retry=False)
    def set_correction(self, doc_id: str, field: str, value: Any) -> None:
        """The writer's value for a field of a document: stored apart (it outlives re-ingest,
        which rewrites the document) and applied to the document at once."""
        self._check_correctable(field)
        if field == "authors":
            value = [str(a) for a in (value or [])]
        elif field == "reading":
            value = bool(value)
        with self._transaction():
            self._exec("INSERT INTO corrections(doc_id, field, value, at) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (doc_id, field) DO UPDATE SET value = excluded.value, "
                       "at = excluded.at", [doc_id, field, self.dialect.json_param(value), now()])
            self._apply_corrections(doc_id)

    @store_call(retry=False)
    def clear_correction(self, doc_id: str, field: str) -> None:
        """Drop the writer's value for a field; the reader's value comes back."""
        self._check_correctable(field)
        with self._transaction():
            self._exec("DELETE FROM corrections WHERE doc_id = ? AND field = ?", [doc_id, field])
            rows = self._query("SELECT reader_fields, basis FROM documents WHERE id = ?", [doc_id])
            if not rows:
                return
            reader = self.dialect.load_json(rows[0]["reader_fields"], {})
            basis = dict(self.dialect.load_json(rows[0]["basis"], {}))
            if basis.get(field) == CORRECTION_BASIS:
                basis.pop(field)
            value = False if field == "reading" else reader.get(field)
            values: dict[str, Any] = {field: value}
            if field == "date":  # the reader's date is back, with its period if not a day
                meta = self._query("SELECT metadata FROM documents WHERE id = ?", [doc_id])[0]
                kind = self.dialect.load_json(meta["metadata"], {}).get("date_precision")
                values["date_earliest"], values["date_latest"] = stored_bounds(
                    str(value) if value else None, kind, None, None)
                for name in ("date_earliest", "date_latest"):
                    basis.pop(name, None)
                    if values[name]:
                        basis[name] = period_basis(kind)
            self._update_fields(doc_id, values, basis)

    @store_call(retry=True)
    def corrections(self, doc_id: str | None = None) -> dict[str, dict[str, Any]]:
        """{doc id: {field: the writer's value}} (of one document, or of all)."""
        return self._corrections_of(None if doc_id is None else [doc_id])

    def _corrections_of(self, ids: Sequence[str] | None) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for r in self._rows_for("SELECT doc_id, field, value FROM corrections", "doc_id", ids,
                                " ORDER BY doc_id, field"):
            out.setdefault(r["doc_id"], {})[r["field"]] = self.dialect.load_json(r["value"], None)
        return out

    def _apply_corrections(self, doc_id: str) -> None:
        fixes = self._corrections_of([doc_id]).get(doc_id)
        if not fixes:
            return
        rows = self._query("SELECT basis FROM documents WHERE id = ?", [doc_id])
        if not rows:
            return  # a correction of a document that is not (or no longer) in the library
        basis = dict(self.dialect.load_json(rows[0]["basis"], {}))
        basis.update({f: CORRECTION_BASIS for f in fixes})
        values = dict(fixes)
        if "date" in fixes:  # the writer's date is a day: no period, no bounds
            values["date_earliest"] = values["date_latest"] = None
            basis.pop("date_earliest", None)
            basis.pop("date_latest", None)
        self._update_fields(doc_id, values, basis)

    # --- meta and sources ----------------------------------------------------------------------
    @store_call(retry=True)
    def get_meta(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", [key])
        return rows[0]["value"] if rows else None

    @store_call(retry=False)
    def set_meta(self, key: str, value: str) -> None:
        with self._transaction():
            self._exec("INSERT INTO meta(key, value) VALUES (?, ?) "
                       "ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, value])

    @store_call(retry=True)
    def meta_items(self) -> dict[str, str]:
        return {r["key"]: r["value"] for r in self._query("SELECT key, value FROM meta ORDER BY key")}

    @store_call(retry=True)
    def source_fingerprint(self, path: str) -> str | None:
        rows = self._query("SELECT fingerprint FROM sources WHERE path = ?", [path])
        return rows[0]["fingerprint"] if rows else None

    @store_call(retry=False)
    def record_source(self, path: str, kind: str, fingerprint: str,
                      doc_ids: Sequence[str]) -> list[str]:
        keep = set(doc_ids)
        with self._transaction():
            self._lock(f"source:{path}")
            stale = [r["id"] for r in self._query(
                f"SELECT id FROM documents WHERE source = ? ORDER BY id{self.dialect.collate_c}", [path])
                if r["id"] not in keep]
            if stale:
                where, args = self.dialect.in_list("duplicate_of", stale)
                self._exec(f"UPDATE documents SET duplicate_of = NULL WHERE {where}", args)
                self._forget_passages(stale)
                where, args = self.dialect.in_list("id", stale)
                self._exec(f"DELETE FROM documents WHERE {where}", args)
            self._exec(
                "INSERT INTO sources(path, kind, fingerprint, ingested_at, documents) VALUES "
                "(?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET kind = excluded.kind, "
                "fingerprint = excluded.fingerprint, ingested_at = excluded.ingested_at, "
                "documents = excluded.documents", [path, kind, fingerprint, now(), len(keep)])
        return stale

    @store_call(retry=True)
    def sources(self) -> list[dict[str, Any]]:
        return self._query("SELECT path, kind, fingerprint, ingested_at, documents FROM sources "
                           f"ORDER BY path{self.dialect.collate_c}")

    # --- documents: the small questions ---------------------------------------------------------
    @store_call(retry=True)
    def doc_hash(self, doc_id: str) -> str | None:
        rows = self._query("SELECT content_hash FROM documents WHERE id = ?", [doc_id])
        return rows[0]["content_hash"] if rows else None

    @store_call(retry=True)
    def resolve_id(self, prefix: str) -> list[str]:
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return [r["id"] for r in self._query(
            f"SELECT id FROM documents WHERE id LIKE ? ESCAPE '\\' ORDER BY id{self.dialect.collate_c} "
            "LIMIT 5", [pattern])]

    @store_call(retry=False)
    def set_copies(self, duplicate_of: dict[str, str | None], urls: dict[str, str]) -> None:
        with self._transaction():
            self._exec("UPDATE documents SET duplicate_of = NULL, linked_url = NULL "
                       "WHERE duplicate_of IS NOT NULL OR linked_url IS NOT NULL")
            self._executemany("UPDATE documents SET duplicate_of = ? WHERE id = ?",
                              [(v, k) for k, v in duplicate_of.items() if v])
            self._executemany("UPDATE documents SET linked_url = ? WHERE id = ?",
                              [(v, k) for k, v in urls.items()])

    @store_call(retry=True)
    def canonical_map(self) -> dict[str, str]:
        return {r["id"]: r["duplicate_of"] for r in self._query(
            "SELECT id, duplicate_of FROM documents WHERE duplicate_of IS NOT NULL")}

    @store_call(retry=True)
    def stats(self) -> dict[str, Any]:
        c = self.dialect.collate_c
        by_kind = {r["kind"]: {"documents": r["n"], "words": int(r["w"] or 0)} for r in self._query(
            f"SELECT kind, COUNT(*) AS n, SUM(words) AS w FROM documents GROUP BY kind ORDER BY kind{c}")}
        by_year = {(r["y"] or "undated"): {"documents": r["n"], "words": int(r["w"] or 0)}
                   for r in self._query(
            "SELECT substr(date, 1, 4) AS y, COUNT(*) AS n, SUM(words) AS w FROM documents "
            f"GROUP BY substr(date, 1, 4) ORDER BY substr(date, 1, 4) IS NULL, substr(date, 1, 4){c}")}
        total = self._query(
            "SELECT COUNT(*) AS n, COALESCE(SUM(words), 0) AS w, COUNT(duplicate_of) AS dup, "
            "COUNT(CASE WHEN is_draft = ? THEN 1 END) AS drafts, COUNT(*) - COUNT(date) AS undated "
            "FROM documents", [True])[0]
        passages = self._query("SELECT COUNT(*) AS n, COUNT(CASE WHEN embedded = ? THEN 1 END) AS e "
                               "FROM passages", [True])[0]
        return {"documents": total["n"], "words": int(total["w"]), "duplicates": total["dup"],
                "drafts": total["drafts"], "undated": total["undated"],
                "passages": passages["n"], "embedded_passages": passages["e"],
                "sources": self._query("SELECT COUNT(*) AS n FROM sources")[0]["n"],
                "by_kind": by_kind, "by_year": by_year}

    # --- passages ---------------------------------------------------------------------------------
    _PASSAGE = 'doc_id, idx, text, start, "end", speaker'

    @staticmethod
    def _passage(r: Mapping[str, Any]) -> Passage:
        return Passage(r["doc_id"], r["idx"], r["text"], r["start"], r["end"], r["speaker"])

    @store_call(retry=True)
    def passages(self, ids: Iterable[int]) -> dict[int, Passage]:
        return {r["id"]: self._passage(r) for r in self._rows_for(
            f"SELECT id, {self._PASSAGE} FROM passages", "id", list(ids))}

    @store_call(retry=True)
    def passage_counts(self, doc_ids: Iterable[str]) -> dict[str, int]:
        return {r["doc_id"]: r["n"] for r in self._rows_for(
            "SELECT doc_id, COUNT(*) AS n FROM passages", "doc_id", list(doc_ids), " GROUP BY doc_id")}

    @store_call(retry=True)
    def doc_passages(self, doc_id: str) -> list[Passage]:
        return [self._passage(r) for r in self._query(
            f"SELECT {self._PASSAGE} FROM passages WHERE doc_id = ? ORDER BY idx, id", [doc_id])]

    @store_call(retry=True)
    def unembedded(self, limit: int) -> list[tuple[int, str, str | None]]:
        """Passages to embed, each with its document's title as the reader gave it: vectors do
        not depend on whether reconciliation or a correction ran before or after embedding."""
        rows = self._query(
            "SELECT p.id, p.text, d.title, d.reader_fields FROM passages p JOIN documents d "
            "ON d.id = p.doc_id WHERE p.embedded = ? ORDER BY p.id LIMIT ?", [False, int(limit)])
        return [(r["id"], r["text"],
                 dict(self.dialect.load_json(r["reader_fields"], {})).get("title", r["title"]))
                for r in rows]

    @store_call(retry=True)
    def all_passages(self) -> list[tuple[int, str, str | None]]:
        return [(r["id"], r["text"], r["title"]) for r in self._query(
            "SELECT p.id, p.text, d.title FROM passages p JOIN documents d ON d.id = p.doc_id "
            "ORDER BY p.id")]

    @store_call(retry=True)
    def count_unembedded(self) -> int:
        return int(self._query("SELECT COUNT(*) AS n FROM passages WHERE embedded = ?", [False])[0]["n"])

    # --- metrics, topics, entities, links ----------------------------------------------------------
    @store_call(retry=True)
    def metrics(self, doc_ids: Iterable[str] | None = None) -> dict[str, dict[str, float]]:
        ids = None if doc_ids is None else list(doc_ids)
        if ids is not None and len(ids) > BIG_ID_LIST:
            wanted = set(ids)
            return {k: v for k, v in self._metrics_of(None).items() if k in wanted}
        return self._metrics_of(ids)

    @store_call(retry=True)
    def metric_rows(self) -> list[tuple[str, str, float, str | None]]:
        c = self.dialect.collate_c
        return [(r["doc_id"], r["name"], r["value"], r["origin"]) for r in self._query(
            f"SELECT doc_id, name, value, origin FROM metrics ORDER BY doc_id{c}, name{c}")]

    @store_call(retry=False)
    def add_metrics(self, doc_id: str, values: dict[str, float], origin: str) -> None:
        with self._transaction():
            self._upsert_metrics(doc_id, values, origin)

    @store_call(retry=False)
    def set_doc_topics(self, doc_id: str, scored: Sequence[tuple[str, float]],
                       manual: bool = False) -> None:
        """Automatic topics replace the automatic ones; manual ones are added (and win)."""
        rows = [(doc_id, t, float(s), manual) for t, s in scored]
        with self._transaction():
            if manual:
                self._executemany(
                    "INSERT INTO doc_topics(doc_id, topic, score, manual) VALUES (?, ?, ?, ?) ON "
                    "CONFLICT (doc_id, topic) DO UPDATE SET score = excluded.score, manual = excluded.manual",
                    rows)
                return
            self._exec("DELETE FROM doc_topics WHERE doc_id = ? AND manual = ?", [doc_id, False])
            self._executemany("INSERT INTO doc_topics(doc_id, topic, score, manual) VALUES "
                              "(?, ?, ?, ?) ON CONFLICT (doc_id, topic) DO NOTHING", rows)

    @store_call(retry=True)
    def doc_topics(self) -> dict[str, list[tuple[str, float, bool]]]:
        out: dict[str, list[tuple[str, float, bool]]] = {}
        for r in self._query("SELECT doc_id, topic, score, manual FROM doc_topics "
                             f"ORDER BY manual DESC, score DESC, topic{self.dialect.collate_c}"):
            out.setdefault(r["doc_id"], []).append((r["topic"], r["score"], bool(r["manual"])))
        return out

    @store_call(retry=False)
    def set_entities(self, doc_id: str, rows: Sequence[tuple[str, str, str | None, int, str]]) -> None:
        with self._transaction():
            self._write_entities(doc_id, rows)

    @store_call(retry=True)
    def entity_rows(self) -> list[dict[str, Any]]:
        return self._query(
            "SELECT e.doc_id, e.entity, e.kind, e.parent, e.mentions, e.role, d.date, d.duplicate_of "
            "FROM entity_mentions e JOIN documents d ON d.id = e.doc_id")

    @store_call(retry=False)
    def set_links(self, links: Sequence[DocLink]) -> None:
        with self._transaction():
            self._exec("DELETE FROM doc_links")
            self._executemany(
                "INSERT INTO doc_links(source_id, target_id, how, evidence) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (source_id, target_id) DO NOTHING",
                [(lk.source_id, lk.target_id, lk.how, lk.evidence) for lk in links])

    @store_call(retry=True)
    def links(self, doc_id: str | None = None) -> list[DocLink]:
        c = self.dialect.collate_c
        sql, args = "SELECT source_id, target_id, how, evidence FROM doc_links", list[Any]()
        if doc_id is not None:
            sql, args = sql + " WHERE source_id = ? OR target_id = ?", [doc_id, doc_id]
        return [DocLink(r["source_id"], r["target_id"], r["how"], r["evidence"])
                for r in self._query(f"{sql} ORDER BY source_id{c}, target_id{c}", args)]
