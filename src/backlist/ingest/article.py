"""Articles the writer reads: saved web pages (trafilatura) and plain-text copies."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import trafilatura

from backlist.errors import IngestError
from backlist.ingest.base import ReadContext, iso_date
from backlist.ingest.dates import stated_date
from backlist.ingest.html import html_to_text
from backlist.ingest.textio import read_text
from backlist.model import Document, stable_id

# The closing call to action that ends a newsletter article; what follows it is reader comments.
_SIGN_OFF = re.compile(
    r"\b(thanks? (?:you )?(?:so much )?for reading|support (?:me|my|this|the newsletter)|"
    r"your support|consider (?:purchasing|becoming|subscribing|supporting)|subscribe (?:now|here|to)|"
    r"share this (?:post|article)|leave a comment|until next time|happy reading)\b", re.I)
_URL_ONLY = re.compile(r"^\s*https?://\S+\s*$")
_COMMENT_SELECTORS = (".comments, #comments, .comment-list, section.comments, "
                      "[class*=comment-thread], [id*=comments]")


def read_saved_page(path: Path, ctx: ReadContext) -> Iterator[Document]:
    label = str(path)
    html = read_text(path, ctx.limits)
    if "<" not in html:
        raise IngestError(label, "malformed HTML: no markup found")
    doc = trafilatura.bare_extraction(html, include_comments=True, include_links=False,
                                      with_metadata=True, favor_precision=True)
    if doc is None:
        raise IngestError(label, "no article text found in the page")
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    text = _paragraphs(data.get("text") or "")
    if not text.strip():
        raise IngestError(label, "no article text found in the page")
    comments = _page_comments(html) or _split_comments(data.get("comments") or "")
    date = iso_date(data.get("date"))
    links = html_to_text(html).links
    yield Document(
        id=stable_id("article", data.get("url") or path.name),
        kind="article",
        source=label,
        position="whole file",
        title=data.get("title") or path.stem,
        subtitle=data.get("description") or None,
        date=date,
        url=data.get("url") or None,
        authors=[a.strip() for a in re.split(r";|,| and ", data.get("author") or "") if a.strip()],
        text=text,
        comments=comments,
        metadata={"format": "saved web page", "site": data.get("sitename"),
                  "date_basis": "page metadata" if date else None, "links": links},
    )


def _paragraphs(text: str) -> str:
    return "\n\n".join(p.strip() for p in text.splitlines() if p.strip())


def _page_comments(html: str) -> list[str]:
    """Comments in a comment section of the page, one entry per comment, scripts dropped."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    out = []
    for section in tree.css(_COMMENT_SELECTORS):
        items = section.css(".comment, article, li")
        for item in items or [section]:
            text = html_to_text(item.html or "").text.strip()
            if text and text not in out and not any(text in o for o in out):
                out.append(text)
        if out:
            break
    return out


def _split_comments(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n") if p.strip()]


def read_text_article(path: Path, ctx: ReadContext) -> Iterator[Document]:
    """Title line, optional subtitle line, body; reader comments after the closing sign-off."""
    label = str(path)
    lines = [ln.strip() for ln in read_text(path, ctx.limits).splitlines()]
    lines = [ln for ln in lines if ln]
    if len(lines) < 2:
        raise IngestError(label, "too short to be an article (needs a title line and a body)")
    title = lines[0]
    rest = lines[1:]
    subtitle = None
    if len(rest) > 1 and len(rest[0]) <= 160 and not rest[0].endswith((".", "!", "?")):
        subtitle, rest = rest[0], rest[1:]
    body, comments = split_trailing_comments(rest)
    text = "\n\n".join(body)
    stated = stated_date(text)
    yield Document(
        id=stable_id("article", path.name, title),
        kind="article",
        source=label,
        position="whole file",
        title=title,
        subtitle=subtitle,
        date=stated.date if stated else None,
        text=text,
        comments=comments,
        metadata={"format": "plain-text article",
                  "date_basis": f"{stated.basis}: “{stated.evidence}”" if stated else None},
    )


def split_trailing_comments(paras: list[str]) -> tuple[list[str], list[str]]:
    """Comments pasted after an article carry no marker: they follow the author's sign-off.

    The last paragraph in the final fifth that reads as a sign-off ends the article, if what
    follows is short. A link alone on a line belongs to the comment above it.
    """
    n = len(paras)
    total = sum(len(p) for p in paras)
    for i in range(n - 2, max(-1, int(n * 0.8) - 1), -1):
        if _SIGN_OFF.search(paras[i]):
            tail = paras[i + 1:]
            if tail and sum(len(p) for p in tail) <= max(3000, total * 0.15):
                comments: list[str] = []
                for p in tail:
                    if _URL_ONLY.match(p) and comments:
                        comments[-1] += "\n" + p.strip()
                    else:
                        comments.append(p)
                return paras[: i + 1], comments
            break
    return paras, []
