"""Quotations: a passage one piece repeats word for word from another.

Every canonical piece's words (case, accents, apostrophes and punctuation folded away, so curly
and straight quotes, line breaks and emphasis do not matter) are hashed as overlapping runs of
SHINGLE words into one sorted array. Equal hashes in two pieces are candidate matches; matches
on the same diagonal (same offset between the two pieces) that follow each other form one
repeated span. The work is one hashing pass and one sort over the archive's words, plus one
step per shared run: no comparison of every piece with every other.

A run of words found in more than MAX_PIECES pieces is furniture (a sign-off, a subscribe line,
a show's intro), not a quotation, and is never matched. Two pieces sharing most of their words
are copies of one another (dedup's business), not a quotation.

Which of two pieces quotes the other: the later one when both are dated (different days);
otherwise the one whose text introduces the span (quotation marks around it, a blockquote, a
colon or "as I wrote" just before it); with no such evidence the match is left out.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from backlist.model import Document, Passage
from backlist.when import period

# Chosen by eval/quotes_eval.py on eval/quote_cases.py TUNE (fewest errors, then fewest false
# citations, then shortest); reported on its HELD_OUT cases.
QUOTE_MIN_WORDS = 17  # a repeated span this long (in words) is a quotation
SHINGLE = 8  # words per hashed run: the index key (below QUOTE_MIN_WORDS)
MAX_PIECES = 3  # a run of words in more pieces than this is furniture, not a quotation
COPY_SHARE = 0.5  # pieces sharing this share of the longer one's words are copies…
EXCERPT_SHARE = 0.9  # …and so is a piece that is nearly all words of the other (an excerpt)
EVIDENCE_WORDS = 12  # words of the quoted span kept in the evidence
_CUE_CHARS = 160  # how far before a span its introduction is looked for

_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_OPEN_QUOTES = "\"“‘'«„"
_CLOSE_QUOTES = "\"”’'»“"
_INTRO = re.compile(
    r"\b(?:as\s+)?(?:i|we)\s+(?:(?:once|then|previously|recently|already|also)\s+)?"
    r"(?:wrote|said|argued|put\s+it|noted|explained|predicted|claimed|concluded|observed|"
    r"described|stated|mentioned)\b"
    r"|\b(?:i|we)(?:['’]ve|\s+have)\s+(?:written|said|argued)\b"
    r"|\bquot(?:e|es|ed|ing)\b|\b(?:wrote|writes|said|says|states|stated|put\s+it)\s*[:,]?\s*$"
    r"|\bback\s+then\b|\bat\s+the\s+time\b|\bin\s+my\s+(?:post|piece|essay|article|review)\b"
    r"|:(?!//)",
    re.IGNORECASE)
# a sentence ends at . ! or ? and a space, not at an ellipsis (an elided quotation goes on)
_SENTENCE_END = re.compile(r"(?<![.…][.!?])(?<=[.!?])\s+(?![.…])|\n")
_SPEAKER_LABEL = re.compile(r"^\s*[A-Z][\w.’'\-]*(?:\s[A-Z][\w.’'\-]*){0,3}:\s")
_OPENING = re.compile(r"^[^.!?\n]{0,80}?(?::\s*|[“\"]\s*)(?=[A-Z“\"‘'])")
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_MULT = np.uint64(1099511628211)


def _fold(token: str) -> str:
    low = token.lower()
    if not low.isascii():
        low = _COMBINING.sub("", unicodedata.normalize("NFKD", low))
    return low.replace("'", "").replace("’", "")


def words_with_spans(text: str) -> tuple[list[str], np.ndarray]:
    """The folded words of a text and their character spans (an n×2 array). Memory stays near
    the text's own size: one string object per distinct word and flat machine-integer spans
    (a list of tuples took about 1 GB for a 4-million-word transcript)."""
    words: list[str] = []
    seen: dict[str, str] = {}
    spans = array("q")
    for m in _TOKEN.finditer(text):
        folded = _fold(m.group(0))
        words.append(seen.setdefault(folded, folded))
        spans.extend(m.span())
    return words, np.frombuffer(spans, dtype=np.int64).reshape(-1, 2)


def _hashes(ids: np.ndarray) -> np.ndarray:
    """One 64-bit hash per run of SHINGLE consecutive word ids (len(ids) - SHINGLE + 1 of them)."""
    n = len(ids) - SHINGLE + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint64)
    mixed = (ids.astype(np.uint64) + np.uint64(1)) * _MIX
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(SHINGLE):
            h = (h * _MULT) ^ mixed[j:j + n]
    return h & _MASK64


@dataclass
class Span:
    """A run of words repeated in two pieces: word ranges [a, a+n) in one, [b, b+n) in the other."""

    a: int
    b: int
    n: int


@dataclass
class Quote:
    """source_id repeats words of target_id: character spans in each text, the target's span."""

    source_id: str
    target_id: str
    source_start: int
    source_end: int
    target_start: int
    target_end: int
    words: int
    text: str  # the span as the target writes it

    def evidence(self, paragraph: int | None) -> str:
        head = " ".join(self.text.split()[:EVIDENCE_WORDS])
        where = f" ¶{paragraph}" if paragraph is not None else ""
        return f"quotes {self.target_id}{where}: {head}…"


