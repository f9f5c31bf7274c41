"""The web app's JSON response: the one JSON encoding every surface uses (backlist.render.json_text:
readable UTF-8, with C1 controls, bidi overrides and line separators escaped as \\uXXXX), so a
viewer of the raw JSON sees hostile archive text as it is."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from backlist.render import json_text


class InertJSONResponse(JSONResponse):
    """The app's one JSON response class (FastAPI's default_response_class)."""

    def render(self, content: Any) -> bytes:
        return json_text(content, indent=None).encode("utf-8")
