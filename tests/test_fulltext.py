"""Full articles from article pages: when pages are fetched, what is kept when they fail,
provenance per version, raw captures, and ``newsmirror extract``. Every page is served by
a loopback server the test starts; the pages are real (tests/data/pages)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from conftest import DATA, LoopbackServer, make_source, rss
from newsmirror import decide
from newsmirror.cli.main import EXIT_OK, EXIT_PARTIAL, main
from newsmirror.jobs.archive import Archive
from newsmirror.times import utcnow
from servers import HTTPServer, Reply, Seen, closed_port

PAGES = DATA / "pages" / "newspaper4k"
RFC822 = "Sun, 09 Apr 2023 11:15:02 GMT"
HTML = {"Content-Type": "text/html; charset=utf-8"}


def page(name: str) -> bytes:
    return (PAGES / "html" / f"{name}.html").read_bytes()


def expected(name: str) -> str:
    return (PAGES / "txt" / f"{name}.txt").read_text("utf-8")


def summary_item(link: str, n: int, **extra: str) -> dict[str, str]:
    item = {
        "title": f"标题 {n}",
        "link": link,
        "guid": f"urn:item:{n}",
        "pubDate": RFC822,
        "description": "<p>摘要……</p>",
    }
    item.update(extra)
    return item


def fast(archive: Archive) -> Archive:
    """Short timeouts, no retries: a page that hangs fails within a second."""
    archive.fetch_settings = replace(
        archive.fetch_settings, timeout=1.0, read_timeout=0.5, connect_timeout=0.5, retries=0
    )
    return archive


# --- decisions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "summary"),
    [
        ("短" * 50, True),
        ("长" * 300, False),
        ("word " * 150, False),  # 600 letters of a script with spaces: whole
        ("x " * 100, True),
        ("长文" * 200 + "……", True),
        ("A long text. " * 50 + "Read more »", True),
        ("很长的报道。" * 60 + "阅读全文", True),
        ("", True),
    ],
)
def test_what_looks_like_a_summary(text: str, summary: bool) -> None:
    assert bool(decide.summary_reason(text)) is summary


def test_page_policies() -> None:
    whole, short = "长" * 300, "短"
    assert decide.page_wanted("feed", "http://x/", short) == ""
    assert decide.page_wanted("page", "http://x/", whole) != ""
    assert decide.page_wanted("auto", "http://x/", whole) == ""
    assert decide.page_wanted("auto", "http://x/", short) != ""
    assert decide.page_wanted("page", "", short) == ""  # no link, no page


def test_when_the_page_is_used() -> None:
    assert decide.page_rejected("短", "长" * 100, "auto") == ""
    assert "too little" in decide.page_rejected("短", "长" * 10, "auto")
    assert "less text" in decide.page_rejected("长" * 300, "长" * 100, "auto")
    assert decide.page_rejected("长" * 300, "长" * 100, "page") == ""  # the page is the rule
    assert decide.page_rejected("长" * 300, "短", "page", by_rule=True) == ""
    assert "no text" in decide.page_rejected("长" * 300, "", "page", by_rule=True)


# --- the pipeline -------------------------------------------------------------------------


def test_a_summary_feed_ends_up_with_full_articles(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    first = server.set("/a/1.html", page("chinese_article"), **HTML)
    second = server.set("/a/2.html", page("chinese_article_001"), **HTML)
    items = [summary_item(first, 1), summary_item(second, 2)]
    items[1].pop("pubDate")  # the page's date fills the gap
    feed = server.set("/feed.xml", rss(items))
    archive = make_archive((make_source("bbc", [feed], full_text="auto"),))
    [report] = archive.fetch()
    assert report.new == 2 and not report.errors
    for n, (url, name) in enumerate([(first, "chinese_article"), (second, "chinese_article_001")]):
        article = archive.show(f"urn:item:{n + 1}")
        assert article is not None
        [version] = article.versions
        assert version.method == "page extractor" and version.content_url == url
        assert version.feed_url == feed and version.method_note == ""
        lines = [line for line in expected(name).splitlines() if len(line) > 20]
        assert lines and all(line.strip() in version.clean_html for line in lines[:3])
        assert "摘要" not in version.clean_html
    dated = archive.show("urn:item:2")
    assert dated is not None and not dated.date_missing
    assert decide.list_date(dated.published_ms, "UTC") == "11-17"  # 2023-11-17, the page's


def test_a_whole_feed_item_is_not_fetched_again_and_a_repeat_costs_nothing(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    link = server.set("/a/1.html", page("chinese_article"), **HTML)
    whole = "<p>" + "完整的报道。" * 60 + "</p>"
    feed = server.set(
        "/feed.xml",
        rss([summary_item(link, 1), summary_item(server.url("/a/2.html"), 2, description=whole)]),
    )
    archive = make_archive((make_source("bbc", [feed], full_text="auto"),))
    [report] = archive.fetch()
    assert report.new == 2
    fetched = [p for p, _ in server.requests]
    assert fetched.count("/a/1.html") == 1 and "/a/2.html" not in fetched  # only the summary's
    whole_item = archive.show("urn:item:2")
    assert whole_item is not None and whole_item.versions[0].method == "feed"
    [again] = archive.fetch(force=True)
    assert (again.new, again.changed, again.unchanged) == (0, 0, 2)
    assert [p for p, _ in server.requests].count("/a/1.html") == 1  # not fetched again


def test_failing_pages_keep_the_feed_content_and_say_why(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    def hang(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(2)

    server.routes["/slow.html"] = hang
    links = [
        server.url("/slow.html"),
        server.set("/empty.html", b"", **HTML),
        server.set(
            "/image.html", b"\x89PNG\r\n\x1a\n" + bytes(64), **{"Content-Type": "image/png"}
        ),
        server.url("/gone.html"),  # 404
        server.set("/nothing.html", b"<html><body><nav>menu</nav></body></html>", **HTML),
    ]
    feed = server.set("/feed.xml", rss([summary_item(u, n) for n, u in enumerate(links)]))
    fine = server.set("/fine.xml", rss([summary_item("http://example.org/x", 9)]))
    archive = fast(
        make_archive(
            (make_source("a", [feed], full_text="page"), make_source("b", [fine], full_text="feed"))
        )
    )
    report, other = archive.fetch()
    assert report.new == 5 and other.new == 1
    notes = []
    for n in range(5):
        article = archive.show(f"urn:item:{n}")
        assert article is not None
        [version] = article.versions
        assert version.method == "feed" and "摘要" in version.clean_html
        notes.append(version.method_note)
    assert "no data for 0.5 s" in notes[0]  # the read timeout
    assert "empty" in notes[1]
    assert "not an HTML page (image/png)" in notes[2]
    assert "404" in notes[3]
    assert "too little text" in notes[4]  # "menu": not an article
    assert all("kept the feed's content" in note for note in notes)
    # the four failures make one error line; a page that gave too little is only a note
    [line] = report.errors
    assert "full text not taken" in line and "(and 3 more items whose page was not read)" in line


def test_a_page_with_less_text_than_the_feed_is_not_used(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    short_page = (
        b"<html><body><article><p>" + "短文。".encode() * 30 + b"</p></article></body></html>"
    )
    link = server.set("/short.html", short_page, **HTML)
    text = "<p>" + "长文，内容很多。" * 20 + "……</p>"  # cut off: looks like a summary
    feed = server.set("/feed.xml", rss([summary_item(link, 1, description=text)]))
    archive = make_archive((make_source("a", [feed], full_text="auto"),))
    [report] = archive.fetch()
    article = archive.show("urn:item:1")
    assert report.new == 1 and not report.errors and article is not None
    [version] = article.versions
    assert version.method == "feed" and "less text than the feed" in version.method_note


# --- captures -----------------------------------------------------------------------------


def test_captures_are_kept_once_per_body_and_read_back_byte_identical(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    body = page("chinese_article_002")
    one = server.set("/p/1.html", body, **HTML)
    two = server.set("/p/2.html", body, **HTML)  # the same bytes at another address
    feed = server.set("/feed.xml", rss([summary_item(one, 1), summary_item(two, 2)]))
    archive = make_archive((make_source("a", [feed], full_text="page"),))
    archive.fetch()
    store = archive.store
    captures = [store.capture(i) for i in store.capture_ids()]
    assert sorted(c.capture.kind for c in captures if c) == ["feed", "page", "page"]
    stats = archive.evidence_stats()
    assert (stats.captures, stats.bodies) == (3, 2)  # the page's body is stored once
    assert stats.stored_bytes < stats.body_bytes
    pages = [c for c in captures if c and c.capture.kind == "page"]
    assert {c.capture.url for c in pages} == {one, two}
    for stored in pages:
        assert stored.capture.body == body and stored.capture.status == 200
        assert ("Content-Type", "text/html; charset=utf-8") in stored.capture.headers
        assert any(name.lower() == "user-agent" for name, _ in stored.capture.request_headers)
    [feed_capture] = [c for c in captures if c and c.capture.kind == "feed"]
    assert feed_capture.capture.body == server.routes["/feed.xml"].body  # type: ignore[union-attr]
    archive.fetch(force=True)  # nothing changed: no new capture
    assert archive.evidence_stats().captures == 3


def test_a_feed_read_by_a_worker_is_one_capture_however_many_items_it_has(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    """A worker builds a page source's items 16 at a time, each group handing back its
    own copy of the feed's capture: still one capture of the feed."""
    links = [server.set(f"/p/{i}.html", page("chinese_article_002"), **HTML) for i in range(20)]
    feed = server.set("/feed.xml", rss([summary_item(link, i) for i, link in enumerate(links)]))
    archive = make_archive((make_source("a", [feed], full_text="page"),))
    archive.workers = 1
    [report] = archive.fetch()
    assert report.new == 20
    kinds = [c.capture.kind for i in archive.store.capture_ids() if (c := archive.store.capture(i))]
    assert kinds.count("feed") == 1 and kinds.count("page") == 20


