"""The whole job against loopback feeds: fetch → parse → clean → store → publish."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from conftest import DATA, LoopbackServer, make_source, one_item_feed, rss
from newsmirror.jobs.archive import Archive
from newsmirror.publish.markdown.files import parse_article
from newsmirror.publish.markdown.importer import article_files

SAMPLE = DATA / "rfi-1681038902000.md"
RFC822 = "Sun, 09 Apr 2023 11:15:02 GMT"  # 1681038902000 ms


def files_of(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in root.rglob("*.md")
    }


def test_sample_article_from_a_feed_is_published_byte_for_byte(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    sample = parse_article(SAMPLE.read_text("utf-8"))
    feed = server.set(
        "/rfi.xml",
        rss(
            [
                {
                    "title": sample.title,
                    "link": sample.link,
                    "guid": sample.link,
                    "pubDate": RFC822,
                    "description": sample.html,
                }
            ]
        ),
    )
    archive = make_archive((make_source("rfi", [feed], name="法广"),))
    [report] = archive.fetch()
    assert (report.new, report.errors, report.failed) == (1, (), False)
    archive.publish_markdown()
    written = archive.config.output_path / "articles/rfi/1048574.md"
    assert written.read_bytes() == SAMPLE.read_bytes()


def test_multiline_feed_html_is_stripped_and_joined(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    html = "  <div>\n    <p>第一段\u00a0</p>\n\t<p>second</p>  \n</div>\n"
    feed = server.set(
        "/f.xml",
        rss(
            [
                {
                    "title": " t ",
                    "link": "http://example.org/a?utm_source=x",
                    "pubDate": RFC822,
                    "description": html,
                }
            ]
        ),
    )
    archive = make_archive((make_source("x", [feed]),))
    archive.fetch()
    archive.publish_markdown()
    text = (archive.config.output_path / "articles/x/1048574.md").read_text("utf-8")
    assert text == (
        "<!--1681038902000-->\n[t](http://example.org/a?utm_source=x)\n------\n\n"
        "<div><p>第一段\u00a0</p><p>second</p></div>\n"
    )
    article = archive.show("x/1048574")
    assert article is not None and article.url == "http://example.org/a"


def test_second_fetch_over_unchanged_feeds_changes_nothing(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    items = [
        {
            "title": f"标题{i}",
            "link": f"http://example.org/{i}",
            "guid": f"g{i}",
            "pubDate": f"Sun, 0{i} Apr 2023 11:15:02 GMT",
            "description": f"<p>正文{i}</p>",
        }
        for i in range(1, 6)
    ]
    feed = server.set("/a.xml", rss(items))
    archive = make_archive((make_source("a", [feed]),))
    [first] = archive.fetch()
    archive.publish_markdown()
    root = archive.config.output_path
    before = files_of(root)
    assert first.new == 5 and len(before) == 5 + 2  # articles, one list, README
    [second] = archive.fetch()
    assert (second.new, second.changed, second.unchanged) == (0, 0, 5)
    assert archive.publish_markdown().written == 0
    assert files_of(root) == before
    assert sum(s.versions for s in archive.stats()) == 5
    # The newest entry got the smallest id: ids count down in publication order.
    newest = archive.show("a/1048570")
    assert newest is not None and newest.versions[0].title == "标题5"


def test_changed_content_makes_a_second_version(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    item = {
        "title": "原标题",
        "link": "http://example.org/1",
        "guid": "same-guid",
        "pubDate": RFC822,
        "description": "<p>第一版</p>",
    }
    feed = server.set("/a.xml", rss([item]))
    archive = make_archive((make_source("a", [feed]),))
    archive.fetch()
    archive.publish_markdown()
    server.set("/a.xml", rss([{**item, "title": "新标题", "description": "<p>第二版</p>"}]))
    [report] = archive.fetch()
    assert (report.new, report.changed) == (0, 1)
    archive.publish_markdown()
    article = archive.show("same-guid")
    assert article is not None
    assert [v.title for v in article.versions] == ["原标题", "新标题"]
    assert "第一版" in article.versions[0].raw_html
    path = archive.config.output_path / article.path
    assert "第二版" in path.read_text("utf-8") and "新标题" in path.read_text("utf-8")
    # White-space-only differences in the received HTML are not a new version.
    server.set("/a.xml", rss([{**item, "title": "新标题", "description": "\n  <p>第二版</p> "}]))
    assert archive.fetch()[0].unchanged == 1


def test_ids_continue_an_imported_archive_and_never_repeat(
    tmp_path: Path, server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    import shutil

    checkout = tmp_path / "checkout"
    shutil.copytree(DATA / "duty-machine-news", checkout)
    items = [
        {
            "title": f"n{i}",
            "link": f"http://example.org/n{i}",
            "pubDate": f"Mon, 0{i} Jan 2024 00:00:00 GMT",
            "description": "<p>x</p>",
        }
        for i in range(1, 4)
    ]
    feed = server.set("/rfi.xml", rss(items))
    archive = make_archive((make_source("rfi", [feed], name="法广"),), home=checkout)
    archive.import_archive(checkout)
    archive.fetch()
    archive.publish_markdown()
    names = sorted(p.name for p in (checkout / "articles/rfi").iterdir())
    for new_id in (999999, 999998, 999997):
        assert f"{new_id}.md" in names
    # The old file at 1000000 still holds its own article.
    assert (checkout / "articles/rfi/1000000.md").read_bytes() == (
        DATA / "duty-machine-news/articles/rfi/1000000.md"
    ).read_bytes()
    # Lists are ordered by id numerically: 999997 (newest) before 1000000.
    lines = (checkout / "lists/法广.md").read_text("utf-8").splitlines()
    links = [line for line in lines if "](/articles/" in line]
    assert links[0].endswith("(/articles/rfi/999997.md)")
    assert links[3].endswith("(/articles/rfi/1000000.md)")


def test_items_without_content_or_date_are_kept_and_logged(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    feed = server.set(
        "/a.xml",
        rss(
            [
                {
                    "title": "好",
                    "link": "http://example.org/1",
                    "pubDate": RFC822,
                    "description": "<p>ok</p>",
                },
                {"title": "只有标题", "link": "http://example.org/2", "pubDate": RFC822},
                {
                    "title": "无日期",
                    "link": "http://example.org/3",
                    "pubDate": "yesterday-ish",
                    "description": "<p>undated</p>",
                },
                {"link": "http://example.org/4", "pubDate": RFC822},
                {
                    "title": "也好",
                    "link": "http://example.org/5",
                    "pubDate": RFC822,
                    "description": "<p>ok too</p>",
                },
            ]
        ),
    )
    archive = make_archive((make_source("a", [feed]),))
    [report] = archive.fetch()
    assert (report.new, report.skipped) == (4, 1)
    log = archive.store.item_log("a")
    reasons = {title: (action, reason) for _, _, title, action, reason in log}
    assert reasons["只有标题"][0] == "archived" and "no content" in reasons["只有标题"][1]
    assert reasons["无日期"][0] == "archived" and "date" in reasons["无日期"][1]
    assert reasons[""][0] == "skipped"
    undated = archive.show("http://example.org/3")
    assert undated is not None and undated.date_missing
    assert archive.publish_markdown().errors == []


def test_undeclared_gbk_and_ill_formed_feeds_are_read(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    gbk = server.set(
        "/gbk.xml",
        rss(
            [
                {
                    "title": "中文标题",
                    "link": "http://example.org/g",
                    "pubDate": RFC822,
                    "description": "<p>简体中文正文</p>",
                }
            ]
        )
        .replace('encoding="UTF-8"', "")
        .encode("gbk"),
    )
    sloppy = server.set(
        "/sloppy.xml",
        "<rss version='2.0'><channel><item><title>A & B</title>"
        "<link>http://example.org/s</link><description>x &nbsp; <b>y"
        "</description></item></channel></rss>",
    )
    archive = make_archive((make_source("g", [gbk]), make_source("s", [sloppy])))
    reports = {r.source: r for r in archive.fetch()}
    assert reports["g"].new == 1 and reports["s"].new == 1
    article = archive.show("http://example.org/g")
    assert article is not None and article.versions[0].title == "中文标题"
    assert "简体中文正文" in article.versions[0].raw_html


def test_a_dead_first_feed_falls_back_to_the_second(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    dead = server.set("/dead.xml", "gone", 404)
    live = one_item_feed(server, "/live.xml")
    archive = make_archive((make_source("a", [dead, live]),))
    [report] = archive.fetch()
    assert report.new == 1 and report.feed_url == live and not report.failed
    assert any("404" in e for e in report.errors)
    article = archive.show("http://example.org/1")
    assert article is not None and article.versions[0].feed_url == live
    states = {s.url: s for s in archive.feed_states()}
    assert states[dead].failures == 1 and states[live].last_success


def test_switching_between_a_sources_feeds_is_no_edit(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    """The first feed gives whole articles, the second summaries of the same items: a
    fallback's summary never replaces the whole text, and no way in counts as an edit."""
    item = {"title": "标题", "guid": "urn:x:1", "pubDate": "Sun, 09 Apr 2023 11:15:02 GMT"}
    whole = {**item, "description": "<p>全文第一段。</p><p>全文第二段。</p>"}
    first, second = server.url("/whole.xml"), server.url("/summary.xml")
    server.set("/summary.xml", rss([{**item, "description": "<p>摘要</p>"}]))
    server.set("/whole.xml", "down", 503)
    archive = make_archive((make_source("a", [first, second], full_text="feed"),))
    archive.fetch_settings = replace(archive.fetch_settings, retries=0)
    [report] = archive.fetch()  # the first feed is down: the summary
    assert report.new == 1 and report.feed_url == second
    server.set("/whole.xml", rss([whole]))
    [report] = archive.fetch(force=True)  # the first feed back: its whole text
    assert report.changed == 1 and report.feed_url == first
    server.set("/whole.xml", "down", 503)
    server.set("/summary.xml", rss([{**item, "description": "<p>改过的摘要</p>"}]))
    [report] = archive.fetch(force=True)  # down again; the summary changed meanwhile
    assert report.feed_url == second and (report.new, report.changed) == (0, 0)
    article = archive.show("urn:x:1")
    assert article is not None
    assert [v.feed_url for v in article.versions] == [second, first]
    assert "全文第二段" in article.versions[-1].clean_html  # still the whole text
    [stats] = archive.store.stats()
    assert (stats.versions, stats.edited) == (2, 0)
    assert archive.store.changes("2000-01-01", "2100-01-01") == []
    server.set("/whole.xml", rss([{**whole, "description": "<p>全文第一段。</p><p>更正。</p>"}]))
    [report] = archive.fetch(force=True)  # an edit seen through the first feed
    assert report.changed == 1
    [stats] = archive.store.stats()
    assert (stats.versions, stats.edited) == (3, 1)


