"""The live reader's pages, at the static site's addresses and from its templates: the
front page, the about page, each source's newest and numbered pages, every day and each
day, each article (every version and what each changed, takedown and edit notices),
search over the whole text, the Atom feeds, the style sheet and mirrored images."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from pathlib import Path

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from newsmirror import decide, times
from newsmirror.errors import BadRequestError, ConfigError, NewsmirrorError, SearchQueryError
from newsmirror.publish.files import confined
from newsmirror.publish.site.feeds import articles_feed, changes_feed
from newsmirror.publish.site.lists import page_count
from newsmirror.search.query import Snippet
from newsmirror.serve import params
from newsmirror.serve.http import ATOM, HTML, respond, route_path
from newsmirror.serve.state import Live, Made, Shared, Snapshot
from newsmirror.store.base import ArticleRow, SearchResults
from newsmirror.store.siteviews import Stale

STATIC = Path(__file__).parent.parent / "publish" / "site" / "static"
PER_PAGE = 20  # search results a page
_MEDIA_TYPES = {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif",
                "webp": "image/webp", "avif": "image/avif"}  # fmt: skip


class NotFound(NewsmirrorError):
    """No page at this address (answered 404 with this message)."""


def shared_of(request: Request) -> Shared:
    shared: Shared = request.app.state.shared
    return shared


def page(
    render: Callable[[Live, Request, Snapshot], bytes], max_age: int = 60
) -> Callable[[Request], Response]:
    """A page endpoint: ``render`` makes its HTML (NotFound: 404; BadRequestError: 400),
    answered through :func:`~newsmirror.serve.http.respond`."""

    def endpoint(request: Request) -> Response:
        shared = shared_of(request)
        live = shared.live()
        snapshot = shared.snapshot(live.store)
        live.at(snapshot)

        def make() -> Made:
            try:
                return Made(render(live, request, snapshot), HTML)
            except Rendered as exc:  # a page made with its error (the search form)
                return Made(exc.body, HTML, exc.status)
            except NotFound as exc:
                return Made(error_page(live, request, 404, str(exc)), HTML, 404)
            except BadRequestError as exc:
                return Made(error_page(live, request, 400, str(exc)), HTML, 400)

        return respond(request, shared, snapshot, make, max_age)

    endpoint.__name__ = render.__name__
    return endpoint


def error_page(live: Live, request: Request, status: int, message: str) -> bytes:
    """A page saying what went wrong (never a trace)."""
    path = route_path(request).lstrip("/") or "index.html"
    title = {400: "请求有误 Bad request", 404: "找不到 Not found"}.get(status, "出错了 Error")
    return live.maker.render("error.html", path, status=status, heading=title, message=message)


# -- list pages ----------------------------------------------------------------------------


def front(live: Live, request: Request, snapshot: Snapshot) -> bytes:
    return live.lists.front(snapshot.listed)


def about(live: Live, request: Request, snapshot: Snapshot) -> bytes:
    return live.lists.about(snapshot.listed)


def _source(snapshot: Snapshot, slug: str) -> int:
    count = snapshot.counts.get(slug, 0)
    if not count:
        raise NotFound(f"no source {slug!r} with articles")
    return count


def source_index(live: Live, request: Request, snapshot: Snapshot) -> bytes:
    slug = request.path_params["slug"]
    _source(snapshot, slug)
    return live.lists.source_index(next(s for s in snapshot.listed if s.slug == slug))


def source_page(live: Live, request: Request, snapshot: Snapshot) -> bytes:
    slug, number = request.path_params["slug"], request.path_params["number"]
    count = _source(snapshot, slug)
    if not number.isdigit() or not 1 <= int(number) <= page_count(count):
        raise NotFound(f"{slug} has {page_count(count)} pages")
    articles = live.lists.source_articles(slug, int(number))
    return live.lists.source_page(slug, int(number), count, articles)


def days(live: Live, request: Request, snapshot: Snapshot) -> bytes:
    return live.lists.days()


def day(live: Live, request: Request, snapshot: Snapshot) -> bytes:
    value = request.path_params["day"]
    try:
        params.day(value, "day")
    except BadRequestError:
        raise NotFound(f"not a day: {value[:40]!r}") from None
    return live.lists.day(value)


# -- an article ----------------------------------------------------------------------------


def article(live: Live, request: Request, snapshot: Snapshot) -> bytes:
    slug, name = request.path_params["slug"], request.path_params["page"]
    row = find(live, slug, name)
    return live.maker.article(Stale(row.id, slug, name, 0, 0, 0)).data


def find(live: Live, slug: str, name: str) -> ArticleRow:
    """The article whose page is ``a/<slug>/<name>.html``; NotFound when none is."""
    if params.is_page_name(slug, name):
        for row in live.reading.show_all(f"{slug}/{name}"):
            named = decide.page_name(row.archive_id, row.twin) == name
            if row.source == slug and named and row.versions:
                return row
    raise NotFound(f"no article {slug}/{name}")


# -- search --------------------------------------------------------------------------------


def marked(snippet: Snippet) -> Markup:
    """A snippet as HTML: its text escaped, each match in <mark>."""
    out, at = [], 0
    for start, end in snippet.marks:
        if start < at:
            continue
        out += [
            escape(snippet.text[at:start]),
            "<mark>",
            escape(snippet.text[start:end]),
            "</mark>",
        ]
        at = end
    out.append(escape(snippet.text[at:]))
    return Markup("".join(out))


def search(live: Live, request: Request, snapshot: Snapshot) -> bytes:
    query = request.query_params
    q = params.one(query, "q")
    source = params.one(query, "source")
    since, until = params.one(query, "since"), params.one(query, "until")
    sort = params.one(query, "sort", "relevance")
    shown = {"q": q, "source": source, "since": since, "until": until, "sort": sort}
    if not q:
        return live.maker.render("search.html", "search.html", results=[], **shown)
    try:
        number = params.number(params.one(query, "page"), "page", 1, 1, 500)
        params.choice(sort, "sort", ("relevance", "newest"))
        params.source(source, snapshot.counts)
        params.span_ms(params.day(since, "since"), params.day(until, "until"))
        results = live.reading.search(
            q, [source] if source else [], since or None, until or None,
            sort == "newest", PER_PAGE, (number - 1) * PER_PAGE,
        )  # fmt: skip
    except (BadRequestError, SearchQueryError, ConfigError) as exc:
        error = str(exc)
        page = live.maker.render("search.html", "search.html", results=[], error=error, **shown)
        raise Rendered(page, 400) from exc
    rows = result_rows(live, results)
    pages = _pages(request, results.total, number)
    return live.maker.render(
        "search.html", "search.html", results=rows, total=results.total, pages=pages,
        current=number, **shown,
    )  # fmt: skip


class Rendered(BadRequestError):
    """A page made already, answered with its status (a search form with its error)."""

    def __init__(self, body: bytes, status: int) -> None:
        super().__init__("")
        self.body, self.status = body, status


def result_rows(live: Live, results: SearchResults) -> list[dict[str, object]]:
    names = live.shared.names
    rows: list[dict[str, object]] = []
    for hit in results.hits:
        when = names.local(hit.published_ms)
        rows.append({
            "source": hit.source, "page": hit.page, "title": hit.title,
            "when": times.minute(when), "iso": when.isoformat(),
            "source_name": names.names.get(hit.source, hit.source),
            "snippet": marked(hit.snippet),
        })  # fmt: skip
    return rows


def _pages(request: Request, total: int, current: int) -> list[tuple[int, str]]:
    """The result pages around the current one, each with its link."""
    last = min(-(-total // PER_PAGE), 500)
    if last < 2:
        return []
    keep = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
    numbers = sorted({1, last, *range(max(1, current - 3), min(last, current + 3) + 1)})
    links = []
    for number in numbers:
        query = "&".join(f"{_q(k)}={_q(v)}" for k, v in [*keep, ("page", str(number))])
        links.append((number, f"search.html?{query}"))
    return links


def _q(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


# -- feeds and files -----------------------------------------------------------------------


def feed(request: Request) -> Response:
    """``feeds/all.xml``, ``feeds/changes.xml``, ``feeds/<slug>.xml``."""
    shared = shared_of(request)
    live = shared.live()
    snapshot = shared.snapshot(live.store)
    name = request.path_params["name"]

    def make() -> Made:
        config, store, names = shared.config, live.store, shared.names
        if name == "all":
            return Made(articles_feed(config, store, names), ATOM)
        if name == "changes":
            return Made(changes_feed(config, store, names), ATOM)
        if snapshot.counts.get(name):
            return Made(articles_feed(config, store, names, name), ATOM)
        return Made(error_page(live.at(snapshot), request, 404, f"no feed {name!r}"), HTML, 404)

    return respond(request, shared, snapshot, make, 300)


def stylesheet(request: Request) -> Response:
    data = (STATIC / "site.css").read_bytes()
    return Response(data, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


def media(request: Request) -> Response:
    """A mirrored image, from the media store (named by its content: cached for ever)."""
    folder, name = request.path_params["folder"], request.path_params["name"]
    sha, _, ext = name.partition(".")
    shared = shared_of(request)
    if len(sha) != 64 or sha[:2] != folder or ext not in _MEDIA_TYPES or not _hex(sha):
        return _not_found(request, "no such image")
    try:
        data = confined(shared.config.media_path, f"{folder}/{name}").read_bytes()
    except (OSError, NewsmirrorError):
        return _not_found(request, "no such image")
    cache = "public, max-age=31536000, immutable"
    return Response(data, media_type=_MEDIA_TYPES[ext], headers={"Cache-Control": cache})


def _hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


def _not_found(request: Request, message: str) -> Response:
    live = shared_of(request).live()
    live.at(shared_of(request).snapshot(live.store))
    body = error_page(live, request, 404, message)
    return Response(body, 404, {"Cache-Control": "no-store"}, HTML)


def not_found_page(request: Request, message: str = "找不到这个页面 No page here") -> Response:
    """The 404 of an address no route knows."""
    return _not_found(request, message)
