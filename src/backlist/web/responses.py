"""JSON as the web app sends it: readable UTF-8, with every character that could hide or
reorder text escaped as \\uXXXX (C0/C1 controls, DEL, bidi overrides and isolates, line and
paragraph separators). Archive text is hostile data; a viewer of the raw JSON must see it as it is."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.responses import JSONResponse

# json.dumps already escapes C0 controls; these it leaves raw with ensure_ascii=False.
UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def inert_json(data: Any) -> str:
    """data as JSON text with the characters above escaped (they only occur inside strings)."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


class InertJSONResponse(JSONResponse):
    """The app's one JSON response class (FastAPI's default_response_class)."""

    def render(self, content: Any) -> bytes:
        return inert_json(content).encode("utf-8")