class QuoteIndex:
    """The hashed word runs of a library's canonical pieces (drafts and copies left out)."""

    def __init__(self, docs: Sequence[Document]) -> None:
        self.vocab: dict[str, int] = {}
        self.docs: list[Document] = [d for d in docs if not d.duplicate_of and not d.is_draft]
        self.spans: list[np.ndarray] = []
        self.ids: list[np.ndarray] = []
        hashes, owners, positions = [], [], []
        for n, d in enumerate(self.docs):
            words, spans = words_with_spans(d.text)
            ids = np.fromiter((self.vocab.setdefault(w, len(self.vocab)) for w in words),
                              dtype=np.int64, count=len(words))
            self.ids.append(ids)
            self.spans.append(spans)
            h = _hashes(ids)
            hashes.append(h)
            owners.append(np.full(len(h), n, dtype=np.int32))
            positions.append(np.arange(len(h), dtype=np.int64))
        h_all = np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint64)
        d_all = np.concatenate(owners) if owners else np.zeros(0, dtype=np.int32)
        p_all = np.concatenate(positions) if positions else np.zeros(0, dtype=np.int64)
        order = np.lexsort((p_all, d_all, h_all))
        h_s, d_s, p_s = h_all[order], d_all[order], p_all[order]
        # pieces per hash: count the (hash, piece) changes inside each hash's group
        new_hash = np.ones(len(h_s), dtype=bool)
        new_hash[1:] = h_s[1:] != h_s[:-1]
        new_pair = new_hash.copy()
        new_pair[1:] |= d_s[1:] != d_s[:-1]
        group = np.cumsum(new_hash) - 1
        pieces = np.bincount(group, weights=new_pair).astype(np.int64) if len(h_s) else \
            np.zeros(0, dtype=np.int64)
        per_row = pieces[group] if len(h_s) else pieces
        keep = per_row <= MAX_PIECES
        self.furniture_runs = int(np.count_nonzero(new_hash & ~keep))
        self.h, self.d, self.p = h_s[keep], d_s[keep], p_s[keep]
        shared = keep & (per_row >= 2)
        self._shared = (h_s[shared], d_s[shared], p_s[shared])

    # --- within the archive --------------------------------------------------------------------
    def shared_spans(self) -> dict[tuple[int, int], list[Span]]:
        """Every maximal run of words two pieces share (as piece numbers a < b), any length."""
        h, d, p = self._shared
        pairs: list[tuple[int, int, int, int]] = []
        start = 0
        for i in range(1, len(h) + 1):
            if i == len(h) or h[i] != h[start]:
                rows = range(start, i)
                for x in rows:
                    for y in rows:
                        if d[x] < d[y]:
                            pairs.append((int(d[x]), int(d[y]), int(p[x]), int(p[y])))
                start = i
        return _runs(pairs, self.ids)

    def quotes(self, min_words: int = QUOTE_MIN_WORDS) -> list[Quote]:
        """Quotations between the archive's pieces, one per (quoting piece, quoted piece): the
        longest span whose direction is known."""
        out: list[Quote] = []
        for (a, b), spans in sorted(self.shared_spans().items()):
            da, db = self.docs[a], self.docs[b]
            if _copies(sum(s.n for s in spans), len(self.ids[a]), len(self.ids[b])):
                continue
            found = [q for q in (self._directed(da, db, a, b, s) for s in spans
                                 if s.n >= min_words) if q]
            if len({q.source_id for q in found}) == 1:  # the spans that tell, agree
                out.append(max(found, key=lambda q: q.words))
        return out

    def _directed(self, da: Document, db: Document, a: int, b: int, s: Span) -> Quote | None:
        a0, a1 = int(self.spans[a][s.a][0]), int(self.spans[a][s.a + s.n - 1][1])
        b0, b1 = int(self.spans[b][s.b][0]), int(self.spans[b][s.b + s.n - 1][1])
        span_a, span_b = period(da), period(db)
        cue_a, cue_b = introduces(da.text, a0, a1), introduces(db.text, b0, b1)
        if cue_a and cue_b:
            return None  # both quote it: most likely from a third party
        if span_a and span_b and (span_a[0] > span_b[1] or span_b[0] > span_a[1]):
            a_quotes = span_a[0] > span_b[1]  # periods that overlap give no order
        elif cue_a == cue_b:
            return None  # no date and no cue: who quotes whom is unknown
        else:
            a_quotes = cue_a
        if a_quotes:
            return Quote(da.id, db.id, a0, a1, b0, b1, s.n, db.text[b0:b1])
        return Quote(db.id, da.id, b0, b1, a0, a1, s.n, da.text[a0:a1])

    # --- a draft against the archive -------------------------------------------------------------
    def quotes_in(self, text: str, min_words: int = QUOTE_MIN_WORDS,
                  exclude: set[str] | None = None) -> list[Quote]:
        """What a new text (a draft) repeats from the archive's pieces, the longest span per piece
        (a text that is a copy of a piece quotes nothing of it); source_id is "" (the text is
        not in the library)."""
        words, spans = words_with_spans(text)
        fresh = len(self.vocab)
        ids = np.fromiter((self.vocab.get(w, fresh + i) for i, w in enumerate(words)),
                          dtype=np.int64, count=len(words))
        h = _hashes(ids)
        lo = np.searchsorted(self.h, h, side="left")
        hi = np.searchsorted(self.h, h, side="right")
        pairs: list[tuple[int, int, int, int]] = []
        for pos in np.nonzero(hi > lo)[0]:
            for row in range(lo[pos], hi[pos]):
                pairs.append((-1, int(self.d[row]), int(pos), int(self.p[row])))
        runs = _runs(pairs, [ids] + self.ids[:], offset_b=1)
        out: list[Quote] = []
        for (_, b), found in runs.items():
            doc = self.docs[b]
            if (exclude and doc.id in exclude) or _copies(sum(s.n for s in found), len(ids),
                                                          len(self.ids[b])):
                continue  # the text is (a copy of) this piece, not a quotation of it
            longest = max(found, key=lambda s: s.n)
            if longest.n < min_words:
                continue
            t0, t1 = int(self.spans[b][longest.b][0]), int(self.spans[b][longest.b + longest.n - 1][1])
            s0, s1 = int(spans[longest.a][0]), int(spans[longest.a + longest.n - 1][1])
            out.append(Quote("", doc.id, s0, s1, t0, t1, longest.n, doc.text[t0:t1]))
        return _originals(out, {d.id: d for d in self.docs})


