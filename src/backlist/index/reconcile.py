"""What the archive itself says about each piece, field by field, with where each fact came from.

Pure functions over Documents (as the readers left them) and citation links; nothing here touches
storage. Every fact carries a basis, and nothing is guessed:

- **Copies.** A piece that arrived from several sources (a dump line, a directory entry, a feed
  item, a post) takes each field from the best copy that has it.
- **Titles from the archive's own references.** Link text in the writer's own pieces that links
  to a piece's URL, or a title written out in another piece (a ``title``/``named`` citation),
  replaces a title rebuilt from a URL slug or an opening sentence when the evidence agrees; the
  old title stays as an alias. A slug title that lost its punctuation ("GPT 45") is respelt only
  as the piece's own text spells it ("GPT-4.5").
- **Dates as bounds.** Order within a feed (newest first), citations (a piece is no later than a
  dated piece that links to it, no earlier than a dated piece it links to) and a dated review's
  links give ``date_earliest``/``date_latest``. ``date`` itself is only ever a day a source
  states.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from backlist.index.citations import norm_words, parse_url
from backlist.ingest.base import slug_of_url
from backlist.model import Document
from backlist.store.base import DocLink
from backlist.when import day_range, period, period_basis, precision, stored_bounds

# Title bases the readers record in metadata["title_basis"], best first; a title without one
# was given by its source (frontmatter, feed, posts.csv) and is the best of all.
TITLE_RANK = {None: 0, "link text": 1, "title as written": 1, "URL slug": 2, "speaker names": 3,
              "file name": 4, "opening sentence": 5}
# Titles that evidence from the archive may replace.
REPLACEABLE_TITLES = {"URL slug", "speaker names", "file name", "opening sentence"}
# Citations that order two pieces in time (a link or a quotation is made to an earlier piece).
ORDERING_CITATIONS = ("link", "quot")
_STOP = {"a", "an", "the", "of", "on", "in", "and", "or", "for", "to", "with", "at", "by", "is",
         "are", "vs", "from", "as", "s"}
_LINK_GAP = re.compile(r"[\s*_]{0,3}")
# A link citation's evidence: "URL [link text: TEXT]" (index/citations.py), or the text alone.
_LINK_TEXT = re.compile(r"\[link text: (.*?)\](?: \(slug on [^)]*\))?$", re.S)
_SPELLED = re.compile(r"\w(?:[\w'’.\-]*\w)?")
MIN_LINK_TITLE_WORDS = 2


@dataclass(frozen=True)
class Fact:
    """One field of one document as the archive shows it: value and where it came from."""

    doc_id: str
    field: str
    value: Any
    basis: str


# ---------------------------------------------------------------------------------------------
# helpers

def title_basis(doc: Document) -> str | None:
    basis = doc.metadata.get("title_basis")
    return basis if isinstance(basis, str) else None


def _rank(basis: str | None) -> int:
    return TITLE_RANK.get(basis, 0 if basis is None else 1)


def _where(doc: Document) -> str:
    name = doc.source.rstrip("/").rsplit("/", 1)[-1]
    return f"{name}, {doc.position}"


def _own(doc: Document) -> bool:
    """The writer's own published work (their links and titles are evidence about their pieces)."""
    return not doc.is_reading and not doc.is_draft


def _groups(docs: Sequence[Document]) -> dict[str, list[Document]]:
    """canonical id -> [canonical, copies…] (copies in source order)."""
    by_id = {d.id: d for d in docs}
    out: dict[str, list[Document]] = {}
    for d in docs:
        if d.duplicate_of is None or d.duplicate_of not in by_id:
            out.setdefault(d.id, []).insert(0, d)
    for d in docs:
        if d.duplicate_of is not None and d.duplicate_of in by_id:
            out.setdefault(d.duplicate_of, [by_id[d.duplicate_of]]).append(d)
    return out


