"""Publication furniture: the sentences a publication repeats around the writer's words ("X is a
reader-supported publication.", "Listen on Apple Podcasts, Spotify…"). They are not content, and
left in they rank in search and look like quotations of one piece by another.

Two sources of knowledge: a fixed list of the calls to action hosting services and newsletters
print, and what a source teaches about itself. A sentence is learned as furniture when it is
a whole sentence (headings are not), short (MIN_WORDS to MAX_WORDS words) and recurs in at
least `min_pieces(n)` of the source's n pieces (max(MIN_PIECES, 10% of n); a source of fewer
than MIN_SOURCE_PIECES pieces teaches nothing). Quotations of one piece by another are long,
or recur in a few pieces only: kept.

Readers call `Furniture.learn(texts)` once per source, then `furniture.drop(text)` per piece
(see textdump.read_dump); a reader of single pieces uses `FIXED_ONLY.drop(text)`. Speaker turns
are what someone said: only the fixed list applies to them (`FIXED_ONLY.drop_from_turns`), so a
line of dialogue repeated across interviews ("Thanks for having me.") is never learned away.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from backlist.model import Turn

MIN_WORDS, MAX_WORDS = 4, 20
MIN_PIECES = 5
MIN_SOURCE_PIECES = 6
SHARE = 0.10

# Whole sentences (normalised: case-folded, straight quotes, single spaces) that are furniture
# wherever they appear.
_FIXED = [re.compile(p) for p in (
    r"[^.!?]{1,80} is a reader-supported publication\.",
    r"(?:to receive new posts and support my work, )?consider becoming a (?:free or paid )?"
    r"(?:subscriber|member)\.",
    r"subscribe for free to receive new posts and support my work\.",
    r"thanks for reading [^.!?]{1,80}! subscribe for free to receive new posts and support my work\.",
    r"(?:listen|subscribe|follow)(?: to| on| and subscribe on)? (?:apple podcasts|spotify|youtube|"
    r"overcast|pocket casts)\b[^.!?]{0,160}[.!]?",
    r"for (?:other|more) [^.!?]{1,60} (?:interviews|episodes), go here\.",
    r"(?:share this (?:post|episode)|leave a comment|subscribe now|give a gift subscription)[.!]?",
    r"get full access to [^ ]{1,80}(?: [^ ]{1,80}){0,8} at \S+",
)]
# A sentence ends at . ! ? or … (with a closing quote or bracket), before a space and what opens
# the next one; list items and paragraphs end sentences too.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[”\"’)\]]*\s+(?=[A-Z0-9“\"‘(\[*-])")
_LIST_NUMBER = re.compile(r"\d{1,2}\.")
_ENDED = re.compile(r"[.!?…][”\"’)\]]*$")  # a sentence, not a heading: headings are structure


def normalise(sentence: str) -> str:
    return " ".join(sentence.replace("’", "'").replace("“", '"').replace("”", '"').split()).casefold()


def sentences(paragraph: str) -> list[str]:
    """A paragraph cut at sentence ends (each piece keeps its trailing punctuation)."""
    out, pos = [], 0
    for m in _SENTENCE_END.finditer(paragraph):
        out.append(paragraph[pos:m.start()] + m.group(0).rstrip())
        pos = m.end()
    out.append(paragraph[pos:])
    merged: list[str] = []
    for s in (s.strip() for s in out if s.strip()):
        if merged and _LIST_NUMBER.fullmatch(merged[-1]):
            merged[-1] += " " + s  # "3. A list item" is one sentence
        else:
            merged.append(s)
    return merged


def min_pieces(n: int) -> int:
    """How many of a source's n pieces a sentence must recur in to be learned as furniture."""
    return max(MIN_PIECES, math.ceil(SHARE * n))


def is_fixed(sentence: str) -> bool:
    key = normalise(sentence)
    return any(p.fullmatch(key) for p in _FIXED)


@dataclass(frozen=True)
class Furniture:
    """The furniture of one source: the fixed list plus the sentences learned from it."""

    learned: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def learn(cls, texts: Iterable[str]) -> Furniture:
        """Short sentences recurring across many of the pieces (one text per piece)."""
        texts = list(texts)
        if len(texts) < MIN_SOURCE_PIECES:
            return cls()
        need = min_pieces(len(texts))
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update({normalise(s) for para in text.split("\n") for s in sentences(para)
                           if MIN_WORDS <= len(s.split()) <= MAX_WORDS and _ENDED.search(s)})
        return cls(frozenset(k for k, n in counts.items() if n >= need))

    def __contains__(self, sentence: object) -> bool:
        return isinstance(sentence, str) and (is_fixed(sentence) or normalise(sentence) in self.learned)

    def drop(self, text: str) -> tuple[str, int]:
        """`text` without its furniture sentences (paragraphs left empty go too), and how many
        sentences were dropped."""
        kept_paras, dropped = [], 0
        for para in re.split(r"\n\s*\n", text):
            lines = []
            for line in para.split("\n"):
                parts = sentences(line)
                keep = [s for s in parts if s not in self]
                dropped += len(parts) - len(keep)
                if keep:
                    lines.append(" ".join(keep) if len(keep) < len(parts) else line)
            if lines:
                kept_paras.append("\n".join(lines))
        return ("\n\n".join(kept_paras) if dropped else text), dropped

    def drop_from_turns(self, turns: list[Turn]) -> tuple[list[Turn], int]:
        """Speaker turns without furniture sentences (a turn left empty goes), and how many
        sentences were dropped."""
        out, dropped = [], 0
        for turn in turns:
            text, n = self.drop(turn.text)
            dropped += n
            if text.strip():
                out.append(turn if not n else Turn(speaker=turn.speaker, text=text, start=turn.start))
        return out, dropped


FIXED_ONLY = Furniture()
