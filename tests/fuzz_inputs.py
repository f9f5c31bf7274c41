"""A seeded generator of hostile archive files: garbled copies of valid ones, odd encodings, deep
nesting, huge lines, odd YAML, zip-slip names, entity bombs, NUL and control characters.

Same seed, same files: a failure is reproduced with `cases(seed, n)`.
"""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Sparse:
    """A file of this many bytes that takes no disk: it must be refused from its size, unread."""

    size: int


@dataclass(frozen=True)
class ExportWithLinkOut:
    """An unzipped Substack export whose post is a link to a file outside it, holding `secret`:
    the secret must never reach the library."""

    secret: str


Special = Sparse | ExportWithLinkOut
Case = tuple[str, bytes | Special]  # file name suffix, bytes (or a file the test must make)

MD = """---
title: "Tides and {word}"
subtitle: A note
date: 2024-05-0{d}
type: newsletter
audience: everyone
---
# Tides

A paragraph about *oysters* and [the marsh](https://example.org/marsh) with ![img](a.png).

- one
- two

> quoted {word}
"""
RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
     xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:podcast="https://podcastindex.org/namespace/1.0">
<channel><title>Tide Talk</title><link>https://example.org</link>
<item><title>Episode {word}</title><link>https://example.org/e/1</link>
<pubDate>Tue, 04 Mar 2025 10:00:00 GMT</pubDate><itunes:author>Maren Holt</itunes:author>
<content:encoded><![CDATA[<p>We talk about {word} and storms.</p>]]></content:encoded>
<enclosure url="https://example.org/e1.mp3" type="audio/mpeg" length="1"/>
<podcast:transcript url="ep1.vtt" type="text/vtt"/></item>
</channel></rss>
"""
ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Notes</title>
<entry><title>On {word}</title><link href="https://example.org/p/x"/><updated>2025-01-01T00:00:00Z</updated>
<content type="html">&lt;p&gt;Words on {word}.&lt;/p&gt;</content></entry></feed>
"""
VTT = """WEBVTT

00:00:01.000 --> 00:00:04.000
<v Maren Holt>Welcome back to the show about {word}.

00:00:04.500 --> 00:00:09.000
<v Ana Ruiz>Thanks, the marsh grass held after the storm.
"""
SRT = """1
00:00:01,000 --> 00:00:04,000
Maren Holt: Welcome back, we talk {word}.

2
00:00:04,500 --> 00:00:09,000
Ana Ruiz: The reef held.
"""
HTML = """<!DOCTYPE html><html><head><title>Saved: {word}</title>
<meta name="author" content="Ana Ruiz"><meta property="article:published_time" content="2025-02-01">
<script>alert(1)</script></head><body><article><h1>Saved {word}</h1>
<p>The living shoreline kept its ground through the winter storms and the oyster shell held.</p>
<p>Engineers measured the loss against the bulkheads next door over three seasons.</p>
</article><section class="comments"><p>Great piece!</p></section></body></html>
"""
TXT = """Harbor notes on {word}

A subtitle line

The harbor cafe re-opened and the regulars came back for chowder and gossip about the dredging
plan, which the council will vote on next month.

- Maren
"""
TURNS = """Episode {word}

00:00:05 Maren Holt: Welcome to the show.
00:01:10 Ana Ruiz: Glad to be here, talking {word}.
00:02:30 Maren Holt: Let's start with the reef.
"""
JSON_TRANSCRIPT = """{{"version": "1.0.0", "segments": [
 {{"speaker": "Maren Holt", "startTime": 0.5, "endTime": 3.0, "body": "Welcome, {word}."}},
 {{"speaker": "Ana Ruiz", "startTime": 3.1, "endTime": 6.0, "body": "The reef held."}}]}}
"""
POSTS_CSV = ("post_id,post_date,is_published,email_sent_at,inbox_sent_at,type,audience,title,"
             "subtitle,podcast_url\n"
             "1.tides,2025-01-01T00:00:00Z,true,,,newsletter,everyone,{word},,\n"
             "2.reef,2025-01-08T00:00:00Z,false,,,newsletter,everyone,Draft reef,,\n")
