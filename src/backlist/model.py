"""The core vocabulary: sources are read into Documents, which are cut into Passages."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

# Kinds that are the writer's reading (saved articles), never their own work; a document of
# another kind is reading when marked so (Document.reading). Document.is_reading applies it.
READING_KINDS: tuple[str, ...] = ("article",)

_WORD = re.compile(r"\w+(?:[-'’]\w+)*")


def word_count(text: str) -> int:
    return len(_WORD.findall(text or ""))


def stable_id(*parts: str) -> str:
    """A short id that stays the same for the same natural key (post id, URL, feed guid…)."""
    key = "\x1f".join(p.strip() for p in parts if p)
    return hashlib.blake2b(key.encode("utf-8"), digest_size=6).hexdigest()


@dataclass
class Turn:
    """One speaker turn in an interview or transcript."""

    speaker: str | None
    text: str
    start: str | None = None  # timestamp as written, e.g. "01:07:30"


@dataclass
class Document:
    id: str
    kind: str
    source: str  # path (or URL) of the input this came from
    position: str  # where inside the source: a line, a file in a zip, a feed item
    text: str
    title: str | None = None
    subtitle: str | None = None
    date: str | None = None  # ISO 8601 date, or None when the date cannot be known
    url: str | None = None
    authors: list[str] = field(default_factory=list)
    speakers: list[str] = field(default_factory=list)
    audience: str | None = None
    comments: list[str] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    is_draft: bool = False
    duplicate_of: str | None = None
    # What the library knows about the piece beyond what its reader saw (not in content_hash):
    date_earliest: str | None = None  # ISO date bounds when the day is unknown: bounds, never a date
    date_latest: str | None = None
    aliases: list[str] = field(default_factory=list)  # other titles the piece is known as
    basis: dict[str, str] = field(default_factory=dict)  # field -> where its value came from
    corrected: list[str] = field(default_factory=list)  # fields the writer corrected
    reading: bool = False  # the writer marked it as reading, not their own work

    @property
    def is_reading(self) -> bool:
        """The writer's reading rather than their own work: marked so, or of a reading kind."""
        return self.reading or self.kind in READING_KINDS

    @property
    def words(self) -> int:
        return word_count(self.text)

    @property
    def content_hash(self) -> str:
        h = hashlib.sha256()
        for part in (self.kind, self.title or "", self.subtitle or "", self.date or "",
                     self.url or "", self.text, "\x1e".join(self.comments)):
            h.update(part.encode("utf-8"))
            h.update(b"\x1f")
        return h.hexdigest()[:32]


@dataclass
class Passage:
    doc_id: str
    idx: int
    text: str
    start: int  # character offsets into Document.text
    end: int
    speaker: str | None = None


@dataclass
class Source:
    """One unit of input: a file, a whole Substack export (folder or zip), or a feed URL,
    with the reader kind that takes it (see backlist.ingest.KINDS)."""

    path: str
    kind: str