def _clean_title(text: str) -> str:
    """A title as written, without surrounding quotes and with unbalanced quote marks dropped."""
    text = " ".join(text.replace("\\", "").split()).strip(" .,;:")
    pairs = [('"', '"'), ("“", "”"), ("‘", "’")]
    for a, b in pairs:
        if a == b:
            if text.count(a) % 2:
                text = text.replace(a, "")
        elif text.count(a) != text.count(b):
            text = text.replace(a, "").replace(b, "")
    for a, b in pairs:
        if len(text) > 2 and text[0] == a and text[-1] == b and text.count(a) + text.count(b) == 2:
            text = text[1:-1]
    return text.strip()


def _content(words: Iterable[str]) -> list[str]:
    return [w for w in words if w not in _STOP]


def fits_slug(text: str, slug: str | None) -> bool:
    """A text can be the title a slug was made from: every content word of the slug is in it."""
    if not slug:
        return True
    words = Counter(norm_words(text))
    need = Counter(_content(w for w in slug.split("-") if w))
    return bool(need) and all(words[w] >= n for w, n in need.items())


# ---------------------------------------------------------------------------------------------
# 1. copies: each field from the best copy that has it

def reconcile_copies(docs: Sequence[Document]) -> list[Fact]:
    """For each canonical piece with copies, the fields it lacks (or has worse) taken from a copy:
    title (a better-ranked title basis), URL, a stated date, subtitle, speakers."""
    facts: list[Fact] = []
    for cid, members in _groups(docs).items():
        canon, copies = members[0], members[1:]
        if not copies:
            continue
        best = min(members, key=lambda d: (_rank(title_basis(d)) if d.title else 99,
                                           d is not canon))
        if best is not canon and best.title and _rank(title_basis(best)) < _rank(title_basis(canon)):
            facts.append(Fact(cid, "title", best.title,
                              f"{title_basis(best) or 'title'} of copy {best.id} ({_where(best)})"))
        for name in ("url", "subtitle"):
            if not getattr(canon, name):
                donor = next((c for c in copies if getattr(c, name)), None)
                if donor:
                    facts.append(Fact(cid, name, getattr(donor, name),
                                      f"copy {donor.id} ({_where(donor)})"))
        if not canon.date:
            donor = next((c for c in copies if c.date), None)
            if donor:
                said = donor.metadata.get("date_basis") or "stated"
                facts.append(Fact(cid, "date", donor.date,
                                  f"stated by copy {donor.id} ({_where(donor)}): {said}"))
                kind = precision(donor)
                if donor.date and kind in ("month", "year"):  # the copy's date is a period, and stays one
                    first, last = day_range(donor.date, kind)
                    why = f"the {kind} copy {donor.id} ({_where(donor)}) dates it to"
                    facts += [Fact(cid, "date_earliest", first, why),
                              Fact(cid, "date_latest", last, why)]
        if not canon.speakers:
            donor = max(copies, key=lambda c: len(c.speakers))
            if donor.speakers:
                facts.append(Fact(cid, "speakers", list(donor.speakers),
                                  f"speaker turns of copy {donor.id} ({_where(donor)})"))
    return facts


def apply_facts(docs: Sequence[Document], facts: Iterable[Fact]) -> list[Document]:
    """The documents with the facts' values applied (copies of the Documents; inputs untouched)."""
    import copy

    out = {d.id: copy.copy(d) for d in docs}
    for f in facts:
        d = out.get(f.doc_id)
        if d is None:
            continue
        d.metadata = dict(d.metadata)
        if f.field == "title":
            d.metadata["title_basis"] = _basis_kind(f.basis)
        if f.field == "aliases":
            d.aliases = list(f.value)
        else:
            setattr(d, f.field, f.value)
    return list(out.values())


def _basis_kind(basis: str) -> str | None:
    for kind in TITLE_RANK:
        if kind and basis.startswith(kind):
            return kind
    return None


# ---------------------------------------------------------------------------------------------
# 2. titles from the archive's own references