def test_a_summary_never_replaces_whole_text_when_the_first_feed_leaves_the_list(
    server: LoopbackServer, make_archive: Callable[..., Archive], tmp_path: Path
) -> None:
    """The source's whole-text feed is taken out of its list (or moved to a URL that is
    down): the summary feed's items, changed or not, leave the whole text in place."""
    item = {"title": "标题", "guid": "urn:x:1", "pubDate": "Sun, 09 Apr 2023 11:15:02 GMT"}
    whole = server.set("/whole.xml", rss([{**item, "description": "<p>全文。</p>" * 40}]))
    summary = server.set("/summary.xml", rss([{**item, "description": "<p>摘要</p>"}]))
    home = tmp_path / "kept"
    make_archive((make_source("a", [whole, summary]),), home=home).fetch()
    server.set("/summary.xml", rss([{**item, "description": "<p>改过的摘要</p>"}]))
    later = make_archive((make_source("a", [summary]),), home=home)
    [report] = later.fetch(force=True)
    assert (report.new, report.changed) == (0, 0)
    article = later.show("urn:x:1")
    assert article is not None and [v.feed_url for v in article.versions] == [whole]


def test_an_item_a_feed_repeats_is_read_once(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    """Two items with one guid (two sections of a site in one feed): the first is read;
    the feed read again changes nothing."""
    item = {"guid": "urn:x:1", "pubDate": "Sun, 09 Apr 2023 11:15:02 GMT"}
    feed = server.set(
        "/feed.xml",
        rss(
            [
                {**item, "title": "一", "description": "<p>第一种说法</p>"},
                {"title": "别的", "link": "http://example.org/2", "description": "<p>别的</p>"},
                {**item, "title": "二", "description": "<p>第二种说法</p>"},
            ]
        ),
    )
    archive = make_archive((make_source("a", [feed]),))
    [first] = archive.fetch()
    [again] = archive.fetch(force=True)
    assert (first.new, first.changed) == (2, 0) and (again.new, again.changed) == (0, 0)
    article = archive.show("urn:x:1")
    assert article is not None and [v.title for v in article.versions] == ["一"]


def test_a_guid_given_to_items_of_different_links_identifies_none(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    """A feed whose every item has the site's address as guid: each item an article of
    its own, told apart by its link; read again, nothing changes."""
    items = [
        {"title": f"标题 {n}", "link": f"http://example.org/{n}", "guid": "http://example.org/",
         "pubDate": "Sun, 09 Apr 2023 11:15:02 GMT", "description": f"<p>正文 {n}</p>"}
        for n in range(5)
    ]  # fmt: skip
    feed = server.set("/feed.xml", rss(items))
    archive = make_archive((make_source("a", [feed]),))
    [first] = archive.fetch()
    [again] = archive.fetch(force=True)
    assert first.new == 5 and (again.new, again.changed, again.unchanged) == (0, 0, 5)
    for n in range(5):
        article = archive.show(f"http://example.org/{n}")
        assert article is not None and [v.title for v in article.versions] == [f"标题 {n}"]


def test_one_broken_source_never_stops_the_others(
    tmp_path: Path, server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    good = one_item_feed(server, "/good.xml")
    broken = {
        "html": server.set(
            "/html.xml", "<html><body>not a feed</body></html>", **{"Content-Type": "text/html"}
        ),
        "empty": server.set("/empty.xml", b""),
        "xxe": server.set(
            "/xxe.xml",
            '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM '
            '"file:///etc/passwd">]><rss version="2.0"><channel><title>&x;'
            "</title><item><title>&x;</title><link>http://e.org/</link></item>"
            "</channel></rss>",
        ),
        "bytes": server.set("/bytes.xml", bytes(range(256)) * 100),
        "down": server.url("/nothing-here.xml"),
        "huge": server.set("/huge.xml", b"<rss><channel>" + b"x" * (50 * 1024 * 1024)),
        "laughs": server.set("/laughs.xml", (DATA / "hostile/billion-laughs.xml").read_bytes()),
    }
    sources = [make_source("good", [good])] + [make_source(k, [u]) for k, u in broken.items()]
    archive = make_archive(tuple(sources))
    reports = {r.source: r for r in archive.fetch()}
    assert reports["good"].new == 1
    for slug in ("html", "empty", "bytes", "down", "huge"):
        assert reports[slug].failed and reports[slug].errors, slug
    assert "more than 20971520" in reports["huge"].errors[0]
    # Entity expansion is refused or bounded: nothing blown up reaches the store.
    for stats in archive.stats():
        assert stats.source != "laughs" or stats.articles <= 1
    titles = archive.store.db.execute("SELECT MAX(LENGTH(title)) FROM versions").fetchone()[0]
    assert titles < 10_000
    for path in archive.config.home.rglob("*"):
        assert "root:" not in (path.read_text("utf-8", "replace") if path.suffix == ".md" else "")
    archive.publish_markdown()
    written = {p.relative_to(tmp_path).parts[0] for p in tmp_path.rglob("*") if p.is_file()}
    assert written == {"home"}


def test_cdt_rules_filter_full_text_and_post_ids(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    page = (
        '<html><body><div class="nav">menu</div><div class="post-content">\n'
        "  <p>全文第一段</p>\n  <p>第二段</p>\n</div></body></html>"
    )
    link = server.set("/chinese/2022/06/post.html", page, **{"Content-Type": "text/html"})
    feed = server.set(
        "/cdt.xml",
        rss(
            [
                {
                    "title": "有符号",
                    "link": link,
                    "guid": "https://chinadigitaltimes.net/chinese/?p=683008",
                    "pubDate": RFC822,
                    "category": "【CDT周报】",
                    "description": "<p>摘要</p>",
                },
                {
                    "title": "无符号",
                    "link": link,
                    "guid": "https://chinadigitaltimes.net/chinese/?p=683009",
                    "pubDate": RFC822,
                    "category": "普通",
                    "description": "<p>摘要</p>",
                },
            ]
        ),
    )
    source = make_source(
        "cdt",
        [feed],
        name="中国数字时代",
        item_filter="symbol-category",
        fulltext_selector="div.post-content",
        id_scheme="post",
    )
    archive = make_archive((source,))
    [report] = archive.fetch()
    assert report.new == 1
    archive.publish_markdown()
    text = (archive.config.output_path / f"articles/cdt/{0xFFFFF ^ 683008}.md").read_text("utf-8")
    assert text.endswith("\n\n<p>全文第一段</p><p>第二段</p>\n")


def test_rfa_link_is_taken_from_the_guid(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    feed = server.set(
        "/rfa.xml",
        rss(
            [
                {
                    "title": "t",
                    "link": "http://feeds.example.org/redirect/123",
                    "guid": "https://www.rfa.org/mandarin/yataibaodao/a.html",
                    "pubDate": RFC822,
                    "content": "<p>full</p>",
                    "description": "short",
                }
            ]
        ),
    )
    archive = make_archive((make_source("rfa", [feed], link_from_guid=True),))
    archive.fetch()
    archive.publish_markdown()
    text = (archive.config.output_path / "articles/rfa/1048574.md").read_text("utf-8")
    assert "[t](https://www.rfa.org/mandarin/yataibaodao/a.html)" in text
    assert text.endswith("<p>full</p>\n")


def test_clean_mode_writes_cleaned_html(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    html = (
        "<p><span><span>正文</span></span><script>alert(1)</script></p>"
        '<div>获取更多RSS：<br><a href="https://feedx.net" style="color:orange" '
        'target="_blank">https://feedx.net</a> <br><a href="https://feedx.best" '
        'style="color:orange" target="_blank">https://feedx.best</a><br></div>'
    )
    feed = server.set(
        "/a.xml",
        rss(
            [{"title": "t", "link": "http://example.org/1", "pubDate": RFC822, "description": html}]
        ),
    )
    archive = make_archive(
        (make_source("a", [feed], boilerplate=("builtin:feedx-footer",)),), markdown_content="clean"
    )
    archive.fetch()
    archive.publish_markdown()
    line = (archive.config.output_path / "articles/a/1048574.md").read_text("utf-8")
    body = line.split("\n")[4]
    assert "正文" in body
    for gone in ("<span", "script", "获取更多RSS", "feedx"):
        assert gone not in body
    # Switching back to original rewrites the file with the HTML as received.
    report = archive.publish_markdown("original")
    assert report.written >= 1
    assert "获取更多RSS" in (archive.config.output_path / "articles/a/1048574.md").read_text(
        "utf-8"
    )


def test_publish_refuses_to_overwrite_a_file_it_did_not_write(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    feed = one_item_feed(server, "/a.xml")
    archive = make_archive((make_source("a", [feed]),))
    foreign = archive.config.output_path / "articles/a/1048574.md"
    foreign.parent.mkdir(parents=True)
    foreign.write_text("someone else's file", "utf-8")
    archive.fetch()
    report = archive.publish_markdown()
    assert report.errors and "import the archive first" in report.errors[0]
    assert foreign.read_text("utf-8") == "someone else's file"
    assert len(article_files(archive.config.output_path)) == 1


def test_an_item_nested_past_the_bound_is_archived_with_a_line_saying_so(
    server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    deep = "<div>" * 300_000 + "<p>正文</p>" + "</div>" * 300_000  # minutes to clean before
    item = {"title": "深", "link": "http://example.org/1", "pubDate": RFC822, "description": deep}
    feed = server.set("/a.xml", rss([item]))
    archive = make_archive((make_source("a", [feed]),))
    started = time.process_time()
    [report] = archive.fetch()
    assert report.new == 1 and time.process_time() - started < 20
    [(_, _, title, action, reason)] = archive.store.item_log("a")
    assert (title, action) == ("深", "archived")
    assert reason == (
        "the markup was cut: 299489 elements nested deeper than 512 were unwrapped"
        " (their text is kept)"
    )
    article = archive.show("http://example.org/1")
    assert article is not None and article.versions[0].clean_html == "<div>正文</div>"
