"""Token counting with a real tokenizer (the default model's WordPiece, shipped offline).

Chat models tokenise differently, but within a few percent of WordPiece on English prose; the
budgets here are a ceiling for pasting, not a billing count.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _tokenizer():
    from tokenizers import Tokenizer

    from backlist.index.embed import default_model_path

    tok = Tokenizer.from_file(str(default_model_path() / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


def count_tokens(text: str) -> int:
    return len(_tokenizer().encode(text, add_special_tokens=False).ids)


def clip_to_tokens(text: str, budget: int) -> str:
    """The longest prefix of text, cut at a word, that fits in budget tokens."""
    if budget <= 0:
        return ""
    enc = _tokenizer().encode(text, add_special_tokens=False)
    if len(enc.ids) <= budget:
        return text
    end = enc.offsets[budget - 1][1]
    cut = text[:end]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip() + " …"


class Budget:
    """Collects blocks of text while they fit; says what was left out."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self.blocks: list[str] = []
        self.omitted = 0

    def add(self, block: str, clip: bool = False) -> bool:
        need = count_tokens(block) + 1
        if self.used + need <= self.limit:
            self.blocks.append(block)
            self.used += need
            return True
        if clip and self.limit - self.used > 40:
            part = clip_to_tokens(block, self.limit - self.used - 2)
            self.blocks.append(part)
            self.used += count_tokens(part) + 1
            self.omitted += 1
            return False
        self.omitted += 1
        return False

    def text(self, footer_if_omitted: str = "") -> str:
        out = "\n".join(self.blocks)
        if self.omitted and footer_if_omitted:
            note = footer_if_omitted.format(n=self.omitted)
            if self.used + count_tokens(note) + 1 <= self.limit:
                out += "\n" + note
        return out
