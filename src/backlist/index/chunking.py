"""Cut documents into passages that fit the embedding model's window, along natural breaks."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from backlist.model import Document, Passage

# Bump when chunk() cuts passages differently: the next ingest re-chunks every document (passages
# whose text is unchanged keep their embeddings).
CHUNKER_VERSION = "3"  # 3: a heading opens the next passage
HEADING_WORDS = 14
MAX_TOKENS = 200  # all-MiniLM-L6-v2 reads 256 word pieces; the title prefix takes the rest
_PARA = re.compile(r"[^\n]+(?:\n(?!\n)[^\n]+)*")
_SENT = re.compile(r"[^.!?]+(?:[.!?]+[”\"’)]*|$)\s*")
_WORD = re.compile(r"\S+")
_TURN = re.compile(r"^([A-Z][\w.’'\-]*(?:\s[A-Z][\w.’'\-]*){0,3}): ")

MANY_PARAGRAPHS = 20_000  # beyond this many paragraphs in one document, short ones are grouped
GROUP_CHARS = 480  # ...into spans of about this many characters (under MAX_TOKENS word pieces)
COUNT_BATCH = 1024  # texts tokenized at once (bounds the tokenizer's memory)
COUNT_MAX_CHARS = 8_000  # longer texts are far over any window: estimated, not tokenized
TokenCounter = Callable[[Sequence[str]], list[int]]


@lru_cache(maxsize=1)
def default_counter() -> TokenCounter:
    """Counts word pieces with the default model's own tokenizer (shipped in its package)."""
    from tokenizers import Tokenizer

    from backlist.index.embed import default_model_path

    tok = Tokenizer.from_file(str(default_model_path() / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()

    def count(texts: Sequence[str]) -> list[int]:
        # In batches: one Encoding per text is far larger than the text (offsets, masks, word
        # ids), so a document of a million short lines must not hold a million at once.
        # A text too long to be one unit anyway is estimated, not tokenized (a 20 MB caption cue
        # would need gigabytes of offsets); the caller then cuts it at sentences or words.
        out: list[int] = []
        for i in range(0, len(texts), COUNT_BATCH):
            batch = list(texts[i:i + COUNT_BATCH])
            short = [t for t in batch if len(t) <= COUNT_MAX_CHARS]
            counted = iter(len(e.ids) - 2 for e in tok.encode_batch(short, add_special_tokens=True))
            out += [next(counted) if len(t) <= COUNT_MAX_CHARS else _estimate(t) for t in batch]
        return out

    return count


def _estimate(text: str) -> int:
    """Word pieces in a long text, from below: at least one per word, one per 4 characters."""
    return max(len(text) // 4, sum(1 for _ in re.finditer(r"\S+", text)))


def chunk(doc: Document, max_tokens: int = MAX_TOKENS,
          counter: TokenCounter | None = None) -> list[Passage]:
    """Passages of at most `max_tokens` word pieces. A document with speaker turns is cut so
    that a passage never mixes speakers: every speaker change starts a new passage, and a long
    turn becomes several passages of that one speaker (Passage.speaker)."""
    counter = counter or default_counter()
    marks = turn_marks(doc)
    spans = _units(doc.text, max_tokens, counter)
    if marks is not None:
        offsets = [m for m, _ in marks]
        spans = [(s, e, n, marks[bisect.bisect_right(offsets, s) - 1][1]) for s, e, n, _ in spans]
    passages: list[Passage] = []
    cur: list[tuple[int, int, int, str | None]] = []
    cur_tokens = 0

    def flush() -> None:
        nonlocal cur, cur_tokens
        if cur:
            start, end = cur[0][0], cur[-1][1]
            speakers = [s for *_, s in cur if s]
            # ties go to the first speaker (a set would make it depend on PYTHONHASHSEED)
            speaker = max(dict.fromkeys(speakers), key=speakers.count) if speakers else None
            passages.append(Passage(doc.id, len(passages), doc.text[start:end], start, end, speaker))
        cur, cur_tokens = [], 0

    for start, end, tokens, speaker in spans:
        if cur and cur_tokens + tokens > max_tokens:
            # a heading opens the passage after it, not the end of the one before
            last = cur[-1]
            carry = [last] if (len(cur) > 1 and last[3] == speaker and last[2] + tokens <= max_tokens
                               and _is_heading(doc.text, last[0], last[1])) else []
            if carry:
                cur, cur_tokens = cur[:-1], cur_tokens - carry[0][2]
            flush()
            cur, cur_tokens = carry, sum(c[2] for c in carry)
        elif marks is not None and cur and cur[-1][3] != speaker:
            flush()  # one speaker per passage
        # Without turns: a "Name: " paragraph starts a new passage once this one has substance.
        elif marks is None and cur and speaker and cur[-1][3] != speaker and cur_tokens >= max_tokens * 0.6:
            flush()
        cur.append((start, end, tokens, speaker))
        cur_tokens += tokens
    flush()
    return passages


def _is_heading(text: str, start: int, end: int) -> bool:
    """A paragraph of one short line without closing punctuation, no list item, no speaker label."""
    para = text[start:end].strip()
    whole = (start == 0 or text[start - 1] == "\n") and (end == len(text) or text[end] == "\n")
    return (whole and 0 < len(para.split()) <= HEADING_WORDS and "\n" not in para
            and para[0].isupper() and para[-1] not in ".!?:;,…”\"’)" and not _TURN.match(para + " "))


def turn_marks(doc: Document) -> list[tuple[int, str | None]] | None:
    """Where each speaker turn starts in doc.text, with its speaker; None when the document has
    no named speakers (posts, articles: chunked as before, by paragraph labels)."""
    if not any(t.speaker for t in doc.turns):
        return None
    rendered = [f"{t.speaker}: {t.text}" if t.speaker else t.text for t in doc.turns]
    tail = "\n\n".join(rendered)
    if tail and doc.text.endswith(tail):  # notes (if any), then the turns as turns_text wrote them
        pos, marks = len(doc.text) - len(tail), []
        for t, r in zip(doc.turns, rendered):
            marks.append((pos, t.speaker))
            pos += len(r) + 2
        return _with_preamble(marks)
    return _with_preamble(_search_marks(doc))


def _search_marks(doc: Document) -> list[tuple[int, str | None]]:
    """Turn starts found in order, when the text was rebuilt from the turns in another way."""
    marks, pos = [], 0
    for t in doc.turns:
        needle = f"{t.speaker}: " if t.speaker else " ".join(t.text.split()[:8])
        i = _para_find(doc.text, needle, pos) if t.speaker else doc.text.find(needle, pos)
        if needle and i >= 0:
            marks.append((i, t.speaker))
            pos = i + len(needle)
    return marks


def _para_find(text: str, needle: str, pos: int) -> int:
    """The first `needle` at or after `pos` that starts a line."""
    while (i := text.find(needle, pos)) >= 0:
        if i == 0 or text[i - 1] == "\n":
            return i
        pos = i + 1
    return -1


def _with_preamble(marks: list[tuple[int, str | None]]) -> list[tuple[int, str | None]]:
    return [(0, None), *marks] if not marks or marks[0][0] > 0 else marks


def _units(text: str, max_tokens: int, counter: TokenCounter) -> list[tuple[int, int, int, str | None]]:
    """Paragraph spans with token counts; paragraphs too long are cut at sentences, then words."""
    paras = [(m.start(), m.end()) for m in _PARA.finditer(text) if text[m.start():m.end()].strip()]
    if len(paras) > MANY_PARAGRAPHS:
        paras = _grouped(paras, GROUP_CHARS)
    counts = counter([text[s:e] for s, e in paras]) if paras else []
    units: list[tuple[int, int, int, str | None]] = []
    speaker = None
    for (s, e), n in zip(paras, counts):
        m = _TURN.match(text[s:e])
        speaker = m.group(1) if m else None
        if n <= max_tokens:
            units.append((s, e, n, speaker))
            continue
        sents = [(s + m.start(), s + m.end()) for m in _SENT.finditer(text[s:e]) if m.group().strip()]
        scounts = counter([text[a:b] for a, b in sents])
        for (a, b), k in zip(sents, scounts):
            if k <= max_tokens:
                units.append((a, _rstrip(text, a, b), k, speaker))
            else:
                units.extend((x, y, c, speaker) for x, y, c in _by_words(text, a, b, max_tokens))
    return units


def _grouped(paras: list[tuple[int, int]], chars: int) -> list[tuple[int, int]]:
    """Runs of short paragraphs as one span of up to `chars` characters: a file of a million
    short lines is counted (and cut) in thousands of pieces, not a million."""
    out: list[tuple[int, int]] = []
    for s, e in paras:
        if out and e - out[-1][0] <= chars:
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _rstrip(text: str, a: int, b: int) -> int:
    while b > a and text[b - 1].isspace():
        b -= 1
    return b


def _by_words(text: str, a: int, b: int, max_tokens: int) -> list[tuple[int, int, int]]:
    """Groups of words, streamed (a single 20 MB cue is millions of words, never all held)."""
    step = max(1, int(max_tokens / 1.6))  # word pieces per word stays well under 1.6 in prose
    out = []
    first = last = n = 0
    for m in _WORD.finditer(text, a, b):
        if n == 0:
            first = m.start()
        last, n = m.end(), n + 1
        if n == step:
            out.append((first, last, min(max_tokens, int(n * 1.6))))
            n = 0
    if n:
        out.append((first, last, min(max_tokens, int(n * 1.6))))
    return out


def embedding_text(title: str | None, passage: str) -> str:
    """What the encoder sees: the title gives a passage its context."""
    return f"{title}. {passage}" if title else passage