def link_texts(doc: Document) -> list[tuple[str, str]]:
    """(URL, link text) for each link a piece keeps in metadata["links"], consecutive links to
    the same URL ("[Llama 3](u)[: Scaling open LLMs](u)") joined as the text reads them."""
    links = [(str(lk.get("url") or ""), str(lk.get("text") or ""))
             for lk in doc.metadata.get("links") or [] if isinstance(lk, dict)]
    text = doc.text
    cursor = 0
    located: list[tuple[str, str, int, int]] = []  # url, text, start, end (-1 when not found)
    for url, label in links:
        label = " ".join(label.split())
        at = text.find(label, cursor) if label else -1
        if at >= 0:
            cursor = at + len(label)
            located.append((url, label, at, at + len(label)))
        else:
            located.append((url, label, -1, -1))
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(located):
        url, label, start, end = located[i]
        j = i + 1
        while j < len(located) and located[j][0] == url and start >= 0 and located[j][2] >= 0 \
                and _LINK_GAP.fullmatch(text[end:located[j][2]]):
            end = located[j][3]
            j += 1
        joined = text[start:end] if start >= 0 and j > i + 1 else label
        if url and joined.strip():
            out.append((url, joined))
        i = j
    return out


def _own_hosts(docs: Sequence[Document]) -> set[str]:
    return {parse_url(d.url)[0] for d in docs if d.url and not d.is_reading}


def _url_index(docs: Sequence[Document]) -> dict[tuple[str, str], set[str]]:
    """(host, slug) -> canonical ids of the pieces at that URL."""
    out: dict[tuple[str, str], set[str]] = defaultdict(set)
    for d in docs:
        cid = d.duplicate_of or d.id
        if d.url and (slug := slug_of_url(d.url)):
            out[(parse_url(d.url)[0], slug)].add(cid)
    return out


@dataclass(frozen=True)
class _TitleEvidence:
    doc_id: str  # the piece the title is for (canonical)
    text: str
    basis: str  # "link text in <id>" / "title as written in <id>" / "named in <id>"
    strength: int  # 2 link text, 1 title written out


def title_evidence(docs: Sequence[Document], links: Sequence[DocLink]) -> list[_TitleEvidence]:
    """Titles the writer's own pieces give other pieces: link texts to their URL (on the writer's
    hosts, one piece per URL), and titles written out (``title``/``named`` citations, and link
    citations whose evidence is a text rather than a URL)."""
    own = {d.id for d in docs if _own(d)}
    hosts = _own_hosts(docs)
    at_url = _url_index(docs)
    out: list[_TitleEvidence] = []
    for d in docs:
        if d.id not in own:
            continue
        for url, text in link_texts(d):
            host = parse_url(url)[0]
            slug = slug_of_url(url)
            targets = at_url.get((host, slug or ""), set()) if host in hosts else set()
            if len(targets) == 1 and (target := next(iter(targets))) != (d.duplicate_of or d.id):
                out.append(_TitleEvidence(target, _clean_title(text), f"link text in {d.id}", 2))
    for lk in links:
        if lk.source_id not in own or not lk.evidence:
            continue
        if lk.how == "link":
            anchor = _LINK_TEXT.search(lk.evidence)
            said: str | None = anchor.group(1) if anchor else None
            if said is None and not re.match(r"^[a-z][a-z0-9+.-]*://|^www\.", lk.evidence, re.I):
                said = lk.evidence  # a link citation whose evidence is the text itself
            if said:
                out.append(_TitleEvidence(lk.target_id, _clean_title(said),
                                          f"link text in {lk.source_id}", 2))
        elif lk.how in ("title", "named"):
            label = "named in" if lk.how == "named" else "title as written in"
            out.append(_TitleEvidence(lk.target_id, _clean_title(lk.evidence),
                                      f"{label} {lk.source_id}", 1))
    return out


