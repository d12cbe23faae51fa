"""The ASGI application: the routes of the pages, the feeds, the API, health and metrics,
gzip, and the guard that every response passes (:class:`~newsmirror.serve.http.Guard`)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from newsmirror.config.settings import Config
from newsmirror.serve import api, pages
from newsmirror.serve.http import Guard, json_error, route_path
from newsmirror.serve.metrics import Metrics, healthz
from newsmirror.serve.state import Shared

log = logging.getLogger("newsmirror.serve")


def routes(metrics: Metrics) -> list[BaseRoute]:
    page = pages.page
    return [
        Route("/", page(pages.front)),
        Route("/index.html", page(pages.front)),
        Route("/about.html", page(pages.about, 300)),
        Route("/search.html", page(pages.search)),
        Route("/s/{slug}/", page(pages.source_index)),
        Route("/s/{slug}/index.html", page(pages.source_index)),
        Route("/s/{slug}/{number}.html", page(pages.source_page)),
        Route("/d/", page(pages.days)),
        Route("/d/index.html", page(pages.days)),
        Route("/d/{day}.html", page(pages.day)),
        Route("/a/{slug}/{page}.html", page(pages.article, 300)),
        Route("/feeds/{name}.xml", pages.feed),
        Route("/static/site.css", pages.stylesheet),
        Route("/media/{folder}/{name}", pages.media),
        Route("/api/", api.api(api.index)),
        Route("/api/openapi.json", api.api(api.openapi, 3600)),
        Route("/api/articles", api.api(api.articles)),
        Route("/api/articles/{slug}/{page}", api.api(api.article)),
        Route("/api/changes", api.api(api.changes)),
        Route("/api/sources", api.api(api.sources)),
        Route("/healthz", healthz),
        Route("/metrics", metrics.endpoint),
    ]


def create_app(config: Config) -> ASGIApp:
    """The reader of the archive ``config`` describes (its store opened, and migrated,
    once here; then read on connections of each thread's own)."""
    shared = Shared(config)
    metrics = Metrics(shared)
    app = Starlette(
        routes=routes(metrics),
        middleware=[Middleware(GZipMiddleware, minimum_size=500)],
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
        lifespan=_closing(shared),
    )
    app.state.shared = shared
    return Guard(app, metrics.observe)


def from_environment() -> ASGIApp:
    """The reader of the archive at ``$NEWSMIRROR_HOME`` (each worker process of
    ``newsmirror serve --workers N`` makes its own)."""
    from newsmirror.config.settings import load_config

    return create_app(load_config(None))


def _closing(shared: Shared) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        shared.close()

    return lifespan


async def _http_error(request: Request, exc: Exception) -> Response:
    """404 for an address no route knows (405 for a method not allowed): JSON under
    ``/api/``, else a page."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if route_path(request).startswith("/api/"):
        return json_error(status, "no such endpoint: see api/openapi.json" if status == 404 else
                          str(getattr(exc, "detail", "error")))  # fmt: skip
    if status == 404:
        from starlette.concurrency import run_in_threadpool

        response: Response = await run_in_threadpool(pages.not_found_page, request)
        return response
    return Response(f"{status}", status, {"Cache-Control": "no-store"}, "text/plain")


async def _server_error(request: Request, exc: Exception) -> Response:
    """500 in one line, never a trace (the traceback goes to the log)."""
    log.error("error answering %s", route_path(request)[:200], exc_info=exc)
    message = "internal error: the reader could not answer (see its log)"
    if route_path(request).startswith("/api/"):
        return json_error(500, message)
    return Response(message, 500, {"Cache-Control": "no-store"}, "text/plain; charset=utf-8")
