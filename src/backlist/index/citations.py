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

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from urllib.parse import unquote, urlsplit

from backlist.model import Document
from backlist.store.base import DocLink

TITLE_QUOTED_MIN = 0.8  # word-level similarity for a quoted span
TITLE_RUN_MIN = 0.85  # stricter for an unquoted Title-Cased run
MENTION_MIN = 0.8  # "my post on X" against a title or subtitle
AMBIGUOUS_GAP = 0.03  # two different pieces this close to the best: resolve to nothing
MIN_TITLE_WORDS = 3  # shorter titles need an exact quoted match
DISTINCTIVE_SLUG_WORDS = 3  # a slug this long is accepted on an unknown host
_HOW_RANK = {"link": 3, "title": 2, "mention": 1}
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
    """One piece referenced by a text: ``how`` is "link", "title" or "mention"; ``evidence`` is the
    matched text (a URL, a quoted title, a phrase); ``start``/``end`` are offsets into the text
    (-1 for a link found only in the document's metadata)."""

    doc_id: str
    how: str
    evidence: str
    start: int
    end: int


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


@dataclass
class _Target:
    id: str
    date: str | None
    own: bool  # the writer's own piece (not a saved article by someone else)
    guests: list[tuple[str, ...]] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# text helpers

def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def norm_words(text: str) -> tuple[str, ...]:
    """Lower-cased words the way slugs are made: apostrophes and dots inside words vanish
    ("GPT-4.5" -> gpt 45, "OpenAI's" -> openais), other punctuation separates."""
    text = re.sub(r"(?<=\w)['’.](?=\w)", "", _fold(text))
    return tuple(re.findall(r"[a-z0-9]+", text))


def _content(words: Iterable[str]) -> list[str]:
    return [w for w in words if w not in _STOP]


def _ratio(a: Sequence[str], b: Sequence[str]) -> float:
    if not a or not b:
        return 0.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def _contains(big: Sequence[str], small: Sequence[str]) -> int:
    """Index of small as a contiguous run inside big, or -1."""
    n = len(small)
    for i in range(len(big) - n + 1):
        if tuple(big[i:i + n]) == tuple(small):
            return i
    return -1


# ---------------------------------------------------------------------------------------------
# URLs

_URL = re.compile(r"(?:https?://|\bwww\.)[^\s<>\"'`\])]+(?:\([^\s<>\"'()]*\)[^\s<>\"'`\])]*)?",
                  re.IGNORECASE)
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
        for d in docs:
            self._add(d)
        self.sister_hosts = {h.split(".")[0] + ".substack.com" for h in self.hosts if "." in h}

    def _add(self, d: Document) -> None:
        if d.url:
            self.hosts.add(parse_url(d.url)[0])
        if d.is_draft:
            return
        cid = self.canon[d.id]
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
                self.titles.add(_Title(cid, words, d.metadata.get("title_basis") == "URL slug"))
        if d.subtitle:
            words = norm_words(d.subtitle)
            if len(words) >= MIN_TITLE_WORDS:
                self.subtitles.add(_Title(cid, words, False))

    def resolve(self, doc_id: str) -> str:
        return self.canon.get(doc_id, doc_id)


def _guests(d: Document) -> list[str]:
    guests = d.metadata.get("guests")
    if guests:
        return [str(g) for g in guests]
    host = d.metadata.get("host")
    return [s for s in d.speakers if s not in d.authors and s != host]


# ---------------------------------------------------------------------------------------------
# links

def _link_hits(index: CitationIndex, url: str, start: int, end: int) -> list[_Hit]:
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
    return [_Hit(i, "link", url + note, start, end, 1.0) for i in sorted(ids)]


def _url_spans(text: str) -> list[tuple[str, int, int]]:
    spans = []
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(".,;:!?*_")
        spans.append((url, m.start(), m.start() + len(url)))
    for m in _REL_HREF.finditer(text):
        spans.append((m.group(1), m.start(1), m.end(1)))
    return spans


def _links(index: CitationIndex, text: str) -> tuple[list[_Hit], list[tuple[int, int]]]:
    hits: list[_Hit] = []
    spans = _url_spans(text)
    for url, start, end in spans:
        if url.startswith("/"):
            url = "http://" + next(iter(sorted(index.hosts)), "localhost") + url
        hits.extend(_link_hits(index, url, start, end))
    return hits, [(s, e) for _, s, e in spans]


def metadata_urls(doc: Document) -> list[str]:
    """The hrefs a reader kept in metadata["links"] (strings or {"url": …} dicts)."""
    out = []
    for link in doc.metadata.get("links") or []:
        url = link.get("url") if isinstance(link, dict) else link
        if isinstance(url, str) and url:
            out.append(url)
    return out


# ---------------------------------------------------------------------------------------------
# titles