def _agreed(texts: list[_TitleEvidence]) -> _TitleEvidence | None:
    """The one title the evidence agrees on: all the same words (the most common spelling, link
    text first), or each a beginning of the longest (a title cut short); else None."""
    if not texts:
        return None
    forms = [norm_words(t.text) for t in texts]
    longest = max(forms, key=len)
    if not all(f == longest[:len(f)] for f in forms):
        return None
    full = [t for t, f in zip(texts, forms) if f == longest]
    spelled = Counter(t.text for t in full)
    return max(full, key=lambda t: (spelled[t.text], t.strength, -texts.index(t)))


def titles_from_references(docs: Sequence[Document], links: Sequence[DocLink]) -> list[Fact]:
    """A replaceable title (slug, opening sentence, speaker names, file name) becomes the title
    the archive's own references agree on; the old title becomes an alias. A ``named`` title that
    is not adopted is kept as an alias (the piece is known by it)."""
    by_id = {d.id: d for d in docs}
    evidence: dict[str, list[_TitleEvidence]] = defaultdict(list)
    for ev in title_evidence(docs, links):
        if ev.doc_id in by_id and len(norm_words(ev.text)) >= MIN_LINK_TITLE_WORDS:
            evidence[ev.doc_id].append(ev)
    facts: list[Fact] = []
    for doc_id, found in evidence.items():
        d = by_id[doc_id]
        slug = d.metadata.get("slug") or slug_of_url(d.url)
        fitting = [e for e in found if fits_slug(e.text, slug)]
        aliases = list(d.aliases)
        chosen = _agreed(fitting) if title_basis(d) in REPLACEABLE_TITLES or not d.title else None
        if chosen and chosen.text != d.title:
            facts.append(Fact(doc_id, "title", chosen.text, chosen.basis))
            if d.title and d.title not in aliases:
                aliases.append(d.title)
        for e in found:
            if e.basis.startswith("named in") and e.text not in aliases and \
                    e.text != (chosen.text if chosen else d.title):
                aliases.append(e.text)
        if aliases != list(d.aliases):
            facts.append(Fact(doc_id, "aliases", aliases,
                              "earlier titles and titles the archive names it by"))
    return facts


def respell_slug_title(title: str, slug: str, body: str) -> str | None:
    """A title rebuilt from a slug, with runs the slug lost punctuation from ("gpt-45",
    "openais") spelt as the piece's own text spells them ("GPT-4.5", "OpenAI's"), only where the
    text spells them that way more often than not and never the slug's way. None if no change."""
    words = [w for w in slug.split("-") if w]
    if [w.lower() for w in title.split()] != words:
        return None  # not (or no longer) the plain slug title
    forms: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    for m in _SPELLED.finditer(body):
        token = m.group(0).strip("'’.-")
        if re.search(r"[\w]['’.\-][\w]", token):
            forms[norm_words(token)][token] += 1
    low = body.lower()
    out: list[str] = []
    changed = False
    i = 0
    current = title.split()
    while i < len(words):
        for k in (4, 3, 2, 1):
            run = tuple(words[i:i + k])
            if len(run) < k or run not in forms:
                continue
            spelling, n = forms[run].most_common(1)[0]
            plain = " ".join(run)
            said_plainly = re.search(rf"(?<![\w'’.\-]){re.escape(plain)}(?![\w'’]|[.\-]\w)", low)
            if n * 2 <= sum(forms[run].values()) or said_plainly:
                continue
            out.append(spelling)
            changed = True
            i += k
            break
        else:
            out.append(current[i])
            i += 1
    if not changed:
        return None
    text = " ".join(out)
    return text[:1].upper() + text[1:]


def respelt_titles(docs: Sequence[Document]) -> list[Fact]:
    facts = []
    for d in docs:
        slug = d.metadata.get("slug") or slug_of_url(d.url)
        if d.duplicate_of or title_basis(d) != "URL slug" or not d.title or not slug:
            continue
        better = respell_slug_title(d.title, slug, d.text)
        if better and better != d.title:
            facts.append(Fact(d.id, "title", better,
                              "URL slug, spelt as the piece's own text spells it"))
    return facts


