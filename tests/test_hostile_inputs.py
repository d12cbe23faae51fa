"""What a hostile publisher sends never reaches an output: item links that are not
http(s) (``javascript:`` in its disguises, ``data:``, ``vbscript:``, ``file:``), huge
titles, control characters. Feeds are served from loopback; every output is written
(markdown archive, site with its feeds and search, digest, JSON Lines, WARC) and read."""

from __future__ import annotations

import gzip
import html
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import pytest
from warcio.archiveiterator import ArchiveIterator

from conftest import LoopbackServer, make_source, rss
from newsmirror import decide
from newsmirror.cli.main import EXIT_OK, main
from newsmirror.jobs.archive import Archive
from newsmirror.limits import MAX_TITLE
from newsmirror.types import Candidate

RFC822 = "Sun, 09 Apr 2023 11:15:02 GMT"
ISO = "2023-04-09T11:15:02Z"
DAY = "2023-04-09"  # the items' day in the site's timezone (Asia/Shanghai: 19:15)

#: Links a browser would run or open as something else than a web page, as a feed may
#: write them (in XML: escaped; tabs and newlines as character references).
HOSTILE_LINKS = [
    "javascript:alert(document.domain)",
    "JaVaScRiPt:alert(document.domain)",
    " javascript:alert(document.domain)",
    "java\tscript:alert(document.domain)",
    "jav\nascript:alert(document.domain)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "data:text/html,<script>alert(document.domain)</script>",
    "vbscript:msgbox(document.domain)",
    "file:///etc/passwd",
]
#: What no output may hold once entities and percent escapes are decoded as a browser
#: would, with the tabs and newlines a URL parser drops removed, in any case.
FORBIDDEN = ("javascript:", "vbscript:", "data:text/html", "file:///etc")


def xml_escaped(link: str) -> str:
    """A link as XML text or attribute value (tabs and newlines as character references:
    an attribute's own would be read as spaces)."""
    text = html.escape(link)
    return text.replace("\t", "&#9;").replace("\n", "&#10;")


def rss_feed() -> str:
    items = [
        {
            "title": f"RSS 标题 {n}",
            "link": xml_escaped(link),
            "pubDate": RFC822,
            "description": f"<p>RSS 正文 {n}</p>",
        }
        for n, link in enumerate(HOSTILE_LINKS)
    ]
    items.append(  # a numeric character reference spelling the scheme out
        {
            "title": "RSS 标题 entity",
            "link": "&#106;&#x61;vascript:alert(1)",
            "pubDate": RFC822,
            "description": "<p>RSS 正文 entity</p>",
        }
    )
    return rss(items)


def atom_feed() -> str:
    entries = "".join(
        f'<entry><title>Atom 标题 {n}</title><link href="{xml_escaped(link)}"/>'
        f"<id>urn:atom:{n}</id><published>{ISO}</published><updated>{ISO}</updated>"
        f'<content type="html">{html.escape(f"<p>Atom 正文 {n}</p>")}</content></entry>'
        for n, link in enumerate(HOSTILE_LINKS)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>a</title><id>urn:a</id>'
        f"<updated>{ISO}</updated>{entries}</feed>"
    )


def json_feed() -> str:
    items = [
        {
            "id": f"json-{n}",
            "url": link,
            "title": f"JSON 标题 {n}",
            "date_published": ISO,
            "content_html": f"<p>JSON 正文 {n}</p>",
        }
        for n, link in enumerate(HOSTILE_LINKS)
    ]
    items.append(
        {
            "id": "json-external",
            "external_url": "javascript:alert(1)",
            "title": "JSON 标题 external",
            "date_published": ISO,
            "content_html": "<p>JSON 正文 external</p>",
        }
    )
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "j", "items": items})