_QUOTES = [
    re.compile(r"“([^”\n]{2,200})”"),
    re.compile(r"‘([^’\n]{2,200})’(?!\w)"),
    re.compile(r'"([^"\n]{2,200})"'),
    re.compile(r"(?<![\w'’])'([^'\n]{2,200}?)'(?!\w)"),
    re.compile(r"(?<![\w*])\*{1,2}([^*\n]{2,200}?)\*{1,2}(?![\w*])"),
    re.compile(r"(?<![\w_])_([^_\n]{2,200}?)_(?![\w_])"),
]
_CAP = r"(?:[A-Z0-9][\w'’.\-]*\w|[A-Z0-9])"
_RUN = re.compile(rf"(?<![\w'’]){_CAP}[:,]?(?:[ \t]+(?:(?:{_CONNECTORS})[ \t]+)*{_CAP}[:,]?)+")


def _quoted_spans(text: str) -> list[tuple[str, int, int]]:
    out = []
    for pat in _QUOTES:
        for m in pat.finditer(text):
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


def _title_score(t: _Title, words: Sequence[str], quoted: bool) -> float:
    if tuple(words) == t.words:
        return 1.0 if quoted or len(t.words) >= MIN_TITLE_WORDS else 0.0
    if len(t.words) < MIN_TITLE_WORDS or len(words) < MIN_TITLE_WORDS:
        return 0.0
    if t.from_slug and len(t.words) >= 4 and tuple(words[:len(t.words)]) == t.words:
        return 0.9  # a slug cut short: the title written out in full
    return _ratio(words, t.words)


def _pick(scored: dict[str, float], threshold: float) -> tuple[str, float] | None:
    ranked = sorted(scored.items(), key=lambda kv: -kv[1])
    if not ranked or ranked[0][1] < threshold:
        return None
    if len(ranked) > 1 and ranked[1][1] >= threshold and ranked[0][1] - ranked[1][1] < AMBIGUOUS_GAP:
        return None
    return ranked[0]


def _run_best(index: CitationIndex, words: tuple[str, ...]) -> tuple[str, float, int, int] | None:
    """Best title inside a Title-Cased run: windows the length of each candidate title ±1."""
    best: tuple[str, float, int, int] | None = None
    for t in index.titles.candidates(words, rarest=3):
        n = len(t.words)
        if n < MIN_TITLE_WORDS:
            continue
        for size in (n, n - 1, n + 1, len(words)):
            for lo in range(0, max(0, len(words) - size) + 1):
                window = words[lo:lo + size]
                if len(window) < MIN_TITLE_WORDS:
                    continue
                score = _title_score(t, window, quoted=False)
                if score >= TITLE_RUN_MIN and (best is None or score > best[1]):
                    best = (t.doc_id, score, lo, lo + len(window))
    return best


def _titles(index: CitationIndex, text: str, masked: list[tuple[int, int]]) -> list[_Hit]:
    hits: list[_Hit] = []
    for inner, start, end in _quoted_spans(text):
        if _inside(start, masked):
            continue
        found = _best_title(index, norm_words(inner), quoted=True)
        if found:
            hits.append(_Hit(found[0], "title", text[start:end], start, end, found[1]))
    for m in _RUN.finditer(text):
        if _inside(m.start(), masked):
            continue
        words = norm_words(m.group(0))
        if len(words) < MIN_TITLE_WORDS:
            continue
        found_run = _run_best(index, words)
        if found_run:
            hits.append(_Hit(found_run[0], "title", m.group(0).strip(" :,"), m.start(), m.end(),
                             found_run[1]))
    return hits


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(s <= pos < e for s, e in spans)


# ---------------------------------------------------------------------------------------------
# mentions: "my post on X", "as I wrote in X", "my interview with NAME", "last year's review"

_I = r"\bI"
_ADJ = r"(?:(?:recent|last|previous|earlier|old|older|first|original|long|short|latest|own)\s+)*"
_NOUN = r"(?:post|piece|article|essay|newsletter|column|write-?up|review|roundup|episode|thread)s?"
_POST_TRIGGERS = [
    re.compile(rf"(?i:\b(?:my|our)\s+{_ADJ}{_NOUN})(?P<tail>[^.;!?\n(]{{0,160}})"),
    re.compile(rf"(?i:\bas\s+){_I}(?i:\s+(?:wrote|argued|said|explained|discussed|covered|noted|predicted"
               r"|mentioned|described)\s+(?:in|on|about)\b)(?P<tail>[^.;!?\n(]{0,160})"),
    re.compile(rf"{_I}(?i:(?:['’]ve|\s+have)?\s+(?:wrote|written|posted|blogged)\s+(?:about|on)\b)"
               r"(?P<tail>[^.;!?\n(]{0,160})"),
]
_NAME = r"(?P<name>[A-Z][\w'’\-]+(?:[ \t]+(?:de |van |von |da |del |la )?[A-Z][\w'’\-]+){0,3})"
_PERSON_TRIGGERS = [
    re.compile(rf"(?i:\b(?:my|our)\s+{_ADJ}(?:interview|conversation|chat|episode|podcast|talk)s?\s+"
               rf"(?:with|featuring)\s+){_NAME}"),
    re.compile(rf"(?i:\b(?:when\s+)?){_I}(?i:\s+(?:talked|spoke|sat\s+down|chatted)\s+(?:to|with)\s+){_NAME}"),
    re.compile(rf"{_I}(?i:\s+interviewed\s+){_NAME}"),
]
_REVIEW = re.compile(r"(?i:\blast\s+year['’]?s\s+(?P<noun>year[- ]in[- ]review|review|roundup|recap"
                     r"|retrospective|predictions|wrap-?up))"
                     r"|(?i:\b(?:my|our|the)\s+(?P<year>(?:19|20)\d\d)\s+(?P<noun2>year[- ]in[- ]review"
                     r"|review|roundup|recap|retrospective|predictions|wrap-?up))")
