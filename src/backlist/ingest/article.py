"""Articles the writer reads: saved web pages (trafilatura) and plain-text copies."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import trafilatura
from selectolax.lexbor import LexborHTMLParser
from selectolax.lexbor import LexborNode as Node

from backlist.errors import IngestError
from backlist.ingest.base import ReadContext, clip
from backlist.ingest.dates import StatedDate, date_line, parse_date_value, stated_date
from backlist.ingest.html import html_to_text, tame_html
from backlist.ingest.textio import read_text
from backlist.model import Document, stable_id

# The closing call to action that ends a newsletter article; what follows it is reader comments.
_SIGN_OFF = re.compile(
    r"\b(thanks? (?:you )?(?:so much )?for reading|support (?:me|my|this|the newsletter)|"
    r"your support|consider (?:purchasing|becoming|subscribing|supporting)|subscribe (?:now|here|to)|"
    r"share this (?:post|article)|leave a comment|until next time|happy reading)\b", re.I)
_URL_ONLY = re.compile(r"^\s*https?://\S+\s*$")


def read_saved_page(path: Path, ctx: ReadContext) -> Iterator[Document]:
    """A saved article page: main text (trafilatura, or a fast extraction for huge link-heavy
    pages), metadata from meta tags, JSON-LD and the byline, and the reader comments apart."""
    label = str(path)
    html = read_text(path, ctx.limits)
    if "<" not in html:
        raise IngestError(label, "malformed HTML: no markup found")
    # Before any parser: deep nesting is quadratic in lexbor's C code, which no alarm interrupts.
    # Depth only: a long flat page (a link farm) parses in linear time and keeps its article.
    html, tamed = tame_html(html, max_tags=len(html))
    for warning in tamed:
        ctx.warn(label, warning)
    ctx.check_time(label)
    tree = LexborHTMLParser(html)
    meta = _head_metadata(tree)
    n_links = len(_A_TAG.findall(html))
    links = _links(tree)
    ctx.check_time(label)
    found = _find_comments(tree)
    if found.expected and not found.comments:
        ctx.warn(label, f"the page has a comment section ({found.expected}) but no comments were found "
                        "in the saved HTML; none stored")
    tree.strip_tags(["script", "style", "noscript", "template"])
    for node in tree.css(_FURNITURE):
        node.decompose()
    byline = _byline_authors(tree)
    ctx.check_time(label)
    heavy = len(html) > FAST_BYTES or n_links > FAST_LINKS
    if heavy:
        ctx.warn(label, f"very large page ({n_links:,} links, {len(html) / 1e6:.1f} MB): main text "
                        "taken from <article>/<main>/<body> without boilerplate detection")
        data: dict = {}
        text = _fast_text(tree)
    else:
        data = _trafilatura(tree.html or "")
        text = _paragraphs(data.get("text") or "")
    if not text.strip():
        raise IngestError(label, "no article text found in the page")
    ctx.check_time(label)
    yield _page_document(path, meta, data, byline, text, found, links, n_links)


FAST_BYTES = 5 * 1024 * 1024  # above this size, or
FAST_LINKS = 5_000  # this many links, trafilatura takes minutes: a fast extraction is used
MAX_LINKS_KEPT = 1_000
_A_TAG = re.compile(r"<a[\s>]", re.I)
_ARTICLE_TYPES = {"article", "newsarticle", "blogposting", "reportagenewsarticle", "scholarlyarticle",
                  "techarticle", "analysisnewsarticle", "opinionnewsarticle", "reviewnewsarticle",
                  "socialmediaposting", "webpage", "posting"}
# Page parts that are never article text nor comments: sidebar widgets (WordPress "Recent
# Comments" lists "X on Some Title"), comment forms, pagination and navigation.
_FURNITURE = (".widget, .widget_recent_comments, #recentcomments, .recentcomments, aside, nav, "
              "#respond, .comment-respond, #commentform, .comment-form, form, .comments-pagination, "
              ".comment-navigation, .navigation, .nav-links, .pagination, .page-numbers, "
              "#disqus_thread, .gh-comments, iframe")
# Inside a comment: the reply/report/edit links, "says:", avatars and moderation notes.
_COMMENT_FURNITURE = (".reply, .comment-reply-link, .comment-edit-link, .edit-link, .says, .avatar, "
                      ".comment-awaiting-moderation, .comment-actions, .comment-report, .report, "
                      ".comment-footer-actions, .item-control, .comment-author, .comment-meta, "
                      ".comment-metadata, .commentmetadata, .comment-header, .comments-title, "
                      "button, img, svg")
# Comment lists in the markup of the blog engines that write them.
_WORDPRESS_LISTS = "ol.comment-list, ul.comment-list, ol.commentlist, ul.commentlist"
_WORDPRESS_ITEMS = "li.comment, div.comment, li.review"
_BLOGGER_ITEMS = ".comment-thread li.comment, .comments-content li.comment"
_GENERIC_SECTIONS = (".comments, #comments, .comment-list, section.comments, [class*=comment-thread], "
                     "[id*=comments], [class*=post-comments], [class*=article-comments], "
                     "[class*=comments-content]")
_AUTHOR_SEL = ".comment-author .fn, .fn, cite.user, .comment-author, .user, .author, cite"
_COMMENT_TEXT_SEL = ".comment-content, .comment-text, .comment-body-text, p.comment-content"
_COUNT_HEADING = re.compile(
    r"^\s*(?:-\s*)?(?P<n>\d[\d,]*)\s+(?:comments?|responses?|replies|thoughts? on\b.*|"
    r"(?:responses?|replies) to\b.*)\s*$", re.I)
_JUNK_LINE = re.compile(
    r"^(?:reply|report|like|share|edit|flag|delete|permalink|cancel reply|log in to reply|"
    r"leave a (?:reply|comment)|next|previous|older comments|newer comments|last\s*»|«\s*first|"
    r"load more comments|show more|-?\s*\d[\d,]*\s+comments?|\d+\s+likes?|says:?)$|"
    r"your email address will not be published|required fields are marked", re.I)
_BYLINE_LEAD = re.compile(
    r"^.*?\b(?:view (?:all|more) posts by|(?:all|more) (?:posts|articles|stories) by|"
    r"posts by|posted by|written by|words by|story by|article by|reported by|by)\s*:?\s+", re.I)
_BYLINE_TAIL = re.compile(r"\s*(?:[|·•—–»→›]|\bon\s+\w+\s+\d|\bposted\b|\bupdated\b|\bin\s+[A-Z]).*$")
_BYLINE_SEL = (".byline .author, .byline a, .byline, .entry-author .fn, .author.vcard .fn, "
               ".posted-by, .post-author, .entry-author, .author-name, .author-link, "
               "[itemprop=author] [itemprop=name], [itemprop=author], .author")


@dataclass
class _Comments:
    comments: list[dict] = field(default_factory=list)
    expected: str = ""  # what says the page has comments ("2 comments", "a Disqus thread")


def _trafilatura(html: str) -> dict:
    doc = trafilatura.bare_extraction(html, include_comments=False, include_links=False,
                                      with_metadata=True, favor_precision=True)
    if doc is None:
        return {}
    return doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)


def _page_document(path: Path, meta: dict, data: dict, byline: list[str], text: str,
                   found: _Comments, links: list[dict[str, str]], n_links: int) -> Document:
    date, precision, basis = meta.get("date"), meta.get("date_precision"), meta.get("date_basis")
    if date is None and (got := parse_date_value(data.get("date"))):
        (date, precision), basis = got, "page text (trafilatura)"
    authors = meta.get("authors") or byline or _clean_authors(data.get("author"))
    url = meta.get("url") or data.get("url") or None
    return Document(
        id=stable_id("article", url or path.name),
        kind="article",
        source=str(path),
        position="whole file",
        title=meta.get("title") or data.get("title") or meta.get("title_tag") or path.stem,
        subtitle=meta.get("description") or data.get("description") or None,
        date=date,
        url=url,
        authors=authors,
        text=text,
        comments=[c["text"] for c in found.comments],
        metadata={"format": "saved web page", "site": meta.get("site") or data.get("sitename"),
                  "date_basis": basis if date else None, "date_precision": precision if date else None,
                  "links": links[:MAX_LINKS_KEPT], "links_total": n_links, "comments": found.comments},
    )


def _links(tree: LexborHTMLParser) -> list[dict[str, str]]:
    out = []
    for a in tree.css("a[href]"):
        href = (a.attributes.get("href") or "").strip()
        if href and not href.lower().startswith(("javascript:", "data:", "#")):
            out.append({"text": a.text(strip=True), "url": href})
            if len(out) >= MAX_LINKS_KEPT:
                break
    return out


def _fast_text(tree: LexborHTMLParser) -> str:
    for sel in ("article", "main", "[role=main]", "body"):
        node = tree.css_first(sel)
        if node is not None and node.text(strip=True):
            for junk in node.css("header, footer, aside, nav, .sidebar, .comments, #comments, ul, ol"):
                if len(junk.css("a")) > 20 or junk.tag in ("nav", "aside", "footer"):
                    junk.decompose()
            return html_to_text(node.html or "").text
    return ""


def _paragraphs(text: str) -> str:
    return "\n\n".join(p.strip() for p in text.splitlines() if p.strip())


# ---- metadata: meta tags and JSON-LD (what the publisher states) ----

def _head_metadata(tree: LexborHTMLParser) -> dict:
    metas = _meta_tags(tree)
    ld = _json_ld_article(tree)
    out: dict = {"title": _first(ld.get("headline"), metas.get("og:title")), "title_tag": _title_tag(tree),
                 "url": _first(metas.get("og:url"), _canonical(tree), ld.get("url")),
                 "description": _first(metas.get("description"), metas.get("og:description"),
                                       ld.get("description")),
                 "site": _first(metas.get("og:site_name"), ld.get("publisher"))}
    out["authors"] = (_ld_authors(ld) or _clean_authors(metas.get("author"))
                      or _clean_authors(_not_url(metas.get("article:author"))))
    for basis, value in (("meta article:published_time", metas.get("article:published_time")),
                         ("JSON-LD datePublished", ld.get("datePublished")),
                         ("itemprop datePublished", metas.get("datepublished")),
                         ("meta date", _first(*(metas.get(k) for k in _DATE_METAS))),
                         ("<time datetime>", _time_element(tree))):
        if got := parse_date_value(str(value) if value else None):
            out["date"], out["date_precision"], out["date_basis"] = got[0], got[1], basis
            break
    return out


_DATE_METAS = ("og:published_time", "pubdate", "publishdate", "publish-date", "publish_date",
               "dc.date.issued", "dc.date", "dcterms.created", "date", "citation_publication_date",
               "parsely-pub-date", "sailthru.date")


def _meta_tags(tree: LexborHTMLParser) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in tree.css("meta"):
        a = m.attributes
        key = (a.get("property") or a.get("name") or a.get("itemprop") or "").strip().lower()
        value = (a.get("content") or "").strip()
        if key and value:
            out.setdefault(key, value)
    for node in tree.css("[itemprop=datePublished]"):
        a = node.attributes  # Blogger: <abbr itemprop="datePublished" title="2019-10-17T20:30:00-04:00">
        stamp = a.get("content") or a.get("datetime") or (a.get("title") if node.tag == "abbr" else None)
        if stamp:
            out.setdefault("datepublished", stamp.strip())
    return out


def _json_ld_article(tree: LexborHTMLParser) -> dict:
    """The Article (BlogPosting, NewsArticle…) object of the page's JSON-LD, its author @id
    references resolved against the @graph (Yoast writes them so)."""
    objects: list[dict] = []
    for script in tree.css('script[type="application/ld+json"]'):
        try:
            data = json.loads(script.text() or "")
        except ValueError:
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, dict):
                objects.append(item)
                stack.extend(g for g in item.get("@graph") or [] if isinstance(g, dict))
    by_id = {o["@id"]: o for o in objects if isinstance(o.get("@id"), str)}
    for o in objects:
        types = o.get("@type")
        types = [types] if isinstance(types, str) else types or []
        if any(str(t).lower() in _ARTICLE_TYPES for t in types) and (o.get("datePublished") or
                                                                    o.get("author")):
            art = dict(o)
            art["author"] = _resolve(o.get("author"), by_id)
            pub = _resolve(o.get("publisher"), by_id)
            art["publisher"] = pub[0].get("name") if pub and isinstance(pub[0], dict) else None
            return art
    return {}


def _resolve(value: object, by_id: dict[str, dict]) -> list:
    items = value if isinstance(value, list) else [value] if value else []
    return [by_id.get(i["@id"], i) if isinstance(i, dict) and "@id" in i and "name" not in i else i
            for i in items]


def _ld_authors(ld: dict) -> list[str]:
    names = []
    for a in ld.get("author") or []:
        name = a.get("name") if isinstance(a, dict) else a if isinstance(a, str) else None
        names += _clean_authors(_not_url(name if isinstance(name, str) else None))
    return names


def _title_tag(tree: LexborHTMLParser) -> str | None:
    node = tree.css_first("title")
    return node.text(strip=True) if node is not None else None


def _canonical(tree: LexborHTMLParser) -> str | None:
    node = tree.css_first('link[rel="canonical"]')
    return (node.attributes.get("href") or None) if node is not None else None


def _time_element(tree: LexborHTMLParser) -> str | None:
    """The publication <time datetime> of the post (not of a comment, not "updated")."""
    for sel in ("time.published[datetime], time.entry-date[datetime]:not(.updated)",
                "article header time[datetime], .entry-meta time[datetime], .posted-on time[datetime], "
                ".post-meta time[datetime], .byline time[datetime]",
                "article time[datetime], main time[datetime]"):
        for node in tree.css(sel):
            if not _inside_comments(node) and "updated" not in (node.attributes.get("class") or ""):
                return node.attributes.get("datetime")
    return None


def _inside_comments(node: Node) -> bool:
    parent = node.parent
    while parent is not None:
        cls = f"{parent.attributes.get('class') or ''} {parent.attributes.get('id') or ''}".lower()
        if "comment" in cls:
            return True
        parent = parent.parent
    return False


def _first(*values: object) -> str | None:
    for v in values:
        if isinstance(v, str) and v.strip():
            return " ".join(v.split())
    return None


def _not_url(value: str | None) -> str | None:
    return None if value and re.match(r"^\s*(?:https?:)?//|^\s*www\.", value) else value


# ---- authors: names, never the byline's words around them ----

def clean_byline(text: str | None) -> str | None:
    """The name in a byline: "View all posts by Daniel Smith →", "By Daniel Smith | March 3",
    "Posted on March 3, 2021 by Daniel Smith" all give "Daniel Smith"; a URL or a sentence, None."""
    name = " ".join((text or "").split())
    name = _BYLINE_LEAD.sub("", name)
    name = _BYLINE_TAIL.sub("", name).strip(" ,;:-–—»→")
    if not name or not re.search(r"[^\W\d_]", name) or "@" in name or _not_url(name) is None:
        return None
    if len(name) > 60 or len(name.split()) > 6:
        return None
    return name


def _clean_authors(value: str | None) -> list[str]:
    out: list[str] = []
    for part in re.split(r";|,|\s+and\s+|\s+&\s+", clean_byline_keep_list(value)):
        name = clean_byline(part)
        if name and name not in out:
            out.append(name)
    return out


def clean_byline_keep_list(value: str | None) -> str:
    """The byline with its lead words ("By", "Posted by") gone but its list of names kept."""
    return _BYLINE_LEAD.sub("", " ".join((value or "").split()))


def _byline_authors(tree: LexborHTMLParser) -> list[str]:
    rel = [a for a in tree.css('a[rel~="author"]') if not _inside_comments(a)]
    for node in rel + tree.css(_BYLINE_SEL):
        if _inside_comments(node):
            continue
        names = _clean_authors(node.text(separator=" ", strip=True))
        if not names and node.attributes.get("title"):  # <a title="View all posts by X">
            names = _clean_authors(node.attributes.get("title"))
        if names:
            return names
    for a in tree.css("a"):  # an author box's "View all posts by Daniel Smith →", no markup to tell
        text = a.text(separator=" ", strip=True)
        if _VIEW_ALL.match(text) and not _inside_comments(a):
            return _clean_authors(text)
    return []


_VIEW_ALL = re.compile(r"^(?:view (?:all|more) posts by|(?:all|more) (?:posts|articles|stories) by)\s", re.I)


# ---- comments ----

def _find_comments(tree: LexborHTMLParser) -> _Comments:
    """Reader comments with author, date and the comment they answer, by the engine's markup
    (WordPress, Blogger), else a generic comment section. Their sections are then removed."""
    found = _Comments(expected=_expected_comments(tree))
    for items_sel, scope in ((_WORDPRESS_ITEMS, _WORDPRESS_LISTS), (_BLOGGER_ITEMS, None)):
        items = _items_in(tree, items_sel, scope)
        if items:
            found.comments = _structured(items)
            break
    if not found.comments:
        found.comments = _blogger_classic(tree) or _generic(tree)
    for node in tree.css(f"{_WORDPRESS_LISTS}, {_GENERIC_SECTIONS}, #comments-block"):
        if node.parent is not None and not _is_article_body(node):
            node.decompose()
    return found


def _is_article_body(node: Node) -> bool:
    return node.tag in ("body", "html", "main", "article") and not node.css_first(
        ".comment-list, .commentlist")


def _expected_comments(tree: LexborHTMLParser) -> str:
    if tree.css_first("#disqus_thread"):
        return "a Disqus thread, loaded by script"
    if tree.css_first(".gh-comments, [data-ghost-comments]"):
        return "Ghost comments, loaded by script"
    for node in tree.css("#comments h2, #comments h3, .comments-title, .comments h2, .comments h3, "
                         ".comments-count, .comment-count"):
        m = _COUNT_HEADING.match(node.text(separator=" ", strip=True))
        if m and int(m["n"].replace(",", "")) > 0:
            return f"“{clip(node.text(separator=' ', strip=True), 40)}”"
    return ""


def _items_in(tree: LexborHTMLParser, items_sel: str, scope: str | None) -> list[Node]:
    roots = tree.css(scope) if scope else [tree.root] if tree.root is not None else []
    seen: set[int] = set()
    items = []
    for root in roots:
        for item in root.css(items_sel):
            cls = item.attributes.get("class") or ""
            if item.mem_id not in seen and not re.search(r"\b(?:pingback|trackback)\b", cls):
                seen.add(item.mem_id)
                items.append(item)
    return items


def _structured(items: list[Node]) -> list[dict]:
    parts = [(item, own, _comment_text(own)) for item in items for own in [_own_part(item)]]
    kept = [(item, own, text) for item, own, text in parts if text]
    index = {item.mem_id: i for i, (item, _, _) in enumerate(kept)}
    return [{"author": _comment_author(own), "date": _comment_date(own), "text": text,
             "parent": _parent_index(item, index)} for item, own, text in kept]


def _own_part(item: Node) -> Node:
    """The comment itself, without the replies nested inside its element."""
    frag = LexborHTMLParser(f"<div>{item.html or ''}</div>")
    root = frag.css_first("body > div")
    assert root is not None
    for nested in root.css(".children, .comment-replies, .comment-thread, ol ol, ul ul, li li"):
        nested.decompose()
    return root


def _parent_index(item: Node, index: dict[int, int]) -> int | None:
    node = item.parent
    while node is not None:
        if node.mem_id in index:
            return index[node.mem_id]
        node = node.parent
    return None


def _comment_author(own: Node) -> str | None:
    for node in own.css(_AUTHOR_SEL):
        for junk in node.css(".says, .avatar, img"):
            junk.decompose()
        name = clean_byline(node.text(separator=" ", strip=True).removesuffix("says:").strip())
        if name:
            return name
    return None


def _comment_date(own: Node) -> str | None:
    node = own.css_first("time[datetime]")
    if node is not None and (got := parse_date_value(node.attributes.get("datetime"))):
        return got[0]
    for node in own.css(".comment-metadata, .commentmetadata, .comment-meta, .datetime, "
                        ".comment-timestamp, .comment-date, time"):
        if got := parse_date_value(node.text(separator=" ", strip=True)):
            return got[0]
    return None


def _comment_text(own: Node) -> str:
    body = own.css_first(_COMMENT_TEXT_SEL)
    if body is None:
        body = LexborHTMLParser(own.html or "").css_first("body")
        if body is None:
            return ""
        for junk in body.css(_COMMENT_FURNITURE):
            junk.decompose()
    lines = html_to_text(body.html or "").text.split("\n\n")
    return "\n\n".join(p for p in lines if p.strip() and not _JUNK_LINE.search(p.strip()))


def _blogger_classic(tree: LexborHTMLParser) -> list[dict]:
    """Blogger's classic layout: <dl id="comments-block"> of dt.comment-author, dd.comment-body,
    dd.comment-footer (timestamp)."""
    out = []
    for dt_node in tree.css("#comments-block dt.comment-author, dl.comments-block dt.comment-author"):
        body, footer = dt_node.next, None
        while body is not None and body.tag != "dd":
            body = body.next
        footer = body.next if body is not None else None
        while footer is not None and footer.tag != "dd":
            footer = footer.next
        text = _comment_text(body) if body is not None else ""
        if text:
            date = parse_date_value(footer.text(separator=" ", strip=True)) if footer is not None else None
            who = dt_node.text(separator=" ", strip=True).removesuffix("said...")
            out.append({"author": clean_byline(who), "date": date[0] if date else None, "text": text,
                        "parent": None})
    return out


def _generic(tree: LexborHTMLParser) -> list[dict]:
    """A comment section in no engine's known markup: one entry per comment-like child."""
    for section in tree.css(_GENERIC_SECTIONS):
        if _is_article_body(section):
            continue
        items = section.css(".comment, article, li") or [section]
        out: list[dict] = []
        for item in items:
            own = _own_part(item)
            text = _comment_text(own)
            if text and not any(text in c["text"] for c in out):
                out.append({"author": _comment_author(own), "date": _comment_date(own), "text": text,
                            "parent": None})
        if out:
            return out
    return []