def test_stats_reports_captures(
    server: LoopbackServer, make_archive: Callable[..., Archive], capsys: pytest.CaptureFixture[str]
) -> None:
    link = server.set("/p/1.html", page("chinese_article"), **HTML)
    feed = server.set("/feed.xml", rss([summary_item(link, 1)]))
    archive = make_archive((make_source("a", [feed], full_text="page"),))
    archive.fetch()
    home = archive.config.home
    archive.close()
    assert main(["--home", str(home), "stats"]) == EXIT_OK
    assert "captures: 2 (2 distinct bodies" in capsys.readouterr().out


# --- newsmirror extract ---------------------------------------------------------------------


def test_extract_a_saved_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    saved = tmp_path / "page.html"
    saved.write_bytes(page("chinese_article_001"))
    code = main(
        ["--home", str(tmp_path), "extract", str(saved), "--url", "https://e.com/a", "--json"]
    )
    record = json.loads(capsys.readouterr().out)
    assert code == EXIT_OK and record["method"] == "page extractor"
    assert record["title"] == "外国专家：中美合作共赢符合国际社会利益"
    assert record["published"] == "2023-11-17" and record["url"] == "https://e.com/a"
    assert "中美合作共赢是大势所趋" in record["text"] and "<p>" in record["html"]
    assert not (tmp_path / "newsmirror.db").exists()  # trying a page touches no archive


