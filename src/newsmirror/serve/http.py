"""HTTP as readers and proxies expect it: validators (ETag, Last-Modified) and 304s,
cache headers, a strict Content-Security-Policy and the other security headers on every
response, errors as a page or as JSON (never a stack trace), and each request timed."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsmirror.serve.state import Made, Shared, Snapshot

log = logging.getLogger("newsmirror.serve")

#: Nothing from another host, no script, no plugin, no framing, forms only to this site.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
HTML = "text/html; charset=utf-8"
JSON = "application/json"
ATOM = "application/atom+xml; charset=utf-8"


def route_path(request: Request) -> str:
    """The request's path below the reader's root ("/a/rfi/1.html")."""
    path: str = request.scope["path"]
    root: str = request.scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def respond(
    request: Request,
    shared: Shared,
    snapshot: Snapshot,
    make: Callable[[], Made],
    max_age: int = 60,
) -> Response:
    """The response of a request whose answer depends only on its URL and the archive's
    marks: 304 when the client holds it already (If-None-Match, else If-Modified-Since),
    else the body made before at these marks or made now."""
    root = request.scope.get("root_path", "")
    key = f"{shared.version}|{snapshot.tag}|{root}|{request.url.path}?{request.url.query}"
    etag = 'W/"' + hashlib.sha256(key.encode()).hexdigest()[:24] + '"'
    modified = datetime.fromtimestamp(int(snapshot.since), UTC)
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(modified, usegmt=True),
        "Cache-Control": f"public, max-age={max_age}",
    }
    if _fresh(request, etag, modified):
        return Response(status_code=304, headers=headers)
    made = shared.made(key)
    if made is None:
        made = make()
        if made.status == 200:
            shared.keep(key, made)
    if made.status != 200:
        headers = {"Cache-Control": "no-store"}
    return Response(made.body, made.status, headers, made.media_type)


def _fresh(request: Request, etag: str, modified: datetime) -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    given = request.headers.get("if-none-match")
    if given is not None:
        tags = [t.strip() for t in given.split(",")]
        return "*" in tags or etag in tags or etag.removeprefix("W/") in tags
    since = request.headers.get("if-modified-since")
    if since:
        try:
            return parsedate_to_datetime(since) >= modified
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
    return False


def json_body(value: Any, status: int = 200) -> Made:
    """A JSON body (UTF-8, not escaped to ASCII)."""
    data = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return Made(data.encode("utf-8"), JSON, status)


def json_error(status: int, message: str) -> Response:
    """``{"error": message}`` with ``status``, never cached."""
    made = json_body({"error": message, "status": status}, status)
    return Response(made.body, status, {"Cache-Control": "no-store"}, JSON)


class Guard:
    """The outermost layer: security headers on every response, each request timed
    (``observe(request path, status, seconds)``), and any error that escapes answered 500
    with one line and no trace (the traceback goes to the log)."""

    def __init__(self, app: ASGIApp, observe: Callable[[str, str, int, float], None]) -> None:
        self.app, self.observe = app, observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        root = scope.get("root_path", "")
        if root and scope["path"] in (root, ""):  # /news: the pages' links need /news/
            await _redirect(root + "/", send)
            return
        started, status = time.perf_counter(), 500

        async def guarded(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [h for h in SECURITY if h[0] not in names]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            await self.app(scope, receive, guarded)
        except Exception:  # the response went out already (Starlette's own 500)
            log.exception("error answering %s", scope.get("path", "")[:200])
        finally:
            path = scope["path"][len(root) :] if root else scope["path"]
            self.observe(scope.get("method", ""), path, status, time.perf_counter() - started)


async def _redirect(location: str, send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 308,
            "headers": [(b"location", location.encode("latin-1", "replace")), *SECURITY],
        }
    )
    await send({"type": "http.response.body", "body": b""})