def read_text_article(path: Path, ctx: ReadContext) -> Iterator[Document]:
    """Title line, optional date and byline lines, optional subtitle line, body; reader comments
    after the closing sign-off. A date line ("February 2021") dates the piece with its precision."""
    label = str(path)
    lines = [ln.strip() for ln in read_text(path, ctx.limits).splitlines()]
    lines = [ln for ln in lines if ln]
    if len(lines) < 2:
        raise IngestError(label, "too short to be an article (needs a title line and a body)")
    head = _opening_lines(lines)
    lines = [ln for i, ln in enumerate(lines) if i not in head.used]
    if len(lines) < 2:
        raise IngestError(label, "too short to be an article (needs a title line and a body)")
    title = lines[0]
    rest = lines[1:]
    subtitle = None
    if len(rest) > 1 and len(rest[0]) <= 160 and not rest[0].endswith((".", "!", "?")):
        subtitle, rest = rest[0], rest[1:]
    body, comments = split_trailing_comments(rest)
    text = "\n\n".join(body)
    stated = head.date or stated_date(text)
    yield Document(
        id=stable_id("article", path.name, title),
        kind="article",
        source=label,
        position="whole file",
        title=title,
        subtitle=subtitle,
        date=stated.date if stated else None,
        authors=head.authors,
        text=text,
        comments=comments,
        metadata={"format": "plain-text article",
                  "date_basis": f"{stated.basis}: “{stated.evidence}”" if stated else None,
                  "date_precision": stated.precision if stated else None},
    )


