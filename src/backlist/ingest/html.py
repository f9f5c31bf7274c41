"""HTML to clean text. Scripts and other active content are dropped, never kept as text.

The tree is walked iteratively (no recursion, no repeated string building), so the time is
linear in the size of the page. HTML5 tree building itself is quadratic in nesting depth, so
pathological nesting is flattened before parsing, with a warning (see ``tame_html``: every parse
of untrusted HTML goes through it first).

Substack's own markup (posts in an export, ``content:encoded`` in its feeds) is read for what
it means: subscribe/share/comment buttons are furniture and dropped; footnote markers become
``[1]`` and the footnote bodies follow the text; code blocks keep their lines; tweets, YouTube
videos, LaTeX blocks and embedded posts are kept as text or links.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

_ACTIVE = ["script", "style", "noscript", "iframe", "object", "embed", "template", "svg",
           "form", "button", "input", "select", "textarea", "canvas", "audio", "video"]
_SKIP = frozenset(_ACTIVE + ["head", "title", "meta", "link", "source", "track"])
_BLOCKS = frozenset(["p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "figcaption", "tr",
                     "dt", "dd", "hr", "div", "section", "article", "header", "footer", "aside",
                     "table", "ul", "ol", "figure", "main", "nav", "details", "summary", "address",
                     "dl", "center", "caption", "body"])
# Substack furniture: subscribe widgets, share/comment buttons, image "expand" buttons, polls.
_FURNITURE_CLASSES = frozenset([
    "subscription-widget-wrap", "subscription-widget-wrap-editor", "subscription-widget",
    "subscribe-widget", "captioned-button-wrap", "button-wrapper", "share-dialog", "post-ufi",
    "image-link-expand", "poll-embed", "install-substack-app", "paywall-jump", "subscribe-footer"])
_FURNITURE_COMPONENTS = frozenset([
    "SubscribeWidgetToDOM", "SubscribeWidget", "CaptionedButtonToDOM", "ButtonCreateButton",
    "PaywallToDOM", "PollToDOM", "Paywall"])
_BAD_SCHEMES = ("javascript:", "data:", "vbscript:", "#")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\n]+")
_BR = "\u2028"  # stands for <br> until source line breaks have been folded into spaces

# Complexity guard (see tame_html): beyond these, the page is flattened or cut, with a warning.
SMALL_PAGE_TAGS = 5_000  # below this many tags nothing can be deep enough to matter
MAX_DEPTH = 256
MAX_TAGS = 500_000
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)[^<>]*?(/?)>")
_NOT_NESTING = frozenset([
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "param", "keygen", "p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot",
    "option", "optgroup", "rb", "rt", "rtc", "rp", "colgroup", "html", "head", "body"])


@dataclass
class HtmlText:
    text: str
    links: list[dict[str, str]] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    image_alts: dict[str, str] = field(default_factory=dict)  # src -> alt text, where written
    warnings: list[str] = field(default_factory=list)  # for the reader to pass on (ctx.warn)


def html_to_text(html: str, *, max_depth: int = MAX_DEPTH, max_tags: int = MAX_TAGS) -> HtmlText:
    html, warnings = tame_html(html, max_depth, max_tags)
    tree = LexborHTMLParser(html)
    root = tree.body or tree.root
    out = _Renderer()
    if root is not None:
        out.walk(root)
        out.footnotes()
    return HtmlText(text=out.text(), links=out.links, images=out.images,
                    image_alts=out.alts, warnings=warnings)


def tame_html(html: str, max_depth: int = MAX_DEPTH,
              max_tags: int = MAX_TAGS) -> tuple[str, list[str]]:
    """Flattens nesting deeper than max_depth and cuts the page after max_tags tags.

    A lexer-level estimate, linear in the input: it only decides which tags to leave out, the
    parsing itself is lexbor's. Elements whose end tag is optional, and void ones, do not count
    as nesting; the stack search on an end tag is bounded, so malformed input stays linear.
    Ordinary pages pass through untouched after one quick measuring pass.
    """
    if html.count("<") <= SMALL_PAGE_TAGS:
        return html, []
    tags = _TAG.findall(html)
    if len(tags) <= max_tags and _max_depth(tags) <= max_depth:
        return html, []
    return _flatten(html, max_depth, max_tags)


def _max_depth(tags: list[tuple[str, str, str]]) -> int:
    stack: list[str] = []
    deepest = 0
    for close, name, selfclosing in tags:
        name = name.lower()
        if name in _NOT_NESTING or selfclosing:
            continue
        if not close:
            stack.append(name)
            deepest = max(deepest, len(stack))
        else:
            _pop(stack, name)
    return deepest


def _pop(stack: list[str], name: str) -> None:
    for i in range(len(stack) - 1, max(len(stack) - 17, -1), -1):
        if stack[i] == name:
            del stack[i:]
            return


def _flatten(html: str, max_depth: int, max_tags: int) -> tuple[str, list[str]]:
    warnings: list[str] = []
    keep: list[str] = []
    stack: list[str] = []
    dropped: dict[str, int] = {}
    last = count = flattened = 0
    for m in _TAG.finditer(html):
        count += 1
        if count > max_tags:
            keep.append(html[last:m.start()])
            last = len(html)
            warnings.append(f"HTML has over {max_tags:,} tags: the rest of the page was left out")
            break
        name = m[2].lower()
        if name in _NOT_NESTING or m[3]:
            continue
        if not m[1]:  # a start tag
            if len(stack) < max_depth:
                stack.append(name)
                continue
            dropped[name] = dropped.get(name, 0) + 1
            flattened += 1
        elif dropped.get(name):
            dropped[name] -= 1
        else:
            _pop(stack, name)
            continue
        keep.append(html[last:m.start()])
        last = m.end()
    keep.append(html[last:])
    if flattened:
        warnings.insert(0, f"HTML nested over {max_depth} levels deep: {flattened:,} inner "
                           "element(s) flattened into their parent")
    return "".join(keep), warnings


def _classes(node: LexborNode) -> set[str]:
    return set((node.attributes.get("class") or "").split())


def _data_attrs(node: LexborNode) -> dict[str, Any]:
    try:
        data = json.loads(node.attributes.get("data-attrs") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _squash(text: str) -> str:
    return " ".join(text.split())


class _Renderer:
    """Collects paragraphs, links and images in one iterative walk over the tree."""

    def __init__(self) -> None:
        self.paras: list[str] = []
        self.cur: list[str] = []
        self.prefix = ""
        self.links: list[dict[str, str]] = []
        self.images: list[str] = []
        self.alts: dict[str, str] = {}
        self.deferred: list[LexborNode] = []

    # --- the walk -----------------------------------------------------------------------
    def walk(self, root: LexborNode) -> None:
        node = root.child
        depth = 1
        while node is not None:
            if self.enter(node):
                child = node.child
                if child is not None:
                    node = child
                    depth += 1
                    continue
                self.exit(node)
            following = node.next
            while following is None:
                node = node.parent
                depth -= 1
                if node is None or depth == 0:
                    return
                self.exit(node)
                following = node.next
            node = following

    def enter(self, node: LexborNode) -> bool:
        tag = node.tag
        if tag == "-text":
            self.cur.append(node.text_content or "")
            return False
        if not tag or tag[0] in "-_!#" or tag in _SKIP:
            return False
        attrs = node.attributes
        component = attrs.get("data-component-name") or ""
        classes = set((attrs.get("class") or "").split())
        if component in _FURNITURE_COMPONENTS or classes & _FURNITURE_CLASSES:
            return False
        if component or classes or tag in ("pre", "sup"):
            special = self.special(node, tag, component, classes)
            if special is not None:
                return special
        if tag in _BLOCKS:
            self.flush()
            if tag == "li":
                self.prefix = "- "
        elif tag == "br":
            self.cur.append(_BR)
        elif tag in ("td", "th"):
            self.cur.append(" ")
        elif tag == "a" and "image-link" not in classes:  # Substack's link around an image
            self.link(node, attrs)
        elif tag == "img":
            self.image(attrs)
        return True

    def exit(self, node: LexborNode) -> None:
        if node.tag in _BLOCKS:
            self.flush()

    def special(self, node: LexborNode, tag: str, component: str, classes: set[str]) -> bool | None:
        """Substack components and code blocks: None when the node is an ordinary element."""
        if tag == "pre":
            self.pre(node)
        elif _is_footnote_mark(node, tag, component, classes):
            mark = _squash(node.text(deep=True))
            self.cur.append(f" {mark}" if mark.startswith("[") else f" [{mark}]")
        elif component == "FootnoteToDOM" or (tag == "div" and "footnote" in classes):
            self.deferred.append(node)
        elif component == "Youtube2ToDOM" or "youtube-wrap" in classes:
            video = _data_attrs(node).get("videoId")
            if isinstance(video, str) and video:
                self.links.append({"text": "YouTube video",
                                   "url": f"https://www.youtube.com/watch?v={video}"})
        elif component == "Twitter2ToDOM" or "tweet" in classes:
            self.tweet(node)
        elif component in ("EmbeddedPostToDOM", "DigestPostEmbed") or classes & {
                "embedded-post-wrap", "digest-post-embed"}:
            self.embedded_post(node)
        elif component == "LatexBlockToDOM" or "latex-rendered" in classes:
            expr = _data_attrs(node).get("persistentExpression")
            self.block(expr.strip() if isinstance(expr, str) else "")
        else:
            return None
        return False

    # --- what elements give ----------------------------------------------------------------
    def link(self, node: LexborNode, attrs: dict[str, str | None]) -> None:
        href = (attrs.get("href") or "").strip()
        if href and not href.lower().startswith(_BAD_SCHEMES):
            self.links.append({"text": _squash(node.text(deep=True)), "url": href})

    def image(self, attrs: dict[str, str | None]) -> None:
        src = (attrs.get("src") or "").strip()
        if not src or src.lower().startswith(_BAD_SCHEMES):
            return
        self.images.append(src)
        alt = _squash(attrs.get("alt") or "")
        if alt:
            self.alts[src] = alt

    def pre(self, node: LexborNode) -> None:
        """Code keeps its lines and indentation."""
        self.flush()
        pieces: list[str] = []
        for sub in node.traverse(include_text=True):
            if sub.tag == "-text":
                pieces.append(sub.text_content or "")
            elif sub.tag == "br":
                pieces.append("\n")
        lines = [ln.rstrip() for ln in "".join(pieces).replace("\r\n", "\n").split("\n")]
        while lines and not lines[0]:
            lines.pop(0)
        self.block("\n".join(lines).rstrip())

    def tweet(self, node: LexborNode) -> None:
        data = _data_attrs(node)
        body = LexborHTMLParser(tame_html(data["full_text"])[0]).body \
            if isinstance(data.get("full_text"), str) and data["full_text"].strip() else None
        text = _squash(body.text()) if body is not None else ""
        name, user = data.get("name"), data.get("username")
        if not text:  # the published shape: the tweet's text is in the markup
            text = _squash(" ".join(n.text(deep=True) for n in node.css(".tweet-text")))
            name = name or _first_text(node, ".tweet-author-name")
            user = user or _first_text(node, ".tweet-author-handle").lstrip("@")
        who = " ".join(x for x in (name, f"(@{user})" if user else "") if isinstance(x, str) and x)
        if text:
            self.block(f"{who}: {text}" if who else text)
        url = data.get("url") or node.attributes.get("href")
        if isinstance(url, str) and url.startswith("http"):
            self.links.append({"text": f"tweet by @{user}" if user else "tweet", "url": url})

    def embedded_post(self, node: LexborNode) -> None:
        data = _data_attrs(node)
        url = data.get("url") or next(
            (a.attributes.get("href") for a in node.css("a[href]")), None)
        title = data.get("title") or _first_text(node, ".embedded-post-title")
        if isinstance(url, str) and url.startswith("http"):
            self.links.append({"text": _squash(str(title or "")), "url": url})

    def footnotes(self) -> None:
        """Footnote bodies after the text, each as "[n] body"."""
        notes, self.deferred = self.deferred, []
        for node in notes:
            self.flush()
            number = _first_text(node, ".footnote-number")
            self.prefix = f"[{number}] " if number else ""
            content = node.css_first(".footnote-content")
            self.walk_inside(content if content is not None else node)
            self.flush()
            self.prefix = ""

    def walk_inside(self, node: LexborNode) -> None:
        if node.child is not None:
            self.walk(node)

    # --- paragraphs -----------------------------------------------------------------------
    def block(self, text: str) -> None:
        """A paragraph taken as it is (code, LaTeX, a tweet)."""
        self.flush()
        if text:
            self.paras.append(self.prefix + text)
            self.prefix = ""

    def flush(self) -> None:
        if not self.cur:
            return
        raw, self.cur = "".join(self.cur), []
        lines = [_SPACES.sub(" ", ln).strip() for ln in raw.split(_BR)]
        para = "\n".join(ln for ln in lines if ln)
        if para:
            self.paras.append(self.prefix + para)
            self.prefix = ""

    def text(self) -> str:
        self.flush()
        return "\n\n".join(self.paras)


def _is_footnote_mark(node: LexborNode, tag: str, component: str, classes: set[str]) -> bool:
    if component == "FootnoteAnchorToDOM" or "footnote-anchor" in classes:
        return True
    if tag == "sup" and "footnote-ref" in classes:  # markdown-it / pandoc footnote references
        return True
    return False


def _first_text(node: LexborNode, selector: str) -> str:
    found = node.css_first(selector)
    return _squash(found.text(deep=True)) if found is not None else ""


def normalise_paragraphs(raw: str) -> str:
    """Paragraphs split on blank lines, whitespace folded inside each (kept for callers)."""
    paras = []
    for block in re.split(r"\n\s*\n", raw):
        lines = [_SPACES.sub(" ", ln).strip() for ln in block.split(_BR)]
        para = "\n".join(ln for ln in lines if ln)
        if para:
            paras.append(re.sub(r"^\u2022 ?", "- ", para))
    return "\n\n".join(paras)
