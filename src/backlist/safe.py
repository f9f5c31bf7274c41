"""Archive text is data: these make it harmless wherever it is shown.

Titles, authors, URLs and text come from files anyone could have written. Before they reach a
terminal, control characters and escape sequences go; before they reach Markdown or HTML, the
markup characters are escaped; only http(s) and mailto URLs are ever shown as links.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

# ANSI CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), other two-byte ESC sequences,
# then any remaining C0/C1 control character except newline and tab.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[@-Z\\-_]?"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
SAFE_SCHEMES = ("http", "https", "mailto")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~])")


def terminal_text(text: str | None) -> str:
    """Text with escape sequences and control characters (but newlines and tabs) removed,
    and bidirectional overrides dropped, so it cannot move the cursor or retitle a terminal."""
    if not text:
        return ""
    return _BIDI.sub("", _ESCAPES.sub("", text))


def one_line(text: str | None) -> str:
    """terminal_text folded to one line: for titles, authors and other single fields."""
    return " ".join(terminal_text(text).split())


def safe_url(url: str | None) -> str | None:
    """The URL if it is http(s) or mailto and well formed, else None (no javascript:, data:,
    vbscript:, file:…)."""
    if not url:
        return None
    url = url.strip()
    if _ESCAPES.search(url) or any(c.isspace() or c in '<>"`' for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in SAFE_SCHEMES:
        return None
    if parts.scheme.lower() != "mailto" and not parts.netloc:
        return None
    return url


def md_text(text: str | None) -> str:
    """One line of archive text for Markdown: markup characters escaped, HTML made literal."""
    return _MD_SPECIAL.sub(r"\\\1", one_line(text)).replace("&", "&amp;")


def md_quote_text(text: str | None) -> str:
    """Body text for a Markdown quote: one line, tags shown as text (< and > escaped as entities
    so no renderer takes them for HTML); other characters kept so quotes read naturally."""
    quoted = one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return quoted.replace("](", "]\\(").replace("![", "!\\[")  # no live links or images


def md_link(label: str | None, url: str | None) -> str:
    """A Markdown link when the URL is safe, else just the escaped label."""
    shown = md_text(label) or "(untitled)"
    ok = safe_url(url)
    if not ok:
        return shown
    return f"[{shown}](<{ok}>)"


def html_text(text: str | None) -> str:
    """Text escaped for HTML element content or a quoted attribute."""
    return html.escape(terminal_text(text), quote=True)
