"""Podcast and blog feeds (RSS 2.0, Atom) parsed by feedparser, with their transcripts.

feedparser keeps one value per element, so the multi-valued Podcasting 2.0 elements
(podcast:transcript, podcast:person) and the itunes:summary/description pair are read from the
XML itself, item by item. Dates are the publisher's local date: feedparser's *_parsed fields
are UTC, so the raw pubDate is parsed here and its offset kept in metadata["published"].
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import httpx
from defusedxml import ElementTree as SafeET

from backlist.errors import IngestError
from backlist.ingest.base import ReadContext
from backlist.ingest.furniture import FIXED_ONLY
from backlist.ingest.html import html_to_text
from backlist.ingest.textio import check_not_empty_or_binary, check_xml, decode, read_text
from backlist.ingest.transcript import format_rank, parse_transcript, transcript_format, turns_text
from backlist.model import Document, Turn, stable_id
from backlist.safe import safe_url

_ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
_AUTHOR_TAGS = {("", "author"), ("http://purl.org/dc/elements/1.1/", "creator"), (_ITUNES, "author")}
_HOSTS = {"host", "co-host", "cohost", "guest host"}
_PLATFORMS = ("(?:apple podcasts|spotify|overcast|pocket casts|google podcasts|youtube|castbox"
              "|amazon music|rss)")
# Paragraphs that feeds and hosting services append to every item: not the writer's words.
_FURNITURE = [re.compile(p, re.I) for p in (
    r"^the post .+ appeared first on .+$",                                   # WordPress
    r"^(continue reading|read more|read the rest|keep reading)\b.{0,80}$",
    r"^support the show\b.{0,80}$",                                          # Buzzsprout
    r"^send us a text\.?$",
    r"^get full access to .+ at \S+$",                                       # Substack
    r"^this is a public episode\. if you would like to discuss this with other subscribers",
    r"^(listen|subscribe|follow)( (to|on|us on|and subscribe on))? .{0,120}\b(apple podcasts|spotify"
    r"|overcast|pocket casts|google podcasts|youtube|castbox|amazon music)\b.{0,120}$",
    rf"^(?:{_PLATFORMS}\s*[|•·,/]?\s*){{2,}}$",                              # a row of app links
)]
_TRAILING = re.compile(r"\s*(?:\[(?:…|\.\.\.)\]|(?:continue reading|read more)\s*(?:…|\.\.\.|→|»|›)?)\s*$",
                       re.I)


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


@dataclass
class RawItem:
    """What feedparser flattens or drops, read from one <item>/<entry> (or the channel)."""

    transcripts: list[dict[str, str]] = field(default_factory=list)
    persons: list[dict[str, str]] = field(default_factory=list)
    itunes_subtitle: str | None = None
    itunes_summary: str | None = None
    description: str | None = None
    season: str | None = None
    episode: str | None = None
    chapters: dict[str, str] | None = None
    explicit: str | None = None  # feedparser reads "no" and "false" as unknown
    authors: list[str] = field(default_factory=list)  # RSS author, dc:creator, itunes:author


def _local(tag: object) -> tuple[str, str]:
    """(namespace, local name) of an ElementTree tag."""
    text = tag if isinstance(tag, str) else ""
    if text.startswith("{"):
        ns, _, name = text[1:].partition("}")
        return ns, name
    return "", text


def _is_podcast_ns(ns: str) -> bool:
    return "podcastindex" in ns.lower() or "podcast-namespace" in ns.lower()


def _raw_item(el: Any) -> RawItem:
    raw = RawItem()
    for child in el:
        ns, name = _local(child.tag)
        text = (child.text or "").strip() or None
        if _is_podcast_ns(ns):
            if name == "transcript" and child.get("url"):
                raw.transcripts.append({k: v for k, v in child.attrib.items()})
            elif name == "person" and (text or child.get("name")):
                raw.persons.append({"name": " ".join((text or child.get("name") or "").split()),
                                    "role": (child.get("role") or "host").strip().lower(),
                                    "href": child.get("href") or ""})
            elif name == "season":
                raw.season = text
            elif name == "episode":
                raw.episode = text
            elif name == "chapters" and child.get("url"):
                raw.chapters = {"url": child.get("url"), "type": child.get("type") or ""}
        elif ns == _ITUNES and name in ("subtitle", "summary", "explicit"):
            setattr(raw, "explicit" if name == "explicit" else f"itunes_{name}", text)
        elif text and (ns, name) in _AUTHOR_TAGS:
            raw.authors.append(text)
        elif ns == "" and name == "description":
            raw.description = text
    return raw


def _raw_items(text: str) -> tuple[RawItem, list[RawItem]]:
    root = SafeET.fromstring(text.encode("utf-8"))
    channel = next((el for el in root.iter() if _local(el.tag)[1] == "channel"), root)
    items = [_raw_item(el) for el in root.iter() if _local(el.tag)[1] in ("item", "entry")]
    return _raw_item(channel), items


def read_feed(location: str, ctx: ReadContext) -> Iterator[Document]:
    remote = location.startswith(("http://", "https://"))
    text = fetch(location, ctx) if remote else read_text(Path(location), ctx.limits)
    check_xml(text, location)
    parsed = feedparser.parse(text)
    if not parsed.entries:
        reason = getattr(parsed, "bozo_exception", None)
        raise IngestError(location, f"no feed items found{f' ({reason})' if reason else ''}")
    channel, items = _raw_items(text)
    if len(items) != len(parsed.entries):  # cannot pair them safely: go without the extras
        ctx.warn(location, "feed items could not be matched for podcast:* tags; read without them")
        items = [RawItem() for _ in parsed.entries]
    feed = parsed.feed
    show = Show(location, remote, feed.get("title"), _show_author(feed), channel.persons)
    for n, (entry, raw) in enumerate(zip(parsed.entries, items), start=1):
        ctx.check_time(location)
        try:
            yield _episode(entry, raw, n, show, ctx)
        except IngestError as exc:
            ctx.problems.append(exc)


@dataclass
class Show:
    location: str
    remote: bool
    title: str | None
    author: str | None
    persons: list[dict[str, str]]


def _show_author(feed: Any) -> str | None:
    for key in ("itunes_author", "author"):
        if name := _person_name(feed.get(key)):
            return name
    return None


def _person_name(value: str | None) -> str | None:
    """A display name from RSS author forms: "Name", "Name (email)", "email (Name)"."""
    if not value:
        return None
    value = " ".join(value.split())
    if m := re.match(r"^(\S+@\S+)\s*\((.+)\)$", value):
        return m[2].strip() or None
    if m := re.match(r"^(.+?)\s*\((\S+@\S+)\)$", value):
        return m[1].strip() or None
    return None if re.fullmatch(r"\S+@\S+", value) else value


def _authors(entry: Any, raw: RawItem, show: Show) -> list[str]:
    """Authors as a set in their first order. RSS author strings are read as written (feedparser
    splits "email (Name)" badly for some addresses); Atom authors come from feedparser."""
    names = raw.authors or [a.get("name") for a in entry.get("authors", []) or []]
    seen: dict[str, str] = {}
    for written in names:
        if (name := _person_name(written)) and name.casefold() not in seen:
            seen[name.casefold()] = name
    return list(seen.values()) or ([show.author] if show.author else [])


def publication(entry: Any) -> tuple[str | None, str | None]:
    """(local ISO date, full timestamp with its offset) from the raw pubDate/published/updated.
    feedparser's parsed value is UTC and only stands in when the raw text cannot be read."""
    raw = (entry.get("published") or entry.get("updated") or "").strip()
    stamp = _parse_stamp(raw) if raw else None
    if stamp is not None:
        return stamp.date().isoformat(), stamp.isoformat()
    t = entry.get("published_parsed") or entry.get("updated_parsed")
    if t:
        return dt.date(t.tm_year, t.tm_mon, t.tm_mday).isoformat(), None
    return None, None


