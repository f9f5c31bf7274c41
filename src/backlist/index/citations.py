"""The archive's own citation graph: which pieces a text links to, names by title, or mentions.

Pure functions over Documents (no storage). Three kinds of evidence, strongest first:

- ``link``: a URL whose slug is a piece's slug, on any of the writer's hosts (the hosts of the
  library's URLs, and ``<name>.substack.com`` beside a custom domain ``<name>.tld``), or on an
  unknown host when the slug is distinctive (three or more hyphenated words);
- ``title``: a quoted span or a Title-Cased run close to a piece's title (word-level similarity);
  titles under three words count only when quoted exactly;
- ``mention``: "my post on X", "as I wrote in X", "I wrote about X", "last year's review",
  "my interview with NAME", "when I talked to NAME", resolved against titles, subtitles and guests.

Every reference points to a canonical document (a copy maps to its ``duplicate_of``), never to the
citing piece itself, and never to a draft.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from backlist.model import Document
from backlist.store.base import DocLink

TITLE_QUOTED_MIN = 0.8  # word-level similarity for a quoted span
TITLE_RUN_MIN = 0.85  # stricter for an unquoted Title-Cased run
MENTION_MIN = 0.8  # "my post on X" against a title or subtitle
AMBIGUOUS_GAP = 0.03  # two different pieces this close to the best: resolve to nothing
MIN_TITLE_WORDS = 3  # shorter titles need an exact quoted match
VERBATIM_MIN_WORDS = 5  # a title this long counts written out in running text, in any case
DISTINCTIVE_SLUG_WORDS = 3  # a slug this long is accepted on an unknown host
_HOW_RANK = {"link": 5, "title": 4, "quote": 3, "named": 2, "mention": 1}
_UNUSABLE_TITLE_BASIS = {"opening sentence", "speaker names"}
_NON_POST_SECTIONS = {"t", "s", "tag", "tags", "category", "categories", "archive", "search",
                      "subscribe", "about", "author", "authors", "podcast", "topics", "topic"}
_POST_SECTIONS = {"p", "post", "posts", "blog", "articles", "article", "episode", "episodes", "news"}
_DROP_SEGMENTS = {"amp", "comments", "index.html", "index.htm"}
_STOP = {"a", "an", "the", "of", "on", "in", "and", "or", "for", "to", "with", "at", "by", "is",
         "are", "was", "vs", "from", "as", "it", "its", "this", "that", "my", "our", "your", "what",
         "how", "why", "we", "i", "you", "be", "not", "no", "s"}
_CONNECTORS = ("a|an|the|of|on|in|and|or|for|to|with|at|by|is|are|vs\\.?|from|as|into|over|"
               "about|after|before|than|not|my|our|your|its|their|&")
_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december"]


@dataclass
class Reference:
    """One piece referenced by a text: ``how`` is "link", "title", "mention", "quote" or "named"
    (see citation_graph for each one's evidence); ``start``/``end`` are offsets into the text
    (-1 for a link found only in the document's metadata)."""

    doc_id: str
    how: str
    evidence: str
    start: int
    end: int
    paragraph: int | None = None  # the quoted passage of the piece (how="quote")


@dataclass
class _Hit:
    doc_id: str
    how: str
    evidence: str
    start: int
    end: int
    score: float

    def key(self) -> tuple[int, float, int]:
        return (_HOW_RANK[self.how], self.score, -self.start)


@dataclass
class _Title:
    doc_id: str  # canonical id
    words: tuple[str, ...]
    from_slug: bool  # a title rebuilt from a URL slug: often cut short, so a prefix counts
    wordset: frozenset[str] = frozenset()
    masks: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.wordset = frozenset(self.words)
        self.masks = _masks(self.words)


@dataclass
class _Target:
    id: str
    date: str | None
    own: bool  # the writer's own piece (not a saved article by someone else)
    guests: list[tuple[str, ...]] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# text helpers

_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def _fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text)).lower()


def norm_words(text: str) -> tuple[str, ...]:
    """Lower-cased words the way slugs are made: apostrophes and dots inside words vanish
    ("GPT-4.5" -> gpt 45, "OpenAI's" -> openais), other punctuation separates."""
    text = re.sub(r"(?<=\w)['’.](?=\w)", "", _fold(text))
    return tuple(re.findall(r"[a-z0-9]+", text))


def _content(words: Iterable[str]) -> list[str]:
    return [w for w in words if w not in _STOP]


def _masks(words: Sequence[str]) -> dict[str, int]:
    masks: dict[str, int] = {}
    for i, w in enumerate(words):
        masks[w] = masks.get(w, 0) | (1 << i)
    return masks


def _lcs(a: Sequence[str], b: Sequence[str], masks: dict[str, int] | None = None) -> int:
    """Length of the longest common subsequence of two word lists (bit-parallel, Hyyrö 2004)."""
    masks = masks if masks is not None else _masks(a)
    v = (1 << len(a)) - 1
    for w in b:
        u = v & masks.get(w, 0)
        v = (v + u) | (v - u)
    return len(a) - bin(v & ((1 << len(a)) - 1)).count("1")


def _ratio(a: Sequence[str], b: Sequence[str], masks: dict[str, int] | None = None) -> float:
    """Indel similarity of two word lists, 2·LCS / (|a| + |b|): 1 for the same words, 0.8 for a
    five-word title with one word changed, 0.89 with one dropped (rapidfuzz's ratio, over words)."""
    if not a or not b:
        return 0.0
    return 2.0 * _lcs(a, b, masks) / (len(a) + len(b))


def _contains(big: Sequence[str], small: Sequence[str]) -> int:
    """Index of small as a contiguous run inside big, or -1."""
    n = len(small)
    for i in range(len(big) - n + 1):
        if tuple(big[i:i + n]) == tuple(small):
            return i
    return -1


# ---------------------------------------------------------------------------------------------
# URLs

_URL = re.compile(r"(?:[Hh][Tt][Tt][Pp][Ss]?://|[Ww][Ww][Ww]\.)[^\s<>\"'`\])]+"
                  r"(?:\([^\s<>\"'()]*\)[^\s<>\"'`\])]*)?")
_REL_HREF = re.compile(r"""href\s*=\s*["'](/[^"'\s]+)["']""", re.IGNORECASE)