TEMPLATES: dict[str, tuple[str, ...]] = {
    MD: (".md", ".markdown"), RSS: (".xml", ".rss"), ATOM: (".atom", ".xml"), VTT: (".vtt",),
    SRT: (".srt",), HTML: (".html", ".htm"), TXT: (".txt", ""), TURNS: (".txt",),
    JSON_TRANSCRIPT: (".json",),
}
SUFFIXES = (".md", ".txt", ".xml", ".rss", ".atom", ".html", ".htm", ".vtt", ".srt", ".zip", ".json",
            "", ".markdown", ".text", ".mdx")
WORDS = ("herring", "café", "Ünïcödé", "日本語", "emoji 🐟", "RTL \u202eevil", "tab\there", "a&amp;b",
         "<b>bold</b>", "zero\u200bwidth", "'quote\"")
CONTROLS = [chr(c) for c in range(0x20) if c not in (9, 10, 13)] + ["\x7f", "\x85", "\u2028", "\ufeff"]


def substack_zip(rng: random.Random, word: str, extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("posts.csv", POSTS_CSV.format(word=word.replace(",", " ")))
        zf.writestr("posts/1.tides.html", f"<p>Words about {word}.</p>")
        zf.writestr("posts/2.reef.html", "<p>Draft words.</p>")
        zf.writestr("email_list.tide.csv", "email\nana@example.org\n")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


# --- mutations of valid bytes ------------------------------------------------------------------------
def _truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def _flip(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 12)):
        if out:
            out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def _insert(rng: random.Random, data: bytes, what: bytes) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + what + data[at:]


def _nul(rng: random.Random, data: bytes) -> bytes:
    return _insert(rng, data, b"\x00" * rng.randint(1, 4))


def _controls(rng: random.Random, data: bytes) -> bytes:
    for _ in range(rng.randint(1, 6)):
        data = _insert(rng, data, rng.choice(CONTROLS).encode())
    return data


def _splice(rng: random.Random, data: bytes) -> bytes:
    return _insert(rng, data, rng.randbytes(rng.randint(1, 64)))


