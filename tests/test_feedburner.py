"""FeedBurner: an item is stored under its ``feedburner:origLink`` (its ``link``, a
``feedproxy.google.com/~r/...`` redirect, is dead), with the feedproxy link kept as an
alias: an article stored earlier under it is the same article, and ``show`` finds it by
either. Both parse paths give the same entries."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import DATA, LoopbackServer, make_source
from newsmirror.jobs.archive import Archive
from newsmirror.parse.fast import parse_fast
from newsmirror.parse.feeds import parse_feed, parse_slow
from newsmirror.publish.markdown.files import render_article

URL = "https://feeds.example/programthink"
RSS = DATA / "feeds" / "feedburner.xml"  # built from the real feed below (tests/data/README.md)
ATOM = DATA / "feeds" / "greatfire__feeds__programthink.xml"  # real, through FeedBurner
BLOG = "http://program-think.blogspot.com/"
PROXY = "http://feedproxy.google.com/~r/programthink/~3/"
HTML = {"Content-Type": "text/html; charset=utf-8"}


@pytest.mark.parametrize("path", [RSS, ATOM], ids=lambda p: p.name)
def test_a_feedburner_item_is_its_origlink_with_the_feedproxy_link_an_alias(path: Path) -> None:
    parsed = parse_feed(path.read_bytes(), URL)
    assert len(parsed.entries) == 5
    for entry in parsed.entries:
        assert entry.link.startswith(BLOG) and entry.raw_link == entry.link
        assert len(entry.aliases) == 1 and entry.aliases[0].startswith(PROXY)
        assert entry.aliases[0].rsplit("/", 1)[1] == entry.link.rsplit("/", 1)[1]
    assert parsed.entries[0].link == BLOG + "2015/03/Tor-Arm.html"
    assert parsed.entries[0].guid.startswith("tag:blogger.com,1999:blog-5235590154125226279.post")


def test_both_parse_paths_read_feedburner_alike() -> None:
    body = RSS.read_bytes()
    fast = parse_fast(body, URL, "application/xml")
    assert fast is not None  # the fast path takes it: the comparison means something
    assert fast.entries == parse_slow(body, URL).entries
    atom = ATOM.read_bytes()
    assert parse_feed(atom, URL).entries == parse_slow(atom, URL).entries


def _atom(orig: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0"><title>t</title>'
        "<id>urn:t</id><updated>2015-03-10T07:50:00Z</updated><entry><id>urn:t:1</id>"
        "<title>扫盲 Arm</title><published>2015-03-10T07:50:00Z</published>"
        "<updated>2015-03-10T07:50:00Z</updated><content type='html'>&lt;p&gt;正文&lt;/p&gt;"
        f"</content><link rel='alternate' type='text/html' href='{PROXY}x/Tor-Arm.html'/>"
        f"{orig}</entry></feed>"
    ).encode()


@pytest.mark.parametrize(
    "orig, link, aliases",
    [
        (  # white space around it, and FeedBurner's own tracking parameter
            f"<feedburner:origLink>\n  {BLOG}2015/03/Tor-Arm.html?utm_source=feedburner\n"
            "</feedburner:origLink>",
            BLOG + "2015/03/Tor-Arm.html",
            (PROXY + "x/Tor-Arm.html",),
        ),
        (  # relative: resolved against the feed's address, as a relative link is
            "<feedburner:origLink>/2015/03/Tor-Arm.html</feedburner:origLink>",
            "https://feeds.example/2015/03/Tor-Arm.html",
            (PROXY + "x/Tor-Arm.html",),
        ),
        ("<feedburner:origLink></feedburner:origLink>", PROXY + "x/Tor-Arm.html", ()),
        (
            "<feedburner:origLink>javascript:alert(1)</feedburner:origLink>",
            PROXY + "x/Tor-Arm.html",
            (),
        ),
    ],
    ids=["spaces and tracking", "relative", "empty", "not http"],
)
def test_an_origlink_is_taken_when_it_is_an_http_url_alike_on_both_paths(
    orig: str, link: str, aliases: tuple[str, ...]
) -> None:
    body = _atom(orig)
    fast = parse_fast(body, URL, "application/xml")
    slow = parse_slow(body, URL)
    assert fast is not None and fast.entries == slow.entries
    assert (slow.entries[0].link, slow.entries[0].aliases) == (link, aliases)


def _served(server: LoopbackServer, origlink: bool = True, guid: bool = True) -> str:
    """The FeedBurner feed of tests/data, its blog and feedproxy on loopback (the
    feedproxy links answer 404, as they do now); its article pages served."""
    text = RSS.read_text("utf-8").replace(BLOG, server.url("/blog/"))
    text = text.replace("http://feedproxy.google.com/", server.url("/proxy/"))
    if not origlink:
        text = "".join(
            part.split("</feedburner:origLink>", 1)[-1]
            for part in text.split("<feedburner:origLink>")
        )
    if not guid:
        text = "".join(part.split("</guid>", 1)[-1] for part in text.split("<guid"))
    for entry in parse_feed(text.encode(), URL).entries:
        page = (
            f'<html><body><div class="post-body"><p>页面正文 {entry.title}</p></div></body></html>'
        )
        server.set(entry.link.removeprefix(server.base), page, **HTML)
    return server.set("/programthink.xml", text)


def test_a_feedburner_item_is_archived_read_and_shown_by_its_origlink(
    server: LoopbackServer, make_archive: Callable[..., Archive], tmp_path: Path
) -> None:
    feed = _served(server)
    source = make_source("pt", [feed], name="编程随想", fulltext_selector="div.post-body")
    archive = make_archive((source,))
    assert archive.fetch()[0].new == 5
    asked = [path for path, _ in server.requests]
    assert not [p for p in asked if p.startswith("/proxy/")]  # the dead link: never asked
    assert "/blog/2015/03/Tor-Arm.html" in asked  # the page is read from the origLink
    article = archive.show(server.url("/blog/2015/03/Tor-Arm.html"))
    assert article is not None and article.url == server.url("/blog/2015/03/Tor-Arm.html")
    assert article.versions[-1].method == "page rule"
    alias = server.url("/proxy/~r/programthink/~3/bRca7LpO_P0/Tor-Arm.html")
    by_alias = archive.show(alias)
    assert by_alias is not None and by_alias.id == article.id
    archive.publish_markdown()
    line = (archive.config.output_path / article.path).read_text("utf-8").split("\n")[1]
    assert line.endswith(f"]({server.url('/blog/2015/03/Tor-Arm.html')})")
    archive.publish_site(tmp_path / "site")
    page = (tmp_path / "site" / f"a/pt/{article.archive_id}.html").read_text("utf-8")
    assert f'href="{server.url("/blog/2015/03/Tor-Arm.html")}"' in page and "/proxy/" not in page
    _served(server, origlink=False, guid=False)  # later only the feedproxy link, no guid
    report = archive.fetch(force=True)[0]
    assert (report.new, report.failed) == (0, False)
    assert archive.store.stats()[0].articles == 5


@pytest.mark.parametrize("guid", [True, False], ids=["with guid", "without guid"])
def test_an_article_fetched_earlier_under_its_feedproxy_link_is_the_same_article(
    server: LoopbackServer, make_archive: Callable[..., Archive], guid: bool
) -> None:
    feed = _served(server, origlink=False, guid=guid)  # as newsmirror read it before
    archive = make_archive((make_source("pt", [feed], name="编程随想"),))
    assert archive.fetch()[0].new == 5
    _served(server, guid=guid)
    report = archive.fetch(force=True)[0]
    assert (report.new, archive.store.stats()[0].articles) == (0, 5)
    origin = server.url("/blog/2015/03/Tor-Arm.html")
    first = archive.show(origin)
    assert first is not None and first.url.startswith(server.url("/proxy/"))
    assert archive.fetch(force=True)[0].new == 0  # and so on, run after run


def test_an_article_imported_under_its_feedproxy_link_is_the_same_article(
    server: LoopbackServer, make_archive: Callable[..., Archive], tmp_path: Path
) -> None:
    feed = _served(server)
    entries = parse_feed(server.routes["/programthink.xml"].body, URL).entries
    checkout = tmp_path / "checkout"
    folder = checkout / "articles" / "pt"
    folder.mkdir(parents=True)
    for n, entry in enumerate(sorted(entries, key=lambda e: e.published or 0)):
        proxy = entry.aliases[0]  # what the original script wrote: the item's link
        ms = int(entry.published.timestamp() * 1000) if entry.published else 0
        text = render_article(ms, entry.title, proxy, entry.content)
        (folder / f"{1048574 - n}.md").write_text(text, "utf-8")
    archive = make_archive((make_source("pt", [feed], name="编程随想"),))
    assert archive.import_archive(checkout).new == 5
    report = archive.fetch()[0]
    assert (report.new, archive.store.stats()[0].articles) == (0, 5)
    found = archive.show(server.url("/blog/2015/03/Tor-Arm.html"))
    assert found is not None and found.path == "articles/pt/1048570.md"
    assert archive.fetch(force=True)[0].new == 0


def test_aliases_go_through_a_jsonl_export(
    server: LoopbackServer, make_archive: Callable[..., Archive], tmp_path: Path
) -> None:
    archive = make_archive((make_source("pt", [_served(server)], name="编程随想"),))
    archive.fetch()
    exported = io.BytesIO()
    archive.export_jsonl(exported)
    path = tmp_path / "export.jsonl"
    path.write_bytes(exported.getvalue())
    kinds = [json.loads(line)["type"] for line in exported.getvalue().splitlines()]
    assert kinds.count("alias") == 5
    copy = make_archive(archive.config.sources, home=tmp_path / "copy")
    counts = copy.import_jsonl(str(path))
    assert counts.errors == [] and counts.added["alias"] == 5
    again = io.BytesIO()
    copy.export_jsonl(again)
    assert again.getvalue() == exported.getvalue()
    alias = server.url("/proxy/~r/programthink/~3/bRca7LpO_P0/Tor-Arm.html")
    found = copy.show(alias)
    assert found is not None and found.url == server.url("/blog/2015/03/Tor-Arm.html")
    assert copy.import_jsonl(str(path)).added == {}  # twice: nothing new