def _host(netloc: str) -> str:
    host = netloc.lower().rsplit("@", 1)[-1].split(":", 1)[0]
    for prefix in ("www.", "amp.", "m."):
        if host.startswith(prefix):
            host = host[len(prefix):]
    return host


def parse_url(url: str) -> tuple[str, list[str]]:
    """(host without www/amp, meaningful path segments) of a URL; AMP cache URLs unwrapped."""
    raw = url.strip().rstrip(".,;:!?")
    if not re.match(r"^[a-z][a-z0-9+.-]*://", raw, re.IGNORECASE):
        raw = "http://" + raw.lstrip("/")
    parts = urlsplit(raw)
    host = _host(parts.netloc)
    segs = [unquote(s) for s in parts.path.split("/") if s]
    if host.endswith("cdn.ampproject.org") and segs and segs[0] == "c":
        rest = segs[2:] if len(segs) > 1 and segs[1] == "s" else segs[1:]
        if rest:
            return _host(rest[0]), _clean_segments(rest[1:])
    return host, _clean_segments(segs)


def _clean_segments(segs: list[str]) -> list[str]:
    out = [s.lower() for s in segs if s.lower() not in _DROP_SEGMENTS]
    if out and out[-1].endswith((".html", ".htm")):
        out[-1] = out[-1].rsplit(".", 1)[0]
    return out


def _url_slug(segs: list[str], lenient: bool) -> str | None:
    """The post slug of a path, or None when the path is not a post (a tag page, a profile…).
    lenient (the writer's own host): any last segment outside a section such as /t/ or /s/;
    strict (an unknown host): /slug, /p/slug, /blog/slug or /YYYY/MM[/DD]/slug only."""
    if not segs:
        return None
    if segs[0] in _NON_POST_SECTIONS:
        return None
    if lenient:
        return segs[-1]
    head = segs[:-1]
    if not head or (len(head) == 1 and head[0] in _POST_SECTIONS):
        return segs[-1]
    if all(h.isdigit() for h in head) and len(head) <= 3:
        return segs[-1]
    return None


def _slug_of(url: str | None) -> str | None:
    if not url:
        return None
    _, segs = parse_url(url)
    return _url_slug(segs, lenient=True)


def _distinctive(slug: str) -> bool:
    return len([w for w in slug.split("-") if w]) >= DISTINCTIVE_SLUG_WORDS


# ---------------------------------------------------------------------------------------------
# the index, built once over a library

class _Pool:
    """Titles (or subtitles) with an inverted index from word to entries."""

    def __init__(self) -> None:
        self.entries: list[_Title] = []
        self.postings: dict[str, list[int]] = {}

    def add(self, entry: _Title) -> None:
        for w in set(entry.words):
            self.postings.setdefault(w, []).append(len(self.entries))
        self.entries.append(entry)

    def candidates(self, words: Sequence[str], rarest: int = 2) -> list[_Title]:
        """Entries sharing one of the rarest known content words (a near match shares nearly all)."""
        pool = set(_content(words)) or set(words)
        known = sorted((len(self.postings[w]), w) for w in pool if w in self.postings)
        ids: set[int] = set()
        for _, w in known[:rarest]:
            ids.update(self.postings[w])
        return [self.entries[i] for i in sorted(ids)]


class CitationIndex:
    """Slugs, post ids, hosts, titles and guests of a library, for matching references fast."""

    def __init__(self, docs: Sequence[Document]) -> None:
        self.canon: dict[str, str] = {d.id: d.duplicate_of or d.id for d in docs}
        self.targets: dict[str, _Target] = {}
        self.slugs: dict[str, set[str]] = {}
        self.post_ids: dict[str, set[str]] = {}
        self.hosts: set[str] = set()
        self.titles = _Pool()
        self.subtitles = _Pool()
        self.guest_words: dict[str, set[str]] = {}
        self.long_titles: list[_Title] = []
        self.kinds: dict[str, str] = {}
        for d in docs:
            self._add(d)
        self.anchors = self._anchors()
        # the writer's dated pieces in date order, for "my May 2024 post"
        self.dated = sorted((t.date[:10], tid) for tid, t in self.targets.items() if t.own and t.date)
        self.sister_hosts = {h.split(".")[0] + ".substack.com" for h in self.hosts if "." in h}

    def _add(self, d: Document) -> None:
        if d.url:
            self.hosts.add(parse_url(d.url)[0])
        if d.is_draft:
            return
        cid = self.canon[d.id]
        if d.id == cid:
            self.kinds[cid] = d.kind
        target = self.targets.setdefault(cid, _Target(cid, None, False))
        if d.date and (d.id == cid or target.date is None):
            target.date = d.date
        target.own = target.own or d.kind != "article"
        for guest in _guests(d):
            words = norm_words(guest)
            target.guests.append(words)
            for w in words:
                self.guest_words.setdefault(w, set()).add(cid)
        for slug in {d.metadata.get("slug"), _slug_of(d.url)}:
            if slug:
                self.slugs.setdefault(str(slug).lower(), set()).add(cid)
        post_id = str(d.metadata.get("post_id") or "").split(".", 1)[0]
        if post_id.isdigit():
            self.post_ids.setdefault(post_id, set()).add(cid)
        self._add_title(d, cid)

    def _add_title(self, d: Document, cid: str) -> None:
        if d.title and d.metadata.get("title_basis") not in _UNUSABLE_TITLE_BASIS:
            words = norm_words(d.title)
            if words:
                title = _Title(cid, words, d.metadata.get("title_basis") == "URL slug")
                self.titles.add(title)
                if len(words) >= VERBATIM_MIN_WORDS:
                    self.long_titles.append(title)
        if d.subtitle:
            words = norm_words(d.subtitle)
            if len(words) >= MIN_TITLE_WORDS:
                self.subtitles.add(_Title(cid, words, False))

    def _anchors(self) -> dict[str, list[tuple[int, _Title]]]:
        """Each long title under its rarest word (and that word's place in the title)."""
        out: dict[str, list[tuple[int, _Title]]] = {}
        for t in self.long_titles:
            j = min(range(len(t.words)), key=lambda i: (len(self.titles.postings[t.words[i]]),
                                                         t.words[i] in _STOP, i))
            out.setdefault(t.words[j], []).append((j, t))
        return out

    def resolve(self, doc_id: str) -> str:
        return self.canon.get(doc_id, doc_id)

    def dated_between(self, since: str, until: str) -> list[str]:
        """The writer's pieces dated in [since, until] (days)."""
        lo = bisect.bisect_left(self.dated, (since, ""))
        hi = bisect.bisect_right(self.dated, (until, "\uffff"))
        return [tid for _, tid in self.dated[lo:hi]]