def write_config(home: Path, feeds: dict[str, str]) -> None:
    home.mkdir(parents=True, exist_ok=True)
    tables = [
        f"[sources.{slug}]\nenabled = false"
        for slug in ("reuters", "nyt", "voa", "ft", "bbc", "rfi", "dw", "rfa", "cdt")
    ]
    tables += [
        f'[sources.{slug}]\nname = "{slug}"\nfeeds = ["{url}"]\nfull_text = "feed"'
        for slug, url in feeds.items()
    ]
    (home / "newsmirror.toml").write_text("\n".join(tables), "utf-8")


def publish_everything(home: Path) -> None:
    """Every output newsmirror writes, each command succeeding."""
    at = ["--home", str(home)]
    assert main([*at, "publish", "markdown"]) == EXIT_OK
    assert main([*at, "publish", "site"]) == EXIT_OK
    assert main([*at, "digest", "--date", DAY]) == EXIT_OK
    assert main([*at, "export", "jsonl", "--out", str(home / "export.jsonl")]) == EXIT_OK
    assert main([*at, "export", "warc", "--out", str(home / "warc")]) == EXIT_OK


def decoded(text: str) -> str:
    """Text as a browser may end up reading a URL in it: entities decoded (twice, for
    text escaped twice), percent escapes decoded, tabs and newlines dropped, lower case."""
    once = html.unescape(html.unescape(text))
    return re.sub(r"[\t\n\r]", "", unquote(unquote(once))).lower()


def output_texts(home: Path) -> dict[str, str]:
    """Every published file of the home as text (the database and WARC files aside)."""
    found = {}
    for path in home.rglob("*"):
        if path.is_file() and not path.name.startswith("newsmirror.") and path.suffix != ".gz":
            found[path.relative_to(home).as_posix()] = path.read_bytes().decode("utf-8", "replace")
    return found


def assert_no_hostile_link(home: Path) -> None:
    texts = output_texts(home)
    assert any(p.startswith("articles/") for p in texts) and "site/index.html" in texts
    assert f"digests/{DAY}.html" in texts and "export.jsonl" in texts
    for path, text in texts.items():
        if path == "export.jsonl":  # captures hold the feeds as received (base64): evidence
            text = "\n".join(line for line in text.splitlines() if '"type": "body"' not in line)
        clear = decoded(text)
        for bad in FORBIDDEN:
            assert bad not in clear, (path, bad)
    for warc in (home / "warc").glob("*.warc.gz"):
        with warc.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type != "warcinfo":
                    uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                    assert uri.startswith("http://127.0.0.1:"), uri


