"""Transcripts: WebVTT, SRT, Podcasting 2.0 JSON, the namespace's HTML form, or plain text with
`HH:MM:SS Name:` turns. Turns keep their speaker.

Caption files exported by podcast hosts label a speaker on the first caption of a turn only;
the turn runs on over the following captions until another label appears. A name counts as a
speaker when it labels turns (twice or more, at the start of a caption or run on after a sentence
inside one: "…tonight.Wen Li: Cover it."), or when it is a known voice or podcast:person;
"Note: …" once at the start of a caption is dialogue, not a speaker. A known speaker's label run
on inside a caption starts that speaker's turn there.
"""

from __future__ import annotations

import html
import io
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import webvtt
from selectolax.lexbor import LexborHTMLParser

from backlist.errors import IngestError
from backlist.ingest.base import ReadContext
from backlist.ingest.furniture import FIXED_ONLY
from backlist.ingest.html import tame_html
from backlist.ingest.textio import read_text
from backlist.model import Document, Turn, stable_id

# "01:07:30 Ana Ruiz:" or "[00:12] Host:"; names are 1-5 capitalised words.
TURN = re.compile(
    r"\[?(?P<ts>\b\d{1,2}:\d{2}(?::\d{2})?)\]?\s+"
    r"(?P<name>[A-Z][\w.’'\-]*(?:\s+(?:[A-Z][\w.’'\-]*|de|van|von|da|del|la|le)){0,4}):\s*"
)
_NAME = r"[A-Z][\w.’'\-]*(?:[ \t]+(?:[A-Z][\w.’'\-]*|\d+|de|van|von|da|del|la|le|di|du|al|bin)){0,3}"
_TS = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?"
# A label at the start of a caption or line: "Name:", "NAME:", "[Name]", "[Name]:", ">> Name:",
# "- Name:", "Name (00:05):"; the colon must end the label (so "https://…" is no label).
_LABEL = re.compile(
    rf"^(?:>>[ \t]*|-[ \t]+)?(?:\[(?P<bracket>{_NAME})\]:?|(?P<name>{_NAME})(?:[ \t]*\({_TS}\))?:)(?=\s|$)\s*"
)
# Otter's text export: the speaker and the time on a line of their own ("Ana Ruiz  0:12").
_OTTER_HEADER = re.compile(rf"^(?P<name>{_NAME})[ \t]{{2,}}(?P<ts>{_TS})[ \t]*$")
_VOICE = re.compile(r"<v(?:\.[^ \t>]+)*[ \t]+([^>]+)>")
_TAGS = re.compile(r"</?[A-Za-z][^>]*>|<\d{1,2}:\d{2}[^>]*>")
# Words that start captions with a colon, or sit in brackets, without being anyone's name.
_NOT_NAMES = {"note", "notes", "nb", "ps", "p.s", "update", "edit", "warning", "tip", "example",
              "source", "sources", "correction", "disclaimer", "i", "summary", "transcript", "links",
              "chapters", "music", "laughter", "laughs", "laughing", "applause", "inaudible",
              "crosstalk", "silence", "pause", "cheering", "sound", "noise", "intro", "outro",
              "theme music", "intro music", "outro music", "music playing", "ad", "break"}
_FORMAT_RANK = {"json": 0, "vtt": 1, "srt": 2, "html": 3, "txt": 4}


@dataclass
class Cue:
    """One caption, segment or line before speakers are settled."""

    text: str
    start: str | None = None
    voice: str | None = None  # a <v Name> voice or a JSON speaker field: always a speaker


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


def _clean(raw: str) -> str:
    """Caption text without tags (<c>, <i>, <b>, inline timestamps) and with entities decoded."""
    return " ".join(html.unescape(_TAGS.sub("", raw)).split())


def _hms(value: str | None) -> str | None:
    return value.split(".")[0].split(",")[0] if value else None


