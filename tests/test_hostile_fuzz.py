"""Generated hostile feeds through the whole pipeline: fetch → store → publish (markdown
archive, static site, Atom). Whatever the items hold (dates out of any range, links of
any scheme, huge or controlled titles, deep nesting, endless attributes, header values
of any size or bytes), no command fails with a traceback, no output carries a URL that
runs script, and every example ends within hypothesis's deadline."""

from __future__ import annotations

import html as htmllib
import json
import re
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import LoopbackServer, make_source
from newsmirror.config.settings import build_config
from newsmirror.jobs.archive import Archive

LINKS = st.sampled_from(
    [
        "javascript:alert(document.domain)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "java&#115;cript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "http://127.0.0.1:1/internal",
        "https://example.org/新闻/1?utm_source=x#frag",
        "//example.org/relative",
        "",
    ]
)
DATES = st.sampled_from(
    [
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "Fri, 31 Dec 9999 23:59:59 -1200",
        "Mon, 01 Jan 0001 00:00:00 GMT",
        "Thu, 01 Jan 1970 00:00:00 +1400",
        "Sun, 09 Apr 2023 11:15:02 GMT",
        "not a date",
        "2023-04-09T11:15:02+99:00",
        "",
    ]
)
HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "Cache-Control": st.sampled_from(
            ["max-age=99999999999999999999", "max-age=-5", "max-age=²", "no-cache, max-age=9"]
        ),
        "Retry-After": st.sampled_from(["99999999999999999999", "Fri, 31 Dec 9999 23:59:59 GMT"]),
        "ETag": st.sampled_from(['"\xff\xfe\x80"', '"\x01\x02"', "W/" + '"x' * 300]),
        "Last-Modified": st.sampled_from(["Mon, 01 Jan 0001 00:00:00 GMT", "\x7f\x00junk"]),
    },
)
TITLES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            "&lt;img src=x onerror=alert(1)&gt;",
            "[bold]富[/bold] ](javascript:alert(1))",
            "标题\x00\x01\x1b[31m",
            "长" * 20_000,
        ]
    ),
)


@st.composite
def bodies(draw: st.DrawFn) -> str:
    """Article HTML an attacker would write."""
    kind = draw(st.sampled_from(["nest", "attrs", "footer", "links", "text"]))
    n = draw(st.integers(min_value=1, max_value=3000))
    if kind == "nest":
        return "<div>" * n + "深" + "</div>" * draw(st.integers(0, n))
    if kind == "attrs":
        return "<p " + " ".join(f"a{i}=x" for i in range(n)) + ">属性</p>"
    if kind == "footer":
        return "<p>正文</p>获取更多RSS" + "<br>" * n
    if kind == "links":
        link = draw(LINKS).replace('"', "&quot;")
        return (
            f'<p><a href="{link}">点</a><img src="{link}" onerror="alert(1)">'
            f'<form action="{link}"><button formaction="{link}">b</button></form>'
            '<svg><a xlink:href="javascript:alert(1)">s</a></svg>'
            "<iframe src=javascript:alert(1)></iframe><script>alert(1)</script></p>"
        )
    return draw(st.text(max_size=500)).replace("]]>", "")


@st.composite
def items(draw: st.DrawFn) -> dict[str, str]:
    return {
        "title": draw(TITLES),
        "link": draw(LINKS),
        "guid": draw(st.sampled_from(["", "urn:x:1", "urn:x:2", "javascript:alert(1)"])),
        "date": draw(DATES),
        "body": draw(bodies()),
    }


def _xml(text: str) -> str:
    """Text as XML character data: escaped, without the characters XML 1.0 forbids (a
    feed holding those is not XML; the ill-formed feeds have tests of their own)."""
    allowed = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]", "", text)
    return htmllib.escape(allowed, quote=False)


