"""The JSON API under ``/api/``: articles (newest first, filtered, paged by a cursor, or
found by a query), one article with every version and what each changed, the changes
(edits and takedowns), the sources with their feeds' health; described by
``/api/openapi.json``. A parameter that cannot be read is a 400 with
``{"error": ..., "status": 400}``; an unknown article a 404 the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from newsmirror import decide, times
from newsmirror.clean.article import html_to_text, sanitise, shown_title
from newsmirror.errors import BadRequestError, ConfigError, SearchQueryError
from newsmirror.publish.site.pieces import changes as paragraph_changes
from newsmirror.serve import params
from newsmirror.serve.http import json_body, respond
from newsmirror.serve.openapi import OPENAPI
from newsmirror.serve.pages import NotFound, find, marked, shared_of
from newsmirror.serve.state import Live, Made, Snapshot
from newsmirror.store.siteviews import Listed
from newsmirror.urls import web_href

DEFAULT_LIMIT, MOST = 20, 100  # articles a page
CHANGES_LIMIT, CHANGES_MOST = 50, 500
EARLIEST, LATEST = "0001-01-01T00:00:00+00:00", "9999-12-31T00:00:00+00:00"  # no bound
Handler = Callable[[Live, Request, Snapshot], Any]


def api(handler: Handler, max_age: int = 30) -> Callable[[Request], Response]:
    """A JSON endpoint: ``handler`` gives the value (BadRequestError and the search's and
    configuration's errors: 400; NotFound: 404)."""

    def endpoint(request: Request) -> Response:
        shared = shared_of(request)
        live = shared.live()
        snapshot = shared.snapshot(live.store)

        def make() -> Made:
            try:
                return json_body(handler(live, request, snapshot))
            except NotFound as exc:
                return json_body({"error": str(exc), "status": 404}, 404)
            except (BadRequestError, SearchQueryError, ConfigError) as exc:
                return json_body({"error": str(exc), "status": 400}, 400)

        return respond(request, shared, snapshot, make, max_age)

    endpoint.__name__ = handler.__name__
    return endpoint


def published(ms: int) -> str:
    return times.at_ms(ms).isoformat()


def _ref(source: str, page: str) -> dict[str, str]:
    """An article's reference and where it is, relative to the reader's root."""
    return {"id": f"{source}/{page}", "page": f"a/{source}/{page}.html",
            "api": f"api/articles/{source}/{page}"}  # fmt: skip


def index(live: Live, request: Request, snapshot: Snapshot) -> dict[str, Any]:
    return {
        "name": live.shared.config.site_title,
        "openapi": "api/openapi.json",
        "endpoints": sorted(path for path in OPENAPI["paths"]),
    }


def openapi(live: Live, request: Request, snapshot: Snapshot) -> dict[str, Any]:
    root = request.scope.get("root_path", "")
    return {**OPENAPI, "servers": [{"url": root or "/"}]}


def articles(live: Live, request: Request, snapshot: Snapshot) -> dict[str, Any]:
    """The newest articles, filtered, a page at a time (or a query's, newest first)."""
    query = request.query_params
    limit = params.number(params.one(query, "limit"), "limit", DEFAULT_LIMIT, 1, MOST)
    source = params.source(params.one(query, "source"), snapshot.counts)
    since = params.day(params.one(query, "since"), "since")
    until = params.day(params.one(query, "until"), "until")
    since_ms, until_ms = params.span_ms(since, until)
    cursor = params.cursor(params.one(query, "cursor"))
    q = params.one(query, "q")
    sort = params.choice(params.one(query, "sort"), "sort", ("newest", "relevance"))
    if q:
        return _found(live, q, source, since, until, sort, limit, cursor)
    if sort != "newest":
        raise BadRequestError("sort: relevance goes with a query (q)")
    if cursor is not None and cursor.offset:
        raise BadRequestError("cursor: this one is a query's (q)")
    after = (cursor.published_ms, cursor.article_id) if cursor else None
    rows = live.store.site_listing(limit + 1, source, since_ms, until_ms, after)
    more, rows = len(rows) > limit, rows[:limit]
    following = params.Cursor(rows[-1].published_ms, rows[-1].article_id) if more else None
    return {
        "articles": [_listed(live, a) for a in rows],
        "next": following.encode() if following else None,
    }


def _listed(live: Live, a: Listed) -> dict[str, Any]:
    return {
        **_ref(a.source, a.page),
        "source": a.source,
        "source_name": live.shared.names.names.get(a.source, a.source),
        "title": shown_title(a.title),
        "link": web_href(a.link) or None,
        "published": published(a.published_ms),
        "updated": times.iso(a.fetched_at),
        "versions": a.versions,
        "edits": a.edits,
    }


def _found(
    live: Live, q: str, source: str, since: str, until: str, sort: str, limit: int,
    cursor: params.Cursor | None,
) -> dict[str, Any]:  # fmt: skip
    if cursor is not None and not cursor.offset:
        raise BadRequestError("cursor: this one is a listing's (without q)")
    offset = cursor.offset if cursor else 0
    results = live.reading.search(
        q, [source] if source else [], since or None, until or None, sort == "newest",
        limit, offset,
    )  # fmt: skip
    names = live.shared.names.names
    found = [
        {
            **_ref(hit.source, hit.page),
            "source": hit.source,
            "source_name": names.get(hit.source, hit.source),
            "title": hit.title,
            "link": web_href(hit.link) or None,
            "published": published(hit.published_ms),
            "snippet": str(marked(hit.snippet)),
        }
        for hit in results.hits
    ]
    more = offset + limit < min(results.total, params.MAX_OFFSET)
    following = params.Cursor(offset=offset + limit).encode() if more else None
    return {"total": results.total, "articles": found, "next": following}


def article(live: Live, request: Request, snapshot: Snapshot) -> dict[str, Any]:
    """One article with every version, what each changed, and where it stands."""
    slug, name = request.path_params["slug"], request.path_params["page"]
    row = find(live, slug, name)
    versions = row.versions
    state = live.store.watch_state(row.id)
    gone = state is not None and state.gone
    edits = decide.edits(versions)
    shown = []
    for n, v in enumerate(versions):
        before = versions[n - 1] if n else None
        changed: list[tuple[str, str]] = []
        if before is not None:
            changed = paragraph_changes(html_to_text(before.clean_html), html_to_text(v.clean_html))
            if shown_title(before.title) != shown_title(v.title):
                changed = [("-", shown_title(before.title)), ("+", shown_title(v.title)), *changed]
        shown.append({
            "seq": v.seq, "stored": times.iso(v.fetched_at), "title": shown_title(v.title),
            "link": web_href(v.link) or None, "published": published(v.published_ms),
            "method": v.method, "from": v.content_url or v.feed_url, "note": v.method_note,
            "content_hash": v.content_hash,
            "edit": before is not None and decide.is_edit(before, v),
            "changes": [{"kind": kind, "text": text} for kind, text in changed],
            "html": sanitise(v.clean_html),
        })  # fmt: skip
    return {
        **_ref(slug, name),
        "source": slug,
        "source_name": live.shared.names.names.get(slug, slug),
        "path": row.path,
        "url": web_href(row.url) or None,
        "guid": row.guid,
        "published": published(row.published_ms),
        "first_seen": times.iso(row.first_seen),
        "status": "gone" if gone else ("edited" if edits else "live"),
        "status_since": state.status_at if state is not None and state.status_at else None,
        "last_visit": state.last_visit if state is not None and state.last_visit else None,
        "edits": edits,
        "versions": shown,
        "visits": [
            {
                "at": v.at,
                "outcome": v.outcome,
                "http_status": v.http_status,
                "reason": v.reason,
            }
            for v in live.store.visits_of(row.id)
        ],
    }


def changes(live: Live, request: Request, snapshot: Snapshot) -> dict[str, Any]:
    """Edits and takedowns found in a period, newest first, a page at a time."""
    query = request.query_params
    limit = params.number(params.one(query, "limit"), "limit", CHANGES_LIMIT, 1, CHANGES_MOST)
    since = params.day(params.one(query, "since"), "since")
    until = params.day(params.one(query, "until"), "until")
    since_ms, until_ms = params.span_ms(since, until)
    cursor = params.cursor(params.one(query, "cursor"))
    if cursor is not None and not cursor.offset:
        raise BadRequestError("cursor: this one is an article listing's")
    offset = cursor.offset if cursor else 0
    start = times.at_ms(since_ms).isoformat() if since_ms is not None else EARLIEST
    end = times.at_ms(until_ms).isoformat() if until_ms is not None else LATEST
    rows = live.store.changes(start, end, offset + limit + 1)[offset:]
    more, rows = len(rows) > limit, rows[:limit]
    found = []
    for c in rows:
        articles = live.store.find_articles(c.path)
        page = decide.page_name(articles[0].archive_id, articles[0].twin) if articles else ""
        found.append({
            "kind": c.kind, "at": c.at, **(_ref(c.source, page) if page else {}),
            "source": c.source, "title": shown_title(c.title), "url": web_href(c.url) or None,
            "status": c.status, "detail": c.detail,
        })  # fmt: skip
    following = params.Cursor(offset=offset + limit).encode() if more else None
    return {"changes": found, "next": following}


def sources(live: Live, request: Request, snapshot: Snapshot) -> dict[str, Any]:
    """Every source with its article count and each feed's health."""
    feeds: dict[str, list[dict[str, Any]]] = {}
    for f in live.store.feed_states():
        feeds.setdefault(f.source, []).append({
            "url": f.url, "position": f.position,
            "ok": f.failures == 0 and f.last_success is not None,
            "failures": f.failures, "last_success": times.iso(f.last_success) or None,
            "last_checked": times.iso(f.last_checked) or None, "last_status": f.last_status,
            "last_error": f.last_error or None, "next_due": times.iso(f.next_due) or None,
        })  # fmt: skip
    listed = []
    for s in live.shared.config.sources:
        own = feeds.get(s.slug, [])
        health = "never fetched"
        if any(f["last_checked"] for f in own):
            health = "ok" if any(f["ok"] for f in own) else "failing"
        listed.append({
            "slug": s.slug, "name": s.name, "enabled": s.enabled,
            "articles": snapshot.counts.get(s.slug, 0), "health": health, "feeds": own,
        })  # fmt: skip
    return {"sources": listed}


def not_found(request: Request) -> Response:
    made = json_body({"error": "no such endpoint: see api/openapi.json", "status": 404}, 404)
    return Response(made.body, 404, {"Cache-Control": "no-store"}, made.media_type)
