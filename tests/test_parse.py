"""Tests of newsmirror.parse: real feeds, JSON Feed, rss-parser fidelity, URLs, hostile input."""

from __future__ import annotations

import json
import re
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsmirror.errors import ParseError
from newsmirror.parse.feeds import MAX_MARKUP, canonical_url, parse_feed, whatwg_href
from newsmirror.types import Enclosure, ParsedFeed

DATA = Path(__file__).parent / "data"
FEEDS = DATA / "feeds"
HOSTILE = DATA / "hostile"
FEEDPARSER = DATA / "feedparser"
URL = "https://feeds.example/rss/feed.xml"


def parse(name: str, content_type: str = "", folder: Path = FEEDS) -> ParsedFeed:
    return parse_feed((folder / name).read_bytes(), URL, content_type)


# --- real feeds ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "version", "count", "title"),
    [
        (
            "greatfire__feeds__cdt.xml",
            "rss20",
            15,
            "中国军网  | 徐才厚在病榻上结束了可悲可耻的一生",
        ),
        ("greatfire__feeds__dw.xml", "rss10", 85, "格林沃尔德获德国新闻记者奖"),
        ("greatfire__feeds__bbc.xml", "atom10", 66, "萨达姆之墓在反“伊斯兰国”战事中被毁"),
        ("greatfire__feeds__nyt.xml", "rss20", 22, "回收场一瞥：北京的碎片，在此重生"),
        (
            "deN92__latestnews__bbc.xml",
            "rss20",
            20,
            "\n Independent: паролей в інтернеті не буде? \n",
        ),
        (
            "C4droid__rss__voa.xml",
            "rss20",
            48,
            "Wilbur and Orville Wright: The First Airplane  (2025/3/18)",
        ),
    ],
)
def test_real_feeds(name: str, version: str, count: int, title: str) -> None:
    feed = parse(name, "application/rss+xml; charset=utf-8")
    assert feed.version == version
    assert len(feed.entries) == count
    assert feed.entries[0].title == title
    assert feed.warnings == ()
    for entry in feed.entries:
        for when in (entry.published, entry.updated):
            assert when is None or when.tzinfo is not None
        assert entry.link == canonical_url(entry.raw_link)


def test_real_feed_details() -> None:
    cdt = parse("greatfire__feeds__cdt.xml").entries[0]
    assert cdt.guid == "https://dhnq96zntgnq1.cloudfront.net/chinese/?p=385722"
    assert cdt.published == datetime(2015, 3, 16, 4, 34, 49, tzinfo=UTC)
    assert cdt.content.startswith("<p>原标题：其人已盖棺 反腐步不停</p>\n<p>作者：谢正平</p>")
    assert cdt.summary and cdt.authors == ("dapigu",)
    assert "Level 2 Article" in cdt.categories
    dw = parse("greatfire__feeds__dw.xml").entries[0]  # RSS 1.0: dc:date is the date
    assert dw.published == datetime(2015, 3, 15, 16, 44, tzinfo=UTC)
    assert dw.raw_link.startswith("http://www.dw.de/格林沃尔德获德国新闻记者奖/a-18317568?maca=")
    assert dw.link == "http://www.dw.de/" + whatwg_href(dw.raw_link).split("/")[3] + "/a-18317568"
    bbc = parse("greatfire__feeds__bbc.xml").entries[0]  # Atom
    assert bbc.published == datetime(2015, 3, 16, 7, 32, 23, tzinfo=UTC)
    assert bbc.updated == datetime(2015, 3, 16, 8, 6, 45, tzinfo=UTC)
    assert (
        bbc.content == "在提克里特附近的一轮战事中，伊拉克前总统萨达姆·侯塞因之墓几乎被完全夷平。"
    )
    nyt = parse("greatfire__feeds__nyt.xml").entries[0]
    assert "from=RSS" in nyt.raw_link and "from=" not in nyt.link
    voa = parse("C4droid__rss__voa.xml").entries[0]  # content:encoded only, no link
    assert voa.summary == "" and voa.content.startswith('<div class="content">')
    assert voa.link == voa.raw_link == voa.guid == ""
    assert voa.enclosures[0].type == "audio/mpeg"


def test_empty_file_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="empty body"):
        parse("gesab001__headlines__dailytelegraph.xml")


# --- fidelity with rss-parser ------------------------------------------------------------