def _guests(d: Document) -> list[str]:
    guests = d.metadata.get("guests")
    if guests:
        return [str(g) for g in guests]
    host = d.metadata.get("host")
    return [s for s in d.speakers if s not in d.authors and s != host]


# ---------------------------------------------------------------------------------------------
# links

def _link_hits(index: CitationIndex, url: str, start: int, end: int,
               anchor: str | None = None) -> list[_Hit]:
    try:
        host, segs = parse_url(url)
    except ValueError:
        return []
    own = host in index.hosts or host in index.sister_hosts
    slug = _url_slug(segs, lenient=own)
    ids: set[str] = set()
    note = ""
    if slug and slug in index.slugs and (own or _distinctive(slug)):
        ids = index.slugs[slug]
        note = "" if own else f" (slug on {host}, not one of the writer's hosts)"
    elif segs and re.fullmatch(r"p-\d+", segs[-1]) and segs[-1][2:] in index.post_ids:
        ids = index.post_ids[segs[-1][2:]]
    text = f" [link text: {anchor}]" if anchor and anchor.strip() and anchor.strip() != url else ""
    return [_Hit(i, "link", url + text + note, start, end, 1.0) for i in sorted(ids)]


_LINK_EVIDENCE = re.compile(r"^(\S+)(?: \[link text: (.*?)\])?(?: \(slug on .*\))?$", re.DOTALL)


def parse_link_evidence(evidence: str) -> tuple[str, str | None]:
    """(URL, link text or None) of a how="link" evidence string."""
    m = _LINK_EVIDENCE.match(evidence)
    return (m.group(1), m.group(2)) if m else (evidence, None)


def _url_spans(text: str) -> list[tuple[str, int, int]]:
    spans: list[tuple[str, int, int]] = []
    low = text.lower()
    if "http" not in low and "www." not in low and "href" not in low:
        return spans
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(".,;:!?*_")
        spans.append((url, m.start(), m.start() + len(url)))
    for m in _REL_HREF.finditer(text):
        spans.append((m.group(1), m.start(1), m.end(1)))
    return spans


_MD_ANCHOR = re.compile(r"\[([^\[\]\n]{1,300})\]\(\s*<?$")
_HTML_ANCHOR = re.compile(r"""\s*["']?[^>]*>(.{1,300}?)</a\s*>""", re.IGNORECASE | re.DOTALL)


def _anchor_text(text: str, start: int, end: int) -> str | None:
    """The link text of a URL written as Markdown [text](url) or an HTML <a href="url">text</a>."""
    md = _MD_ANCHOR.search(text, max(0, start - 310), start)
    if md and md.end() == start:
        return _squash(md.group(1))
    if re.search(r"href\s*=\s*[\"']?$", text[max(0, start - 12):start], re.IGNORECASE):
        html = _HTML_ANCHOR.match(text, end)
        if html:
            return _squash(re.sub(r"<[^>]+>", "", html.group(1)))
    return None


def _squash(text: str) -> str:
    return " ".join(text.split()).strip("*_ ")


def _links(index: CitationIndex, text: str) -> tuple[list[_Hit], list[tuple[int, int]]]:
    hits: list[_Hit] = []
    spans = _url_spans(text)
    for url, start, end in spans:
        anchor = _anchor_text(text, start, end)
        if url.startswith("/"):
            url = "http://" + next(iter(sorted(index.hosts)), "localhost") + url
        hits.extend(_link_hits(index, url, start, end, anchor))
    return hits, [(s, e) for _, s, e in spans]


def metadata_urls(doc: Document) -> list[str]:
    """The hrefs a reader kept in metadata["links"] (strings or {"url": …} dicts)."""
    return [url for url, _ in metadata_links(doc)]


def metadata_links(doc: Document) -> list[tuple[str, str | None]]:
    """(href, link text or None) of each link a reader kept in metadata["links"]."""
    out: list[tuple[str, str | None]] = []
    for link in doc.metadata.get("links") or []:
        url = link.get("url") if isinstance(link, dict) else link
        text = link.get("text") if isinstance(link, dict) else None
        if isinstance(url, str) and url:
            out.append((url, _squash(text) if isinstance(text, str) and text.strip() else None))
    return out


# ---------------------------------------------------------------------------------------------
# titles

_QUOTES = [  # (pattern, characters that must not touch the opening mark)
    (re.compile(r"“([^”\n]{2,200})”"), ""),
    (re.compile(r"‘([^’\n]{2,200})’(?!\w)"), ""),
    (re.compile(r'"([^"\n]{2,200})"'), ""),
    (re.compile(r"'([^'\n]{2,200}?)'(?!\w)"), "'’"),
    (re.compile(r"\*{1,2}([^*\n]{2,200}?)\*{1,2}(?![\w*])"), "*"),
    (re.compile(r"_([^_\n]{2,200}?)_(?![\w_])"), "_"),
]
_CAP = r"(?:[A-Z0-9][\w'’.\-]*\w|[A-Z0-9])"
_RUN = re.compile(rf"{_CAP}[:,]?(?:[ \t]+(?:(?:{_CONNECTORS})[ \t]+)*{_CAP}[:,]?)+")


def _word_start(text: str, pos: int, also: str = "") -> bool:
    """True when nothing word-like (or one of also) sits just before pos."""
    return pos == 0 or not (text[pos - 1].isalnum() or text[pos - 1] in "_" + also)


def _quoted_spans(text: str) -> list[tuple[str, int, int]]:
    out = []
    for pat, guard in _QUOTES:
        for m in pat.finditer(text):
            if guard and not _word_start(text, m.start(), guard):
                continue
            if len(m.group(1).split()) <= 25:
                out.append((m.group(1), m.start(), m.end()))
    return out


