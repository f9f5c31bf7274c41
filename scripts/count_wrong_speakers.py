"""Count stored passages whose speaker is wrong, over the speaker labels of text dumps.

A dump (one episode per line) labels turns "Name: …". The speakers of an episode are found here
from the raw line, independently of the reader: a name of two to four capitalised words that
labels a turn (at the start of the line or right after sentence punctuation, spaced or not, or
glued to a word; with or without a time) at least twice. A stored passage of that episode is then

- wrong: labelled with one speaker while its text holds another known speaker's label at a turn
  start (the other speaker's words sit in it);
- unattributed: labelled with no speaker while its text holds a known speaker's label at a turn
  start (someone's words with nobody's name).

Usage: PYTHONPATH=src python scripts/count_wrong_speakers.py LIBRARY_DIR [--show N]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

from backlist.service import Library
from backlist.store.base import DocFilter

_NAME = r"[A-Z][\w’'\-]+(?:\s[A-Z][\w’'\-]+){1,3}"
# After sentence punctuation or a line break (spaced or not), or glued to the last word of a turn
# cut short ("…we'll seeAna Ruiz: Yes").
# A label may carry a time: "Name (00:05):", "Name [00:01:27]:", "01:07:30 Name:".
_TIME = r"\d{1,2}:\d{2}(?::\d{2})?"
_LABEL_AT_TURN = re.compile(
    rf"(?:(?:^|(?<=[.!?…”\"’)\]])|(?<=\n))\s*(?:{_TIME}\s+)?|(?<=[a-z]))({_NAME})(?:\s*[\[(]{_TIME}[\])])?:\s")


def labelled_names(text: str) -> set[str]:
    """Names labelling two or more turns in one episode's raw text."""
    counts = Counter(m.group(1) for m in _LABEL_AT_TURN.finditer(text))
    return {name for name, n in counts.items() if n >= 2}


def label_starts(text: str, names: set[str]) -> list[str]:
    """The known speakers whose label starts a turn inside `text`."""
    return [m.group(1) for m in _LABEL_AT_TURN.finditer(text) if m.group(1) in names]


def dump_speakers(path: str) -> dict[int, set[str]]:
    """Line number -> the speakers labelling turns on that line of a dump."""
    lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    return {i: names for i, line in enumerate(lines, start=1) if (names := labelled_names(line))}


def count(library: Path, show: int = 0) -> dict[str, int]:
    totals: Counter[str] = Counter()
    with Library(library, read_only=True) as lib:
        docs = [d for d in lib.list(DocFilter(include_drafts=True))
                if str(d.metadata.get("format", "")).startswith("text dump")]
        by_source: dict[str, dict[int, set[str]]] = {}
        for doc in docs:
            if doc.source not in by_source:
                by_source[doc.source] = dump_speakers(doc.source)
            line = int(str(doc.position).removeprefix("line ")) if doc.position else 0
            names = by_source[doc.source].get(line, set()) | set(doc.speakers)
            if len(names) < 2:
                continue
            totals["episodes with speakers"] += 1
            for p in lib.store.doc_passages(doc.id):
                totals["passages"] += 1
                found = label_starts(p.text, names)
                others = [n for n in found if n != p.speaker]
                if p.speaker and others:
                    totals["wrong"] += 1
                    kind = "wrong"
                elif not p.speaker and found:
                    totals["unattributed"] += 1
                    kind = "unattributed"
                else:
                    continue
                if show > 0:
                    show -= 1
                    print(f"{kind}: {doc.id} ¶{p.idx} labelled {p.speaker!r}, holds {sorted(set(found))}",
                          file=sys.stderr)
    return {k: totals[k] for k in ("episodes with speakers", "passages", "wrong", "unattributed")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("library", type=Path)
    ap.add_argument("--show", type=int, default=0, help="print the first N bad passages")
    args = ap.parse_args()
    for key, value in count(args.library, args.show).items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
