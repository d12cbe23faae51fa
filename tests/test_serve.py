"""newsmirror serve, through its ASGI application: every page at the static site's
address, search, the JSON API with bad parameters (a 400 each), 404s, validators and
304s, gzip, cache and security headers, and a sub-path behind a proxy."""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

with warnings.catch_warnings():  # (Starlette asks for httpx2, which is not needed here)
    warnings.simplefilter("ignore", DeprecationWarning)
    from starlette.testclient import TestClient

from newsmirror.config.settings import build_config
from newsmirror.jobs.archive import Archive
from newsmirror.serve.app import create_app
from newsmirror.serve.metrics import route_of
from newsmirror.store.watching import VisitRecord
from test_site import NOW, SOURCES, candidate

ROOT = "/news"


def build(home: Path) -> Archive:
    """70 rfi articles over three days, one bbc article edited once, one rfi taken down."""
    config = replace(build_config(home, {"archive": {}}), sources=SOURCES)
    archive = Archive(config)
    with archive.store.transaction():
        for n in range(70):
            body = f"<p>第{n}条新闻：韩国总统谈延伸威慑。</p><p>第二段 {n}。</p>"
            archive.store.store_candidate(candidate("rfi", n, f"标题{n}", body, n % 3), NOW)
        html = '<p>BBC 正文 <b>加粗</b></p><img src="https://media.test/a.jpg" alt="照片">'
        archive.store.store_candidate(candidate("bbc", 1, "英国新闻", html), NOW)
        edited = html + "<p>更正：补充了一段。</p><script>alert(1)</script>"
        archive.store.store_candidate(candidate("bbc", 1, "英国新闻（更新）", edited), NOW)
    target = next(t for t in archive.store.watch_all() if t.link.endswith("/rfi/5"))
    visit = VisitRecord(
        "2024-05-02T08:00:00+00:00", target.url, "gone", 404, target.url, "HTTP 404",
        True, 0, "", "", "", None, None,
    )  # fmt: skip
    archive.store.record_visit(target, visit)
    return archive


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    archive = build(tmp_path_factory.mktemp("serve") / "home")
    with TestClient(create_app(archive.config), root_path=ROOT) as client:
        yield client
    archive.close()


def get(client: TestClient, path: str, **headers: str):  # type: ignore[no-untyped-def]
    return client.get(ROOT + path, headers=headers, follow_redirects=False)


# -- pages -------------------------------------------------------------------------------


PAGES = {
    "/": "最新文章 Latest articles",
    "/index.html": "最新文章 Latest articles",
    "/about.html": "JSON",
    "/s/rfi/index.html": "法广",
    "/s/rfi/": "法广",
    "/s/rfi/2.html": "法广 · 2",
    "/d/index.html": "全部日期 All days",
    "/d/2024-05-02.html": "2024-05-02",
    "/a/bbc/1048574.html": "英国新闻（更新）",
    "/search.html": "搜索 Search",
}


@pytest.mark.parametrize("path", list(PAGES))
def test_every_kind_of_page_is_served_sanitised_with_relative_links(
    client: TestClient, path: str
) -> None:
    reply = get(client, path)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert PAGES[path] in reply.text
    assert "<script" not in reply.text  # the live pages run no script at all
    for attribute, value in re.findall(r'\b(src|href|action)="([^"]*)"', reply.text):
        assert not value.startswith("/"), (path, value)  # relative: any sub-path works
        if attribute != "href" or not value.startswith("https://"):  # (links to originals)
            assert ":" not in value or value == "data:,", (path, value)  # nothing loaded


def test_an_article_page_shows_every_version_what_changed_and_a_takedown(
    client: TestClient,
) -> None:
    page = get(client, "/a/bbc/1048574.html").text
    assert "Changes in version 2" in page and "补充了一段" in page
    assert "alert(1)" not in page  # the stored script is not shown
    assert 'href="https://media.test/a.jpg"' in page and "<img" not in page  # a link only
    gone = get(client, "/a/rfi/1048569.html").text
    assert "Taken down upstream" in gone and "HTTP 404" in gone


def test_the_same_page_as_the_static_site_but_for_what_is_live(
    client: TestClient, tmp_path: Path
) -> None:
    archive = build(tmp_path / "home")
    site = tmp_path / "site"
    assert archive.publish_site(site).errors == []
    archive.close()
    for path in ("a/bbc/1048574.html", "s/rfi/2.html", "d/2024-05-02.html"):
        assert get(client, "/" + path).text == (site / path).read_text("utf-8")