_DATE_WORDS = {"from", "in", "of", "last", "this", "back", "earlier", "early", "late", "the", "year",
               "summer", "spring", "fall", "autumn", "winter", "month", "week", "ago", "months",
               "weeks", "years", "a", "few", "couple", "mid", *_MONTHS}
_OBJECT_STOP = re.compile(r"\s*(?:,|—|–| - |\b(?:which|where|because|but|though|so\s+that)\b|\band\s+I\b)")
_CONNECT = re.compile(r"^\s*(?:,\s*)?(?:(?:on|about|called|titled|named|entitled)\b\s*|[:,]\s*"
                      r"|(?=[“\"‘'*_]))", re.IGNORECASE)


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
    year = _ref_year(ref)
    if year is None or not ref:
        return None
    return year if month < int(ref[5:7]) else year - 1


def _split_tail(tail: str, ref: str | None) -> tuple[str, int, _When | None] | None:
    """(object text, its offset in tail, date window) after a trigger, or None."""
    pos = 0
    words: list[str] = []
    for m in re.finditer(r"\S+", tail):
        w = m.group(0).strip(",").lower()
        if w not in _DATE_WORDS and not re.fullmatch(r"(?:19|20)\d\d", w):
            break
        words.append(w)
        pos = m.end()
    when = _window(words, ref) if words else None
    rest = tail[pos:]
    conn = _CONNECT.match(rest)
    if conn is None:
        return None
    offset = pos + conn.end()
    obj = rest[conn.end():]
    quoted = re.match(r"[“\"‘'*_]{1,2}([^”\"’'*_\n]{2,150})[”\"’'*_]", obj)
    if quoted:
        return quoted.group(1), offset + 1, when
    cut = _OBJECT_STOP.search(obj)
    obj = obj[:cut.start()] if cut else obj
    return obj.strip(), offset, when


def _mention_score(t: _Title, words: tuple[str, ...]) -> float:
    best = 0.0
    for k in range(len(words), 0, -1):  # the title usually opens the object: try its prefixes
        head = words[:k]
        if head == t.words:
            return 1.0
        if len(_content(head)) < 2:
            continue
        best = max(best, _ratio(head, t.words))
        at = _contains(t.words, head)
        if at >= 0:
            best = max(best, 0.8 + 0.15 * len(head) / len(t.words) - (0.05 if at else 0.0))
    return best


def _resolve_object(index: CitationIndex, words: tuple[str, ...], when: _When | None,
                    source: str | None) -> tuple[str, float] | None:
    if not words:
        return None
    scored: dict[str, float] = {}
    for pool, weight in ((index.titles, 1.0), (index.subtitles, 0.95)):
        for t in pool.candidates(words[:8], rarest=3):
            if not _allowed(index, t.doc_id, when, source, own=True):
                continue
            score = weight * _mention_score(t, words[:15])
            if score > scored.get(t.doc_id, 0.0):
                scored[t.doc_id] = score
    return _pick(scored, MENTION_MIN)


def _allowed(index: CitationIndex, doc_id: str, when: _When | None, source: str | None,
             own: bool = False) -> bool:
    target = index.targets.get(doc_id)
    if target is None or doc_id == source or (own and not target.own):
        return False
    if when and target.date and not (when.since <= target.date[:10] <= when.until):
        return False
    return True


def _post_mentions(index: CitationIndex, text: str, source: str | None, ref: str | None) -> list[_Hit]:
    hits: list[_Hit] = []
    for pat in _POST_TRIGGERS:
        for m in pat.finditer(text):
            split = _split_tail(m.group("tail"), ref)
            if split is None:
                continue
            obj, offset, when = split
            found = _resolve_object(index, norm_words(obj), when, source)
            if found:
                end = m.start("tail") + offset + len(obj)
                hits.append(_Hit(found[0], "mention", text[m.start():end].strip(), m.start(), end,
                                 found[1]))
    return hits