def _parse_stamp(raw: str) -> dt.datetime | None:
    try:
        return email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None


def drop_furniture(text: str) -> tuple[str, int]:
    """Show notes without the lines feeds append (read more, WordPress credits, subscribe rows)."""
    kept, dropped = [], 0
    for para in text.split("\n\n"):
        line = " ".join(para.split())
        if any(p.search(line) for p in _FURNITURE):
            dropped += 1
            continue
        trimmed = _TRAILING.sub("", para)
        dropped += trimmed != para
        if trimmed.strip():
            kept.append(trimmed)
    return "\n\n".join(kept), dropped


def _plain(html: str | None) -> str:
    return " ".join(html_to_text(html).text.split()) if html else ""


def _subtitle(entry: Any, raw: RawItem) -> str | None:
    if raw.itunes_subtitle or entry.get("itunes_subtitle"):
        return _plain(raw.itunes_subtitle or entry.get("itunes_subtitle")) or None
    summary, description = _plain(raw.itunes_summary), _plain(raw.description)
    if summary and description and not (description.startswith(summary)
                                         or summary.startswith(description)):
        return summary
    return None


def _duration_seconds(value: str | None) -> int | None:
    """itunes:duration as seconds: "1820", "30:20" or "00:30:20"."""
    if not value or not re.fullmatch(r"\d+(?::\d{1,2}){0,2}(?:\.\d+)?", value.strip()):
        return None
    seconds = 0
    for part in value.strip().split(".")[0].split(":"):
        seconds = seconds * 60 + int(part)
    return seconds