def cues_from_captions(data: str, fmt: str, label: str) -> list[Cue]:
    try:
        captions = webvtt.from_buffer(io.StringIO(data), format=fmt)
    except Exception as exc:  # webvtt raises its own MalformedFileError / MalformedCaptionError
        raise IngestError(label, f"malformed {fmt.upper()} ({exc})") from exc
    cues: list[Cue] = []
    for cap in captions:  # type: ignore[attr-defined]  # WebVTT/SRT objects iterate captions
        raw = cap.raw_text if hasattr(cap, "raw_text") else cap.text
        cues.extend(_voice_cues(raw or "", _hms(cap.start)))
    return cues


def _voice_cues(raw: str, start: str | None) -> list[Cue]:
    """A caption may hold several <v> spans, one per voice: each becomes its own cue."""
    spans = list(_VOICE.finditer(raw))
    if not spans:
        return [Cue(_clean(raw), start)]
    cues = [Cue(_clean(raw[:spans[0].start()]), start)] if raw[:spans[0].start()].strip() else []
    for i, m in enumerate(spans):
        end = spans[i + 1].start() if i + 1 < len(spans) else len(raw)
        cues.append(Cue(_clean(raw[m.end():end]), start, html.unescape(m.group(1)).strip()))
    return cues


def _seconds_to_hms(value: object) -> str | None:
    try:
        total = int(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def looks_like_json_transcript(head: str) -> bool:
    """The Podcasting 2.0 JSON transcript (`{"version": …, "segments": [{"body": …}]}`), judged
    from the first part of a file (it may be cut short, so it is not parsed)."""
    text = head.lstrip("\ufeff \t\r\n")
    return (text.startswith("{") and re.search(r'"segments"\s*:\s*\[', text) is not None
            and ('"body"' in text or '"version"' in text))


def cues_from_json(data: str, label: str) -> list[Cue]:
    try:
        obj = json.loads(data.lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        raise IngestError(label, f"malformed JSON transcript ({exc.msg} at line {exc.lineno})") from exc
    except (RecursionError, ValueError) as exc:
        raise IngestError(label, "malformed JSON transcript (nested too deeply)") from exc
    segments = obj.get("segments") if isinstance(obj, dict) else None
    if not isinstance(segments, list):
        raise IngestError(label, "not a Podcasting 2.0 JSON transcript (no \"segments\" list)")
    cues = []
    for seg in segments:
        if not isinstance(seg, dict) or not isinstance(seg.get("body"), str):
            continue
        speaker = seg.get("speaker")
        voice = " ".join(speaker.split()) if isinstance(speaker, str) and speaker.strip() else None
        cues.append(Cue(" ".join(seg["body"].split()), _seconds_to_hms(seg.get("startTime")), voice))
    return cues


def cues_from_html(data: str) -> list[Cue]:
    """The namespace's HTML transcript: <cite>Name:</cite> <time>0:00</time> <p>words</p>."""
    tree = LexborHTMLParser(tame_html(data)[0])  # depth-guarded before the C parser
    cues: list[Cue] = []
    speaker, start = None, None
    for node in tree.css("cite, time, p"):
        text = " ".join(node.text(deep=True).split())
        if node.tag == "cite":
            speaker = text.rstrip(":").strip() or None
        elif node.tag == "time":
            start = text or None
        elif text:
            cues.append(Cue(text, start, speaker))
    return cues


def cues_from_lines(data: str) -> list[Cue]:
    cues: list[Cue] = []
    for line in data.splitlines():
        line = line.strip()
        if not line:
            continue
        if m := _OTTER_HEADER.match(line):
            cues.append(Cue("", m["ts"], m["name"]))
        else:
            cues.append(Cue(line))
    return cues


def _label(text: str) -> tuple[str | None, int]:
    """The label a cue starts with, and where its words begin."""
    m = _LABEL.match(text)
    if not m:
        return None, 0
    return " ".join((m["bracket"] or m["name"]).split()), m.end()


def _key(name: str) -> str:
    return name.casefold()


def _display(name: str) -> str:
    return name.title() if name.isupper() and len(name) > 1 else name


def label_turns(cues: list[Cue], known: Iterable[str] = (), carry: bool = True) -> list[Turn]:
    """Turn cues into speaker turns. A label sets the speaker until the next label (`carry`);
    ">>" alone marks a change to an unnamed speaker."""
    names: dict[str, str] = {}
    for name in [*known, *(c.voice for c in cues if c.voice)]:
        names.setdefault(_key(name), name)
    # Labels at the start of a cue, and labels run on after a sentence inside one.
    labels = [lab for c in cues if not c.voice and (lab := _label(c.text)[0])]
    labels += [" ".join(m["name"].split()) for c in cues for m in _RUN_ON_LABEL.finditer(c.text)]
    counts = Counter(_key(lab) for lab in labels)
    for lab in labels:
        k = _key(lab)
        if k not in names and counts[k] >= 2 and k not in _NOT_NAMES:
            names[k] = _display(lab)
    cues = _split_run_on_cues(cues, RunOnLabels.of(names.values()))
    turns: list[Turn] = []
    speaker: str | None = None
    for c in cues:
        text = c.text
        if c.voice:
            speaker = names[_key(c.voice)]
        else:
            lab, end = _label(text)
            if lab and _key(lab) in names:
                speaker, text = names[_key(lab)], text[end:]
            elif text.startswith(">>"):
                speaker, text = None, text[2:].strip()
            elif not carry:
                speaker = None
        _add(turns, speaker, text, c.start)
    return [t for t in turns if t.text]


def _split_run_on_cues(cues: list[Cue], labels: RunOnLabels) -> list[Cue]:
    """A cue running on into a known speaker's label ("…tonight.Wen Li: Cover it.") becomes
    one cue per speaker; the labelled part counts as that speaker's voice."""
    out: list[Cue] = []
    for c in cues:
        (_, _, first), *rest = labels.split(c.text)
        if not rest:
            out.append(c)
            continue
        if first:
            out.append(Cue(first, c.start, c.voice))
        out.extend(Cue(text, start or c.start, speaker) for speaker, start, text in rest)
    return out


def _add(turns: list[Turn], speaker: str | None, text: str, start: str | None) -> None:
    if turns and turns[-1].speaker == speaker:
        turns[-1].text = f"{turns[-1].text} {text}".strip() if text else turns[-1].text
    else:
        turns.append(Turn(speaker=speaker, text=text, start=start))


# Where a run-on label may start: after sentence punctuation (spaced or not), or glued to the last
# word of a turn cut short ("…we'll seeAna Ruiz:"; names of two words or more only).
_RUN_ON_AFTER_PUNCT = r"(?<=[.!?…”\"’)\]])[ \t]*"
_RUN_ON_AFTER_WORD = r"(?<=[a-z])"
_RUN_ON_LABEL = re.compile(rf"{_RUN_ON_AFTER_PUNCT}(?P<name>{_NAME}):(?=\s)")


@dataclass
class RunOnLabels:
    """The labels of known speakers as they run on inside a turn's text."""

    canon: dict[str, str]  # casefolded name -> the name as shown
    pattern: re.Pattern[str] | None

    @classmethod
    def of(cls, names: Iterable[str]) -> RunOnLabels:
        canon: dict[str, str] = {}
        for name in names:
            if name and _key(name) not in _NOT_NAMES and not name[0].isdigit():
                canon.setdefault(_key(name), name)
        forms = sorted({f for n in canon.values() for f in (n, n.upper())}, key=len, reverse=True)
        if not forms:
            return cls(canon, None)
        multi = [f for f in forms if " " in f]
        label = f"{_RUN_ON_AFTER_PUNCT}(?P<name>{'|'.join(map(re.escape, forms))})"
        if multi:
            label = f"(?:{label}|{_RUN_ON_AFTER_WORD}(?P<glued>{'|'.join(map(re.escape, multi))}))"
        return cls(canon, re.compile(rf"{label}(?:[ \t]*[\[(](?P<ts>{_TS})[\])])?:(?=\s|$)\s*"))

    def split(self, text: str) -> list[tuple[str | None, str | None, str]]:
        """(speaker, start, words) pieces of `text`; the first piece has no speaker of its own."""
        pieces: list[tuple[str | None, str | None, str]] = []
        speaker, start, pos = None, None, 0
        for m in self.pattern.finditer(text) if self.pattern else ():
            pieces.append((speaker, start, text[pos:m.start()].strip()))
            speaker, start, pos = self.canon[_key(m["name"] or m["glued"])], _hms(m["ts"]), m.end()
        pieces.append((speaker, start, text[pos:].strip()))
        return pieces


def split_run_on_labels(turns: list[Turn], known: Iterable[str] = ()) -> list[Turn]:
    """Turns whose text runs on into another known speaker's label ("…good.Ana Ruiz: Yes.") are
    split there, so no turn holds two people's words. Known speakers are the ones labelling turns
    and the `known` names (listed speakers); "Note:" or "10:30" are never labels."""
    labels = RunOnLabels.of([*known, *(t.speaker or "" for t in turns)])
    out: list[Turn] = []
    for turn in turns:
        for i, (speaker, start, text) in enumerate(labels.split(turn.text)):
            out.append(Turn(speaker=turn.speaker, text=text, start=turn.start) if i == 0
                       else Turn(speaker=speaker, text=text, start=start))
    return [t for t in out if t.text]


def turns_from_captions(data: str, fmt: str, label: str, known: Iterable[str] = ()) -> list[Turn]:
    return label_turns(cues_from_captions(data, fmt, label), known)


def parse_transcript(data: str, fmt: str, label: str, known: Iterable[str] = ()) -> list[Turn]:
    """Speaker turns from a transcript in `fmt` (vtt, srt, json, html or txt)."""
    known = list(known)
    if fmt in ("vtt", "srt"):
        turns = turns_from_captions(data, fmt, label, known)
    elif fmt == "json" or (fmt == "txt" and looks_like_json_transcript(data[:4096])):
        turns = label_turns(cues_from_json(data, label), known, carry=False)
    elif fmt == "html":
        turns = label_turns(cues_from_html(data), known)
    else:
        turns = split_run_on_labels(turns_from_text(data), known) or \
            label_turns(cues_from_lines(data), known)
    return turns


def turns_text(turns: list[Turn]) -> str:
    return "\n\n".join(f"{t.speaker}: {t.text}" if t.speaker else t.text for t in turns)


def transcript_format(path: Path | str, mime: str | None = None) -> str:
    """vtt, srt, json, html or txt, by MIME type when given, else by file name."""
    by_mime = {"text/vtt": "vtt", "application/x-subrip": "srt", "application/srt": "srt",
               "text/srt": "srt", "application/json": "json", "text/json": "json",
               "text/html": "html", "text/plain": "txt"}
    if mime and (fmt := by_mime.get(mime.split(";")[0].strip().lower())):
        return fmt
    suffix = str(path).lower().rsplit(".", 1)[-1]
    aliases = {"htm": "html", "webvtt": "vtt"}
    suffix = aliases.get(suffix, suffix)
    return suffix if suffix in _FORMAT_RANK else "txt"


def format_rank(fmt: str) -> int:
    """Lower is better: JSON and captions keep speakers and times, HTML and text may not."""
    return _FORMAT_RANK.get(fmt, len(_FORMAT_RANK))


def looks_like_transcript(text: str) -> bool:
    head = text[:20000]
    return (len(TURN.findall(head)) >= 3 or head.lstrip("\ufeff").startswith("WEBVTT")
            or looks_like_json_transcript(head))


def read_transcript_file(path: Path, ctx: ReadContext) -> Iterator[Document]:
    label = str(path)
    data = read_text(path, ctx.limits)
    fmt = "json" if looks_like_json_transcript(data[:4096]) else transcript_format(path)
    turns, furniture = FIXED_ONLY.drop_from_turns(parse_transcript(data, fmt, label))
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
        metadata={"format": fmt, "title_basis": "file name", "furniture_dropped": furniture},
    )