def _person_mentions(index: CitationIndex, text: str, source: str | None) -> list[_Hit]:
    hits: list[_Hit] = []
    for pat in _PERSON_TRIGGERS:
        for m in pat.finditer(text):
            found = _resolve_person(index, m.group("name"), source)
            if found:
                hits.append(_Hit(found[0], "mention", found[2], m.start(), m.start("name") + found[3],
                                 found[1]))
    return hits


def _resolve_person(index: CitationIndex, name: str, source: str | None
                    ) -> tuple[str, float, str, int] | None:
    tokens = list(re.finditer(r"\S+", name))
    for k in range(len(tokens), 0, -1):  # longest name first: "Ana Ruiz Recently" -> "Ana Ruiz"
        span = name[:tokens[k - 1].end()]
        words = norm_words(span)
        scored = {tid: s for tid, s in _guest_scores(index, words, source).items() if s > 0}
        best = _pick_person(index, scored)
        if best:
            return best[0], best[1], span, len(span)
    return None


def _guest_scores(index: CitationIndex, words: tuple[str, ...], source: str | None) -> dict[str, float]:
    scores: dict[str, float] = {}
    for tid in sorted(set().union(*(index.guest_words.get(w, set()) for w in words))):
        if tid == source:
            continue
        for guest in index.targets[tid].guests:
            if words == guest:
                scores[tid] = 1.0
            elif len(words) == 1 and words[0] in (guest[0], guest[-1]):
                scores[tid] = max(scores.get(tid, 0.0), 0.85)
    return scores


def _pick_person(index: CitationIndex, scored: dict[str, float]) -> tuple[str, float] | None:
    if not scored:
        return None
    top = max(scored.values())
    best = [tid for tid, s in scored.items() if s == top]
    if top < 1.0 and len(best) > 1:
        return None  # a first name alone that fits several guests
    best.sort(key=lambda tid: (index.targets[tid].date or "", tid), reverse=True)
    return best[0], top


def _review_mentions(index: CitationIndex, text: str, source: str | None, ref: str | None) -> list[_Hit]:
    hits: list[_Hit] = []
    for m in _REVIEW.finditer(text):
        year = int(m.group("year")) if m.group("year") else None
        if year is None:
            ref_year = _ref_year(ref)
            if ref_year is None:
                continue
            year = ref_year - 1
        noun = norm_words(m.group("noun") or m.group("noun2"))
        found = _resolve_review(index, year, noun[-1], source)
        if found:
            hits.append(_Hit(found, "mention", m.group(0), m.start(), m.end(), 0.9))
    return hits


def _resolve_review(index: CitationIndex, year: int, noun: str, source: str | None) -> str | None:
    found: set[str] = set()
    for t in index.titles.entries:
        target = index.targets.get(t.doc_id)
        if target is None or t.doc_id == source or not target.own or noun not in t.words:
            continue
        dated = target.date and target.date[:4] == str(year)
        if dated or (not target.date and str(year) in t.words):
            found.add(t.doc_id)
    return next(iter(found)) if len(found) == 1 else None


# ---------------------------------------------------------------------------------------------
# public API

def references(index: CitationIndex, text: str, self_id: str | None = None, date: str | None = None,
               mentions: bool = True, extra_urls: Sequence[str] = ()) -> list[Reference]:
    """find_references over a prebuilt index. date is the citing piece's date (for "last year's
    review" and "my post last March"); mentions=False skips first-person phrases (someone else's
    article); extra_urls are links kept outside the text (start/end -1)."""
    source = index.resolve(self_id) if self_id else None
    link_hits, url_spans = _links(index, text)
    for url in extra_urls:
        link_hits.extend(_link_hits(index, url, -1, -1))
    hits = link_hits + _titles(index, text, url_spans)
    if mentions:
        hits += _post_mentions(index, text, source, date)
        hits += _person_mentions(index, text, source)
        hits += _review_mentions(index, text, source, date)
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


def citation_graph(docs: Sequence[Document]) -> list[DocLink]:
    """Which canonical, published piece cites which earlier (or undated) piece, canonical ids only.
    Saved articles by other writers are scanned for links and titles, not for "my post on…"."""
    index = CitationIndex(docs)
    links: list[DocLink] = []
    for d in docs:
        if d.duplicate_of or d.is_draft:
            continue
        refs = references(index, d.text, d.id, d.date, mentions=d.kind != "article",
                          extra_urls=metadata_urls(d))
        for r in refs:
            target = index.targets[r.doc_id]
            if d.date and target.date and target.date[:10] > d.date[:10]:
                continue
            links.append(DocLink(d.id, r.doc_id, r.how, r.evidence))
    return links