@dataclass
class _Opening:
    date: StatedDate | None = None
    authors: list[str] = field(default_factory=list)
    used: set[int] = field(default_factory=set)


_BYLINE_ONLY = re.compile(r"^(?:by|written by|posted by|words by)\s*:?\s+\S", re.I)
_DATED_BYLINE = re.compile(r"^(?P<date>.+?)\s+(?:by|[|·•—–])\s+(?P<who>[^|·•—–]+)$", re.I)


def _opening_lines(lines: list[str]) -> _Opening:
    """Date and byline lines among the first four: "February 2021", "By Maren Holt",
    "Posted on March 3, 2021 by Maren Holt". The first date found counts."""
    found = _Opening()
    for i, line in enumerate(lines[:4]):
        if len(line) > 80:
            continue
        date, who = date_line(line), None
        if i == 0 and (date is None or date.precision == "year"):
            continue  # a title may be "By the shore" or "1984"
        if date is None and (m := _DATED_BYLINE.match(line)):
            date, who = date_line(m["date"]), m["who"]
        if date is None and _BYLINE_ONLY.match(line):
            who = line
        if date is not None and found.date is None:
            found.date = date
            found.used.add(i)
        if who and (date is not None or who == line) and not found.authors:
            found.authors = _clean_authors(who)
            found.used.add(i)
    return found


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