def test_title_text_is_decoded_once_and_kept_verbatim() -> None:
    first, second, third, fourth = parse("fidelity.xml").entries
    assert first.title == "他说 &quot;不&quot; &amp; 1 < 2"
    assert second.title == "\n <b>粗体</b> &amp; 标题 \n"  # CDATA and white space as given
    assert third.title == ""
    assert fourth.title == "no content"


def test_title_is_not_stripped_or_remapped_as_feedparser_would() -> None:
    title = "  Ã© and &#x96; and &#x85;x  "
    body = f'<rss version="2.0"><channel><item><title>{title}</title></item></channel></rss>'
    # feedparser alone gives "Ã© and – and …x": stripped, C1 controls mapped to cp1252
    assert parse_feed(body.encode(), URL).entries[0].title == "  Ã© and \x96 and \x85x  "


def test_content_is_exactly_as_in_the_document() -> None:
    first, second, third, fourth = parse("fidelity.xml").entries
    assert first.content == (
        '\n  <div>  正文&nbsp;<img src="/img/a.png"> <script>alert(1)</script></div>  \n'
    )
    assert first.summary == "<p>摘要</p>"
    assert second.content == "plain <b>escaped</b> text\x96dash"  # no cp1252 remapping
    assert second.summary == ""
    assert third.content == "no title here"
    assert fourth.content == "" and fourth.summary == ""


def test_links_guids_and_metadata() -> None:
    first, second, *_ = parse("fidelity.xml").entries
    assert first.guid == "item-1"
    assert first.raw_link == (
        "https://feeds.example/cn/%E4%BA%9A%E6%B4%B2/20230409-%E9%9F%A9%E5%9B%BD"
        "?utm_source=rss&id=7&fbclid=abc#top"
    )
    assert first.link == (
        "https://feeds.example/cn/%E4%BA%9A%E6%B4%B2/20230409-%E9%9F%A9%E5%9B%BD?id=7"
    )
    assert first.published == datetime(2023, 4, 9, 11, 15, 2, tzinfo=UTC)
    assert first.categories == ("新闻", "🔥 热点")
    assert first.authors == ("记者甲",)
    assert first.enclosures == (Enclosure("https://feeds.example/audio/a.mp3", "audio/mpeg", 1234),)
    assert second.raw_link == second.link == "https://www.rfi.fr//cn/x"


def test_unparseable_date_keeps_the_entry() -> None:
    feed = parse("fidelity.xml")
    assert len(feed.entries) == 4
    assert feed.entries[1].published is None and feed.entries[1].updated is None
    assert feed.entries[2].published == datetime(2023, 4, 10, 0, 0, tzinfo=UTC)


# --- JSON Feed ---------------------------------------------------------------------------


def test_json_feed_1_1() -> None:
    feed = parse("jsonfeed-1.1.json", "application/feed+json")
    assert feed.version == "json11" and feed.title == "美国之音 JSON"
    assert len(feed.entries) == 2 and feed.warnings  # the string item was skipped
    first, second = feed.entries
    assert first.title == "韩国总统室：韩美就加强延伸威慑做最后协调"
    assert first.raw_link == "https://feeds.example/a/7042.html?utm_medium=json"
    assert first.link == "https://feeds.example/a/7042.html"
    assert first.content == "\n<p>正文 <b>一</b></p>\n" and first.summary == "摘要"
    assert first.published == datetime(2023, 4, 9, 11, 15, 2, tzinfo=UTC)
    assert first.updated == datetime(2023, 4, 10, 1, 0, tzinfo=UTC)
    assert first.authors == ("记者乙",) and first.categories == ("亚洲", "韩国")
    assert first.enclosures == (Enclosure("https://cdn.example/a.mp3", "audio/mpeg", 99),)
    assert second.guid == "42" and second.title == "" and second.published is None
    assert second.content == "text &lt;only&gt; &amp; plain"


def test_json_feed_1_0_and_feedparser_example() -> None:
    feed = parse("jsonfeed-1.0.json")  # detected from the body, no content type
    assert feed.version == "json10"
    assert feed.entries[0].authors == ("me",)
    example = parse("feedparser_example.json", "application/json")
    assert example.title == "My Example Feed" and len(example.entries) == 2
    assert example.entries[0].enclosures[0].length == 12000000
    assert example.entries[1].content == "<p>Hello, world!</p>\n\n<script>alert();</script>"


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b'{"version": "1", "items": []}',
        b'{"version": "https://jsonfeed.org/version/1"}',
        b"[1]",
    ],
)
def test_bad_json_is_a_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError, match=r"feeds\.example"):
        parse_feed(body, URL, "application/json")


