"""Titles as readers should read them: a feed that escaped its titles twice (seen in real
feeds: ``&amp;quot;`` in the XML) is shown decoded, once, on every page of the static site,
in the browser search's shards, the Atom feeds, the digest's HTML, ``search`` and
``show``; the markdown archive keeps the title as the original script wrote it."""

from __future__ import annotations

import json
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import date
from pathlib import Path

import lxml.html
import pytest

from conftest import LoopbackServer, make_source
from newsmirror.clean.article import shown_title
from newsmirror.cli.main import EXIT_OK, main
from newsmirror.errors import SearchQueryError
from newsmirror.jobs.archive import Archive
from newsmirror.publish.digest import write_digest
from newsmirror.publish.report import PublishReport

#: (title as the feed's XML holds it, as stored, as shown)
RSS_TITLES = [
    ("&amp;quot;夸大&amp;quot;宣传被罚", "&quot;夸大&quot;宣传被罚", '"夸大"宣传被罚'),
    ("Q&amp;amp;A: &amp;#39;孤岛&amp;#39;", "Q&amp;A: &#39;孤岛&#39;", "Q&A: '孤岛'"),
    (
        "&amp;lt;b&amp;gt;粗体&amp;lt;/b&amp;gt;标题",
        "&lt;b&gt;粗体&lt;/b&gt;标题",
        "<b>粗体</b>标题",
    ),
    (
        "&amp;amp;lt;script&amp;amp;gt;只解一次",
        "&amp;lt;script&amp;gt;只解一次",
        "&lt;script&gt;只解一次",
    ),
    (
        "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;注入",
        "&lt;script&gt;alert(1)&lt;/script&gt;注入",
        "<script>alert(1)</script>注入",
    ),
    ("  回应\n\n  质疑 \n\n", "  回应\n\n  质疑 \n\n", "回应 质疑"),
]
ATOM_TITLES = [
    ('type="html">&amp;quot;夸大&amp;quot;（Atom）', "&quot;夸大&quot;（Atom）", '"夸大"（Atom）'),
    ('type="text">「驕傲」 ', "「驕傲」 ", "「驕傲」"),
]
SHOWN = [shown for _, _, shown in RSS_TITLES + ATOM_TITLES]


def rss_feed() -> str:
    items = "".join(
        f"<item><title>{xml}</title><link>http://example.org/r{n}</link>"
        f"<guid>r{n}</guid><pubDate>Sun, 09 Apr 2023 0{n}:15:02 GMT</pubDate>"
        f"<description>&lt;p&gt;正文{n}&lt;/p&gt;</description></item>"
        for n, (xml, _, _) in enumerate(RSS_TITLES)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>r</title>'
        f"<link>http://example.org/</link><description>d</description>{items}</channel></rss>"
    )


def atom_feed() -> str:
    entries = "".join(
        f"<entry><title {xml}</title><link href='http://example.org/a{n}'/><id>a{n}</id>"
        f"<published>2023-04-09T0{n}:30:00Z</published><updated>2023-04-09T0{n}:30:00Z"
        f"</updated><content type='html'>&lt;p&gt;内容{n}&lt;/p&gt;</content></entry>"
        for n, (xml, _, _) in enumerate(ATOM_TITLES)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>a</title><id>urn:a</id><updated>2023-04-09T00:00:00Z</updated>{entries}</feed>"
    )


@pytest.fixture
def fetched(server: LoopbackServer, make_archive: Callable[..., Archive]) -> Archive:
    sources = (
        make_source("rss", [server.set("/r.xml", rss_feed())], name="RSS"),
        make_source("atom", [server.set("/a.xml", atom_feed())], name="Atom"),
    )
    archive = make_archive(sources)
    reports = archive.fetch()
    assert [r.new for r in reports] == [len(RSS_TITLES), len(ATOM_TITLES)]
    return archive