def test_extract_a_url_with_a_source_rule(
    server: LoopbackServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = server.set(
        "/post.html",
        '<html><body><div class="post-content"><p>正文</p></div><p>评论</p></body></html>',
        **HTML,
    )
    (tmp_path / "newsmirror.toml").write_text(
        '[sources.x]\nname = "X"\nfeeds = ["http://127.0.0.1:9/feed"]\n'
        'fulltext_selector = "div.post-content"\n',
        "utf-8",
    )
    assert main(["--home", str(tmp_path), "extract", url, "--source", "x", "--text"]) == EXIT_OK
    shown = capsys.readouterr().out
    assert "method: page rule" in shown and "正文" in shown and "评论" not in shown


def test_extract_says_why_a_page_has_nothing(
    server: LoopbackServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = server.set("/img", b"GIF89a" + bytes(20), **{"Content-Type": "image/gif"})
    assert main(["--home", str(tmp_path), "extract", url]) == EXIT_PARTIAL
    assert "not an HTML page (image/gif)" in capsys.readouterr().err


def test_a_page_that_failed_is_tried_again_on_the_next_run(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    link = server.url("/later.html")  # 404 for now: the page goes live after the feed
    feed = server.set("/feed.xml", rss([summary_item(link, 1)]))
    archive = make_archive((make_source("a", [feed], full_text="auto"),))
    [first] = archive.fetch()
    assert first.new == 1 and "next run tries again" in first.errors[0]
    server.set("/later.html", page("chinese_article"), **HTML)
    [second] = archive.fetch(force=True)
    assert second.changed == 1 and not second.errors
    article = archive.show("urn:item:1")
    assert article is not None
    assert [v.method for v in article.versions] == ["feed", "page extractor"]
    [third] = archive.fetch(force=True)  # now settled: the page is not fetched again
    assert third.unchanged == 1
    assert [p for p, _ in server.requests].count("/later.html") == 2


def test_a_page_read_at_last_completes_its_version_and_is_no_edit(
    server: LoopbackServer, make_archive: Callable[..., Archive], tmp_path: Path
) -> None:
    """The feed's content stood in for a page that could not be read; the page's version
    that follows completes it. Nothing calls the article edited; an edit after it does."""
    link = server.url("/later.html")
    feed = server.set("/feed.xml", rss([summary_item(link, 1)]))
    archive = make_archive((make_source("a", [feed], full_text="auto"),))
    archive.fetch()  # a 404: the feed's text stands in
    server.set("/later.html", page("chinese_article"), **HTML)
    [second] = archive.fetch(force=True)
    assert second.changed == 1
    store = archive.store
    [stats] = store.stats()
    assert (stats.versions, stats.edited) == (2, 0)
    assert [c.kind for c in store.changes("2000-01-01", "2100-01-01")] == []
    assert store.site_edits(10) == []
    assert [a.edits for a in store.site_newest(10)] == [0]
    article = archive.show("urn:item:1")
    assert article is not None
    assert decide.edits(article.versions) == 0
    archive.publish_site(tmp_path / "site")
    shown = (tmp_path / "site" / f"a/a/{article.archive_id}.html").read_text("utf-8")
    assert "Edited upstream" not in shown and "completes the version before" in shown
    assert "the feed's content stands in" in shown and "edited (" not in (
        tmp_path / "site" / "index.html"
    ).read_text("utf-8")

    edited = page("chinese_article").replace("在星期二".encode(), "在星期三".encode())  # upstream
    assert edited != page("chinese_article")
    server.set("/later.html", edited, **HTML)
    server.set("/feed.xml", rss([summary_item(link, 1, description="<p>更新的摘要</p>")]))
    [third] = archive.fetch(force=True)  # the item changed in the feed: its page is read
    assert third.changed == 1
    [stats] = store.stats()
    assert (stats.versions, stats.edited) == (3, 1)
    assert [(c.kind, c.status) for c in store.changes("2000-01-01", "2100-01-01")] == [
        ("edited", "edited")
    ]
    assert [v.seq for _, v in store.site_edits(10)] == [3]
    assert [a.edits for a in store.site_newest(10)] == [1]


def test_a_failed_page_is_tried_again_though_the_feed_answers_304(
    make_archive: Callable[..., Archive],
) -> None:
    """A feed whose article page failed keeps its validators: it answers 304, and the page
    is read again from the store (its link is known), which completes the stand-in."""
    with HTTPServer() as http:
        link = http.url("/later.html")
        body = rss([summary_item(link, 1)]).encode()

        async def feed(request: Seen) -> Reply:
            if request.headers.get("if-none-match") == '"v1"':
                return Reply(304, b"", {"ETag": '"v1"'})
            return Reply(200, body, {"Content-Type": "application/rss+xml", "ETag": '"v1"'})

        archive = make_archive(
            (make_source("a", [http.route("/feed.xml", feed)], full_text="auto"),)
        )
        [first] = archive.fetch()  # the page is a 404 for now
        assert first.new == 1 and "next run tries again" in first.errors[0]
        http.set("/later.html", page("chinese_article"), Content_Type="text/html; charset=utf-8")
        [second] = archive.fetch(force=True)
        assert second.changed == 1 and second.not_modified and not second.errors
        article = archive.show("urn:item:1")
        assert article is not None and decide.edits(article.versions) == 0
        assert [v.method for v in article.versions] == ["feed", "page extractor"]
        [third] = archive.fetch(force=True)  # settled: nothing is asked but the feed
        assert third.not_modified and (third.changed, third.unchanged) == (0, 0)
        asked = [s.headers.get("if-none-match") for s in http.seen if s.path == "/feed.xml"]
        assert asked == [None, '"v1"', '"v1"']
        assert [s.path for s in http.seen].count("/later.html") == 2


def test_a_feed_whose_pages_cannot_be_read_answers_304_and_the_pages_are_tried_for_days(
    make_archive: Callable[..., Archive],
) -> None:
    """Pages that stay unreadable: the feed is not downloaded whole again (its validators
    are kept; it answers 304), the pages are asked again from the store every run, each
    once, for STAND_IN_DAYS; then they are left alone."""
    from newsmirror.collect.standins import STAND_IN_DAYS

    moved: list[datetime] = []  # the archive's clock: the real one until the test moves it
    with HTTPServer() as http:
        links = [http.url(f"/gone/{n}.html") for n in range(3)]
        body = rss([summary_item(link, n) for n, link in enumerate(links)]).encode()

        async def feed(request: Seen) -> Reply:
            if request.headers.get("if-none-match") == '"v1"':
                return Reply(304, b"", {"ETag": '"v1"'})
            return Reply(200, body, {"Content-Type": "application/rss+xml", "ETag": '"v1"'})

        archive = make_archive(
            (make_source("a", [http.route("/feed.xml", feed)], full_text="auto"),),
            clock=lambda: moved[-1] if moved else utcnow(),
        )
        [first] = archive.fetch()
        assert first.new == 3 and "(and 2 more items whose page was not read)" in first.errors[0]
        for _ in range(2):
            [again] = archive.fetch(force=True)
            assert again.not_modified and (again.new, again.changed) == (0, 0)
            assert "(and 2 more items whose page was not read)" in again.errors[0]
        feeds = [s for s in http.seen if s.path == "/feed.xml"]
        assert [s.headers.get("if-none-match") for s in feeds] == [None, '"v1"', '"v1"']
        pages = [s.path for s in http.seen if s.path.startswith("/gone/")]
        assert sorted(pages) == sorted([f"/gone/{n}.html" for n in range(3)] * 3)

        moved.append(utcnow() + timedelta(days=STAND_IN_DAYS, hours=1))
        [settled] = archive.fetch(force=True)
        assert settled.not_modified and settled.errors == ()
        assert len([s for s in http.seen if s.path.startswith("/gone/")]) == 9  # no more


def test_a_page_declared_utf8_but_in_gbk_is_read_right(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    text = page("chinese_article").decode("utf-8").replace('charset="UTF-8"', "")
    link = server.set(
        "/gbk.html", text.encode("gbk", "ignore"), **{"Content-Type": "text/html; charset=utf-8"}
    )
    feed = server.set("/feed.xml", rss([summary_item(link, 1)]))
    archive = make_archive((make_source("a", [feed], full_text="page"),))
    archive.fetch()
    article = archive.show("urn:item:1")
    assert article is not None and article.versions[0].method == "page extractor"
    assert (
        "梁振英" in article.versions[0].clean_html
        and "\ufffd" not in article.versions[0].clean_html
    )


def test_extract_reads_xhtml_names_the_file_and_refuses_what_a_fetch_would(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    xhtml = tmp_path / "x.html"
    xhtml.write_bytes(
        b'<?xml version="1.0" encoding="utf-8"?>\n'
        + page("chinese_article_001").split(b">", 1)[1]  # after the doctype
    )
    assert main(["--home", str(tmp_path), "extract", str(xhtml), "--text"]) == EXIT_OK
    assert "中美合作共赢是大势所趋" in capsys.readouterr().out
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    assert main(["--home", str(tmp_path), "extract", str(empty)]) == EXIT_PARTIAL
    assert f"{empty}: the page is empty" in capsys.readouterr().err
    thin = tmp_path / "thin.html"
    thin.write_bytes(b"<html><body><p>hi</p></body></html>")
    assert main(["--home", str(tmp_path), "extract", str(thin)]) == EXIT_PARTIAL
    assert "too little text" in capsys.readouterr().err


def test_pages_on_a_host_that_cannot_be_reached_are_not_each_waited_for(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    """Six article pages on a host that refuses connections: after three attempts that
    opened no connection, the rest fail at once; the feed's content is kept for all."""
    down = f"http://127.0.0.1:{closed_port()}"
    feed = server.set("/feed.xml", rss([summary_item(f"{down}/{i}.html", i) for i in range(6)]))
    archive = make_archive((make_source("a", [feed], full_text="page"),))
    [report] = archive.fetch()
    assert report.new == 6 and "(and 5 more items whose page was not read)" in report.errors[0]
    errors = [row[4] for row in archive.store.fetch_log(50) if row[1].startswith(down)]
    tried = [e for e in errors if e.startswith("could not connect")]
    assert 3 <= len(tried) <= 4  # three in a row, and one more that was on its way
    assert len(errors) - len(tried) >= 3 and all(
        e.startswith("gave up on 127.0.0.1:") for e in errors if e not in tried
    )


def test_a_page_of_hostile_markup_is_read_in_linear_time_and_says_what_was_cut(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    article = page("chinese_article")
    many = " ".join(f'data-a{i}="v"' for i in range(200_000))  # 27 s and more before
    hostile = article.replace(b"<body", f"<body {many}".encode(), 1)
    link = server.set("/hostile.html", hostile, **{"Content-Type": "text/html; charset=utf-8"})
    feed = server.set("/feed.xml", rss([summary_item(link, 1)]))
    archive = make_archive((make_source("a", [feed], full_text="page"),))
    started = time.process_time()
    archive.fetch()
    assert time.process_time() - started < 20
    stored = archive.show("urn:item:1")
    assert stored is not None and stored.versions[0].method == "page extractor"
    assert "梁振英" in stored.versions[0].clean_html
    note = "the markup was cut: 199746 attributes past 256 on a tag were dropped"
    assert stored.versions[0].method_note == note
    assert any(note in reason for *_, reason in archive.store.item_log("a"))