def _best_title(index: CitationIndex, words: Sequence[str], quoted: bool) -> tuple[str, float] | None:
    """The piece whose title the words name (whole span), above the threshold; None if unsure."""
    scored: dict[str, float] = {}
    for t in index.titles.candidates(words):
        score = _title_score(t, words, quoted)
        if score > scored.get(t.doc_id, 0.0):
            scored[t.doc_id] = score
    return _pick(scored, TITLE_QUOTED_MIN if quoted else TITLE_RUN_MIN)


def _title_score(t: _Title, words: Sequence[str], quoted: bool, floor: float = 0.0) -> float:
    """Word-level similarity of words to a title (0 when a short title is not quoted exactly);
    below floor the exact ratio is not computed."""
    words = tuple(words)
    if words == t.words:
        return 1.0 if quoted or len(t.words) >= MIN_TITLE_WORDS else 0.0
    if len(t.words) < MIN_TITLE_WORDS or len(words) < MIN_TITLE_WORDS:
        return 0.0
    if t.from_slug and len(t.words) >= 4 and words[:len(t.words)] == t.words:
        return 0.9  # a slug cut short: the title written out in full
    if _bound(words, t.words) < floor:
        return 0.0
    return _ratio(t.words, words, t.masks)


def _bound(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """An upper bound of _ratio(a, b): shared words, counted with multiplicity."""
    shared = set(a).intersection(b)
    common = sum(min(a.count(w), b.count(w)) for w in shared) if shared else 0
    return 2.0 * common / (len(a) + len(b))


def _pick(scored: dict[str, float], threshold: float) -> tuple[str, float] | None:
    ranked = sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))
    if not ranked or ranked[0][1] < threshold:
        return None
    if len(ranked) > 1 and ranked[1][1] >= threshold and ranked[0][1] - ranked[1][1] < AMBIGUOUS_GAP:
        return None
    return ranked[0]


def _run_best(index: CitationIndex, words: tuple[str, ...]) -> tuple[str, float, int, int] | None:
    """Best title inside a Title-Cased run: windows the length of each candidate title ±1.
    Returns (doc id, score, first word, end word) of the window."""
    scored: dict[str, tuple[float, int, int]] = {}
    present = set(words)
    for t in index.titles.candidates(words, rarest=3):
        n = len(t.words)
        shared = len(t.wordset & present)
        if n < MIN_TITLE_WORDS or 2.0 * shared / (shared + n) < TITLE_RUN_MIN:
            continue  # no window of the run can share enough words with this title
        for size in sorted({n, n - 1, n + 1, len(words)}):
            for lo in range(0, max(0, len(words) - size) + 1):
                score = _title_score(t, words[lo:lo + size], quoted=False, floor=TITLE_RUN_MIN)
                if score > scored.get(t.doc_id, (0.0, 0, 0))[0]:
                    scored[t.doc_id] = (score, lo, min(lo + size, len(words)))
    found = _pick({tid: v[0] for tid, v in scored.items()}, TITLE_RUN_MIN)
    return (found[0], found[1], scored[found[0]][1], scored[found[0]][2]) if found else None


def _word_spans(text: str) -> list[tuple[int, int]]:
    """Character span of each word norm_words(text) returns (close enough for evidence)."""
    return [m.span() for m in _TOKEN.finditer(text)]


def _titles(index: CitationIndex, text: str, masked: list[tuple[int, int]]) -> list[_Hit]:
    hits: list[_Hit] = []
    for inner, start, end in _quoted_spans(text):
        if _inside(start, masked):
            continue
        found = _best_title(index, norm_words(inner), quoted=True)
        if found:
            hits.append(_Hit(found[0], "title", text[start:end], start, end, found[1]))
    for m in _RUN.finditer(text):
        if not _word_start(text, m.start(), "'’") or _inside(m.start(), masked):
            continue
        words = norm_words(m.group(0))
        if len(words) < MIN_TITLE_WORDS:
            continue
        found_run = _run_best(index, words)
        if found_run:
            start, end = m.start(), m.end()
            spans = _word_spans(m.group(0))
            if len(spans) == len(words):
                start, end = m.start() + spans[found_run[2]][0], m.start() + spans[found_run[3] - 1][1]
            hits.append(_Hit(found_run[0], "title", text[start:end], start, end, found_run[1]))
    return hits


_TOKEN = re.compile(r"[^\W_]+(?:['’.][^\W_]+)*")
_INNER = re.compile(r"(?<=\w)['’.](?=\w)")
_WORD = re.compile(r"[^\W_]+")


def _verbatim_titles(index: CitationIndex, text: str, masked: list[tuple[int, int]]) -> list[_Hit]:
    """Long titles written out word for word in running text, whatever the case (a list of
    past posts, "see The rise of reasoning machines")."""
    low = _lower(text)
    words = _WORD.findall(_INNER.sub("", low if low.isascii() else _fold(low)))
    anchors = index.anchors
    found: list[tuple[int, _Title]] = []
    for at in [i for i, w in enumerate(words) if w in anchors]:
        for j, t in anchors[words[at]]:
            if at >= j and tuple(words[at - j:at - j + len(t.words)]) == t.words:
                found.append((at - j, t))
    return _verbatim_hits(text, low, found, len(words), masked) if found else []


def _verbatim_hits(text: str, low: str, found: list[tuple[int, _Title]], count: int,
                   masked: list[tuple[int, int]]) -> list[_Hit]:
    spans = [m.span() for m in _TOKEN.finditer(low)]
    hits: list[_Hit] = []
    for i, t in found:
        start, end = spans[i][0], spans[i + len(t.words) - 1][1]
        if len(spans) != count:  # folding changed the word count: name the title, not the span
            start, end = 0, 0
        if not _inside(start, masked):
            hits.append(_Hit(t.doc_id, "title", text[start:end] or " ".join(t.words), start, end, 0.95))
    return hits


def _token_word(token: str) -> str:
    return "".join(norm_words(token))


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(s <= pos < e for s, e in spans)


# ---------------------------------------------------------------------------------------------
# mentions: "my post on X", "as I wrote in X", "my interview with NAME", "last year's review".
# Triggers are searched in the lower-cased text (same offsets), names in the original.

