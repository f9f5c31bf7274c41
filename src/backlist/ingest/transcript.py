"""Transcripts: WebVTT, SRT, or plain text with `HH:MM:SS Name:` turns. Turns keep their speaker."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import webvtt

from backlist.errors import IngestError
from backlist.ingest.base import ReadContext
from backlist.ingest.textio import read_text
from backlist.model import Document, Turn, stable_id

# "01:07:30 Ana Ruiz:" or "[00:12] Host:"; names are 1-5 capitalised words.
TURN = re.compile(
    r"\[?(?P<ts>\b\d{1,2}:\d{2}(?::\d{2})?)\]?\s+"
    r"(?P<name>[A-Z][\w.’'\-]*(?:\s+(?:[A-Z][\w.’'\-]*|de|van|von|da|del|la|le)){0,4}):\s*"
)
_SPEAKER_PREFIX = re.compile(r"^(?P<name>[A-Z][\w.’'\-]*(?:\s+[A-Z][\w.’'\-]*){0,3}):\s+")
_VOICE = re.compile(r"<v(?:\.[^ >]+)*\s+([^>]+)>")
_TAGS = re.compile(r"</?[^>]+>")


def turns_from_text(text: str) -> list[Turn]:
    """Turns marked inline by timestamps and names; text before the first turn is dropped."""
    matches = list(TURN.finditer(text))
    turns: list[Turn] = []
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        body = text[m.end():end].strip()
        if body:
            turns.append(Turn(speaker=m["name"].strip(), text=body, start=m["ts"]))
    return turns


def turns_from_captions(data: str, fmt: str, label: str) -> list[Turn]:
    try:
        captions = webvtt.from_buffer(io.StringIO(data), format=fmt)
    except Exception as exc:  # webvtt raises its own MalformedFileError / MalformedCaptionError
        raise IngestError(label, f"malformed {fmt.upper()} ({exc})") from exc
    turns: list[Turn] = []
    for cap in captions:
        raw = cap.raw_text if hasattr(cap, "raw_text") else cap.text
        voice = _VOICE.search(raw or "")
        speaker = voice.group(1).strip() if voice else None
        text = " ".join(_TAGS.sub("", raw or "").split())
        if speaker is None and (m := _SPEAKER_PREFIX.match(text)):
            speaker, text = m["name"], text[m.end():]
        if not text:
            continue
        start = cap.start.split(".")[0].split(",")[0]
        if turns and turns[-1].speaker == speaker:
            turns[-1].text += " " + text
        else:
            turns.append(Turn(speaker=speaker, text=text, start=start))
    return turns


def parse_transcript(data: str, fmt: str, label: str) -> list[Turn]:
    if fmt in ("vtt", "srt"):
        return turns_from_captions(data, fmt, label)
    turns = turns_from_text(data)
    if not turns:  # plain lines "Name: text" with no timestamps
        for line in data.splitlines():
            if m := _SPEAKER_PREFIX.match(line.strip()):
                turns.append(Turn(speaker=m["name"], text=line.strip()[m.end():]))
            elif line.strip() and turns:
                turns[-1].text += "\n" + line.strip()
    return turns


def turns_text(turns: list[Turn]) -> str:
    return "\n\n".join(f"{t.speaker}: {t.text}" if t.speaker else t.text for t in turns)


def transcript_format(path: Path | str) -> str:
    suffix = str(path).lower().rsplit(".", 1)[-1]
    return suffix if suffix in ("vtt", "srt") else "txt"


def looks_like_transcript(text: str) -> bool:
    head = text[:20000]
    return len(TURN.findall(head)) >= 3 or head.lstrip().startswith("WEBVTT")


def read_transcript_file(path: Path, ctx: ReadContext) -> Iterator[Document]:
    label = str(path)
    data = read_text(path, ctx.limits)
    turns = parse_transcript(data, transcript_format(path), label)
    if not turns:
        raise IngestError(label, "no transcript turns found")
    speakers = list(dict.fromkeys(t.speaker for t in turns if t.speaker))
    yield Document(
        id=stable_id("transcript", path.name),
        kind="transcript",
        source=label,
        position="whole file",
        title=path.stem.replace("-", " ").replace("_", " ").strip().capitalize(),
        text=turns_text(turns),
        speakers=speakers,
        turns=turns,
        metadata={"format": transcript_format(path), "title_basis": "file name"},
    )
