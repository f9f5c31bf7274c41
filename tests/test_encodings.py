"""Encodings: byte-order marks, declared encodings, Western text before exotic guesses; and the
metrics CSV reader (byte-order marks, semicolons, "1.2k", oversized header fields)."""

from __future__ import annotations

import random

import pytest

from backlist.analysis.metrics import _number, _read_csv, import_csv
from backlist.errors import BacklistError, IngestError
from backlist.ingest.article import read_text_article
from backlist.ingest.base import ReadContext
from backlist.ingest.feed import read_feed
from backlist.ingest.textio import decode
from backlist.service import Library

FEED = ('<?xml version="1.0" encoding="UTF-16"?>\n<rss version="2.0"><channel><title>Marée basse</title>'
        "<item><title>Café au bord de l’eau</title><guid>ep-1</guid>"
        "<pubDate>Tue, 02 Mar 2021 08:00:00 +0000</pubDate>"
        "<description>Une promenade naïve — entre les parcs à huîtres.</description></item>"
        "</channel></rss>")
PHRASE = "Noteworthy café — naïve"


@pytest.mark.parametrize(("codec", "bom"), [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"),
                                            ("utf-32-le", b"\xff\xfe\x00\x00"),
                                            ("utf-8", b"\xef\xbb\xbf")])
def test_feed_with_byte_order_mark_ingests(tmp_path, codec, bom):
    path = tmp_path / "feed.xml"
    path.write_bytes(bom + FEED.encode(codec))
    ctx = ReadContext()
    docs = list(read_feed(str(path), ctx))
    assert ctx.problems == []
    assert [d.title for d in docs] == ["Café au bord de l’eau"]
    assert docs[0].date == "2021-03-02"
    assert "Une promenade naïve — entre les parcs à huîtres." in docs[0].text


def test_cp1252_text_decodes_exactly(tmp_path):
    path = tmp_path / "note.txt"
    path.write_bytes(f"{PHRASE}\nA subtitle about the harbour\n\nThe “regulars” came back to the "
                     "café on the quay.\n".encode("cp1252"))
    doc = next(read_text_article(path, ReadContext()))
    assert doc.title == PHRASE
    assert doc.text == "The “regulars” came back to the café on the quay."


def test_latin1_text_decodes_exactly():
    text = "Noteworthy café, naïve crème brûlée and a façade on the quay. " * 3
    assert decode(text.encode("latin-1"), "x.txt") == text  # not "Notťworthy" (cp1250)
    assert decode(f"{PHRASE}. ".encode("cp1252") * 3, "x.txt") == f"{PHRASE}. " * 3


@pytest.mark.parametrize(("text", "codec"), [
    ("今日は海岸の観察について書きます。潮だまりには多くの生き物がいます。", "shift_jis"),
    ("Сегодня на побережье хорошая погода, и мы идём считать птиц у маяка.", "cp1251"),
    ("Σήμερα μετρήσαμε τα πουλιά στην παραλία κοντά στον φάρο του λιμανιού.", "cp1253"),
])
def test_other_real_encodings_still_decode(text, codec):
    assert decode(text.encode(codec), "x.txt") == text


def test_declared_encoding_is_honoured():
    html = '<html><head><meta charset="iso-8859-15"></head><body><p>Prix : 5 € le café</p></body></html>'
    assert decode(html.encode("iso8859_15"), "p.html") == html
    xml = '<?xml version="1.0" encoding="ISO-8859-1"?><rss><channel><title>Côte</title></channel></rss>'
    assert decode(xml.encode("latin-1"), "f.xml") == xml.replace("ISO-8859-1", "utf-8")


def test_undecodable_garbage_is_an_error():
    rng = random.Random(7)
    data = bytes(rng.randrange(1, 256) for _ in range(4000))
    with pytest.raises(IngestError, match="undecodable bytes"):
        decode(data, "junk.txt")
    with pytest.raises(IngestError, match="not valid UTF-16-LE"):
        decode(b"\xff\xfe" + b"\x00\xd8" + b"a\x00", "bad16.txt")  # a lone surrogate


# ---- metrics CSV ----

@pytest.mark.parametrize(("value", "decimal_comma", "number"), [
    ("1.2k", False, 1200.0), ("3M", False, 3_000_000.0), ("3,100", False, 3100.0), ("45%", False, 0.45),
    ("$1,200.50", False, 1200.5), ("1.234,5", True, 1234.5), ("12,5 %", True, 0.125),
    ("1.234", True, 1234.0), ("0.5", True, 0.5), ("k", False, None), ("n/a", False, None),
    ("nan", False, None),
])
def test_metric_numbers(value, decimal_comma, number):
    assert _number(value, decimal_comma) == number


def test_semicolon_csv_with_bom(tmp_path):
    path = tmp_path / "dash.csv"
    path.write_bytes(b"\xef\xbb\xbfpost_id;views;open_rate\n7.sea-rocket;1.2k;45,5%\n")
    header, rows, decimal_comma = _read_csv(path)
    assert header == ["post_id", "views", "open_rate"] and decimal_comma
    assert rows == [{"post_id": "7.sea-rocket", "views": "1.2k", "open_rate": "45,5%"}]


def test_header_field_over_128_kb_is_one_clear_line(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text("post_id," + "x" * 140_000 + "\n1,2\n")
    with pytest.raises(BacklistError) as err:
        _read_csv(path)
    assert str(err.value) == (f"{path}: malformed metrics CSV (a field is over 128 KB, too long for "
                              "a metrics table)")


def test_import_semicolon_metrics(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "rocket.md").write_text("---\ntitle: Sea rocket\ndate: 2021-03-03\npost_id: 7.sea-rocket\n---\n"
                                   "Sea rocket grows in the wrack line.\n")
    lib = Library(tmp_path / "lib")
    lib.ingest([str(src)], embed=False)
    csv_path = tmp_path / "dash.csv"
    csv_path.write_bytes("post_id;views;open_rate\n7.sea-rocket;1.2k;45,5%\n".encode("utf-16"))
    result = import_csv(lib, csv_path)
    assert result.matched == 1 and result.columns == ["open_rate", "views"]
    doc = lib.list()[0]
    assert doc.metrics == {"views": 1200.0, "open_rate": 0.455}
    lib.close()
