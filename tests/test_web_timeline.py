"""The timeline page groups pieces by year: a piece known only by date bounds sits under the year
of its bound (worded as bounds, never as a date), and no year heading is empty or repeated."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from backlist.index.chunking import chunk
from backlist.model import Document
from backlist.service import Library
from backlist.web.app import create_app


def _doc(doc_id: str, date: str | None, position: str) -> Document:
    return Document(id=doc_id, kind="post", source="tides.txt", position=position, date=date,
                    title=f"Saltmarsh {doc_id}", text=f"Saltmarsh notes, piece {doc_id}, about mudflats.")


def test_bounded_pieces_sit_under_the_year_of_their_bound(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKLIST_EMBEDDER", "hash")
    folder = tmp_path / "lib"
    with Library(folder) as lib:
        for d in (_doc("a2024", "2024-05-01", "line 1"), _doc("bound", None, "line 2"),
                  _doc("b2025", "2025-03-01", "line 3"), _doc("c2025", "2025-06-01", "line 4")):
            lib.store.write_document(d, chunk(d))
        lib.store.set_effective("bound", {"date_earliest": "2025-01-10", "date_latest": "2025-02-20"},
                                {"date_earliest": "feed order", "date_latest": "feed order"})
        lib.embed_pending()
    with TestClient(create_app(folder), base_url="http://127.0.0.1") as c:
        page = c.get("/timeline", params={"q": "saltmarsh mudflats"})
    assert page.status_code == 200
    dated = page.text.split('id="dated"', 1)[1].split("</section>", 1)[0]
    years = re.findall(r'<h3 class="year">([^<]*)</h3>', dated)
    assert years == ["2024", "2025"], years
    under_2025 = dated.split('<h3 class="year">2025</h3>', 1)[1]
    assert {'data-doc="bound"', 'data-doc="b2025"', 'data-doc="c2025"'} <= set(
        re.findall(r'data-doc="[^"]+"', under_2025))
    assert "between 2025-01-10 and 2025-02-20" in under_2025  # its bounds, worded as bounds
