"""Plain-text dumps of a podcast feed or a podcast directory page: one episode per line.

What such a dump carries, and nothing more, is recovered: a leading post URL, a title from its
slug, the show and author from the header, speaker turns, and a date only where the text states
one. Page furniture (counters, "Comments", "Top Podcasts", subscription trailers) is dropped, and
so are the sentences the publication repeats in many of its episodes (ingest.furniture).

A dump runs lines together: speaker labels follow the previous sentence with no space
("…good.Ana Ruiz: Yes") and headings run into the next sentence ("Why tides turnThe moon…");
turns are split at every known speaker's label and headings are put on lines of their own.
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
from backlist.ingest.furniture import FIXED_ONLY, Furniture
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
# Headings run into the next sentence: where a sentence may start, and where a lower-case word (or
# a number, a closing bracket or quote) runs into a capitalised one.
MAX_HEADING_WORDS, MAX_HEADING_CHARS = 14, 120
_SENTENCE_START = re.compile(r"(?:^|(?<=[.!?…]\s)|(?<=[.!?…][”\"’)]\s))(?=(?:\d{1,2}\.\s)?[A-Z“\"‘])", re.M)
_GLUE = re.compile(r"[a-z0-9)’”\"](?=[A-Z][a-z]|[AI]\s)")
_GLUED_NUMBERED = re.compile(r"(?<=[a-z]{2}[.!?])(?=\d{1,2}\.\s[A-Z])")
# Speaker turns in three spellings: "01:07:30 Name:", "Name (00:05)", "Name [00:01:27]:".
_TS = r"\d{1,2}:\d{2}(?::\d{2})?"
_NAME = r"[A-Z][\w’'\-.]*(?:\s[A-Z][\w’'\-.]*){0,3}"
_TURNS = re.compile(
    rf"(?:(?P<ts1>{_TS})\s+(?P<n1>{_NAME}):\s*)"
    rf"|(?:(?P<n2>{_NAME})\s*\((?P<ts2>{_TS})\):?\s*)"
    rf"|(?:(?P<n3>{_NAME})\s*\[(?P<ts3>{_TS})\]:\s*)"
)
_SENTENCE_IN_NAME = re.compile(r"(?<=\w\w[.!?])\s*(?=[A-Z])")
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
    text: str = ""  # notes and turns as read: the key of an episode without a URL
    notes: str = ""
    turn_text: str = ""
    turns: list[Turn] = field(default_factory=list)
    furniture_in_turns: int = 0
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
    notes = [split_glued_headings(ep.notes, ep.raw) for ep in episodes]
    furniture = Furniture.learn(notes)  # what this publication repeats in its episodes
    for ep, ep_notes in zip(episodes, notes):
        yield _document(ep, header, host, label, path.name, furniture.drop(ep_notes))


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
    ep.notes, ep.turn_text = _restore_paragraphs(body, turns)
    ep.text = "\n\n".join(p for p in (ep.notes, ep.turn_text) if p)
    ep.turns, ep.furniture_in_turns = FIXED_ONLY.drop_from_turns(turns)
    if ep.furniture_in_turns:
        ep.turn_text = _turns_paragraphs(ep.turns)
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
        start = m.start()
        # "…we saw OPT.Kyle Lo [00:06:03]:" names Kyle Lo: a name does not cross a sentence end
        if ends := list(_SENTENCE_IN_NAME.finditer(name)):
            name = name[ends[-1].end():]
            start += 0 if groups.get("n1") else ends[-1].end()
        found.append((start, m.end(), name, ts))
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


def _restore_paragraphs(body: str, turns: list[Turn]) -> tuple[str, str]:
    """The notes (an essay, or an interview's introduction) and the turns, as paragraphs."""
    if turns:
        first = body.find(turns[0].text[:40]) if turns[0].text else -1
        intro = body[: max(0, body.rfind(turns[0].speaker or "", 0, first if first > 0 else None))]
        notes = _glued(intro) if intro.strip() else ""
        return notes, _turns_paragraphs(turns)
    return _glued(body), ""


def _turns_paragraphs(turns: list[Turn]) -> str:
    return turns_text([Turn(t.speaker, _glued(t.text, sep=" "), t.start) for t in turns])


def _glued(text: str, sep: str = "\n\n") -> str:
    text = _GLUED_BULLET.sub("\n- ", text)
    text = _GLUED_SENTENCE.sub(sep, text)
    return "\n\n".join(p.strip() for p in re.split(r"\n\s*\n", text) if p.strip())


def split_glued_headings(notes: str, context: str) -> str:
    """Headings the dump ran into the next sentence ("Why tides turnThe moon…", "…the end.2. A
    list headingIt…") on lines of their own. A glue point is a heading's end when the glued word
    ("turnThe") occurs nowhere else in `context` (the episode), its left part is a word used on
    its own there, and its right part opens sentences there; so "DeepSea" or "iPhone" stay whole."""
    notes = _GLUED_NUMBERED.sub("\n\n", notes)
    out, pos = [], 0
    for start in _SENTENCE_START.finditer(notes):
        if start.start() < pos:
            continue
        sentence = notes[start.start():start.start() + MAX_HEADING_CHARS]
        number = re.match(r"\d{1,2}\.\s", sentence)
        skip = number.end() if number else 0
        for glue in _GLUE.finditer(_first_sentence(sentence[skip:])):
            cut = start.start() + skip + glue.start() + 1
            if _is_heading_end(notes, start.start(), cut, context):
                out.append(notes[pos:cut])
                pos = cut
                break
    out.append(notes[pos:])
    return "\n\n".join(p.strip() for p in out if p.strip()) if len(out) > 1 else notes


def _first_sentence(text: str) -> str:
    m = re.search(r"[!?\n:]|(?<!\d)\.|\.(?!\d)", text)
    return text[:m.start()] if m else text


def _is_heading_end(notes: str, start: int, cut: int, context: str) -> bool:
    head = notes[start:cut]
    if len(head.split()) > MAX_HEADING_WORDS:
        return False
    left = re.search(r"[\w’'\-]+$", head)
    right = re.match(r"[A-Z][a-z]+|[AI](?=\s)", notes[cut:])
    if not left or not right:
        return False
    word = re.match(r"[\w’'\-]*", notes[cut:])
    glued = left.group(0) + (word.group(0) if word else "")
    opens = rf"(?:^|[.!?…][”\"’)]?\s*){_whole(right.group(0))}"
    return (len(re.findall(_whole(glued), context)) <= 1
            and re.search(_whole(left.group(0)), context, re.I) is not None
            and re.search(opens, context) is not None)


def _whole(word: str) -> str:
    """A pattern for `word` as a whole word."""
    return rf"(?<![\w’'\-]){re.escape(word)}(?![\w’'\-])"


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


def _document(ep: Episode, header: Header, host: str | None, label: str, fname: str,
              notes: tuple[str, int]) -> Document:
    """notes: the episode's notes as stored (headings apart, furniture out), and how many
    furniture sentences were dropped from them."""
    text = "\n\n".join(p for p in (notes[0], ep.turn_text) if p)
    slug = slug_of_url(ep.url)
    speakers = list(dict.fromkeys(t.speaker for t in ep.turns if t.speaker))
    guests = [s for s in speakers if s != host]
    if slug:
        title, title_basis = slug_title(slug, text), "URL slug"
    elif guests:
        title, title_basis = "Interview with " + ", ".join(guests), "speaker names"
    elif text:
        first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
        title, title_basis = clip(first, 90), "opening sentence"
    else:
        title, title_basis = None, None
    stated = stated_date(text)
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
        "furniture_dropped": notes[1] + ep.furniture_in_turns,
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
        text=text,
        turns=ep.turns,
        metadata=metadata,
    )