def test_item_links_that_are_not_http_reach_no_output(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    feeds = {
        "rss": server.set("/rss.xml", rss_feed()),
        "atom": server.set("/atom.xml", atom_feed(), **{"Content-Type": "application/atom+xml"}),
        "json": server.set("/feed.json", json_feed(), **{"Content-Type": "application/feed+json"}),
    }
    write_config(home, feeds)
    assert main(["--home", str(home), "fetch"]) == EXIT_OK
    capsys.readouterr()
    publish_everything(home)
    assert_no_hostile_link(home)
    # every item is archived, without a link: "[title]()" as for an item that has none
    for slug, count in (("rss", len(HOSTILE_LINKS) + 1), ("atom", len(HOSTILE_LINKS))):
        files = sorted((home / "articles" / slug).glob("*.md"))
        assert len(files) == count, slug
        assert all("]()\n------\n" in f.read_text("utf-8") for f in files)
    assert len(list((home / "articles/json").glob("*.md"))) == len(HOSTILE_LINKS) + 1
    page = (home / "site/a/rss/1048574.html").read_text("utf-8")
    assert "RSS 正文" in page and "原文 Original" not in page
    # the item log says why the link was left out, naming the scheme only
    with Archive.open(home) as archive:
        reasons = [reason for *_, reason in archive.store.item_log("rss")]
    assert any("not an http(s) URL (javascript:)" in r for r in reasons), reasons
    # a search result prints no link either
    assert main(["--home", str(home), "search", "RSS", "--json"]) == EXIT_OK
    assert "javascript" not in capsys.readouterr().out.lower()
    # fetched again: nothing new (an item without link or guid is known by its title)
    assert main(["--home", str(home), "fetch", "--force"]) == EXIT_OK
    with Archive.open(home) as archive:
        stats = {s.source: (s.articles, s.versions) for s in archive.stats()}
    count = len(HOSTILE_LINKS)
    assert (stats["rss"], stats["atom"], stats["json"]) == (
        (count + 1,) * 2,
        (count,) * 2,
        (count + 1,) * 2,
    )


def store_old(
    archive: Archive, n: str, title: str, link: str, raw_html: str, clean_html: str = ""
) -> None:
    """Store, as an older newsmirror (or an import) could have, an article of source "old"."""
    clean = clean_html or raw_html
    archive.store.store_candidate(
        Candidate(
            source="old",
            identity=f"guid:old{n}",
            guid=f"old{n}",
            url=link if link.startswith("https:") else "",
            link=link,
            title=title,
            published_ms=1_681_038_902_000,
            date_missing=False,
            raw_html=raw_html,
            clean_html=clean,
            content_hash=decide.content_hash(title, clean),
            feed_url="http://127.0.0.1:9/feed.xml",
        ),
        datetime(2023, 4, 9, 12, tzinfo=UTC),
    )


def test_a_stored_hostile_link_is_never_written(tmp_path: Path) -> None:
    """A link an older version stored (or an import brought) is left out by every writer."""
    home = tmp_path / "home"
    write_config(home, {"old": "http://127.0.0.1:9/feed.xml"})
    with Archive.open(home) as archive, archive.store.transaction():
        for n, link in enumerate(HOSTILE_LINKS):
            store_old(archive, str(n), f"旧标题 {n}", link, f"<p>旧正文 {n}</p>")
    publish_everything(home)
    texts = output_texts(home)
    del texts["export.jsonl"]  # the store's own record of what it holds (never followed)
    for path, text in texts.items():
        for bad in FORBIDDEN:
            assert bad not in decoded(text), (path, bad)
    assert len(list((home / "articles/old").glob("*.md"))) == len(HOSTILE_LINKS)
    atom = (home / "site/feeds/all.xml").read_text("utf-8")
    assert 'rel="via"' not in atom


def long_title_feed(title: str) -> str:
    return rss(
        [
            {
                "title": title,
                "link": "http://example.org/long",
                "pubDate": RFC822,
                "description": "<p>正文</p>",
            }
        ]
    )


def test_a_huge_title_is_cut_where_it_enters(
    tmp_path: Path, server: LoopbackServer, make_archive: Callable[..., Archive]
) -> None:
    huge = "长" * 3_000_000  # 9 MB of UTF-8, under the body cap
    feed = server.set("/long.xml", long_title_feed(huge))
    archive = make_archive((make_source("long", [feed]),), output=str(tmp_path / "out"))
    [report] = archive.fetch()
    assert report.new == 1
    [(_, _, title, action, reason)] = archive.store.item_log("long")
    assert len(title) == MAX_TITLE and title.endswith("…") and action == "archived"
    assert f"its title of 3000000 characters was cut to {MAX_TITLE}" in reason
    assert archive.publish_markdown().errors == []
    assert archive.publish_site(tmp_path / "site").errors == []
    written = [*(tmp_path / "out").rglob("*"), *(tmp_path / "site").rglob("*")]
    assert max(p.stat().st_size for p in written if p.is_file()) < 200_000
    article = (tmp_path / "out/articles/long/1048574.md").read_text("utf-8")
    assert f"[{'长' * (MAX_TITLE - 1)}…](http://example.org/long)" in article


@pytest.mark.parametrize(
    ("name", "body", "kind"),
    [
        (  # JSON Feed can carry any character escaped
            "feed.json",
            json.dumps(
                {
                    "version": "https://jsonfeed.org/version/1.1",
                    "items": [
                        {
                            "id": "n1",
                            "url": "http://example.org/nul",
                            "title": "空\u0000字\u0007符\u001b[31m\ud800",
                            "authors": [{"name": "作\u0000者"}],
                            "tags": ["类\u0000别"],
                            "date_published": ISO,
                            "content_html": "<p>正文</p>",
                        }
                    ],
                }
            ),
            "application/feed+json",
        ),
        (  # a raw NUL in an XML title: not well-formed, read by the tolerant path
            "feed.xml",
            long_title_feed("空\x00字\x07符"),
            "application/rss+xml",
        ),
        (  # and in an item's description (the original-mode markdown kept it)
            "content.xml",
            rss(
                [
                    {
                        "title": "空字符",
                        "link": "http://example.org/nul",
                        "pubDate": RFC822,
                        "description": "<p>正\x00文\x07</p>",
                    }
                ]
            ),
            "application/rss+xml",
        ),
    ],
)
def test_a_nul_in_a_title_reaches_no_output_file(
    tmp_path: Path, server: LoopbackServer, name: str, body: str, kind: str
) -> None:
    home = tmp_path / "home"
    write_config(home, {"nul": server.set(f"/{name}", body, **{"Content-Type": kind})})
    assert main(["--home", str(home), "fetch"]) == EXIT_OK
    publish_everything(home)
    texts = output_texts(home)
    assert any("空字符" in text for text in texts.values())  # the title, without them
    for path, text in texts.items():
        assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text), path
        assert "\\u0000" not in text and "&#0;" not in text and "%00" not in text, path
    for warc in (home / "warc").glob("*.warc.gz"):
        gzip.decompress(warc.read_bytes())  # readable (bodies hold the feed as received)