_ADJ = r"(?:(?:recent|last|previous|earlier|old|older|first|original|long|short|latest|own)\s+)*"
_NOUN = r"(?:post|piece|article|essay|newsletter|column|write-?up|review|roundup|episode|thread)s?"
_POST_TRIGGERS = [
    re.compile(rf"(?:my|our)\s+{_ADJ}{_NOUN}\b"),
    re.compile(r"as\s+i\s+(?:wrote|argued|said|explained|discussed|covered|noted|predicted|mentioned"
               r"|described)\s+(?:in|on|about)\b"),
    re.compile(r"i(?:['’]ve|\s+have)?\s+(?:wrote|written|posted|blogged)\s+(?:about|on)\b"),
]
_TAIL = re.compile(r"[^.;!?\n(]{0,160}")
_PERSON_TRIGGERS = [
    re.compile(rf"(?:my|our)\s+{_ADJ}(?:interview|conversation|chat|episode|podcast|talk)s?\s+"
               r"(?:with|featuring)\s+"),
    re.compile(r"i\s+(?:talked|spoke|sat\s+down|chatted)\s+(?:to|with)\s+"),
    re.compile(r"i\s+interviewed\s+"),
]
_NAME = re.compile(r"[A-Z][\w'’\-]+(?:[ \t]+(?:de |van |von |da |del |la )?[A-Z][\w'’\-]+){0,3}")
_REVIEW_NOUN = r"(year[- ]in[- ]review|review|roundup|recap|retrospective|predictions|wrap-?up)\b"
_YEAR_END = r"(?:(?:year[- ]end|end[- ]of[- ](?:the[- ])?year|annual|yearly)\s+)?"
_REVIEW = [
    re.compile(rf"last\s+year['’]?s\s+{_YEAR_END}{_REVIEW_NOUN}"),
    re.compile(rf"(?:my|our|the)\s+((?:19|20)\d\d)\s+{_YEAR_END}{_REVIEW_NOUN}"),
]
# A review by any of these names is the same kind of piece ("my 2023 recap" → "Year in Review").
_REVIEW_FAMILY = ("review", "recap", "roundup", "retrospective", "wrap", "wrapup")
# "my February 2026 write-up", "our 2024 episode on X": a date between the owner and the noun.
_DATED_POST = re.compile(
    rf"(?:my|our)\s+(?:({'|'.join(_MONTHS)})\s+)?(?:of\s+)?((?:19|20)\d\d\s+)?{_ADJ}({_NOUN})\b")
_EPISODE_KINDS = ("episode", "transcript")
_DATE_WORDS = {"from", "in", "of", "last", "this", "back", "earlier", "early", "late", "the", "year",
               "summer", "spring", "fall", "autumn", "winter", "month", "week", "ago", "months",
               "weeks", "years", "a", "few", "couple", "mid", *_MONTHS}
_DATE_CORE = {"year", "years", "month", "months", "week", "weeks", "ago", "summer", "spring", "fall",
              "autumn", "winter", *_MONTHS}
_OBJECT_STOP = re.compile(r"\s*(?:,|—|–| - |\b(?:which|where|because|but|though|so\s+that)\b|\band\s+I\b)")
_CONNECT = re.compile(r"^\s*(?:,\s*)?(?:(?:on|about|called|titled|named|entitled)\b\s*|[:,]\s*"
                      r"|(?=[“\"‘'*_]))", re.IGNORECASE)
_OPEN_QUOTE = re.compile(r"[“\"‘'*_]{1,2}([^”\"’'*_\n]{2,150})([”\"’'*_]{1,2})")


def _lower(text: str) -> str:
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _triggers(pat: re.Pattern[str], low: str) -> Iterable[re.Match[str]]:
    for m in pat.finditer(low):
        if _word_start(low, m.start()):
            yield m


@dataclass
class _When:
    since: str
    until: str


def _ref_year(ref: str | None) -> int | None:
    return int(ref[:4]) if ref and re.match(r"\d{4}", ref) else None


def _window(words: list[str], ref: str | None) -> _When | None:
    """A date window from words like "last March", "in June of 2025", "2024", "last year"."""
    years = [int(w) for w in words if re.fullmatch(r"(?:19|20)\d\d", w)]
    months = [_MONTHS.index(w) + 1 for w in words if w in _MONTHS]
    ref_year = _ref_year(ref)
    if months:
        year = years[0] if years else _month_year(months[0], ref)
        if year is None:
            return None
        end = dt.date(year + (months[0] == 12), months[0] % 12 + 1, 1) - dt.timedelta(days=1)
        return _When(f"{year:04d}-{months[0]:02d}-01", end.isoformat())
    if years:
        return _When(f"{years[0]}-01-01", f"{years[0]}-12-31")
    if "year" in words and ref_year and ("last" in words or "this" in words):
        y = ref_year - 1 if "last" in words else ref_year
        return _When(f"{y}-01-01", f"{y}-12-31")
    return None


def _month_year(month: int, ref: str | None) -> int | None:
    """The year of the latest such month before the reference date ("last March")."""
    year = _ref_year(ref)
    if year is None or not ref or len(ref) < 7:
        return None
    return year if month < int(ref[5:7]) else year - 1


@dataclass
class _Object:
    text: str
    offset: int  # in the tail
    when: _When | None
    closing: int  # characters of a closing quote after the object


def _split_tail(tail: str, ref: str | None, connected: bool = False) -> _Object | None:
    """The object named after a trigger ("on X", ", X", "“X”"), past a date phrase, or None.
    connected: the trigger ends with its preposition ("as I wrote in"), the object follows."""
    pos = 0
    words: list[str] = []
    for m in re.finditer(r"\S+", tail):
        w = m.group(0).strip(",").lower()
        if w not in _DATE_WORDS and not re.fullmatch(r"(?:19|20)\d\d", w):
            break
        words.append(w)
        pos = m.end()
    if not any(w in _DATE_CORE or w.isdigit() for w in words):
        pos, words = 0, []  # "on the tide pools": no date here, "the" belongs to the object
    when = _window(words, ref) if words else None
    conn = _CONNECT.match(tail[pos:])
    if conn is None and not connected:
        return None
    offset = pos + (conn.end() if conn else len(tail[pos:]) - len(tail[pos:].lstrip()))
    obj = tail[offset:]
    quoted = _OPEN_QUOTE.match(obj)
    if quoted:
        return _Object(quoted.group(1), offset + quoted.start(1), when, len(quoted.group(2)))
    cut = _OBJECT_STOP.search(obj)
    obj = obj[:cut.start()] if cut else obj
    return _Object(obj.rstrip(), offset, when, 0)