@pytest.mark.parametrize(
    "path",
    [
        "/a/bbc/1.html", "/a/bbc/x.html", "/a/nobody/1048574.html", "/a/bbc/1048574-2.html",
        "/s/nobody/index.html", "/s/rfi/3.html", "/s/rfi/0.html", "/d/2024-13-01.html",
        "/feeds/nobody.xml", "/nothing", "/media/ab/" + "ab" * 32 + ".jpg", "/static/x.js",
    ],
)  # fmt: skip
def test_an_unknown_address_is_a_404_page(client: TestClient, path: str) -> None:
    reply = get(client, path)
    assert reply.status_code == 404
    assert "找不到 Not found" in reply.text and "Traceback" not in reply.text


def test_search_finds_the_whole_text_with_filters_pages_and_highlights(
    client: TestClient,
) -> None:
    page = get(client, "/search.html?q=第二段&sort=newest").text
    assert "共 70 篇" in page and page.count('class="snippet"') == 20
    assert "<mark>第二段</mark>" in page and 'href="search.html?q=' in page
    second = get(client, "/search.html?q=第二段&sort=newest&page=4").text
    assert second.count('class="snippet"') == 10
    assert "共 1 篇" in get(client, "/search.html?q=補充").text  # traditional finds simplified
    one_day = get(client, "/search.html?q=第二段&since=2024-05-02&until=2024-05-02").text
    assert "共 23 篇" in one_day
    assert "共 0 篇" in get(client, "/search.html?q=第二段&source=bbc").text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("q=-只排除", "nothing to search for"),
        ("q=x&since=2024-5-1", "since: not a day"),
        ("q=x&until=someday", "until: not a day"),
        ("q=x&since=2024-05-03&until=2024-05-01", "the period is empty"),
        ("q=x&source=nobody", "no such source"),
        ("q=x&sort=best", "sort: one of"),
        ("q=x&page=0", "page: not a whole number"),
    ],
)
def test_a_bad_search_is_a_400_page_saying_why(
    client: TestClient, query: str, message: str
) -> None:
    reply = get(client, f"/search.html?{query}")
    assert reply.status_code == 400 and message in reply.text
    assert 'role="alert"' in reply.text and 'name="q"' in reply.text  # the form, to fix it


def test_the_feeds_are_the_sites(client: TestClient) -> None:
    import feedparser

    for name, count in (("all", 50), ("rfi", 50), ("bbc", 1), ("changes", 2)):
        reply = get(client, f"/feeds/{name}.xml")
        assert reply.headers["content-type"] == "application/atom+xml; charset=utf-8"
        assert len(feedparser.parse(reply.content).entries) == count, name


# -- the API ------------------------------------------------------------------------------


def api(client: TestClient, path: str, status: int = 200):  # type: ignore[no-untyped-def]
    reply = get(client, "/api/" + path)
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"] == "application/json"
    return reply.json()


def test_the_articles_page_newest_first_through_their_cursor(client: TestClient) -> None:
    seen, cursor, pages = [], "", 0
    while True:
        data = api(client, "articles?limit=30" + (f"&cursor={cursor}" if cursor else ""))
        seen += data["articles"]
        pages += 1
        if not data["next"]:
            break
        cursor = data["next"]
    assert pages == 3 and len(seen) == 71 and len({a["id"] for a in seen}) == 71
    published = [a["published"] for a in seen]
    assert published == sorted(published, reverse=True)
    first = seen[0]
    assert (
        first["page"] == f"a/{first['id']}.html" and first["api"] == f"api/articles/{first['id']}"
    )
    bbc = api(client, "articles?source=bbc")["articles"]
    assert [(a["id"], a["versions"], a["edits"]) for a in bbc] == [("bbc/1048574", 2, 1)]
    day = api(client, "articles?since=2024-05-02&until=2024-05-02&limit=100")["articles"]
    assert len(day) == 23 and {a["published"][:10] for a in day} == {"2024-05-02"}


def test_the_articles_of_a_query_have_a_total_snippets_and_pages(client: TestClient) -> None:
    data = api(client, "articles?q=第二段&limit=50")
    assert data["total"] == 70 and len(data["articles"]) == 50
    assert "<mark>第二段</mark>" in data["articles"][0]["snippet"]
    rest = api(client, f"articles?q=第二段&limit=50&cursor={data['next']}")
    assert len(rest["articles"]) == 20 and rest["next"] is None
    assert {a["id"] for a in data["articles"]}.isdisjoint(a["id"] for a in rest["articles"])
    ranked = api(client, "articles?q=英国&sort=relevance")["articles"]
    assert [a["id"] for a in ranked] == ["bbc/1048574"]