def test_a_stored_control_character_in_a_title_reaches_no_page_or_file(tmp_path: Path) -> None:
    """A title an older version stored with a NUL in it (or an import brought) is written
    without it: the markdown archive, the site's pages and the digest."""
    home = tmp_path / "home"
    write_config(home, {"old": "http://127.0.0.1:9/feed.xml"})
    title, body = "旧\x00标\x07题\x1b", "<p>旧正文</p>"
    with Archive.open(home) as archive, archive.store.transaction():
        store_old(archive, "", title, "https://example.org/old", body)
    publish_everything(home)
    texts = {p: t for p, t in output_texts(home).items() if p.endswith((".md", ".html"))}
    assert "articles/old/1048574.md" in texts and "site/a/old/1048574.html" in texts
    assert f"digests/{DAY}.md" in texts and "lists/old.md" in texts
    for path, text in texts.items():
        assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text), path
    assert "[旧标题](https://example.org/old)" in texts["articles/old/1048574.md"]


def test_content_received_with_script_urls_is_written_without_them(tmp_path: Path) -> None:
    """The markdown archive's line 5 is the feed's HTML as received (``original``), but a
    URL in it that would run script is emptied, every other byte kept; the site never
    had one (its content is cleaned)."""
    home = tmp_path / "home"
    write_config(home, {"old": "http://127.0.0.1:9/feed.xml"})
    body = (
        '<p><a href="javascript:alert(1)">一</a><a href=" JaVa&#x53;cript:x">二</a>'
        '<form action="vbscript:x"></form><a href="https://example.org/ok">三</a></p>'
    )
    with Archive.open(home) as archive, archive.store.transaction():
        store_old(archive, "x", "t", "https://e.org/1", body, "<p>一二三</p>")
    publish_everything(home)
    line5 = next((home / "articles/old").glob("*.md")).read_text("utf-8").split("\n")[4]
    assert line5 == (
        '<p><a href="">一</a><a href="">二</a>'
        '<form action=""></form><a href="https://example.org/ok">三</a></p>'
    )
