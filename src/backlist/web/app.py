"""The web app: server-rendered pages, a JSON API mirroring the CLI contracts, and the MCP server
at /mcp, all over one `Library` façade.

Safety, outermost first: a bearer token off loopback (backlist.auth.require_token); a Host check
on loopback (DNS rebinding); cross-site POSTs refused; request bodies capped; every response
carries a Content-Security-Policy that forbids inline script, so archive text that slips into a
page as markup still cannot run. Jinja autoescapes everything.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jinja2
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import escape
from starlette.exceptions import HTTPException as StarletteHTTPException

from backlist.auth import COOKIE, LOOPBACK_HOSTS, check_bind, is_loopback, require_token
from backlist.errors import BacklistError, NotFoundError
from backlist.render import json_text
from backlist.web.responses import InertJSONResponse
from backlist.web.state import WebState

HERE = Path(__file__).resolve().parent
MAX_BODY = 2 * 1024 * 1024  # a long draft is well under 1 MB of text
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    # same-origin, not no-referrer: under no-referrer a browser sends `Origin: null` on the app's
    # own form posts, and null is refused (what sandboxed and file: documents send). No referrer
    # leaves for other sites either way (links out also carry rel=noreferrer).
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
log = logging.getLogger("backlist.web")

# autoescape on for every template, whatever its file name: archive text is data
templates = Jinja2Templates(env=jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True))


def create_app(library_path: str | os.PathLike[str] | None = None, database: str | None = None,
               token: str | None = None, host: str = "127.0.0.1", port: int = 8000,
               mcp: bool = True) -> Any:
    """The whole app as one ASGI callable. host/port are where it will be bound: on loopback
    requests must name a loopback Host; anywhere else a token is required on every request."""
    check_bind(host, token)
    state = WebState(Path(library_path) if library_path else None, database)
    mcp_server, mcp_app = _mcp(state, host, port, token) if mcp else (None, None)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        async with contextlib.AsyncExitStack() as stack:
            if mcp_server is not None:
                await stack.enter_async_context(mcp_server.session_manager.run())
            try:
                yield
            finally:
                state.close()

    app = FastAPI(title="backlist", version="1", lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url="/openapi.json",
                  default_response_class=InertJSONResponse,
                  description="A writer's archive as a searchable, citable library. Each route "
                              "takes the options of the CLI command of the same name and answers "
                              "with that command's --json shape; unknown options are refused "
                              "with a 400.")
    app.state.web = state
    app.state.token = token
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    from backlist.web import api, pages

    app.include_router(api.router)
    app.include_router(pages.router)
    if mcp_app is not None:
        app.add_route("/mcp", _Asgi(mcp_app), include_in_schema=False)  # type: ignore[arg-type]
    _errors(app)
    guarded: Any = _Guard(app, loopback=is_loopback(host), token=token)
    return require_token(guarded, token) if token else guarded


def _mcp(state: WebState, host: str, port: int, token: str | None) -> tuple[Any, Any]:
    """The MCP server's own streamable-HTTP app (Host/Origin checks included); it keeps its
    route at /mcp, so the web app passes /mcp requests to it unchanged."""
    from backlist.mcp_server import create_server, http_app

    server = create_server(state.library_path, state.database)
    return server, http_app(server, host, port, None if is_loopback(host) else token)


class _Asgi:
    """An ASGI callable as an object, so the router passes requests (any method) through unchanged
    instead of treating a plain function as a GET endpoint."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


# --- errors ---------------------------------------------------------------------------------------
def status_of(exc: BaseException) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    return 400


def error_response(request: Request, status: int, message: str) -> Response:
    """One clear message: JSON for the API, a page for people; never a traceback."""
    if request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", ""):
        return InertJSONResponse({"error": message}, status_code=status)
    try:
        return html(request, "error.html", {"status": status, "message": message}, status)
    except Exception:  # the error page itself failed: say it plainly
        log.exception("error page failed")
        return HTMLResponse(f"<!doctype html><title>{status}</title><p>{escape(message)}</p>",
                            status_code=status)


