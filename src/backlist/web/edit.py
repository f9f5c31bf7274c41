"""The writer's corrections from the document page: one POST route (the guard refuses cross-site
requests and checks the token as for every other POST), the same Library.edit as `backlist edit`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from backlist.corrections import EDITABLE
from backlist.errors import UsageError

router = APIRouter(include_in_schema=False)
Field = Annotated[str, Form(max_length=2_000)]


@router.post("/doc/{doc_id}/edit")
def document_edit(request: Request, doc_id: str, title: Field = "", subtitle: Field = "",
                  date: Annotated[str, Form(max_length=40)] = "", url: Field = "",
                  kind: Annotated[str, Form(max_length=20)] = "",
                  reading: Annotated[str, Form(max_length=10)] = "",
                  clear: Annotated[list[str] | None, Form()] = None) -> Response:
    """Fields left empty are not changed; `reading` is "", "yes" or "no"; each `clear` names a
    field whose correction to drop."""
    values: dict[str, Any] = {name: value.strip() for name, value in (
        ("title", title), ("subtitle", subtitle), ("date", date), ("url", url), ("kind", kind))
        if value.strip()}
    if reading not in ("", "yes", "no"):
        raise UsageError("reading: choose yes or no")
    if reading:
        values["reading"] = reading == "yes"
    dropped = [c for c in clear or [] if c]
    bad = [c for c in dropped if c not in EDITABLE]
    if bad:
        raise UsageError(f"{bad[0]!r} cannot be cleared; choose from {', '.join(EDITABLE)}")
    with request.app.state.web.writable() as lib:
        doc = lib.edit(doc_id, values, [c for c in dropped if c not in values])
    return RedirectResponse(f"/doc/{doc.id}", status_code=303)
