"""Plain-text dumps of a podcast feed or a podcast directory page: one episode per line.

What such a dump carries, and nothing more, is recovered: a leading post URL, a title from its
slug, the show and author from the header, speaker turns, and a date only where the text states
one. Page furniture (counters, "Comments", "Top Podcasts", subscription trailers) is dropped.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from backlist.errors import IngestError
from backlist.ingest.base import ReadContext, clip, slug_of_url
from backlist.ingest.dates import stated_date
from backlist.ingest.html import html_to_text
from backlist.ingest.textio import read_text
from backlist.ingest.transcript import split_run_on_labels, turns_text
from backlist.model import Document, Turn, stable_id

EPISODE_MIN_CHARS = 300
_URL = r"https?://[A-Za-z0-9.\-]+(?::\d+)?(?:/[a-z0-9\-_.~%]+)*/?"
_LEAD_LINK = re.compile(
    rf"^\s*(?P<label>[A-Z][A-Za-z ,.]{{0,40}}?)?\s*:?\s*(?P<url>{_URL})(?P<rest>.*)$", re.S)
_TRAILERS = [
    re.compile(r"\s*This is a public episode\.\s*If you(?:'|’)d like to discuss this.*$", re.S),
    re.compile(r"\s*Get full access to .{1,120}? at \S+\s*$", re.S),
    re.compile(r"\s*Get full access to .{1,120}?\bsubscribe\s*$", re.S),
]
_FOOTER_LINES = {"comments", "top podcasts", "you may also like", "recommended podcasts",
                 "related podcasts", "similar podcasts"}
_HEADER_NOISE = re.compile(
    r"^(?:discover|share|subscribe|description|reverse|newest|oldest|play|follow|"
    r"\d[\d,]*\s+episodes?|©.*|subscribed:.*|www\.\S+|https?://\S+)$", re.I)
_AUTHOR = re.compile(r"^(?:author|by|host(?:ed by)?)\s*:\s*(?P<name>.+)$", re.I)
_EPISODES = re.compile(r"^(?P<n>\d[\d,]*)\s+episodes?$", re.I)
# Lines glued together when the dump was made: "…the end.Next sentence" or "list:* item".
_GLUED_SENTENCE = re.compile(r"(?<=[A-Za-z0-9%)]{2}[.!?])(?=[A-Z“\"‘])|(?<=[.!?][”\"’)])(?=[A-Z])")
_GLUED_BULLET = re.compile(r"(?<=\S)\* (?=[A-Z0-9\[“\"])")
# Speaker turns in three spellings: "01:07:30 Name:", "Name (00:05)", "Name [00:01:27]:".
_TS = r"\d{1,2}:\d{2}(?::\d{2})?"
_NAME = r"[A-Z][\w’'\-.]*(?:\s[A-Z][\w’'\-.]*){0,3}"
_TURNS = re.compile(
    rf"(?:(?P<ts1>{_TS})\s+(?P<n1>{_NAME}):\s*)"
    rf"|(?:(?P<n2>{_NAME})\s*\((?P<ts2>{_TS})\):?\s*)"
    rf"|(?:(?P<n3>{_NAME})\s*\[(?P<ts3>{_TS})\]:\s*)"
)
# Transcripts without timestamps: "…the end.Ana Ruiz: Thanks." (two to four capitalised words).
_BARE_TURNS = re.compile(r"(?:(?<=[.!?…”)\]])|^)\s*(?P<n1>[A-Z][\w’'\-]+(?:\s[A-Z][\w’'\-.]*){1,3}):\s+")


@dataclass
class Header:
    show: str | None = None
    author: str | None = None
    description: str | None = None
    episode_count: int | None = None
    kind: str = "feed"  # "feed" dump or a directory "page"


@dataclass
class Episode:
    line: int
    raw: str
    url: str | None = None
    link_label: str | None = None
    text: str = ""
    turns: list[Turn] = field(default_factory=list)
    truncated: bool = False


def looks_like_dump(text: str) -> bool:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    long_lines = [ln for ln in lines if len(ln) >= 2000]
    return len(long_lines) >= 3 and len(long_lines) >= len(lines) * 0.3


def read_dump(path: Path, ctx: ReadContext) -> Iterator[Document]:
    label = str(path)
    text = read_text(path, ctx.limits)
    header, episodes = split_dump(text)
    if not episodes:
        raise IngestError(label, "no episodes found in the text dump")
    host = header.author or _likely_host(episodes)
    for ep in episodes:
        yield _document(ep, header, host, label, path.name)


def split_dump(text: str) -> tuple[Header, list[Episode]]:
    lines = text.splitlines()
    header = Header()
    header_lines: list[str] = []
    episodes: list[Episode] = []
    started = False
    for i, line in enumerate(lines, start=1):
        s = line.strip()
        if not s:
            continue
        if started and s.lower() in _FOOTER_LINES:
            break
        if not started and not _is_episode(s):
            header_lines.append(s)
            continue
        started = True
        episodes.append(_parse_episode(i, s))
    _read_header(header_lines, header)
    return header, episodes


def _is_episode(s: str) -> bool:
    if re.search(r"/p/[a-z0-9]", s) and not s.lower().startswith(("www.", "http")) or \
            re.match(rf"^{_URL}\S", s):
        return True
    return len(s) >= EPISODE_MIN_CHARS and "<a " not in s


def _read_header(lines: list[str], header: Header) -> None:
    desc_next = False
    for s in lines:
        if desc_next:
            header.description = html_to_text(s).text
            desc_next = False
            continue
        if s.lower() == "description":
            desc_next = True
            header.kind = "page"
            continue
        if m := _AUTHOR.match(s):
            header.author = m["name"].strip()
            continue
        if m := _EPISODES.match(s):
            header.episode_count = int(m["n"].replace(",", ""))
            header.kind = "page"
            continue
        if _HEADER_NOISE.match(s) or s.lower().startswith("subscribed"):
            continue
        if header.show is None and len(s) < 120:
            header.show = s
        elif header.description is None and len(s) >= 40:
            header.description = html_to_text(s).text


def _parse_episode(line_no: int, raw: str) -> Episode:
    ep = Episode(line=line_no, raw=raw)
    body = raw
    for trailer in _TRAILERS:
        body = trailer.sub("", body)
    ep.truncated = body == raw and len(raw) >= 9990  # directory pages cut episodes at 10,000
    m = _LEAD_LINK.match(body)
    if m and len(m["label"] or "") <= 40:
        url, rest = _split_glued_url(m["url"], m["rest"])
        ep.url, ep.link_label = url, (m["label"] or "").strip() or None
        body = rest
    body = body.strip()
    turns = _turns(body)
    ep.turns = turns
    ep.text = _restore_paragraphs(body, turns)
    return ep


def _split_glued_url(url: str, rest: str) -> tuple[str, str]:
    """'…/p/new-gadgetsiPhone sales' is '/p/new-gadgets' + 'iPhone sales' when 'iPhone' recurs."""
    if not rest or not rest[0].isupper():
        return url, rest
    slug = url.rsplit("/", 1)[-1]
    head = re.match(r"[A-Za-z0-9]+", rest)
    for k in (1, 2, 3):
        if len(slug) <= k + 3 or not slug[-k:].isalpha():
            break
        token = slug[-k:] + (head.group(0) if head else "")
        if len(re.findall(rf"(?<![\w]){re.escape(token)}(?![\w])", rest)) >= 1:
            return url[:-k], slug[-k:] + rest
    return url, rest


def _turns(body: str) -> list[Turn]:
    turns = _turns_by(body, _TURNS) or _turns_by(body, _BARE_TURNS)
    return split_run_on_labels(turns)


def _turns_by(body: str, pattern: re.Pattern[str]) -> list[Turn]:
    found = []
    for m in pattern.finditer(body):
        groups = m.groupdict()
        name = (groups.get("n1") or groups.get("n2") or groups.get("n3") or "").strip()
        ts = groups.get("ts1") or groups.get("ts2") or groups.get("ts3")
        found.append((m.start(), m.end(), name, ts))
    counts = Counter(f[2] for f in found)
    # Chapter lists ("00:12:00 Intro: …") look like turns once; real speakers recur.
    found = [f for f in found if counts[f[2]] >= 2]
    if len({f[2] for f in found}) < 2:
        return []
    turns = []
    for i, (_, end, name, ts) in enumerate(found):
        stop = found[i + 1][0] if i + 1 < len(found) else len(body)
        text = body[end:stop].strip()
        if text:
            turns.append(Turn(speaker=name, text=text, start=ts))
    return turns


def _restore_paragraphs(body: str, turns: list[Turn]) -> str:
    if turns:
        first = body.find(turns[0].text[:40]) if turns[0].text else -1
        intro = body[: max(0, body.rfind(turns[0].speaker or "", 0, first if first > 0 else None))]
        parts = [_glued(intro)] if intro.strip() else []
        parts.append(turns_text([Turn(t.speaker, _glued(t.text, sep=" "), t.start)
                                 for t in turns]))
        return "\n\n".join(p for p in parts if p.strip())
    return _glued(body)


def _glued(text: str, sep: str = "\n\n") -> str:
    text = _GLUED_BULLET.sub("\n- ", text)
    text = _GLUED_SENTENCE.sub(sep, text)
    return "\n\n".join(p.strip() for p in re.split(r"\n\s*\n", text) if p.strip())


def _likely_host(episodes: list[Episode]) -> str | None:
    """The speaker present in most interviews hosts them (needs two interviews to tell)."""
    per_episode = Counter(name for ep in episodes for name in {t.speaker for t in ep.turns})
    if not per_episode:
        return None
    name, n = per_episode.most_common(1)[0]
    return name if n >= 2 else None


def slug_title(slug: str, context: str) -> str:
    """'oyster-reefs-and-the-usace-plan' -> 'Oyster reefs and the USACE plan', with each
    word spelled as the text spells it most often."""
    words = []
    for w in slug.split("-"):
        if not w:
            continue
        # Words opening a sentence are capitalised whatever they are: count the others.
        forms = Counter(m.group(0) for m in re.finditer(rf"(?<![\w]){re.escape(w)}(?![\w])",
                                                         context, re.I)
                        if not re.search(r"(?:^|[.!?:”\n]\s*)$", context[max(0, m.start() - 3):m.start()]))
        best = forms.most_common(1)[0][0] if forms else w
        if best.lower() == best and best.upper() != best:
            best = w  # plain lower case: keep it lower, the first word is capitalised below
        words.append(best)
    title = " ".join(words)
    return title[:1].upper() + title[1:]


def _document(ep: Episode, header: Header, host: str | None, label: str, fname: str) -> Document:
    slug = slug_of_url(ep.url)
    speakers = list(dict.fromkeys(t.speaker for t in ep.turns if t.speaker))
    guests = [s for s in speakers if s != host]
    if slug:
        title, title_basis = slug_title(slug, ep.text), "URL slug"
    elif guests:
        title, title_basis = "Interview with " + ", ".join(guests), "speaker names"
    elif ep.text:
        first = re.split(r"(?<=[.!?])\s", ep.text, maxsplit=1)[0]
        title, title_basis = clip(first, 90), "opening sentence"
    else:
        title, title_basis = None, None
    stated = stated_date(ep.text)
    metadata = {
        "format": f"text dump ({'directory page' if header.kind == 'page' else 'feed'})",
        "show": header.show,
        "line": ep.line,
        "slug": slug,
        "link_label": ep.link_label,
        "title_basis": title_basis,
        "date_basis": f"{stated.basis}: “{stated.evidence}”" if stated else None,
        "date_precision": stated.precision if stated else None,
        "truncated": ep.truncated,
        "format_hint": "interview" if guests else "essay",
        "guests": guests,
        "host": host if speakers else None,
    }
    if header.episode_count:
        metadata["show_episode_count"] = header.episode_count
    key = slug or " ".join(ep.text.split()[:60]) or ep.raw[:200]
    authors = [header.author] if header.author else ([host] if host and speakers else [])
    return Document(
        id=stable_id("dump", fname, key),
        kind="episode",
        source=label,
        position=f"line {ep.line}",
        title=title,
        date=stated.date if stated else None,
        url=ep.url,
        authors=authors,
        speakers=speakers,
        text=ep.text,
        turns=ep.turns,
        metadata=metadata,
    )
