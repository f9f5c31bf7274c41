"""Quotation detection on the self-written cases of eval/quote_cases.py, per minimum length.

    PYTHONPATH=src python eval/quotes_eval.py [tune|held-out] [--min N]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from quote_cases import HELD_OUT, TUNE, Case  # noqa: E402

from backlist.index.quotes import QuoteIndex  # noqa: E402
from backlist.model import Document  # noqa: E402


def found(case: Case, min_words: int) -> bool:
    """Whether the later piece is recorded as quoting the earlier one."""
    earlier = Document("e", "post", "e.md", "1", case.earlier, date="2023-03-01" if case.dated else None)
    later = Document("l", "post", "l.md", "1", case.later, date="2024-05-01" if case.dated else None)
    return any(q.source_id == "l" and q.target_id == "e"
               for q in QuoteIndex([earlier, later]).quotes(min_words))


def score(cases: list[Case], min_words: int) -> tuple[int, int, int, list[str]]:
    tp = fp = fn = 0
    wrong = []
    for c in cases:
        got = found(c, min_words)
        tp += got and c.quote
        fp += got and not c.quote
        fn += c.quote and not got
        if got != c.quote:
            wrong.append(c.name)
    return tp, fp, fn, wrong


def main() -> None:
    which = HELD_OUT if "held-out" in sys.argv else TUNE
    if "--min" in sys.argv:
        sizes = [int(sys.argv[sys.argv.index("--min") + 1])]
    else:
        sizes = list(range(8, 41, 1))
    ranked = []
    for n in sizes:
        tp, fp, fn, wrong = score(which, n)
        ranked.append((fp + fn, fp, n))
        print(f"min {n:2d}: {tp} found, {fp} false, {fn} missed of {sum(c.quote for c in which)}"
              f"  wrong: {'; '.join(wrong)}")
    # the rule used for QUOTE_MIN_WORDS: fewest errors, then fewest false citations, then shortest
    print("chosen:", min(ranked)[2])


if __name__ == "__main__":
    main()
