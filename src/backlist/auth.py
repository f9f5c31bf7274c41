"""A bearer token for servers bound off loopback (MCP over HTTP, the web app).

On 127.0.0.1 only this machine's users can connect; anywhere else every request must carry the
token, as `Authorization: Bearer TOKEN` (agents) or a `backlist_token` cookie (the browser,
set once by visiting `/?token=TOKEN`).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from backlist.errors import BacklistError

ASGIApp = Callable[[dict[str, Any], Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]],
                   Awaitable[None]]
COOKIE = "backlist_token"
LOOPBACK = ("127.0.0.1", "localhost", "::1")  # names a server may bind without a token
LOOPBACK_HOSTS = (*LOOPBACK, "[::1]")  # the same, as they appear in a Host header


def is_loopback(host: str) -> bool:
    return host in LOOPBACK


def check_bind(host: str, token: str | None) -> None:
    """The one rule for every server: binding anything but loopback needs a token (one clear
    BacklistError otherwise)."""
    if not is_loopback(host) and not token:
        raise BacklistError(f"--host {host} is reachable from other machines: pass --token (or "
                            "set BACKLIST_TOKEN); clients then send 'Authorization: Bearer TOKEN'")


def token_of(scope: dict[str, Any]) -> str | None:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    if "cookie" in headers:
        jar = SimpleCookie()
        try:
            jar.load(headers["cookie"])
        except Exception:  # a malformed cookie header is just no token
            return None
        if COOKIE in jar:
            return jar[COOKIE].value
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return (query.get("token") or [None])[0]


def require_token(app: ASGIApp, token: str) -> ASGIApp:
    """Wrap an ASGI app so every HTTP request must present the token (401 otherwise)."""
    expected = token.encode()

    async def guarded(scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await app(scope, receive, send)
        given = token_of(scope)
        if given is None or not hmac.compare_digest(given.encode(), expected):
            body = b'{"error": "a valid token is required (Authorization: Bearer TOKEN)"}'
            await send({"type": "http.response.start", "status": 401,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"www-authenticate", b"Bearer")]})
            await send({"type": "http.response.body", "body": body})
            return None
        return await app(scope, receive, send)

    return guarded
