"""Count publication furniture left in a library's stored text.

Furniture is what backlist.ingest.furniture recognises: the fixed list of calls to action, plus
the short sentences each source repeats across many of its pieces, learned here from the stored
text of the libraries given with --learn-from (default: the library itself). To compare a
library read before and after a change, learn from both, so that what the new reader dropped is
still looked for:

    PYTHONPATH=src python scripts/count_furniture.py NEW_LIB --learn-from OLD_LIB --learn-from NEW_LIB
"""

from __future__ import annotations

import argparse
import re
from collections import Counter, defaultdict
from pathlib import Path

from backlist.ingest.furniture import Furniture, is_fixed, normalise, sentences
from backlist.service import Library
from backlist.store.base import DocFilter


def stored_texts(library: Path) -> dict[str, list[str]]:
    """Source -> the stored text of each of its documents."""
    out: dict[str, list[str]] = defaultdict(list)
    with Library(library, read_only=True) as lib:
        for doc in lib.list(DocFilter(include_drafts=True)):
            out[doc.source].append(lib.get(doc.id).text)
    return out


def count(library: Path, learn_from: list[Path]) -> dict[str, Counter[str]]:
    """Source -> how many furniture sentences its stored text holds, and how many of them the
    fixed list and the learned sentences each recognise (a sentence may be both)."""
    learned: dict[str, set[str]] = defaultdict(set)
    for ref in learn_from:
        for source, texts in stored_texts(ref).items():
            learned[source] |= Furniture.learn(texts).learned
    out: dict[str, Counter[str]] = {}
    for source, texts in stored_texts(library).items():
        c: Counter[str] = Counter()
        for text in texts:
            for para in re.split(r"\n", text):
                for s in sentences(para):
                    fixed, learnt = is_fixed(s), normalise(s) in learned[source]
                    c["furniture"] += fixed or learnt
                    c["fixed list"] += fixed
                    c["learned"] += learnt
        out[source] = c
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("library", type=Path)
    ap.add_argument("--learn-from", type=Path, action="append", default=[])
    args = ap.parse_args()
    result = count(args.library, args.learn_from or [args.library])
    total: Counter[str] = Counter()
    for source, c in sorted(result.items()):
        total.update(c)
        print(f"{Path(source).name}: {c['furniture']} (fixed list {c['fixed list']}, "
              f"learned {c['learned']})")
    print(f"total: {total['furniture']} (fixed list {total['fixed list']}, learned {total['learned']})")


if __name__ == "__main__":
    main()