# --- not feeds, ill-formed feeds ---------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty body"),
        (b" \n\t", "empty body"),
        ((HOSTILE / "html-page.html").read_bytes(), "HTML page"),
        ((HOSTILE / "gzip-body.bin").read_bytes(), "not XML or JSON"),
        (b"<?xml version='1.0'?><root><a/></root>", "not a feed"),
        (b"hello, world", "not XML or JSON \\(the body starts with “hello, world”\\)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "starts with “�PNG IHDR”"),  # no control bytes
        (b"/etc/passwd", "not XML or JSON"),  # never opened as a file name
    ],
)
def test_not_a_feed(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_feed(body, URL)


def test_bozo_feed_with_entries_gives_warnings() -> None:
    closed = b'<rss version="2.0"><channel><item><title>A &nbsp; B</title></item><item><title>C'
    whole = parse_feed(closed + b"</title></item></channel></rss>", URL)
    assert whole.version == "rss20" and [e.title for e in whole.entries] == ["A \xa0 B", "C"]
    assert whole.warnings and "SAXParseException" in whole.warnings[0]
    cut = parse_feed(closed, URL)  # cut off: the fragment of the second item is not one
    assert [e.title for e in cut.entries] == ["A \xa0 B"] and cut.ill_formed


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in (FEEDPARSER / "illformed").glob("*.xml")),
)
def test_illformed_samples(name: str) -> None:
    try:
        feed = parse(name, folder=FEEDPARSER / "illformed")
    except ParseError:
        return
    assert isinstance(feed, ParsedFeed)


def _feedparser_docs() -> list[Path]:
    return sorted(p for p in FEEDPARSER.rglob("*.xml") if p.is_file())


@pytest.mark.parametrize("path", _feedparser_docs(), ids=lambda p: p.parent.name + "/" + p.name)
def test_feedparser_corpus_gives_a_feed_or_a_parse_error(path: Path) -> None:
    body = path.read_bytes()
    header = re.search(rb"Header:\s*Content-type:\s*([^\r\n]+)", body, re.I)
    content_type = header.group(1).decode("ascii", "replace").strip() if header else ""
    try:
        feed = parse_feed(body, URL, content_type)
    except ParseError as exc:
        assert URL in str(exc)
        return
    assert all(isinstance(e.title, str) and isinstance(e.content, str) for e in feed.entries)


def test_feedparser_encoding_corpus_decodes() -> None:
    feed = parse("big5.xml", folder=FEEDPARSER / "encoding")
    assert feed.warnings == ()
    feed = parse("http_i18n.xml", "application/xml", FEEDPARSER / "encoding")
    assert feed.warnings == ()


# --- hostile input -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["xxe-file.xml", "xxe-inline.xml", "xxe-parameter.xml"])
def test_external_entities_are_never_read(name: str) -> None:
    feed = parse(name, folder=HOSTILE)
    assert len(feed.entries) == 1
    assert "root:" not in repr(feed)


def test_external_entity_pointing_at_a_marker_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER")
    for doctype in (
        f'<!DOCTYPE rss [\n<!ENTITY x SYSTEM "file://{secret}">\n]>',
        f'<!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>',
        f'<!DOCTYPE rss SYSTEM "file://{secret}">',
    ):
        body = f'<?xml version="1.0"?>\n{doctype}\n<rss version="2.0"><channel><item>'
        body += "<title>a &x; b</title><description>&x;</description></item></channel></rss>"
        assert "TOP-SECRET" not in repr(parse_feed(body.encode(), URL))


def test_billion_laughs_is_harmless() -> None:
    tracemalloc.start()
    started = time.monotonic()
    feed = parse("billion-laughs.xml", folder=HOSTILE)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert time.monotonic() - started < 2
    assert peak < 50_000_000
    assert len(feed.entries) == 1 and "lollollol" not in feed.entries[0].title