# ---------------------------------------------------------------------------------------------
# 3. dates as bounds

@dataclass
class _Bound:
    value: str
    basis: str


def _number(position: str) -> int | None:
    m = re.fullmatch(r"(?:line|item)\s+(\d+)", position.strip())
    return int(m.group(1)) if m else None


@dataclass(frozen=True)
class _Edge:
    """date(older) <= date(newer), and why."""

    older: str
    newer: str
    older_why: str  # said of the older piece: why it is no later than the newer one
    newer_why: str  # said of the newer piece


def ordered_sources(docs: Sequence[Document]) -> dict[str, tuple[str, list[Document]]]:
    """source -> (direction, its documents newest first) for feeds and dumps whose order is
    known from their dated items: two or more whose order agrees (a month- or year-precise date
    is its whole period) and none that disagrees. A source with fewer dated items, or whose dated
    items contradict every order, is left out: a feed's order is evidence only when its dates
    show it."""
    by_source: dict[str, list[tuple[int, Document]]] = defaultdict(list)
    for d in docs:
        n = _number(d.position)
        if n is not None:
            by_source[d.source].append((n, d))
    canon_date = _canonical_dates(docs)
    out = {}
    for source, items in by_source.items():
        items.sort(key=lambda x: x[0])
        members = [d for _, d in items]
        dated = [canon_date[d.duplicate_of or d.id] for d in members
                 if canon_date.get(d.duplicate_of or d.id)]
        pairs = list(zip(dated, dated[1:]))
        desc = all(a[1] >= b[0] for a, b in pairs)  # each may be no earlier than the next
        asc = all(a[0] <= b[1] for a, b in pairs)
        if len(dated) >= 2 and desc and not asc:
            out[source] = ("newest first (as its dated items show)", members)
        elif len(dated) >= 2 and asc and not desc:
            out[source] = ("oldest first (as its dated items show)", members[::-1])
    return out


def _canonical_dates(docs: Sequence[Document]) -> dict[str, tuple[str, str]]:
    """canonical id -> the period its date may mean."""
    out: dict[str, tuple[str, str]] = {}
    for d in docs:
        span = period(d) if d.duplicate_of is None else None
        if span:
            out[d.id] = span
    return out


def order_edges(docs: Sequence[Document]) -> list[_Edge]:
    edges = []
    for source, (direction, members) in ordered_sources(docs).items():
        name = source.rstrip("/").rsplit("/", 1)[-1]
        for newer, older in zip(members, members[1:]):
            a, b = older.duplicate_of or older.id, newer.duplicate_of or newer.id
            if a == b:
                continue
            edges.append(_Edge(a, b,
                               f"{name} order ({direction}): listed after {newer.position} ({b})",
                               f"{name} order ({direction}): listed before {older.position} ({a})"))
    return edges


def citation_edges(links: Sequence[DocLink]) -> list[_Edge]:
    return [_Edge(lk.target_id, lk.source_id, f"{lk.how} from {lk.source_id}",
                  f"{lk.how} to {lk.target_id}")
            for lk in links
            if lk.how.startswith(ORDERING_CITATIONS) and lk.source_id != lk.target_id]