def _mention_score(t: _Title, words: tuple[str, ...]) -> tuple[float, int]:
    """(score, how many of the object's words name the title): the title usually opens the
    object, so its prefixes are tried; a prefix inside a longer title scores by coverage."""
    best, best_k = 0.0, 0
    skip = 1 if words and words[0] in ("the", "a", "an") and t.words[0] != words[0] else 0
    words = words[skip:]  # "about the salt marsh carbon question" names "Salt Marsh Carbon…"
    for k in range(len(words), 0, -1):
        head = words[:k]
        if head == t.words:
            return 1.0, k + skip
        if len(_content(head)) < 2:
            continue
        score = _ratio(t.words, head, t.masks) if _bound(head, t.words) >= MENTION_MIN else 0.0
        at = _contains(t.words, head)
        if at >= 0:
            score = max(score, 0.8 + 0.15 * len(head) / len(t.words) - (0.05 if at else 0.0))
        if score > best:
            best, best_k = score, k + skip
    return best, best_k


def _resolve_object(index: CitationIndex, words: tuple[str, ...], when: _When | None,
                    source: str | None) -> tuple[str, float, int] | None:
    words = words[:15]
    if not words:
        return None
    scored: dict[str, tuple[float, int]] = {}
    for pool, weight in ((index.titles, 1.0), (index.subtitles, 0.95)):
        for t in pool.candidates(words[:8], rarest=3):
            if not _allowed(index, t.doc_id, when, source, own=True):
                continue
            score, k = _mention_score(t, words)
            if weight * score > scored.get(t.doc_id, (0.0, 0))[0]:
                scored[t.doc_id] = (weight * score, k)
    found = _pick({tid: v[0] for tid, v in scored.items()}, MENTION_MIN)
    return (found[0], found[1], scored[found[0]][1]) if found else None


def _allowed(index: CitationIndex, doc_id: str, when: _When | None, source: str | None,
             own: bool = False) -> bool:
    target = index.targets.get(doc_id)
    if target is None or doc_id == source or (own and not target.own):
        return False
    if when and target.date and not (when.since <= target.date[:10] <= when.until):
        return False
    return True


def _end_of_words(text: str, k: int) -> int:
    """Offset just past the k-th normalized word of text."""
    spans = _word_spans(text)
    return spans[k - 1][1] if 0 < k <= len(spans) else len(text.rstrip())


def _object_end(obj: _Object, k: int) -> int:
    """Where the part of an object that named a title ends (its closing quote too when all of
    it did), from the end of the trigger."""
    if k >= len(norm_words(obj.text)):
        return obj.offset + len(obj.text) + obj.closing
    return obj.offset + _end_of_words(obj.text, k)


def _post_mentions(index: CitationIndex, text: str, low: str, source: str | None,
                   ref: str | None) -> list[_Hit]:
    hits: list[_Hit] = []
    for n, pat in enumerate(_POST_TRIGGERS):
        for m in _triggers(pat, low):
            tail = _TAIL.match(text, m.end())
            obj = _split_tail(tail.group(0), ref, connected=n > 0) if tail else None
            if obj is None:
                continue
            found = _resolve_object(index, norm_words(obj.text), obj.when, source)
            if found:
                end = m.end() + _object_end(obj, found[2])
                hits.append(_Hit(found[0], "mention", text[m.start():end], m.start(), end, found[1]))
    return hits


def _person_mentions(index: CitationIndex, text: str, low: str, source: str | None) -> list[_Hit]:
    hits: list[_Hit] = []
    for pat in _PERSON_TRIGGERS:
        for m in _triggers(pat, low):
            name = _NAME.match(text, m.end())
            found = _resolve_person(index, name.group(0), source) if name else None
            if found:
                start = m.start() - 5 if low[max(0, m.start() - 5):m.start()] == "when " else m.start()
                end = m.end() + found[2]
                hits.append(_Hit(found[0], "mention", text[start:end], start, end, found[1]))
    return hits


def _resolve_person(index: CitationIndex, name: str, source: str | None) -> tuple[str, float, int] | None:
    """(doc id, score, length of the name used): longest name first ("Ana Ruiz Recently")."""
    tokens = list(re.finditer(r"\S+", name))
    for k in range(len(tokens), 0, -1):
        span = name[:tokens[k - 1].end()]
        scored = _guest_scores(index, norm_words(span), source)
        best = _pick_person(index, scored)
        if best:
            return best[0], best[1], len(span)
    return None


def _guest_scores(index: CitationIndex, words: tuple[str, ...], source: str | None) -> dict[str, float]:
    scores: dict[str, float] = {}
    ids: set[str] = set().union(*(index.guest_words.get(w, set()) for w in words))
    for tid in sorted(ids):
        if tid == source:
            continue
        for guest in index.targets[tid].guests:
            if words == guest:
                scores[tid] = 1.0
            elif len(words) == 1 and guest and words[0] in (guest[0], guest[-1]):
                scores[tid] = max(scores.get(tid, 0.0), 0.85)
    return scores


def _pick_person(index: CitationIndex, scored: dict[str, float]) -> tuple[str, float] | None:
    """The best guest match; a first or last name alone must fit one piece only. Several
    interviews with the same guest: the latest dated one."""
    if not scored:
        return None
    top = max(scored.values())
    best = [tid for tid, s in scored.items() if s == top]
    if top < 1.0 and len(best) > 1:
        return None
    best.sort(key=lambda tid: (index.targets[tid].date or "", tid), reverse=True)
    return best[0], top


def _review_mentions(index: CitationIndex, text: str, low: str, source: str | None,
                     ref: str | None) -> list[_Hit]:
    hits: list[_Hit] = []
    for pat in _REVIEW:
        for m in _triggers(pat, low):
            if m.lastindex == 2:
                year: int | None = int(m.group(1))
            else:
                ref_year = _ref_year(ref)
                year = ref_year - 1 if ref_year else None
            raw = re.sub(r"[^a-z]", "", m.group(m.lastindex or 1))  # "wrap-up" → "wrapup"
            noun = "review" if raw.endswith("review") else raw
            found = _resolve_review(index, year, noun, source) if year else None
            if found:
                hits.append(_Hit(found, "mention", text[m.start():m.end()], m.start(), m.end(), 0.9))
    return hits