def _repeat(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    a = rng.randrange(len(data))
    b = min(len(data), a + rng.randint(1, 200))
    return data[:b] + data[a:b] * rng.randint(2, 200) + data[b:]


def _drop(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    a = rng.randrange(len(data))
    return data[:a] + data[a + rng.randint(1, 100):]


def _reencode(rng: random.Random, data: bytes) -> bytes:
    text = data.decode("utf-8", "replace")
    enc = rng.choice(["utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "cp1252", "shift_jis",
                      "koi8-r", "utf-8-sig", "gb18030", "cp437"])
    return text.encode(enc, "replace")


MUTATIONS: tuple[Callable[[random.Random, bytes], bytes], ...] = (
    _truncate, _flip, _nul, _controls, _splice, _repeat, _drop, _reencode)


def garbled(rng: random.Random) -> Case:
    template, suffixes = rng.choice(list(TEMPLATES.items()))
    word = rng.choice(WORDS)
    data = template.format(word=word, d=rng.randint(1, 9)).encode()
    for _ in range(rng.randint(1, 3)):
        data = rng.choice(MUTATIONS)(rng, data)
    suffix = rng.choice(suffixes) if rng.random() < 0.8 else rng.choice(SUFFIXES)
    return suffix, data


def garbled_zip(rng: random.Random) -> Case:
    data = substack_zip(rng, rng.choice(WORDS))
    if rng.random() < 0.7:
        data = rng.choice((_truncate, _flip, _splice, _drop))(rng, data)
    return ".zip", data


# --- hostile constructions ---------------------------------------------------------------------------
def random_bytes(rng: random.Random) -> Case:
    size = int(2 ** rng.uniform(0, 16))
    return rng.choice(SUFFIXES), rng.randbytes(size)


def deep_nesting(rng: random.Random) -> Case:
    n = rng.choice((200, 1000, 5000, 20000))
    kind = rng.randrange(6)
    if kind == 0:
        return ".html", b"<html><body>" + b"<div>" * n + b"deep" + b"</div>" * n + b"</body></html>"
    if kind == 1:
        return ".xml", (b"<?xml version='1.0'?><rss><channel><item><title>t</title><description>"
                        + b"<a>" * n + b"x" + b"</a>" * n + b"</description></item></channel></rss>")
    if kind == 2:
        return ".md", b"---\ntitle: " + b"[" * n + b"\n---\nbody\n"
    if kind == 3:
        return ".md", b"---\ntitle: Deep quote\n---\n" + b">" * n + b" deep\n" + b"  - " * (n // 10) + b"x\n"
    if kind == 4:
        return ".md", b"---\ntitle: Deep\n---\n" + b"*" * n + b"x" + b"*" * n + b"\n" + b"[" * n + b"\n"
    return ".json", b'{"version": "1", "segments": ' + b"[" * n + b"]" * n + b"}"


def huge_line(rng: random.Random) -> Case:
    n = rng.choice((100_000, 400_000))
    unit = rng.choice((b"a", b"word ", b"\xc3\xa9", b"<b>", b"-- ", b"00:00:01 Ana: ", b"&amp;"))
    line = (unit * (n // len(unit)))[:n]
    suffix = rng.choice((".txt", ".md", ".html", ".vtt", ".srt", ""))
    if suffix == ".md":
        return suffix, b"---\ntitle: Long\n---\n" + line
    if suffix == ".vtt":
        return suffix, b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n" + line + b"\n"
    return suffix, line


def odd_encoding(rng: random.Random) -> Case:
    text = TXT.format(word=rng.choice(WORDS))
    choice = rng.randrange(6)
    if choice == 0:
        return ".txt", text.encode("utf-16-le")  # no BOM
    if choice == 1:
        return ".txt", b"\xef\xbb\xbf" + text.encode("latin-1", "replace")  # a lying BOM
    if choice == 2:
        return ".txt", text.encode() + b"\xc0\xaf\xed\xa0\x80\xf8\x88\x80\x80\x80"  # overlong, surrogate
    if choice == 3:
        return ".xml", RSS.format(word="x").replace('encoding="UTF-8"', 'encoding="klingon"').encode()
    if choice == 4:
        return ".xml", RSS.format(word="é").replace('encoding="UTF-8"', 'encoding="UTF-16"').encode()
    return ".md", MD.format(word="é", d=1).encode("utf-32")


YAML_ODDITIES = (
    "title: &a [*a]",
    "a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c]\n"
    "title: [*d, *d, *d, *d, *d, *d, *d, *d]",
    "title: !!python/object/apply:os.system ['echo owned']",
    "title: !!binary aGVsbG8=\ndate: !!timestamp 2025-01-01",
    "date: 0000-00-00\ntitle: Zero date",
    "date: 99999-01-01\ntitle: Far future",
    "date: 2025-13-45\ntitle: Bad month",
    "date: [2025, 1, 1]\ntitle: {a: b}",
    "title: 12345\ndate: 1e400",
    "title: null\ndate: ~",
    "? [complex, key]\n: value\ntitle: Complex",
    "title: one\ntitle: two",
    "title:\t\ttabbed",
    "title: \"\\x00\\x07 control\\u2028sep\"",
    "title: " + "x" * 20000,
    "- a\n- list at the top",
    "just a scalar",
    "title: ok\n\x00\x01",
    "%YAML 9.9\n---\ntitle: version",
    "title: ok\ndate: 2025-01-01T25:61:61Z",
)


def odd_yaml(rng: random.Random) -> Case:
    front = rng.choice(YAML_ODDITIES)
    end = rng.choice(("---\n", "", "...\n", "---"))
    return rng.choice((".md", ".html", ".txt")), f"---\n{front}\n{end}Body text about reefs.\n".encode()


def zip_names(rng: random.Random) -> Case:
    names = ("../../evil.html", "/abs/evil.html", "posts/../../x.html", "..\\..\\win.html",
             "posts/\x00nul.html", "C:/drive.html", "posts/" + "a" * 300 + ".html", "posts/1.tides.html")
    extra = {rng.choice(names): b"<p>evil</p>" for _ in range(rng.randint(1, 3))}
    return ".zip", substack_zip(rng, "herring", extra)


def zip_odd(rng: random.Random) -> Case:
    choice = rng.randrange(4)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        if choice == 0:
            zf.writestr("posts.csv", rng.randbytes(300))
        elif choice == 1:
            zf.writestr("posts.csv", POSTS_CSV.format(word="x"))
            zf.writestr("posts/1.tides.html", b"<p>" + b"a" * 3_000_000 + b"</p>")  # ratio bomb
        elif choice == 2:
            zf.writestr("inner.zip", substack_zip(rng, "nested"))
        else:
            zf.writestr("posts.csv", "post_id,title\n" + "".join(f"{i}.p,T{i}\n" for i in range(300)))
    return ".zip", buf.getvalue()


def entity_bomb(rng: random.Random) -> Case:
    choice = rng.randrange(4)
    if choice == 0:
        ents = '<!ENTITY a "aaaaaaaaaa">' + "".join(
            f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(6))
        return ".xml", (f'<?xml version="1.0"?><!DOCTYPE rss [{ents}]><rss version="2.0"><channel>'
                        "<title>&g;</title><item><title>&g;</title></item></channel></rss>").encode()
    if choice == 1:
        return ".rss", (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                        b'<rss version="2.0"><channel><title>&x;</title><item><title>&x;</title>'
                        b"</item></channel></rss>")
    if choice == 2:
        return ".html", b'<!DOCTYPE html [<!ENTITY a "' + b"A" * 1000 + b'">]><html><body><p>&a;&a;</p>' \
            + b"&amp;" * 50000 + b"</body></html>"
    return ".xml", (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x">%p;]>'
                    b"<rss><channel><item><title>x</title></item></channel></rss>")


def control_titles(rng: random.Random) -> Case:
    bad = "".join(rng.choice(CONTROLS) for _ in range(rng.randint(1, 8)))
    title = f"Title{bad}end\x1b[31mred\x1b[0m"
    choice = rng.randrange(5)
    if choice == 0:
        return ".md", f'---\ntitle: "{title.encode("unicode_escape").decode()}"\n---\nBody.\n'.encode()
    if choice == 1:
        return ".xml", RSS.replace("Episode {word}", title).format(word="x").encode("utf-8", "replace")
    if choice == 2:
        return ".txt", f"{title}\n\nBody about the reef and the storm, long enough to read.\n".encode()
    if choice == 3:
        return ".html", HTML.replace("Saved: {word}", title).format(word="x").encode()
    return ".vtt", f"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v {title}>Hello\n".encode()


def odd_captions(rng: random.Random) -> Case:
    cues = ("99:99:99.999 --> 00:00:01.000", "00:00:02.000 --> 00:00:01.000", "-00:00:01.000 --> 1",
            "00:00:01.000 -->", "99999999999:00:00.000 --> 99999999999:00:01.000", "a --> b")
    body = "".join(f"\n{i}\n{rng.choice(cues)}\n<v>text {i}\n" for i in range(rng.randint(1, 30)))
    if rng.random() < 0.5:
        return ".vtt", ("WEBVTT\n" + body).encode()
    return ".srt", body.replace(".", ",").encode()


def deep_html(rng: random.Random) -> Case:
    """Unclosed nesting at the depths that once ran for minutes inside lexbor's C code."""
    n = rng.choice((30_000, 200_000))
    tag = rng.choice((b"<div>", b"<span>", b"<b><i>", b"<div><p>", b"<table><tr><td>"))
    head = b"<html><head><title>Deep</title></head><body>"
    if rng.random() < 0.5:  # a Substack-style post body, read by the same HTML path
        return ".html", b"---\ntitle: Deep\n---\n" + tag * (n // 2) + b"x"
    return ".html", head + tag * n + b"x</body></html>"


def many_short_lines(rng: random.Random) -> Case:
    n = rng.choice((10_000, 40_000))
    line = rng.choice((b"ab c\n", b"x\n\n", b"- \n", b"Ana: hi\n\n", b"00:00:01 Ana: ok\n"))
    return rng.choice((".txt", ".md", "")), b"Notes\n\n" + line * n


def huge_cue(rng: random.Random) -> Case:
    n = rng.choice((500_000, 2_000_000))
    unit = rng.choice((b"word ", b"a", b"<v Ana>", b"\xc3\xa9 "))
    cue = (unit * (n // len(unit)))[:n]
    if rng.random() < 0.5:
        return ".vtt", b"WEBVTT\n\n00:00:00.000 --> 00:00:05.000\n" + cue + b"\n"
    return ".srt", b"1\n00:00:00,000 --> 00:00:05,000\n" + cue + b"\n"


def markup_flood(rng: random.Random) -> Case:
    """Hugo shortcodes, Liquid tags and wikilinks by the hundred thousand, nested or not."""
    unit = rng.choice((b"{{< figure src=\"a.png\" >}}", b"{{% note %}}", b"{% include x.html %}",
                       b"{{ page.title }}", b"[[Some Page]]", b"[[a|b]]", b"{{<", b"{%", b"[[",
                       b"![[embed.png]]"))
    n = rng.choice((2_000, 20_000))
    sep = rng.choice((b" ", b"\n", b"", b"\n\n"))
    return ".md", b"---\ntitle: Flood\n---\n" + (unit + sep) * n


def sparse_file(rng: random.Random) -> Case:
    return rng.choice((".txt", ".md", ".html", ".vtt", ".zip")), Sparse(rng.choice((1, 20)) << 30)


def link_out_of_export(rng: random.Random) -> Case:
    return "", ExportWithLinkOut(f"Quxsecret{rng.randrange(10 ** 9)}")


# Classes meant to press on the budgets: for them "took too long" is the budget holding.
BUDGET_CLASSES = frozenset({"deep_html", "many_short_lines", "huge_cue", "markup_flood"})

GENERATORS: tuple[tuple[Callable[[random.Random], Case], int], ...] = (
    (garbled, 30), (garbled_zip, 6), (random_bytes, 8), (deep_nesting, 5), (huge_line, 3),
    (odd_encoding, 6), (odd_yaml, 10), (zip_names, 4), (zip_odd, 3), (entity_bomb, 5),
    (control_titles, 8), (odd_captions, 5),
    # The classes of issue 24: budgets (time, memory, size) and links out of exports.
    (deep_html, 2), (many_short_lines, 2), (huge_cue, 1), (markup_flood, 3), (sparse_file, 2),
    (link_out_of_export, 2),
)


def case(rng: random.Random) -> tuple[str, Case]:
    """One hostile file and the name of the generator that made it."""
    gens, weights = zip(*GENERATORS)
    gen = rng.choices(gens, weights)[0]
    return gen.__name__, gen(rng)


def cases(seed: int, n: int) -> list[tuple[str, str, bytes | Special]]:
    """n hostile files: (generator name, file name, bytes); file names are unique."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        gen, (suffix, data) = case(rng)
        out.append((gen, f"f{seed}-{i:03d}{suffix}", data))
    return out
