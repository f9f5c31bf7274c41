"""Keyword (FTS5/BM25), semantic (sqlite-vec) and hybrid retrieval, ranked per document.

Hybrid scores a document by its best passage: KEYWORD_WEIGHT x keyword (normalised by the best
score) + the rest x semantic (min-max), less LENGTH_PRIOR x ln(passages), since a document with
80 passages has 80 draws at a high cosine. For a typed query the top of the list is a shortlist:
the keyword ranking's SHORTLIST_KEYWORD best documents and the semantic ranking's
SHORTLIST_SEMANTIC best, ordered by that score, then everything else. The semantic model is the
weaker ranker on writers' questions and, when it is confidently wrong, the sum alone lets its
favourites push the keyword's right answer out of the top five; the shortlist keeps each
ranker's best in view and lets the sum order them.

Every weight and size here was chosen on the tune part of eval/ (eval/tune_fusion.py; four
query sets, the choice checked by leaving one set out at a time), never on the held-out part;
eval/README.md has the figures.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np

from backlist.index.embed import to_blob
from backlist.model import Document, Passage
from backlist.store.base import DocFilter, KeywordQuery, PassageHit
from backlist.when import has_when, sort_day, source_order

MODES = ("hybrid", "keyword", "semantic")
KEYWORD_WEIGHT = 0.6
LENGTH_PRIOR = 0.05
SHORTLIST_KEYWORD = 5
SHORTLIST_SEMANTIC = 1
CANDIDATES = 300
COMMON_SHARE = 0.5  # a word in more than half the passages is left out of the keyword query
MAX_KEYWORD_ROWS = 20_000
STOPWORDS = frozenset("""a about above after again against all am an and any are as at be because
been before being below between both but by can could did do does doing down during each few for
from further had has have having he her here hers herself him himself his how i if in into is it
its itself just me more most my myself no nor not now of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them themselves
then there these they this those through to too under until up very was we were what when where
which while who whom why will with would you your yours yourself yourselves did didn doesn don
isn wasn weren won wouldn ve ll re s t d m o y also get got say said says like really much many
thing things one ones way ever every anything something someone really been i'm it's what's
write wrote written talk talked talking think thought discuss discussed piece pieces post posts
article articles episode episodes""".split())


@dataclass
class Hit:
    doc: Document
    score: float
    passages: list[tuple[Passage, float]] = field(default_factory=list)
    keyword: float = 0.0
    semantic: float = 0.0
    reason: str | None = None
    explain: str | None = None
    shortlisted: str | None = None  # which ranking put it in hybrid's leading group, if any
    matched: list[str] | None = None  # query words its best passage holds (set by explain)


def terms(text: str) -> list[str]:
    return [t for t in re.findall(r"[\w][\w'’.-]*[\w]|\w", text.lower())
            if t not in STOPWORDS and not t.isdigit() or (t.isdigit() and len(t) == 4)]


def parse_query(query: str, too_common: set[str] | None = None,
                require_all: bool = False) -> KeywordQuery:
    """A user's words as a KeywordQuery: their "phrases" and prefix* kept, other words any-of.

    Words in too_common (found in most passages) are left out when others remain: they add
    almost nothing to BM25 and make every passage a candidate to score."""
    phrases = tuple(tuple(w.lower() for w in re.findall(r"\w+", p))
                    for p in re.findall(r'"([^"]+)"', query))
    phrases = tuple(p for p in phrases if p)
    rest = re.sub(r'"[^"]*"', " ", query)
    words: list[str] = []
    prefixes: list[str] = []
    for raw in rest.split():
        prefix = raw.endswith("*")
        for w in re.findall(r"\w+", raw.lower()):
            if prefix:
                prefixes.append(w)
            elif w not in STOPWORDS and not (too_common and w in too_common):
                words.append(w)
    q = KeywordQuery(tuple(dict.fromkeys(words)), phrases, tuple(dict.fromkeys(prefixes)),
                     require_all)
    if not q and too_common:
        return parse_query(query, require_all=require_all)
    if not q:  # a query made only of common words ("how I write") still means something
        q = KeywordQuery(tuple(dict.fromkeys(re.findall(r"\w+", query.lower()))),
                         require_all=require_all)
    return q


class Searcher:
    def __init__(self, library) -> None:
        self.lib = library
        self.store = library.store
        self._vectors: dict[tuple[str, ...], np.ndarray] = {}  # the last texts encoded

    # --- candidate lists -----------------------------------------------------------------
    def _keyword(self, query: str, k: int) -> list[PassageHit]:
        words = [w for w in re.findall(r"\w+", query.lower()) if w not in STOPWORDS]
        total = self.store.passage_count() or 1
        dfs = self.store.term_frequencies(words)
        common = {w for w, df in dfs.items() if df / total > COMMON_SHARE}
        # Bound the work: BM25 scores every passage a word matches, so on a large library the
        # most common words go first until the rest match at most MAX_KEYWORD_ROWS passages.
        rest = sorted((df, w) for w, df in dfs.items() if w not in common)
        while len(rest) > 1 and sum(df for df, _ in rest) > MAX_KEYWORD_ROWS:
            common.add(rest.pop()[1])
        return self.store.keyword_search(parse_query(query, common), k)

    def has_vectors(self) -> bool:
        return bool(self.store.get_meta("embed_model")) and self.store.count_unembedded() < \
            self.store.passage_count()

    def _semantic(self, texts: list[str], k: int) -> list[PassageHit]:
        if not self.store.get_meta("embed_model"):
            return []
        key = tuple(texts)
        vecs = self._vectors.get(key)
        if vecs is None:
            vecs = self.lib.embedder().encode(texts)
            self._vectors = {key: vecs}  # the latest only: a draft's related + its cited pieces
        if len(texts) == 1:
            return self.store.vector_search(to_blob(vecs[0]), k)
        best: dict[int, PassageHit] = {}
        for v in vecs:
            for h in self.store.vector_search(to_blob(v), k):
                if h.passage_id not in best or h.score > best[h.passage_id].score:
                    best[h.passage_id] = h
        return sorted(best.values(), key=lambda h: -h.score)

    # --- ranking ---------------------------------------------------------------------------
    def search(self, query: str, k: int = 10, mode: str = "hybrid", flt: DocFilter | None = None,
               per_doc: int = 3, keyword_query: str | None = None,
               semantic_texts: list[str] | None = None, exclude: set[str] | None = None) -> list[Hit]:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        flt = flt or DocFilter()
        kw_doc, sem_doc = self._candidates(query, mode, flt, keyword_query, semantic_texts, exclude)
        # A draft (several semantic texts) is ranked by the sum alone: the shortlist was measured
        # on typed queries only.
        top = self._shortlist(kw_doc, sem_doc) if mode == "hybrid" and not semantic_texts else {}
        ranked = sorted(self._fuse(kw_doc, sem_doc, mode).items(),
                        key=lambda kv: (kv[0] not in top, -kv[1][0], kv[0]))[:k]
        best = self._shown_passages([d for d, _ in ranked], kw_doc, sem_doc, mode, per_doc)
        docs = self.store.get_documents([doc_id for doc_id, _ in ranked])
        return [Hit(docs[doc_id], round(total, 4), best[doc_id], round(k_s, 4), round(s_s, 4),
                    shortlisted=top.get(doc_id))
                for doc_id, (total, k_s, s_s) in ranked if doc_id in docs]

    @staticmethod
    def _shortlist(kw_doc, sem_doc) -> dict[str, str]:
        """The documents hybrid ranks first, and which ranking put each there."""
        out: dict[str, str] = {}
        for doc_id, _ in sorted(kw_doc.items(), key=lambda kv: (-kv[1][0], kv[0]))[:SHORTLIST_KEYWORD]:
            out[doc_id] = "keyword"
        for doc_id, _ in sorted(sem_doc.items(), key=lambda kv: (-kv[1][0], kv[0]))[:SHORTLIST_SEMANTIC]:
            out[doc_id] = "keyword and semantic" if doc_id in out else "semantic"
        return out

    def _candidates(self, query: str, mode: str, flt: DocFilter, keyword_query: str | None,
                    semantic_texts: list[str] | None, exclude: set[str] | None):
        """Per canonical document: its best passage score and scored passages, per list."""
        # every field of the caller's filter (copies too: they are folded into their canonical)
        allowed = self.store.filtered_ids(replace(flt, include_duplicates=True))
        canon = self._canonical_map()
        narrowed = flt.kinds or flt.since or flt.until or flt.speaker or flt.entity or flt.ids \
            or flt.topic or flt.author or flt.reading is not None
        n = CANDIDATES * 4 if narrowed else CANDIDATES
        kw = self._keyword(keyword_query or query, n) if mode != "semantic" else []
        sem = self._semantic(semantic_texts or [query], n) if mode != "keyword" else []
        if flt.speaker:  # only passages that speaker says
            who = flt.speaker.lower()
            kw = [h for h in kw if h.speaker and who in h.speaker.lower()]
            sem = [h for h in sem if h.speaker and who in h.speaker.lower()]
        return (self._per_doc(kw, allowed, canon, exclude),
                self._per_doc(sem, allowed, canon, exclude))

    def _fuse(self, kw_doc, sem_doc, mode: str) -> dict[str, tuple[float, float, float]]:
        """(total, keyword part, semantic part) per document: keyword normalised by its best,
        semantic min-max, hybrid = their weighted sum less the length prior."""
        kw_max = max((s for s, _ in kw_doc.values()), default=0.0) or 1.0
        sem_vals = [s for s, _ in sem_doc.values()]
        sem_hi = max(sem_vals, default=1.0)
        sem_lo = min(sem_vals, default=0.0) if len(sem_vals) > 1 else 0.0
        lengths = self.store.passage_counts(set(kw_doc) | set(sem_doc)) \
            if mode == "hybrid" and LENGTH_PRIOR else {}
        scores: dict[str, tuple[float, float, float]] = {}
        for doc_id in set(kw_doc) | set(sem_doc):
            k_s = kw_doc.get(doc_id, (0.0, []))[0] / kw_max
            s_raw = sem_doc.get(doc_id, (None, []))[0]
            s_s = 0.0 if s_raw is None else (s_raw - sem_lo) / ((sem_hi - sem_lo) or 1.0)
            if mode == "keyword":
                total = k_s
            elif mode == "semantic":
                total = s_raw or 0.0
            else:
                total = KEYWORD_WEIGHT * k_s + (1 - KEYWORD_WEIGHT) * s_s \
                    - LENGTH_PRIOR * math.log(max(1, lengths.get(doc_id, 1)))
            scores[doc_id] = (total, k_s, s_s)
        return scores

    def _shown_passages(self, doc_ids: list[str], kw_doc, sem_doc, mode: str,
                        per_doc: int) -> dict[str, list[tuple[Passage, float]]]:
        """Each document's best passages, a copy's repeat of its canonical's passage shown once."""
        best = {d: self._merged_passages(d, kw_doc, sem_doc, mode)[:per_doc * 2] for d in doc_ids}
        passages = self.store.passages(pid for plist in best.values() for pid, _ in plist)
        out: dict[str, list[tuple[Passage, float]]] = {}
        for doc_id, plist in best.items():
            seen: set[str] = set()
            kept: list[tuple[Passage, float]] = []
            for pid, score in plist:
                if pid not in passages:
                    continue
                key = " ".join(passages[pid].text.split())
                if key not in seen:
                    seen.add(key)
                    kept.append((passages[pid], score))
            out[doc_id] = kept[:per_doc]
        return out

    def _canonical_map(self) -> dict[str, str]:
        return self.store.canonical_map()

    @staticmethod
    def _per_doc(hits: list[PassageHit], allowed: set[str], canon: dict[str, str],
                 exclude: set[str] | None) -> dict[str, tuple[float, list[tuple[int, float]]]]:
        """Best passage score per canonical document (copies count for their original)."""
        out: dict[str, tuple[float, list[tuple[int, float]]]] = {}
        for h in hits:
            if h.doc_id not in allowed:
                continue
            doc_id = canon.get(h.doc_id, h.doc_id)
            if exclude and (doc_id in exclude or h.doc_id in exclude):
                continue
            best, plist = out.get(doc_id, (float("-inf"), []))
            plist.append((h.passage_id, h.score))
            out[doc_id] = (max(best, h.score), plist)
        return out

    @staticmethod
    def _merged_passages(doc_id: str, kw_doc, sem_doc, mode: str) -> list[tuple[int, float]]:
        kw = dict(kw_doc.get(doc_id, (0, []))[1])
        sem = dict(sem_doc.get(doc_id, (0, []))[1])
        kmax = max(kw.values(), default=1.0) or 1.0
        merged: dict[int, float] = {}
        for pid in set(kw) | set(sem):
            k_s = kw.get(pid, 0.0) / kmax
            s_s = sem.get(pid, 0.0)
            merged[pid] = k_s if mode == "keyword" else s_s if mode == "semantic" else \
                KEYWORD_WEIGHT * k_s + (1 - KEYWORD_WEIGHT) * s_s
        return sorted(((pid, round(s, 4)) for pid, s in merged.items()), key=lambda x: -x[1])

    def resolve_by_content(self, phrase: str, flt: DocFilter, min_cosine: float,
                           min_margin: float, exclude: set[str] | None = None) -> str | None:
        """The one document a phrase describes, or None: the keyword and semantic rankings must
        agree on it, its cosine must reach min_cosine and its hybrid score lead the next
        document's by min_margin. One candidate fetch serves all three."""
        kw_doc, sem_doc = self._candidates(phrase, "hybrid", flt, None, None, exclude)
        if not kw_doc or not sem_doc:
            return None
        kw_top = min(kw_doc, key=lambda d: (-kw_doc[d][0], d))
        sem_top = min(sem_doc, key=lambda d: (-sem_doc[d][0], d))
        if kw_top != sem_top or sem_doc[sem_top][0] < min_cosine:
            return None
        fused = sorted(self._fuse(kw_doc, sem_doc, "hybrid").items(),
                       key=lambda kv: (-kv[1][0], kv[0]))
        if fused[0][0] != kw_top:
            return None
        if len(fused) > 1 and fused[0][1][0] - fused[1][1][0] < min_margin:
            return None
        return kw_top

    # --- drafts and timelines -----------------------------------------------------------------
    def key_terms(self, text: str, n: int = 20) -> list[str]:
        """The draft's most distinctive words: frequent in it, rare in the library."""
        counts = Counter(t for t in terms(text) if len(t) > 2 and re.search(r"[a-z]", t))
        total_docs = self.store.passage_count() or 1
        scored = []
        for term, tf in counts.most_common(200):
            word = re.sub(r"[^\w]", " ", term).strip()
            if not word:
                continue
            df = self.store.keyword_count(KeywordQuery(terms=tuple(word.split())))
            if df == 0:
                continue
            scored.append((tf * np.log(1 + total_docs / df), term))
        return [t for _, t in sorted(scored, reverse=True)[:n]]

    def related(self, draft: str, k: int = 10, flt: DocFilter | None = None,
                exclude: set[str] | None = None) -> list[Hit]:
        from backlist.index.chunking import chunk

        key = self.key_terms(draft)
        draft_doc = Document(id="draft", kind="note", source="draft", position="", text=draft)
        pieces = [p.text for p in chunk(draft_doc)][:16] or [draft]
        exclude = self._same_as(draft) | (exclude or set())
        hits = self.search(" ".join(key) or draft[:500], k=k, flt=flt,
                           keyword_query=" ".join(key) or None, semantic_texts=pieces,
                           exclude=exclude)
        names = {n for n in re.findall(r"\b[A-Z][\w.-]*(?:\s[A-Z][\w.-]*)*", draft)
                 if n.lower() not in STOPWORDS}  # "This" opening a sentence is no name
        for h in hits:
            body = " ".join(p.text for p, _ in h.passages).lower()
            shared = [t for t in key if t in body][:5]
            shared_names = [nm for nm in names if len(nm) > 3 and nm.lower() in body][:3]
            bits = []
            if shared:
                bits.append("shared terms: " + ", ".join(shared))
            if shared_names:
                bits.append("names: " + ", ".join(sorted(shared_names)))
            h.reason = "; ".join(bits) or "similar in meaning"
        return hits

    def _same_as(self, draft: str) -> set[str]:
        """Library documents that are this draft (already ingested), to leave out."""
        words = re.findall(r"\w+", draft.lower())[:50]
        if len(words) < 20:
            return set()
        probe = " ".join(words[:12])
        out = set()
        for h in self.store.keyword_search(KeywordQuery(terms=tuple(words[:12]), require_all=True),
                                           20):
            doc = self.store.get_document(h.doc_id)
            if doc and probe in " ".join(re.findall(r"\w+", doc.text.lower())):
                out.add(doc.id)
                if doc.duplicate_of:
                    out.add(doc.duplicate_of)
        return out

    def timeline(self, query: str, flt: DocFilter | None = None, limit: int = 50,
                 min_semantic: float = 0.5) -> tuple[list[Hit], list[Hit]]:
        """Documents that discuss the query, oldest first; undated ones apart.

        A document discusses it when one passage holds every query word, or when it is close
        in meaning (semantic score, normalised within the results, of at least min_semantic)."""
        hits = self.search(query, k=limit, flt=flt, per_doc=1)
        words = tuple(w for w in re.findall(r"\w+", query.lower()) if w not in STOPWORDS)
        canon = self._canonical_map()
        holds_all = {canon.get(h.doc_id, h.doc_id) for h in self.store.keyword_search(
            KeywordQuery(terms=words, require_all=True), 1000)} if words else set()
        kept = [h for h in hits if h.doc.id in holds_all or h.semantic >= min_semantic]
        # Dated pieces and pieces known within bounds, oldest first (by the date, else the
        # earliest bound); pieces with neither keep their place in their source.
        dated = sorted((h for h in kept if has_when(h.doc)),
                       key=lambda h: (sort_day(h.doc) or "", h.doc.date is None))
        undated = sorted((h for h in kept if not has_when(h.doc)), key=lambda h: source_order(h.doc))
        return dated, undated