def _originals(quotes: list[Quote], docs: dict[str, Document]) -> list[Quote]:
    """Of the pieces holding the same quoted words, the one they come from: a piece that itself
    quotes them ("as I wrote back then: …") or is dated later gives way to the original."""
    def rank(q: Quote) -> tuple[bool, str, str]:
        d = docs[q.target_id]
        return introduces(d.text, q.target_start, q.target_end), (d.date or "9999")[:10], d.id

    kept: list[Quote] = []
    for q in sorted(quotes, key=lambda q: (q.source_start, rank(q))):
        same = [k for k in kept if 2 * (min(k.source_end, q.source_end) -
                                        max(k.source_start, q.source_start))
                > min(k.source_end - k.source_start, q.source_end - q.source_start)]
        if not same:
            kept.append(q)
    return sorted(kept, key=lambda q: (q.source_start, q.target_id))


def _copies(shared: int, len_a: int, len_b: int) -> bool:
    """Two pieces sharing this many words are copies (or one an excerpt of the other)."""
    return shared >= COPY_SHARE * max(len_a, len_b) or shared >= EXCERPT_SHARE * min(len_a, len_b)


def _runs(pairs: list[tuple[int, int, int, int]], ids: list[np.ndarray],
          offset_b: int = 0) -> dict[tuple[int, int], list[Span]]:
    """Group hash matches (piece a, piece b, position in a, position in b) into maximal runs of
    words, checked word by word (a hash collision never makes a span). ids[a + offset_b] and
    ids[b + offset_b] are the two pieces' word ids (offset_b=1 puts a draft at ids[0])."""
    out: dict[tuple[int, int], list[Span]] = {}
    pairs.sort(key=lambda t: (t[0], t[1], t[3] - t[2], t[2]))
    i = 0
    while i < len(pairs):
        a, b, pa, pb = pairs[i]
        j = i
        while j + 1 < len(pairs) and pairs[j + 1][:2] == (a, b) \
                and pairs[j + 1][3] - pairs[j + 1][2] == pb - pa and pairs[j + 1][2] == pairs[j][2] + 1:
            j += 1
        n = pairs[j][2] - pa + SHINGLE
        ia, ib = ids[a + offset_b], ids[b + offset_b]
        if np.array_equal(ia[pa:pa + n], ib[pb:pb + n]):
            out.setdefault((a, b), []).append(Span(pa, pb, n))
        i = j + 1
    return out