def test_fifty_megabytes_of_junk_is_refused_quickly() -> None:
    junk = bytes(range(256)) * (50 * 1024 * 1024 // 256)
    started = time.monotonic()
    with pytest.raises(ParseError, match="not XML or JSON"):
        parse_feed(junk, URL)
    assert time.monotonic() - started < 2


def test_fifty_megabytes_of_tags_is_refused() -> None:
    body = b'<rss version="2.0"><channel>' + b"<p>x</p>" * (50 * 1024 * 1024 // 8)
    with pytest.raises(ParseError, match=f"more than the {MAX_MARKUP}"):
        parse_feed(body, URL)


def test_a_huge_feed_parses() -> None:
    item = b"<item><title>t</title><description><![CDATA[<p>" + b"x" * 40_000 + b"</p>]]>"
    item += b"</description></item>"
    body = b'<rss version="2.0"><channel><title>big</title>' + item * 1300 + b"</channel></rss>"
    assert len(body) > 50_000_000
    feed = parse_feed(body, URL)
    assert len(feed.entries) == 1300 and feed.entries[-1].content.endswith("x</p>")


def test_invalid_bytes_do_not_crash() -> None:
    feed = parse("invalid-bytes.xml", folder=HOSTILE)
    assert len(feed.entries) == 1 and feed.warnings
    assert feed.entries[0].link == "https://x.example/1"


def test_undeclared_gbk_is_decoded() -> None:
    feed = parse("gbk-undeclared.xml", folder=HOSTILE)
    assert feed.title == "德国之声"
    assert feed.entries[0].title == "韩国总统室：韩美就加强延伸威慑做最后协调"
    assert feed.entries[0].content == "中文内容，没有声明编码。"
    assert any("gb18030" in w for w in feed.warnings)


def test_undeclared_big5_is_decoded() -> None:
    feed = parse("big5-undeclared.xml", folder=HOSTILE)
    assert feed.title == "自由亞洲電台"
    assert feed.entries[0].title == "韓國總統室：韓美就加強延伸威懾做最後協調"
    assert any("big5" in w for w in feed.warnings)


def test_declared_gbk_is_left_to_the_declaration() -> None:
    text = '<?xml version="1.0" encoding="gbk"?><rss version="2.0"><channel><item><title>中文'
    body = (text + "</title></item></channel></rss>").encode("gbk")
    assert parse_feed(body, URL).entries[0].title == "中文"
    assert parse_feed(body, URL, "text/xml; charset=gbk").entries[0].title == "中文"


# --- URLs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "href"),
    [
        (
            "https://www.rfi.fr/cn/亚洲/20230409-韩国",
            "https://www.rfi.fr/cn/%E4%BA%9A%E6%B4%B2/20230409-%E9%9F%A9%E5%9B%BD",
        ),
        ("http://www.rfi.fr//cn/x", "http://www.rfi.fr//cn/x"),
        ("HTTPS://Example.COM/a b", "https://example.com/a%20b"),
        ("http://x.example/a?", "http://x.example/a?"),
        (" http://x.example/\tb ", "http://x.example/b"),
    ],
)
def test_whatwg_href(url: str, href: str) -> None:
    assert whatwg_href(url) == href


@pytest.mark.parametrize("url", ["", "/relative", "http://", "http://[::1"])
def test_whatwg_href_rejects_what_node_rejects(url: str) -> None:
    with pytest.raises(ParseError):
        whatwg_href(url)


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("/a/b?utm_source=x&id=1&utm_medium=y#frag", URL, "https://feeds.example/a/b?id=1"),
        ("../x?fbclid=1", URL, "https://feeds.example/x"),
        ("HTTP://News.Example/%7Ea?b=2&a=1", "", "http://news.example/%7Ea?b=2&a=1"),
        ("https://bbc.example/n?at_medium=RSS&at_campaign=KARANGA", "", "https://bbc.example/n"),
        ("https://x.example/?FROM=Rss&from=web", "", "https://x.example/?from=web"),
        ("https://x.example/a?", "", "https://x.example/a"),
        ("javascript:alert(1)", URL, ""),
        ("mailto:a@b.example", "", ""),
        ("relative/only", "", ""),
        ("", URL, ""),
        ("http://[broken", URL, ""),
    ],
)
def test_canonical_url(url: str, base: str, expected: str) -> None:
    assert canonical_url(url, base) == expected


_PART = st.text(st.characters(codec="utf-8"), max_size=8)
_NAME = st.sampled_from(["utm_source", "id", "fbclid", "p", "from", "UTM_x", "a b", "%75tm_x"])
_PARAM = st.tuples(st.one_of(_NAME, _PART), st.one_of(st.just("rss"), _PART))


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http://", "https://", "HTTP://", "ftp://", "", "//", "/"]))
    host = draw(
        st.sampled_from(["example.com", "EXAMPLE.com", "例子.测试", "1.2.3.4", "[::1]", ""])
    )
    path = "/".join(draw(st.lists(_PART, max_size=4)))
    params = draw(st.lists(_PARAM, max_size=4))
    query = "&".join(f"{k}={v}" for k, v in params)
    fragment = draw(st.sampled_from(["", "#", "#frag", "#a?b"]))
    return f"{scheme}{host}/{path}" + (f"?{query}" if draw(st.booleans()) else "") + fragment