def test_one_article_with_its_versions_changes_and_status(client: TestClient) -> None:
    data = api(client, "articles/bbc/1048574")
    assert (data["status"], data["edits"], data["path"]) == ("edited", 1, "articles/bbc/1048574.md")
    first, second = data["versions"]
    assert (first["seq"], first["changes"], first["edit"]) == (1, [], False)
    assert second["edit"] and {"kind": "+", "text": "更正：补充了一段。"} in second["changes"]
    assert {"kind": "-", "text": "英国新闻"} in second["changes"]
    assert "<script" not in second["html"] and "<p>更正：补充了一段。</p>" in second["html"]
    gone = api(client, "articles/rfi/1048569")
    assert gone["status"] == "gone" and gone["visits"][0]["outcome"] == "gone"
    assert api(client, "articles/rfi/1", 404)["error"] == "no article rfi/1"


def test_changes_and_sources(client: TestClient) -> None:
    changes = api(client, "changes")["changes"]
    assert [(c["kind"], c["id"]) for c in changes] == [
        ("gone", "rfi/1048569"), ("edited", "bbc/1048574"),
    ]  # fmt: skip
    first = api(client, "changes?limit=1")
    rest = api(client, f"changes?limit=1&cursor={first['next']}")
    assert [c["id"] for c in first["changes"] + rest["changes"]] == ["rfi/1048569", "bbc/1048574"]
    assert api(client, "changes?since=2024-05-02&until=2024-05-02")["changes"][0]["kind"] == "gone"
    sources = {s["slug"]: s for s in api(client, "sources")["sources"]}
    assert (sources["rfi"]["articles"], sources["bbc"]["articles"]) == (70, 1)
    assert sources["rfi"]["health"] == "never fetched"
    assert [f["url"] for f in sources["rfi"]["feeds"]] == ["http://f.test/rfi.xml"]


def test_the_api_is_described(client: TestClient) -> None:
    described = api(client, "openapi.json")
    assert described["servers"] == [{"url": ROOT}]
    paths = set(described["paths"])
    assert paths == {
        "/api/articles",
        "/api/articles/{source}/{page}",
        "/api/changes",
        "/api/sources",
    }
    assert api(client, "")["endpoints"] == sorted(paths)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("articles?limit=0", "limit: not a whole number from 1 to 100"),
        ("articles?limit=101", "limit: not a whole number from 1 to 100"),
        ("articles?limit=ten", "limit: not a whole number"),
        ("articles?source=nobody", "source: no such source"),
        ("articles?since=yesterday", "since: not a day"),
        ("articles?until=2024-02-30", "until: not a day"),
        ("articles?since=2024-05-03&until=2024-05-01", "the period is empty"),
        ("articles?cursor=nonsense", "cursor: not one this server gave"),
        ("articles?cursor=bzE", "cursor: this one is a query's"),
        ("articles?sort=relevance", "sort: relevance goes with a query"),
        ("articles?sort=oldest", "sort: one of newest, relevance"),
        ("articles?q=-x", "nothing to search for"),
        ("articles?q=" + "长" * 501, "the query is too long"),
        ("articles?q=x&cursor=YTEuMg", "cursor: this one is a listing's"),
        ("articles?q=x&cursor=bzk5OTk5", "cursor: at most 10000 results"),
        ("changes?limit=501", "limit: not a whole number from 1 to 500"),
        ("changes?since=2024-99-01", "since: not a day"),
        ("changes?cursor=YTEuMg", "cursor: this one is an article listing's"),
    ],
)
def test_a_bad_parameter_is_a_400_saying_which(client: TestClient, path: str, message: str) -> None:
    data = api(client, path, 400)
    assert message in data["error"] and data["status"] == 400


def test_unknown_endpoints_are_json_404s(client: TestClient) -> None:
    assert api(client, "nothing", 404)["error"].startswith("no such endpoint")
    assert api(client, "articles/rfi", 404)["status"] == 404