def _resolve_review(index: CitationIndex, year: int, noun: str, source: str | None) -> str | None:
    """The writer's one piece titled with the noun ("review", or another of its family: a
    "recap" names a "Year in Review") from that year (by date, or by the year in the title when
    undated)."""
    nouns = _REVIEW_FAMILY if noun in _REVIEW_FAMILY else (noun,)
    found: set[str] = set()
    for n in nouns:
        for t in index.titles.candidates((n,), rarest=1):
            target = index.targets.get(t.doc_id)
            if target is None or t.doc_id == source or not target.own or n not in t.words:
                continue
            if (target.date or "")[:4] == str(year) or (not target.date and str(year) in t.words):
                found.add(t.doc_id)
    return found.pop() if len(found) == 1 else None


def _dated_mentions(index: CitationIndex, text: str, low: str, source: str | None,
                    ref: str | None) -> list[_Hit]:
    """"my February 2026 write-up (on X)": X's title within that month; with no X, the writer's
    one piece of that kind dated in it. A plural ("my 2025 posts") names no one piece; reviews are
    _review_mentions' ("my 2023 review" is the review, not any 2023 piece); an X that names no
    title is left to the caller (Library.references resolves it by content)."""
    hits: list[_Hit] = []
    for m in _triggers(_DATED_POST, low):
        noun = m.group(3)
        if not (m.group(1) or m.group(2)) or noun.endswith("s") or noun.startswith(_REVIEW_FAMILY):
            continue
        when = _window([w for w in (m.group(1), (m.group(2) or "").strip()) if w], ref)
        if when is None:
            continue
        tail = _tail(text, m.end())
        obj = _split_tail(tail, ref)
        if obj is not None and not _names_subject(tail, obj, connected=False):
            obj = None  # "my February 2026 write-up, what surprised me…": no subject named
        if obj is not None:
            found = _resolve_object(index, norm_words(obj.text), when, source)
            if found:
                end = m.end() + _object_end(obj, found[2])
                hits.append(_Hit(found[0], "mention", text[m.start():end], m.start(), end, found[1]))
            continue
        kinds = _EPISODE_KINDS if noun == "episode" else None
        inside = [tid for tid in index.dated_between(when.since, when.until)
                  if tid != source and (kinds is None or index.kinds.get(tid) in kinds)]
        if len(inside) == 1:
            hits.append(_Hit(inside[0], "mention", text[m.start():m.end()], m.start(), m.end(),
                             MENTION_MIN))
    return hits


@dataclass
class Mention:
    """A first-person reference to an earlier piece ("my post on X"): the phrase's span, the
    object X, and the date window the phrase gives, if any."""

    start: int
    end: int
    object: str
    since: str | None = None
    until: str | None = None


_NAMING = {"on", "about", "called", "titled", "named", "entitled"}


def _tail(text: str, pos: int) -> str:
    """The rest of the clause after a trigger (up to 160 characters)."""
    m = _TAIL.match(text, pos)
    return m.group(0) if m else ""


def _names_subject(tail: str, obj: _Object, connected: bool) -> bool:
    """Whether the object after a trigger names what the piece is about or called ("on X",
    "called X", a quoted title, "as I wrote in X") rather than going on with the sentence
    ("my post, the one…", "my March write-up, what surprised me…")."""
    joint = re.sub(r"[\W_]+", " ", tail[:obj.offset]).strip().lower()
    if obj.closing:
        return True
    return joint.split()[-1] in _NAMING if joint else connected


def mention_objects(text: str, date: str | None = None) -> list[Mention]:
    """Every "my post on X" / "as I wrote in X" / "my May 2024 piece on X" naming one piece, with
    an object of two or more content words, whether or not X matches a title (a draft's caller
    may resolve X by content; see Library.references). Plurals ("my posts on") and appositions
    ("my post, the one…") are left out; trailing date words are trimmed off X."""
    low = _lower(text)
    out: list[Mention] = []
    pats = [(pat, n > 0) for n, pat in enumerate(_POST_TRIGGERS)] + [(_DATED_POST, False)]
    for pat, connected in pats:
        for m in _triggers(pat, low):
            when = None
            if pat is _DATED_POST:
                if not (m.group(1) or m.group(2)):
                    continue  # the plain "my post on" is the first trigger's
                when = _window([w for w in (m.group(1), (m.group(2) or "").strip()) if w], date)
            if not connected and m.group(0).endswith("s"):
                continue
            tail = _tail(text, m.end())
            obj = _split_tail(tail, date, connected)
            if obj is None:
                continue
            words = obj.text.split()
            while words and (words[-1].lower().strip(",.") in _DATE_WORDS
                             or re.fullmatch(r"(?:19|20)\d\d", words[-1].strip(",."))):
                words.pop()
            phrase = " ".join(words)
            if not _names_subject(tail, obj, connected) \
                    or len(_content(norm_words(phrase))) < 2:
                continue
            when = obj.when or when
            end = m.end() + obj.offset + len(obj.text) + obj.closing
            out.append(Mention(m.start(), end, phrase, when.since if when else None,
                               when.until if when else None))
    out.sort(key=lambda x: (x.start, -x.end))
    kept: list[Mention] = []
    for x in out:  # "as I argued in my post on X": the inner phrase names X, once
        if kept and x.start < kept[-1].end:
            if x.start > kept[-1].start:
                kept[-1] = x
            continue
        kept.append(x)
    return kept


# ---------------------------------------------------------------------------------------------
# public API

def references(index: CitationIndex, text: str, self_id: str | None = None, date: str | None = None,
               mentions: bool = True,
               extra_urls: Sequence[str | tuple[str, str | None]] = ()) -> list[Reference]:
    """find_references over a prebuilt index. date is the citing piece's date (for "last year's
    review" and "my post last March"); mentions=False skips first-person phrases (someone else's
    article); extra_urls are links kept outside the text (start/end -1)."""
    source = index.resolve(self_id) if self_id else None
    link_hits, url_spans = _links(index, text)
    for extra in extra_urls:
        url, anchor = (extra, None) if isinstance(extra, str) else extra
        link_hits.extend(_link_hits(index, url, -1, -1, anchor))
    hits = link_hits + _titles(index, text, url_spans) + _verbatim_titles(index, text, url_spans)
    if mentions:
        low = _lower(text)
        hits += _post_mentions(index, text, low, source, date)
        hits += _person_mentions(index, text, low, source)
        hits += _review_mentions(index, text, low, source, date)
        hits += _dated_mentions(index, text, low, source, date)
    return _best_per_doc(index, hits, source)