def date_bounds(docs: Sequence[Document], links: Sequence[DocLink]) -> list[Fact]:
    """date_earliest/date_latest for undated canonical pieces, each with its basis: the step that
    bounds it and the dated piece the chain starts from. Bounds that contradict each other
    (earliest after latest) are dropped for that piece. Never a ``date``."""
    canon = {d.id: d for d in docs if d.duplicate_of is None}
    lo: dict[str, _Bound] = {}
    hi: dict[str, _Bound] = {}
    for d in canon.values():
        if d.date:
            a, b = period(d) or (d.date[:10], d.date[:10])
            why = d.basis.get("date") if d.basis else None
            said = why or d.metadata.get("date_basis") or "stated"
            lo[d.id] = _Bound(a, f"{d.id} dated {d.date[:10]} ({said})")
            hi[d.id] = _Bound(b, f"{d.id} dated {d.date[:10]} ({said})")
    edges = [e for e in order_edges(docs) + citation_edges(links)
             if e.older in canon and e.newer in canon]
    for _ in range(len(canon) + 1):  # longest chain; stops early when nothing moves
        moved = False
        for e in edges:
            if e.older in lo and (e.newer not in lo or lo[e.older].value > lo[e.newer].value):
                lo[e.newer] = _Bound(lo[e.older].value, _chain(e.newer_why, lo[e.older].basis))
                moved = True
            if e.newer in hi and (e.older not in hi or hi[e.newer].value < hi[e.older].value):
                hi[e.older] = _Bound(hi[e.newer].value, _chain(e.older_why, hi[e.newer].basis))
                moved = True
        if not moved:
            break
    facts = []
    for doc_id, d in canon.items():
        if d.date:
            continue
        early, late = lo.get(doc_id), hi.get(doc_id)
        if early and late and early.value > late.value:
            continue  # the evidence disagrees: no bound rather than a wrong one
        if early:
            facts.append(Fact(doc_id, "date_earliest", early.value, early.basis))
        if late:
            facts.append(Fact(doc_id, "date_latest", late.value, late.basis))
    return facts


def _chain(step: str, anchor: str) -> str:
    """'<this step>; from <the dated piece the chain starts at>' (only the anchor of a longer
    chain is named, so the basis stays one line)."""
    origin = anchor.split("; from ", 1)[-1]
    return f"{step}; from {origin}"


# ---------------------------------------------------------------------------------------------
# all of it

FIELDS = ("title", "url", "date", "subtitle", "speakers", "aliases", "date_earliest",
          "date_latest")


def infer(docs: Sequence[Document], links: Sequence[DocLink]) -> dict[str, dict[str, Fact]]:
    """Every fact the archive gives, per document and field: copies first, then titles from
    references and respelt slugs (over the reconciled copies), then date bounds (over the
    reconciled dates). Later steps see earlier ones' values."""
    out: dict[str, dict[str, Fact]] = defaultdict(dict)

    def keep(facts: Iterable[Fact]) -> None:
        for f in facts:
            out[f.doc_id][f.field] = f

    keep(reconcile_copies(docs))
    current = apply_facts(docs, [f for fs in out.values() for f in fs.values()])
    keep(titles_from_references(current, links))
    current = apply_facts(docs, [f for fs in out.values() for f in fs.values()])
    by_id = {d.id: d for d in current}
    for f in respelt_titles(current):
        if "title" in out.get(f.doc_id, {}) and not out[f.doc_id]["title"].basis.startswith("URL slug"):
            continue
        old = by_id[f.doc_id]
        keep([f])
        if old.title and old.title not in old.aliases:
            keep([Fact(f.doc_id, "aliases", [*old.aliases, old.title],
                       "earlier titles and titles the archive names it by")])
    current = apply_facts(docs, [f for fs in out.values() for f in fs.values()])
    keep(date_bounds(current, links))
    return dict(out)


# ---------------------------------------------------------------------------------------------
# applying it to a library (through the Store interface only)

# What reconciliation sets (Store.set_effective); ``reading`` is the writer's alone.
STORED_FIELDS = ("title", "subtitle", "date", "url", "date_earliest", "date_latest", "aliases")
_READER_BASIS = {"title": "title_basis", "date": "date_basis"}


@dataclass
class ReconcileReport:
    documents: int = 0
    changed: int = 0
    facts: Counter[str] = field(default_factory=Counter)  # field -> documents with an inferred value