# -- HTTP ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/index.html", "/a/bbc/1048574.html", "/api/articles"])
def test_validators_answer_304_and_cache_headers_are_set(client: TestClient, path: str) -> None:
    reply = get(client, path)
    etag, modified = reply.headers["etag"], reply.headers["last-modified"]
    assert reply.headers["cache-control"].startswith("public, max-age=")
    again = get(client, path, **{"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert get(client, path, **{"If-Modified-Since": modified}).status_code == 304
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert get(client, path, **{"If-Modified-Since": old}).status_code == 200
    assert get(client, path, **{"If-None-Match": '"other"'}).status_code == 200


def test_a_new_version_changes_the_validators(tmp_path: Path) -> None:
    archive = build(tmp_path / "home")
    with TestClient(create_app(archive.config)) as client:
        before = client.get("/api/articles/rfi/1048574").headers["etag"]
        archive.store.store_candidate(candidate("rfi", 0, "新标题", "<p>新的</p>"), NOW)
        reply = client.get("/api/articles/rfi/1048574", headers={"If-None-Match": before})
        assert reply.status_code == 200 and reply.json()["versions"][1]["title"] == "新标题"
    archive.close()


def test_every_response_carries_a_strict_policy_and_bodies_are_gzipped(
    client: TestClient,
) -> None:
    for path in ("/index.html", "/api/articles", "/nothing", "/healthz", "/static/site.css"):
        reply = get(client, path, **{"Accept-Encoding": "gzip"})
        policy = reply.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert reply.headers["referrer-policy"] == "no-referrer"
    raw = client.get(ROOT + "/index.html", headers={"Accept-Encoding": "gzip"})
    assert (
        raw.headers["content-encoding"] == "gzip"
        and "accept-encoding" in raw.headers["vary"].lower()
    )
    plain = client.get(ROOT + "/index.html", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and raw.content == plain.content


def test_the_root_without_its_slash_redirects(client: TestClient) -> None:
    reply = client.get(ROOT, follow_redirects=False)
    assert reply.status_code == 308 and reply.headers["location"] == ROOT + "/"


def test_behind_a_proxy_that_strips_the_sub_path(tmp_path: Path) -> None:
    archive = build(tmp_path / "home")
    app = create_app(archive.config)
    with TestClient(app, root_path=ROOT) as client:  # the proxy passes /a/... as it is
        assert client.get("/a/bbc/1048574.html").status_code == 200
        assert client.get("/api/openapi.json").json()["servers"] == [{"url": ROOT}]
    archive.close()


def test_an_error_is_a_500_without_a_trace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from newsmirror.publish.site.lists import ListPages

    archive = build(tmp_path / "home")

    def broken(*args: object) -> bytes:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(ListPages, "front", broken)
    with TestClient(create_app(archive.config), raise_server_exceptions=False) as client:
        reply = client.get("/index.html")
        assert reply.status_code == 500
        assert "secret" not in reply.text and "Traceback" not in reply.text
        assert "default-src 'none'" in reply.headers["content-security-policy"]
        assert client.get("/api/articles?limit=1").status_code == 200  # the rest goes on
    archive.close()


def test_health_and_metrics(client: TestClient) -> None:
    health = api(client, "../healthz")
    assert health == {
        "status": "ok",
        "articles": 71,
        "last_fetch": None,
        "last_fetch_age_seconds": None,
    }
    stale = get(client, "/healthz?max_age=60")
    assert stale.status_code == 503 and stale.json()["status"] == "stale"
    assert get(client, "/healthz?max_age=soon").status_code == 400
    get(client, "/a/bbc/1048574.html")
    text = get(client, "/metrics").text
    assert 'newsmirror_articles{source="rfi"} 70.0' in text
    assert 'newsmirror_http_request_duration_seconds_count{route="article"}' in text
    assert 'newsmirror_http_responses_total{route="article",status="200"}' in text


def test_routes_are_named_for_the_metrics() -> None:
    paths = ("/", "/a/rfi/1.html", "/s/rfi/2.html", "/api/articles/rfi/1")
    assert [route_of(p) for p in paths] == ["front", "article", "source page", "api article"]


def test_a_page_is_made_once_while_the_archive_does_not_change(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsmirror.publish.site.pages import PageMaker

    calls: list[str] = []
    real = PageMaker.render

    def counted(self: PageMaker, template: str, path: str, **values: object) -> bytes:
        calls.append(path)
        return real(self, template, path, **values)

    monkeypatch.setattr(PageMaker, "render", counted)
    for _ in range(3):
        assert get(client, "/s/rfi/1.html").status_code == 200
    assert calls.count("s/rfi/1.html") <= 1
    json.dumps(calls)
