"""HTML to clean text. Scripts and other active content are dropped, never kept as text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser

_ACTIVE = ["script", "style", "noscript", "iframe", "object", "embed", "template", "svg",
           "form", "button", "input", "select", "textarea", "canvas", "audio", "video"]
_BLOCKS = ("p, h1, h2, h3, h4, h5, h6, li, blockquote, pre, figcaption, tr, dt, dd, hr, "
           "div, section, article, header, footer, aside, table, ul, ol")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\n]+")
_BR = "\u2028"  # stands for <br> until source line breaks have been folded into spaces


@dataclass
class HtmlText:
    text: str
    links: list[dict[str, str]] = field(default_factory=list)
    images: list[str] = field(default_factory=list)


def html_to_text(html: str) -> HtmlText:
    tree = LexborHTMLParser(html)
    tree.strip_tags(_ACTIVE)
    links = []
    for a in tree.css("a[href]"):
        href = (a.attributes.get("href") or "").strip()
        if href and not href.lower().startswith(("javascript:", "data:", "#")):
            links.append({"text": a.text(strip=True), "url": href})
    images = [src for img in tree.css("img[src]")
              if (src := (img.attributes.get("src") or "").strip())
              and not src.lower().startswith(("javascript:", "data:"))]
    for node in tree.css("br"):
        node.insert_before(_BR)
    for node in tree.css(_BLOCKS):
        node.insert_before("\n\n")
        node.insert_after("\n\n")
    for node in tree.css("li"):
        node.insert_before("\u2022 ")
    for level in range(1, 7):
        for node in tree.css(f"h{level}"):
            node.insert_before("\u00a7" * level + " ")
    root = tree.body or tree.root
    raw = root.text(deep=True, separator="") if root is not None else ""
    return HtmlText(text=normalise_paragraphs(raw), links=links, images=images)


def normalise_paragraphs(raw: str) -> str:
    paras: list[str] = []
    pending_marker = ""
    for block in re.split(r"\n\s*\n", raw):
        lines = [_SPACES.sub(" ", ln).strip() for ln in block.split(_BR)]
        para = "\n".join(ln for ln in lines if ln)
        if not para:
            continue
        if para in ("\u2022",):  # a list item whose text sits in a nested block
            pending_marker = "- "
            continue
        para = re.sub(r"^\u2022 ?", "- ", para)
        para = re.sub(r"^\u00a7+ ?", "", para)
        para = pending_marker + para
        pending_marker = ""
        paras.append(para)
    return "\n\n".join(paras)