def document(kind: str, entries: list[dict[str, str]]) -> tuple[bytes, str]:
    """A feed of ``kind`` ("rss", "atom" or "json") holding the items; its content type."""
    if kind == "json":
        feed = {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "f",
            "items": [
                {
                    "id": e["guid"] or f"id-{i}",
                    "url": e["link"],
                    "title": e["title"],
                    "date_published": e["date"],
                    "content_html": e["body"],
                }
                for i, e in enumerate(entries)
            ],
        }
        return json.dumps(feed).encode("utf-8", "surrogatepass"), "application/feed+json"
    if kind == "atom":
        parts = [
            f'<entry><title>{_xml(e["title"])}</title><link href="{_xml(e["link"])}"/>'
            f"<id>{_xml(e['guid'] or e['link'])}</id><updated>{_xml(e['date'])}</updated>"
            f'<content type="html">{_xml(e["body"])}</content></entry>'
            for e in entries
        ]
        text = '<feed xmlns="http://www.w3.org/2005/Atom"><title>f</title>' + "".join(parts)
        return (text + "</feed>").encode("utf-8", "replace"), "application/atom+xml"
    parts = [
        f"<item><title>{_xml(e['title'])}</title><link>{_xml(e['link'])}</link>"
        + (f"<guid>{_xml(e['guid'])}</guid>" if e["guid"] else "")
        + f"<pubDate>{_xml(e['date'])}</pubDate>"
        f"<description>{_xml(e['body'])}</description></item>"
        for e in entries
    ]
    text = '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>f</title>'
    return (text + "".join(parts) + "</channel></rss>").encode("utf-8", "replace"), "text/xml"


_ATTRIBUTE = re.compile(r"""[\s"'/](?:[\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
_SCRIPT_URL = re.compile(r"^[\x00-\x20]*(?:java|vb)script:", re.I)


def script_urls(text: str, markdown: bool) -> list[str]:
    """The attribute values (and in markdown, link destinations) in ``text`` that a
    browser would read as a URL that runs script."""
    found = []
    values = [next(v for v in m.groups() if v is not None) for m in _ATTRIBUTE.finditer(text)]
    if markdown:
        values += re.findall(r"\]\(([^)]*)\)", text)
    for value in values:
        url = re.sub("[\t\n\r]", "", unquote(htmllib.unescape(value)))
        if _SCRIPT_URL.match(url):
            found.append(value)
    return found


def output_files(home: Path) -> Iterator[Path]:
    for path in home.rglob("*"):
        if path.is_file() and path.suffix in (".md", ".html", ".xml"):
            yield path  # (the browser search's data, .js, is never read as HTML)


@pytest.fixture(scope="module")
def feed_server() -> Iterator[LoopbackServer]:
    srv = LoopbackServer()
    yield srv
    srv.close()


@settings(
    max_examples=60,
    deadline=timedelta(seconds=60),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kind=st.sampled_from(["rss", "atom", "json"]),
    entries=st.lists(items(), min_size=1, max_size=4),
    headers=HEADERS,
    full_text=st.sampled_from(["feed", "auto"]),
)
def test_hostile_items_through_fetch_store_and_publish(
    feed_server: LoopbackServer,
    kind: str,
    entries: list[dict[str, str]],
    headers: dict[str, str],
    full_text: str,
) -> None:
    body, content_type = document(kind, entries)
    url = feed_server.set("/hostile", body, **{"Content-Type": content_type, **headers})
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        settings: dict[str, Any] = {"fetch": {"timeout": 5.0, "retries": 0}}
        config = build_config(home, settings)
        config = replace(config, sources=(make_source("h", [url], full_text=full_text),))
        with Archive(config) as archive:
            for _ in range(2):  # the second run sends back whatever validators were kept
                reports = archive.fetch(force=True)
                assert all("internal error" not in e for r in reports for e in r.errors)
            assert archive.publish_markdown().errors == []
            assert archive.publish_site().errors == []
        leaks = {
            str(p.relative_to(home)): found
            for p in output_files(home)
            if (found := script_urls(p.read_text("utf-8", "replace"), p.suffix == ".md"))
        }
        assert leaks == {}
