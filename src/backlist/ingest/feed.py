"""Podcast and blog feeds (RSS 2.0, Atom) parsed by feedparser, with their transcripts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import feedparser
import httpx

from backlist.errors import IngestError
from backlist.ingest.base import ReadContext
from backlist.ingest.html import html_to_text
from backlist.ingest.textio import check_not_empty_or_binary, check_xml, decode, read_text
from backlist.ingest.transcript import parse_transcript, transcript_format, turns_text
from backlist.model import Document, stable_id

_TRANSCRIPT_TYPES = {"text/vtt": "vtt", "application/x-subrip": "srt", "application/srt": "srt",
                     "text/srt": "srt", "text/plain": "txt"}


def looks_like_feed(text: str) -> bool:
    head = text[:2000].lower()
    return "<rss" in head or ("<feed" in head and "atom" in head) or "<rdf:rdf" in head


def fetch(url: str, ctx: ReadContext) -> str:
    """Fetch a feed or transcript the user pointed at by URL, within the size limit."""
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=30.0) as resp:
            resp.raise_for_status()
            chunks, size = [], 0
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > ctx.limits.max_bytes:
                    raise IngestError(url, "download exceeds the size limit")
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise IngestError(url, f"cannot fetch ({exc})") from exc
    data = b"".join(chunks)
    check_not_empty_or_binary(data, url)
    return decode(data, url)


def read_feed(location: str, ctx: ReadContext) -> Iterator[Document]:
    remote = location.startswith(("http://", "https://"))
    text = fetch(location, ctx) if remote else read_text(Path(location), ctx.limits)
    check_xml(text, location)
    parsed = feedparser.parse(text)
    if not parsed.entries:
        reason = getattr(parsed, "bozo_exception", None)
        raise IngestError(location, f"no feed items found{f' ({reason})' if reason else ''}")
    feed = parsed.feed
    show = feed.get("title")
    show_author = feed.get("author") or feed.get("itunes_author")
    for n, entry in enumerate(parsed.entries, start=1):
        try:
            yield _episode(entry, n, location, remote, show, show_author, ctx)
        except IngestError as exc:
            ctx.problems.append(exc)


def _episode(entry, n: int, location: str, remote: bool, show: str | None,
             show_author: str | None, ctx: ReadContext) -> Document:
    html = ""
    if entry.get("content"):
        html = max((c.get("value") or "" for c in entry.content), key=len)
    html = html or entry.get("summary") or ""
    notes = html_to_text(html)
    turns = []
    transcript = entry.get("podcast_transcript")
    transcript_ref = None
    if transcript and transcript.get("url"):
        transcript_ref = transcript["url"]
        turns = _transcript(transcript_ref, transcript.get("type"), location, remote, ctx)
    text = notes.text
    if turns:
        text = (text + "\n\n" if text else "") + turns_text(turns)
    date = None
    if entry.get("published_parsed") or entry.get("updated_parsed"):
        t = entry.get("published_parsed") or entry.get("updated_parsed")
        date = dt.date(t.tm_year, t.tm_mon, t.tm_mday).isoformat()
    enclosures = [{"url": e.get("href"), "type": e.get("type"), "length": e.get("length")}
                  for e in entry.get("enclosures", [])]
    authors = [a.get("name") for a in entry.get("authors", []) if a.get("name")] or (
        [show_author] if show_author else [])
    speakers = list(dict.fromkeys(t.speaker for t in turns if t.speaker))
    kind = "episode" if enclosures or turns or entry.get("itunes_duration") else "post"
    key = entry.get("id") or entry.get("link") or f"{location}#{n}"
    return Document(
        id=stable_id("feed", key),
        kind=kind,
        source=location,
        position=f"item {n}",
        title=entry.get("title") or None,
        subtitle=entry.get("itunes_subtitle") or None,
        date=date,
        url=entry.get("link") or None,
        authors=authors,
        speakers=speakers,
        text=text,
        turns=turns,
        metadata={
            "format": "feed",
            "show": show,
            "guid": entry.get("id"),
            "enclosures": enclosures,
            "duration": entry.get("itunes_duration"),
            "episode": entry.get("itunes_episode"),
            "episode_type": entry.get("itunes_episodetype"),
            "explicit": entry.get("itunes_explicit"),
            "transcript_url": transcript_ref,
            "links": notes.links,
            "date_basis": "feed pubDate" if date else None,
        },
    )


def _transcript(ref: str, mime: str | None, location: str, remote: bool,
                ctx: ReadContext) -> list:
    fmt = _TRANSCRIPT_TYPES.get((mime or "").lower()) or transcript_format(urlsplit(ref).path)
    if remote or ref.startswith(("http://", "https://")):
        target = urljoin(location, ref) if remote else ref
        if not ctx.fetch_remote:
            ctx.problem(target, "transcript is remote; not fetched (pass --fetch to allow)")
            return []
        data = fetch(target, ctx)
        label = target
    else:
        path = (Path(location).parent / urlsplit(ref).path.lstrip("/")).resolve()
        base = Path(location).parent.resolve()
        if base not in path.parents:
            raise IngestError(ref, "transcript path points outside the feed's folder, refused")
        if not path.is_file():
            ctx.problem(str(path), "transcript referenced by the feed is missing")
            return []
        data = read_text(path, ctx.limits)
        label = str(path)
    return parse_transcript(data, fmt, label)