def introduces(text: str, start: int, end: int) -> bool:
    """Whether a text marks the span [start, end) as quoted: quotation marks around it, a
    blockquote line, an introduction in its sentence before it ("as I wrote", "quoting",
    "back then", a colon; not a transcript's speaker label), or a colon or opening quotation
    mark before a capital in its first words (the span holds its own introduction: "… Amodei:
    One question…")."""
    before = text[max(0, start - _CUE_CHARS):start]
    tight = before[-3:].strip()
    if tight and tight[-1] in _OPEN_QUOTES:
        return True
    after = text[end:end + 3].lstrip(".,;!?…")
    if after[:1] in _CLOSE_QUOTES and after[:1]:
        return True
    line_start = text.rfind("\n", 0, start) + 1
    if text[line_start:start].lstrip().startswith(">"):
        return True
    sentence = _SPEAKER_LABEL.sub("", _SENTENCE_END.split(before)[-1])
    if _INTRO.search(sentence):
        return True
    return bool(_OPENING.match(text[start:min(end, start + 80)]))


def paragraph_finder(passages_of: Callable[[str], Sequence[Passage]]) -> Callable[[str, int], int | None]:
    """paragraph(doc_id, offset): the index of the passage holding a character offset."""
    def paragraph(doc_id: str, offset: int) -> int | None:
        return next((p.idx for p in passages_of(doc_id) if p.start <= offset < p.end), None)
    return paragraph