def as_read(docs: Sequence[Document], reader: dict[str, dict[str, Any]],
            corrections: dict[str, dict[str, Any]]) -> list[Document]:
    """The documents as their readers gave them, with the writer's corrections on top (a
    corrected date anchors bounds, a piece marked as reading gives no evidence), and nothing a
    previous reconciliation inferred: so reconciling twice gives the same result."""
    import copy

    out = []
    for d in docs:
        base = copy.copy(d)
        base.metadata = dict(d.metadata)
        for name, value in reader.get(d.id, {}).items():
            setattr(base, name, list(value) if isinstance(value, list) else value)
        base.aliases, base.basis = [], {}
        base.date_earliest = base.date_latest = None
        base.reading = False
        for name, value in corrections.get(d.id, {}).items():
            setattr(base, name, value)
            base.basis[name] = "corrected by the writer"
        if "date" in corrections.get(d.id, {}):
            base.metadata["date_precision"] = "day"  # the writer's date is a day (YYYY-MM-DD)
            base.corrected = sorted({*base.corrected, "date"})
        if "title" in corrections.get(d.id, {}):
            base.metadata["title_basis"] = None  # the writer's title is never replaced
            said = reader.get(d.id, {}).get("title")
            if said and said != base.title:
                base.aliases = [said]  # searching the reader's title still finds the piece
                base.basis["aliases"] = "the title before the writer's correction"
        out.append(base)
    return out


def effective_values(doc: Document, facts: dict[str, Fact]) -> tuple[dict[str, Any], dict[str, str]]:
    """The stored fields of one document (an inferred value, else the reader's) and the basis of
    each: the fact's, else what the reader recorded ("URL slug", "frontmatter date"), else ""."""
    values: dict[str, Any] = {}
    basis: dict[str, str] = {}
    for name in STORED_FIELDS:
        if name in facts:
            values[name], basis[name] = facts[name].value, facts[name].basis
            continue
        values[name] = getattr(doc, name)
        said = doc.metadata.get(_READER_BASIS.get(name, ""))
        if name in doc.basis:
            said = doc.basis[name]
        elif name == "title" and doc.title and not said:
            said = "given by the source"
        elif name == "url" and doc.url:
            said = doc.metadata.get("url_basis") or "given by the source"
        basis[name] = str(said) if said and values[name] not in (None, "", []) else ""
    if values.get("date"):  # a month or a year keeps its period as bounds; a day has none
        kind = precision(SimpleNamespace(**{**values, "metadata": doc.metadata,
                                            "corrected": doc.corrected}))
        lo, hi = stored_bounds(values["date"], kind, values.get("date_earliest"),
                               values.get("date_latest"))
        for name, value in (("date_earliest", lo), ("date_latest", hi)):
            if value != values.get(name) or (value and not basis.get(name)):
                basis[name] = period_basis(kind) if value else ""
            values[name] = value
    return values, basis


def reconcile_store(store: Any) -> ReconcileReport:
    """Infer over the whole library and store each document's effective fields with their basis
    (Store.set_effective: the writer's corrections win, the content hash is untouched). Only
    documents whose values or basis changed are written."""
    from backlist.store.base import DocFilter

    docs = store.list_documents(DocFilter(include_drafts=True))
    reader = store.reader_fields([d.id for d in docs])
    fixes = store.corrections()
    base = as_read(docs, reader, fixes)
    facts = infer(base, store.links())
    report = ReconcileReport(documents=len(docs))
    current = {d.id: d for d in docs}
    for d in base:
        mine = facts.get(d.id, {})
        values, basis = effective_values(d, mine)
        report.facts.update(f for f in mine if f in STORED_FIELDS)
        now = current[d.id]
        if all(_same(getattr(now, f), values[f]) for f in values) and \
                all(now.basis.get(f, "") == b for f, b in basis.items()
                    if f not in fixes.get(d.id, {})):
            continue
        store.set_effective(d.id, values, basis)
        report.changed += 1
    return report


def _same(a: Any, b: Any) -> bool:
    return (a or None) == (b or None)