@given(urls(), st.sampled_from(["", URL, "not a url"]))
def test_canonical_url_is_idempotent(url: str, base: str) -> None:
    once = canonical_url(url, base)
    assert canonical_url(once) == once
    assert canonical_url(once, base) == once
    if once:
        assert once.startswith(("http://", "https://")) and "#" not in once
        query = once.partition("?")[2]
        names = [unquote_plus(p.partition("=")[0]).lower() for p in query.split("&")]
        assert not any(n.startswith("utm_") or n == "fbclid" for n in names)


@given(st.text(max_size=40), st.text(max_size=20))
def test_canonical_url_never_raises(url: str, base: str) -> None:
    once = canonical_url(url, base)
    assert canonical_url(once) == once


@pytest.mark.parametrize(
    "name", ["C4droid__rss__voa.xml", "deN92__latestnews__bbc.xml", "greatfire__feeds__nyt.xml"]
)
def test_a_cut_off_feed_gives_its_whole_items_exactly_as_the_whole_feed(name: str) -> None:
    """Cut anywhere: the items it holds whole, each exactly as the whole feed gives it
    (no fragment of the item the cut went through), and the fault named."""
    body = (Path(__file__).parent / "data" / "feeds" / name).read_bytes()
    whole = parse_feed(body, "http://example.org/feed", "application/xml")
    assert not whole.ill_formed
    for fraction in (0.3, 0.5, 0.77, 0.95):
        cut = body[: int(len(body) * fraction)]
        read = parse_feed(cut, "http://example.org/feed", "application/xml")
        closed = len(re.findall(rb"</(?:item|entry)>", cut))
        assert read.ill_formed.startswith("SAXParseException")
        assert read.entries == whole.entries[:closed]


# --- limits on what an item may bring -----------------------------------------------------


def json_item(**fields: object) -> bytes:
    item = {"id": "g", "url": "https://news.example/1", "title": "t", "content_html": "<p>x</p>"}
    item.update(fields)
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [item]}).encode()


@pytest.mark.parametrize(
    ("fields", "expected", "note"),
    [
        ({"url": "javascript:alert(1)"}, {"link": "", "raw_link": ""}, "(javascript:)"),
        ({"url": "JaVaScRiPt:alert(1)"}, {"link": "", "raw_link": ""}, "(javascript:)"),
        ({"url": "java\tscript:alert(1)"}, {"link": "", "raw_link": ""}, "(javascript:)"),
        ({"url": "data:text/html,x"}, {"link": "", "raw_link": ""}, "(data:)"),
        ({"url": "file:///etc/passwd"}, {"link": "", "raw_link": ""}, "(file:)"),
        ({"url": "https://x.example/" + "a" * 5000}, {"link": ""}, "more than 4096"),
        ({"id": "g" * 5000}, {"guid": ""}, "its guid has 5000 characters"),
        ({"title": "t\x00i\x1bt\x7fle\ud800"}, {"title": "title"}, "control characters"),
        ({"title": "标" * 600}, {"title": "标" * 499 + "…"}, "600 characters was cut to 500"),
        (
            {"tags": [str(n) for n in range(150)]},
            {"categories": tuple(map(str, range(100)))},
            "150",
        ),
        ({"tags": ["x" * 300]}, {"categories": ("x" * 199 + "…",)}, "cut to 200 characters"),
        ({"authors": [{"name": "a\x00b"}]}, {"authors": ("ab",)}, "control characters"),
    ],
)
def test_an_items_fields_are_bounded_where_they_enter(
    fields: dict[str, object], expected: dict[str, object], note: str
) -> None:
    [entry] = parse_feed(json_item(**fields), URL).entries
    for name, value in expected.items():
        assert getattr(entry, name) == value, name
    assert any(note in n for n in entry.notes), entry.notes


def test_an_item_within_the_limits_is_left_as_it_is() -> None:
    [entry] = parse_feed(json_item(title="\t标题\n", id="g" * 4096), URL).entries
    assert (entry.title, entry.guid, entry.notes) == ("\t标题\n", "g" * 4096, ())
    assert entry.raw_link == "https://news.example/1"


def test_unclosed_cdata_sections_are_counted_in_linear_time() -> None:
    body = b'<rss version="2.0"><channel>' + b"<![CDATA[<p>" * 200_000  # hours before
    started = time.process_time()
    with pytest.raises(ParseError, match=f"more than the {MAX_MARKUP}"):
        parse_feed(body, URL)
    assert time.process_time() - started < 10