@pytest.mark.parametrize(
    "stored, shown",
    [(stored, shown) for _, stored, shown in RSS_TITLES + ATOM_TITLES]
    + [
        ("AT&T &notice &copy 2020", "AT&T &notice &copy 2020"),  # a reference needs its ";"
        ("&#x5b;更正&#x5D; &eacute;t&eacute; &nosuch;", "[更正] été &nosuch;"),
        ("\ufeff\u3000标题\u00a0\t", "标题"),  # JavaScript white space at both ends
        ("上\r\n\u3000下  左 右\u2028尾", "上 下  左 右 尾"),  # runs with a line break only
        ("&#10;&#10;换行&#13;&#10;之后", "换行 之后"),  # decoded, then the white space
        ("\u00a0\n", ""),
    ],
)
def test_shown_title(stored: str, shown: str) -> None:
    assert shown_title(stored) == shown
    assert shown_title(shown) == shown_title(shown_title(stored))  # text after one decoding


def _text_of(path: Path) -> tuple[str, lxml.html.HtmlElement]:
    doc = lxml.html.fromstring(path.read_bytes())
    return doc.text_content(), doc


def test_the_site_shows_titles_decoded_once_and_escaped_the_markdown_archive_as_given(
    fetched: Archive, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    assert fetched.publish_site(site).errors == []
    assert fetched.publish_markdown().errors == []
    article_pages = sorted((site / "a").rglob("*.html"))
    assert len(article_pages) == len(SHOWN)
    headings = []
    for page in article_pages:
        text, doc = _text_of(page)
        headings.append(doc.findtext(".//h1"))
        assert doc.findtext(".//title").startswith(doc.findtext(".//h1") + " · ")
        assert not doc.xpath("//script | //b") and "quot;" not in text
    assert sorted(headings) == sorted(SHOWN)
    for listing in ("index.html", "s/rss/index.html", "s/atom/index.html", "d/2023-04-09.html"):
        text, doc = _text_of(site / listing)
        shown = SHOWN[: len(RSS_TITLES)] if "atom" not in listing else SHOWN[len(RSS_TITLES) :]
        if listing in ("index.html", "d/2023-04-09.html"):
            shown = SHOWN
        assert sorted(a.text_content() for a in doc.xpath("//ol[@class='articles']/li/a")) == (
            sorted(shown)
        ), listing
        assert not doc.xpath("//ol//script | //ol//b") and "quot;" not in text, listing
    raw = (site / "a/rss").joinpath(f"{1048574 - 4}.html").read_text("utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;注入" in raw and "<script>alert" not in raw
    shard = (site / "search/docs-0000.js").read_text("utf-8")
    docs = json.loads(shard.removeprefix("nmSearch.shard(0,").removesuffix(");\n"))
    assert sorted(d["t"] for d in docs) == sorted(SHOWN)
    # the store and the markdown archive keep the title as the feed gave it
    rows = fetched.store.db.execute("SELECT title FROM versions ORDER BY id").fetchall()
    assert sorted(r[0] for r in rows) == sorted(s for _, s, _ in RSS_TITLES + ATOM_TITLES)
    out = fetched.config.output_path
    texts = b"".join(p.read_bytes() for p in (out / "articles" / "rss").glob("*.md"))
    assert b"\n[&quot;\xe5\xa4\xb8\xe5\xa4\xa7&quot;" in texts  # [&quot;夸大&quot;
    assert "\n[Q&amp;A: &#39;孤岛&#39;](http://example.org/r1)\n".encode() in texts
    assert "\n[&amp;lt;script&amp;gt;只解一次](".encode() in texts
    assert "\n[回应\n\n  质疑](http://example.org/r5)\n".encode() in texts
    listing = (out / "lists" / "RSS.md").read_text("utf-8")
    assert "[&quot;夸大&quot;宣传被罚](" in listing and '"夸大"' not in listing


def test_atom_feeds_give_titles_decoded_once(fetched: Archive, tmp_path: Path) -> None:
    site = tmp_path / "site"
    fetched.publish_site(site)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    every = ET.parse(site / "feeds/all.xml").getroot()
    titles = [e.findtext("a:title", namespaces=ns) for e in every.findall("a:entry", ns)]
    assert sorted(titles) == sorted(SHOWN)
    rss = ET.parse(site / "feeds/rss.xml").getroot()
    titles = [e.findtext("a:title", namespaces=ns) for e in rss.findall("a:entry", ns)]
    assert sorted(titles) == sorted(SHOWN[: len(RSS_TITLES)])


def test_the_digest_html_shows_titles_decoded(fetched: Archive) -> None:
    report = PublishReport()
    write_digest(fetched.config, fetched.store, date(2023, 4, 9), report)
    assert report.errors == [] and report.written == 2
    digests = fetched.config.output_path / "digests"
    text, doc = _text_of(digests / "2023-04-09.html")
    assert sorted(a.text_content() for a in doc.xpath("//li/a[1]")) == sorted(SHOWN)
    assert not doc.xpath("//script | //b") and "quot;" not in text
    markdown = (digests / "2023-04-09.md").read_text("utf-8")  # markdown decodes them itself
    assert "[&quot;夸大&quot;宣传被罚](" in markdown


def test_search_indexes_and_shows_titles_decoded(fetched: Archive) -> None:
    results = fetched.search('"夸大"')
    assert sorted(hit.title for hit in results.hits) == ['"夸大"宣传被罚', '"夸大"（Atom）']
    for hit in results.hits:
        assert hit.snippet.text.startswith(hit.title)
        assert all(hit.snippet.text[a:b] == "夸大" for a, b in hit.snippet.marks)
    assert fetched.search("quot").total == 0  # the references are not words of the title
    assert fetched.search("amp").total == 0
    assert [h.title for h in fetched.search("只解一次").hits] == ["&lt;script&gt;只解一次"]
    assert [h.title for h in fetched.search("回应 质疑").hits] == ["回应 质疑"]


def test_an_index_built_before_asks_for_reindex(fetched: Archive) -> None:
    path = fetched.store.path
    fetched.close()
    with sqlite3.connect(path) as db:  # as the newsmirror before this one left it
        db.execute("UPDATE search_meta SET value = '1' WHERE key = 'index_version'")
    archive = Archive(fetched.config)
    try:
        with pytest.raises(SearchQueryError, match="reindex"):
            archive.search("夸大")
        archive.reindex()
        assert archive.search("quot").total == 0 and archive.search("夸大").total == 2
    finally:
        archive.close()


def test_search_and_show_commands_print_titles_decoded(
    fetched: Archive, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(fetched.config.home)
    assert main(["--home", home, "search", '"夸大"', "--json"]) == EXIT_OK
    record = json.loads(capsys.readouterr().out)
    assert sorted(r["title"] for r in record["results"]) == ['"夸大"宣传被罚', '"夸大"（Atom）']
    assert main(["--home", home, "search", "注入"]) == EXIT_OK
    assert "<script>alert(1)</script>注入" in capsys.readouterr().out
    assert main(["--home", home, "show", "r0"]) == EXIT_OK
    shown = capsys.readouterr().out
    assert shown.splitlines()[0] == '"夸大"宣传被罚' and "quot;" not in shown
    assert main(["--home", home, "show", "r2"]) == EXIT_OK  # a title rich would take as markup
    assert "<b>粗体</b>" in capsys.readouterr().out


def test_report_prints_titles_decoded(
    server: LoopbackServer, fetched: Archive, capsys: pytest.CaptureFixture[str]
) -> None:
    server.set("/r.xml", rss_feed().replace("正文0", "更正后的正文0"))  # r0 edited upstream
    assert fetched.fetch(force=True)[0].changed == 1
    home = str(fetched.config.home)
    assert main(["--home", home, "report", "--json"]) == EXIT_OK
    changes = json.loads(capsys.readouterr().out)["changes"]
    assert [(c["kind"], c["title"]) for c in changes] == [("edited", '"夸大"宣传被罚')]
    assert main(["--home", home, "report"]) == EXIT_OK
    assert '"夸大"宣传被罚' in capsys.readouterr().out