def _explicit(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    v = str(value or "").strip().lower()
    return True if v in ("yes", "true", "explicit") else False if v in ("no", "false", "clean") else None


def _episode(entry: Any, raw: RawItem, n: int, show: Show, ctx: ReadContext) -> Document:
    html = ""
    if entry.get("content"):
        html = max((c.get("value") or "" for c in entry.content), key=len)
    html = html or entry.get("summary") or ""
    notes = html_to_text(html)
    for warning in notes.warnings:
        ctx.warn(f"{show.location} (item {n})", warning)
    text, furniture = drop_furniture(notes.text)
    text, calls = FIXED_ONLY.drop(text)  # the calls to action every publication prints
    furniture += calls
    persons = raw.persons or show.persons  # item persons replace the channel's (namespace spec)
    people = [p["name"] for p in persons if p["role"] in _HOSTS | {"guest"}]
    turns, transcript = _best_transcript(_transcript_links(entry, raw), show, people, ctx)
    if turns:
        text = (text + "\n\n" if text else "") + turns_text(turns)
    date, published = publication(entry)
    enclosures = [{"url": e.get("href"), "type": e.get("type"), "length": _int(e.get("length"))}
                  for e in entry.get("enclosures", [])]
    speakers = list(dict.fromkeys([*(t.speaker for t in turns if t.speaker), *people]))
    duration = entry.get("itunes_duration")
    kind = "episode" if enclosures or turns or duration else "post"
    key = entry.get("id") or entry.get("link") or f"{show.location}#{n}"
    return Document(
        id=stable_id("feed", key),
        kind=kind,
        source=show.location,
        position=f"item {n}",
        title=entry.get("title") or None,
        subtitle=_subtitle(entry, raw),
        date=date,
        url=_link(entry),
        authors=_authors(entry, raw, show),
        speakers=speakers,
        text=text,
        turns=turns,
        metadata={
            "format": "feed",
            "show": show.title,
            "guid": entry.get("id"),
            "published": published,
            "enclosures": enclosures,
            "duration": duration,
            "duration_seconds": _duration_seconds(duration),
            "season": raw.season or entry.get("itunes_season"),
            "episode": raw.episode or entry.get("itunes_episode"),
            "episode_type": entry.get("itunes_episodetype"),
            "explicit": _explicit(raw.explicit or entry.get("itunes_explicit")),
            "hosts": [p["name"] for p in persons if p["role"] in _HOSTS],
            "guests": [p["name"] for p in persons if p["role"] == "guest"],
            "chapters_url": (raw.chapters or {}).get("url"),
            "transcript_url": transcript,
            "links": notes.links,
            "furniture_dropped": furniture,
            "date_basis": ("feed pubDate (publisher's local date)" if published
                           else "feed date (UTC)" if date else None),
        },
    )


def _int(value: object) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _link(entry: Any) -> str | None:
    """The item's web page. A guid is no link unless it is an http(s) URL (feedparser copies a
    guid without isPermaLink="false" into link, "tidewater-ep-1" included)."""
    link = safe_url(entry.get("link"))
    return link if link and link.lower().startswith(("http://", "https://")) else None


def _transcript_links(entry: Any, raw: RawItem) -> list[dict[str, str]]:
    links = raw.transcripts
    if not links and isinstance(entry.get("podcast_transcript"), dict):
        links = [dict(entry["podcast_transcript"])]
    return sorted(links, key=lambda t: format_rank(transcript_format(urlsplit(t["url"]).path,
                                                                     t.get("type"))))


def _best_transcript(links: list[dict[str, str]], show: Show, people: list[str],
                     ctx: ReadContext) -> tuple[list[Turn], str | None]:
    """Turns from the best transcript that can be read: local files, or remote ones with
    --fetch. Remote ones left unread are counted, not reported as errors."""
    not_fetched = False
    for link in links:
        ref = link["url"]
        fmt = transcript_format(urlsplit(ref).path, link.get("type"))
        is_remote = show.remote or ref.startswith(("http://", "https://"))
        if is_remote and not ctx.fetch_remote:
            not_fetched = True
            continue
        try:
            data, label = (_remote(ref, show, ctx) if is_remote else _local_file(ref, show, ctx))
            turns = parse_transcript(data, fmt, label, known=people)
        except IngestError as exc:
            ctx.problems.append(exc)
            continue
        if turns:
            return turns, ref
    if not_fetched:
        ctx.counts["transcripts_not_fetched"] += 1
    return [], links[0]["url"] if links else None


def _remote(ref: str, show: Show, ctx: ReadContext) -> tuple[str, str]:
    target = urljoin(show.location, ref) if show.remote else ref
    return fetch(target, ctx), target


def _local_file(ref: str, show: Show, ctx: ReadContext) -> tuple[str, str]:
    base = Path(show.location).parent.resolve()
    path = (base / urlsplit(ref).path.lstrip("/")).resolve()
    if base not in path.parents:
        raise IngestError(show.location, f"transcript {ref} points outside the feed's folder, "
                                         "refused")
    if not path.is_file():
        raise IngestError(show.location, f"transcript {ref} referenced by the feed is missing")
    return read_text(path, ctx.limits), str(path)