def _errors(app: FastAPI) -> None:
    @app.exception_handler(BacklistError)
    async def domain(request: Request, exc: BacklistError) -> Response:
        return error_response(request, status_of(exc), str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x not in ("query", "body"))
        message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        return error_response(request, 400, f"{where or 'input'}: {message}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = "no such page" if exc.status_code == 404 else str(exc.detail)
        return error_response(request, exc.status_code, message)

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        log.exception("error on %s", request.url.path)
        return error_response(request, 500, "something went wrong on the server (see its log)")


# --- the guard: host, origin, body size, headers, token cookie --------------------------------------
class _Guard:
    """Pure ASGI so it can count a streamed body and add headers to every response, including
    static files and MCP."""

    def __init__(self, app: Any, loopback: bool, token: str | None) -> None:
        self.app = app
        self.loopback = loopback
        self.token = token

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        wants_html = not scope["path"].startswith(("/api/", "/mcp")) and \
            "text/html" in headers.get("accept", "")
        refusal = self._refusal(scope, headers)
        if refusal:
            return await _plain(send, *refusal, wants_html)
        started = False

        async def send_secured(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                extra = list(SECURITY_HEADERS) + self._cookie(scope)
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        seen = 0

        async def counted() -> dict:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > MAX_BODY:  # FastAPI re-raises HTTPExceptions from body reading as they are
                raise StarletteHTTPException(413, _too_large())
            return message

        try:
            await self.app(scope, counted, send_secured)
        except StarletteHTTPException as exc:
            if exc.status_code != 413 or started:
                raise
            await _plain(send, 413, _too_large(), wants_html)

    def _refusal(self, scope: dict, headers: dict[str, str]) -> tuple[int, str] | None:
        host = headers.get("host", "")
        if self.loopback and _hostname(host) not in LOOPBACK_HOSTS:
            return 421, f"this server answers only to 127.0.0.1 or localhost, not {host!r}"
        length = headers.get("content-length", "0")
        if length.isdigit() and int(length) > MAX_BODY:
            return 413, _too_large()
        if scope["method"] not in SAFE_METHODS and _foreign(headers, host):
            return 403, "cross-site requests are refused"
        return None

    def _cookie(self, scope: dict) -> list[tuple[bytes, bytes]]:
        """Visiting any page with ?token=T (already checked) leaves the token as a cookie, so the
        browser's later requests (and its fetches) carry it."""
        if not self.token:
            return []
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if query.get("token") != [self.token]:
            return []
        return [(b"set-cookie", f"{COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict".encode())]


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _foreign(headers: dict[str, str], host: str) -> bool:
    """A request a page elsewhere made: the browser says cross-site, or the Origin is another
    host, or it is `null` (sandboxed documents, file: pages, some redirects: never this app)."""
    origin = headers.get("origin")
    if headers.get("sec-fetch-site") == "cross-site":
        return True
    return origin is not None and (origin.strip().lower() == "null" or urlsplit(origin).netloc != host)


def _too_large() -> str:
    return f"the request is over the {MAX_BODY // (1024 * 1024)} MB limit"


def _hostname(host: str) -> str:
    if host.startswith("["):
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


async def _plain(send: Any, status: int, message: str, as_html: bool = False) -> None:
    """A refusal before the app runs: JSON, or a small page for a browser."""
    if as_html:
        body = (f'<!doctype html><meta charset="utf-8"><title>{status}</title>'
                f'<link rel="stylesheet" href="/static/app.css"><main><h1>Refused</h1>'
                f'<p class="error">{escape(message)}</p><p><a href="/">Back to search</a></p></main>'
                ).encode()
    else:
        body = json_text({"error": message}, indent=None).encode()
    kind = b"text/html; charset=utf-8" if as_html else b"application/json"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", kind),
                            (b"content-length", str(len(body)).encode())] + SECURITY_HEADERS})
    await send({"type": "http.response.body", "body": body})


# --- running it --------------------------------------------------------------------------------------
def serve(library_path: str | os.PathLike[str] | None = None, host: str = "127.0.0.1",
          port: int = 8000, token: str | None = None, database: str | None = None) -> None:
    """`backlist serve`: blocks until interrupted."""
    import uvicorn

    app = create_app(library_path, database, token, host, port)
    shown = f"[{host}]" if ":" in host else host
    print(f"backlist: serving on http://{shown}:{port}/  (agents: http://{shown}:{port}/mcp)"
          + ("; a token is required on every request" if token else ""), flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", h11_max_incomplete_event_size=65536)


def html(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """Render a page template with the common context."""
    return templates.TemplateResponse(request, name, {"nav": request.url.path, **context},
                                      status_code=status, headers={"cache-control": "no-store"})