def _best_per_doc(index: CitationIndex, hits: list[_Hit], source: str | None) -> list[Reference]:
    best: dict[str, _Hit] = {}
    for h in hits:
        cid = index.resolve(h.doc_id)
        if cid == source or cid not in index.targets:
            continue
        h.doc_id = cid
        if cid not in best or h.key() > best[cid].key():
            best[cid] = h
    ordered = sorted(best.values(), key=lambda h: (h.start, h.doc_id))
    return [Reference(h.doc_id, h.how, h.evidence, h.start, h.end) for h in ordered]


def find_references(text: str, docs: Sequence[Document], self_id: str | None = None,
                    date: str | None = None) -> list[Reference]:
    """The library's pieces that text (a draft or a piece) links to, names, or mentions, once each
    with the strongest evidence, in order of position. date defaults to self_id's date, else today."""
    index = CitationIndex(docs)
    if date is None:
        own = next((d for d in docs if d.id == self_id), None)
        date = (own.date if own else None) or dt.date.today().isoformat()
    return references(index, text, self_id, date)


def citation_graph(docs: Sequence[Document],
                   paragraph: Callable[[str, int], int | None] | None = None) -> list[DocLink]:
    """Which canonical, published piece cites which earlier (or undated) piece, canonical ids only:
    links, titles, mentions, and quotations (index/quotes.py). Saved articles by other writers
    are scanned for links, titles and quotations, not for "my post on…". paragraph(doc id,
    offset) numbers the quoted passage (default: the chunker's passages of the quoted piece)."""
    from backlist.index.quotes import QuoteIndex

    index = CitationIndex(docs)
    best: dict[tuple[str, str], tuple[int, DocLink]] = {}

    def add(link: DocLink) -> None:
        key = (link.source_id, link.target_id)
        rank = _HOW_RANK[link.how]
        if key not in best or rank > best[key][0]:
            best[key] = (rank, link)

    for d in docs:
        if d.duplicate_of or d.is_draft:
            continue
        refs = references(index, d.text, d.id, d.date, mentions=d.kind != "article",
                          extra_urls=metadata_links(d))
        for r in refs:
            target = index.targets[r.doc_id]
            if d.date and target.date and target.date[:10] > d.date[:10]:
                continue
            add(DocLink(d.id, r.doc_id, r.how, r.evidence))
    number = paragraph or _chunk_paragraphs(docs)
    for q in QuoteIndex(docs).quotes():
        if q.source_id in index.targets and q.target_id in index.targets:
            add(DocLink(q.source_id, q.target_id, "quote",
                        q.evidence(number(q.target_id, q.target_start))))
    return [link for _, link in best.values()]


def _chunk_paragraphs(docs: Sequence[Document]) -> Callable[[str, int], int | None]:
    """Passage numbers from the chunker (the stored passages, unless the chunker changed)."""
    from backlist.index.chunking import chunk

    by_id = {d.id: d for d in docs}
    cache: dict[str, list[tuple[int, int, int]]] = {}

    def paragraph(doc_id: str, offset: int) -> int | None:
        if doc_id not in cache:
            cache[doc_id] = [(p.start, p.end, p.idx) for p in chunk(by_id[doc_id])]
        return next((idx for s, e, idx in cache[doc_id] if s <= offset < e), None)
    return paragraph


# ---------------------------------------------------------------------------------------------
# titles known nowhere else: "In my post The Quiet Wall, I argued…", 'my post "The Quiet Wall"'

_NAMED_TRIGGER = re.compile(rf"(?:my|our)\s+{_ADJ}(?:post|piece|article|essay|newsletter|column|"
                            r"write-?up|review|episode)\b[ \t]*,?[ \t]*(?:(?:called|titled|named|"
                            r"entitled)[ \t]+)?")
_NAMED_QUOTED = re.compile(r"(?:“([^”\n]{3,150})”|\"([^\"\n]{3,150})\"|\*{1,2}([^*\n]{3,150}?)\*{1,2}"
                           r"|_([^_\n]{3,150}?)_(?![\w_]))")
_NAMED_RUN = re.compile(rf"{_CAP}(?:[ \t]+(?:(?:{_CONNECTORS})[ \t]+)*{_CAP})+")
_NAMED_CONTEXT = re.compile(r"[^.!?\n]{0,200}")


@dataclass
class NamedTitle:
    """A title the text gives a piece of the writer's ("In my post <title>, …"): ``title`` as
    written (no quotation marks), the phrase's span, and ``context`` (the title and the rest of
    its sentence) for resolving it by content."""

    start: int
    end: int
    title: str
    context: str


def named_titles(index: CitationIndex, text: str) -> list[NamedTitle]:
    """Titles in "my post <Title>" / 'my post "<Title>"' forms (quoted, or a Title-Cased run of
    two or more words) that match no title in the library: they can only be resolved by what the
    piece says (Library.references, the ingest's named links)."""
    low = _lower(text)
    out: list[NamedTitle] = []
    for m in _triggers(_NAMED_TRIGGER, low):
        pos = m.end()
        quoted = _NAMED_QUOTED.match(text, pos)
        if quoted:
            title = next(g for g in quoted.groups() if g).strip()
            end = quoted.end()
        else:
            run = _NAMED_RUN.match(text, pos)
            if run is None or not _word_start(text, pos) or run.group(0).split()[0] in ("I", "A"):
                continue
            title, end = run.group(0), run.end()
        words = norm_words(title)
        if len(_content(words)) < 2 or _best_title(index, words, quoted=True) is not None:
            continue  # too vague to be a title, or the library knows it by this title
        rest = _NAMED_CONTEXT.match(text, end)
        context = title + (rest.group(0) if rest else "")
        out.append(NamedTitle(m.start(), end, title, " ".join(context.split())))
    return out
