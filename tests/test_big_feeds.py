"""A feed of more items than newsmirror takes in one document is not refused: the newest
items it allows are taken (document order when items have no date), and one line says
so. The item limit is lowered here so that the archive builds few items; the 100,000
items of the document, and its tag limit, are real."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from conftest import make_source
from newsmirror.errors import ParseError
from newsmirror.jobs.archive import Archive
from newsmirror.parse import feeds as parse
from servers import HTTPServer

START = datetime(2024, 1, 1, tzinfo=UTC)
KEEP = 300  # the item limit in these tests


@pytest.fixture
def http() -> Iterator[HTTPServer]:
    with HTTPServer() as server:
        yield server


@pytest.fixture(autouse=True)
def few_items(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse, "MAX_ITEMS", KEEP)


def big_rss(count: int, dated: bool = True) -> tuple[bytes, list[int]]:
    """An RSS document of ``count`` items, dated one minute apart in a shuffled order (the
    newest is not first), and the item numbers from the newest down."""
    numbers = list(range(count))
    random.Random(17).shuffle(numbers)
    parts = []
    for n in numbers:
        when = format_datetime(START + timedelta(minutes=n), usegmt=True)
        date = f"<pubDate>{when}</pubDate>" if dated else ""
        parts.append(f"<item><title>t{n}</title><link>http://example.org/{n}</link>{date}</item>")
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>big</title>'
        "<link>http://example.org/</link><description>d</description>"
        + "".join(parts)
        + "</channel></rss>"
    ).encode()
    return body, (sorted(numbers, reverse=True) if dated else numbers)


def titles(archive: Archive) -> set[str]:
    rows = archive.store.db.execute(
        "SELECT v.title FROM versions v JOIN articles a ON a.latest_version = v.id"
    )
    return {str(row[0]) for row in rows}


def test_a_feed_of_100000_items_gives_its_newest(
    http: HTTPServer, make_archive: Callable[..., Archive]
) -> None:
    body, newest = big_rss(100_000)
    assert body.count(b"<") > parse.MAX_MARKUP  # past the tag limit, whole
    url = http.set("/big.xml", body, Content_Type="application/rss+xml")
    archive = make_archive((make_source("big", [url]),))
    [report] = archive.fetch()
    assert report.new == KEEP and not report.failed
    assert titles(archive) == {f"t{n}" for n in newest[:KEEP]}
    [line] = [e for e in report.errors if "items" in e]
    assert f"took the {KEEP} newest of 100000 items" in line


def test_a_big_feed_without_dates_gives_its_first_items(
    http: HTTPServer, make_archive: Callable[..., Archive]
) -> None:
    body, order = big_rss(30_000, dated=False)
    url = http.set("/big.xml", body, Content_Type="application/rss+xml")
    archive = make_archive((make_source("big", [url]),))
    [report] = archive.fetch()
    assert report.new == KEEP
    assert titles(archive) == {f"t{n}" for n in order[:KEEP]}  # in document order
    assert any(f"took the first {KEEP} of 30000 items" in e for e in report.errors)


def test_a_big_json_feed_gives_its_newest(
    http: HTTPServer, make_archive: Callable[..., Archive]
) -> None:
    numbers = list(range(20_000))
    random.Random(3).shuffle(numbers)
    items = [
        {
            "id": f"urn:{n}",
            "url": f"http://example.org/{n}",
            "title": f"t{n}",
            "date_published": (START + timedelta(minutes=n)).isoformat(),
        }
        for n in numbers
    ]
    doc = {"version": "https://jsonfeed.org/version/1.1", "title": "big", "items": items}
    url = http.set("/big.json", json.dumps(doc).encode(), Content_Type="application/feed+json")
    archive = make_archive((make_source("big", [url]),))
    [report] = archive.fetch()
    assert report.new == KEEP
    assert titles(archive) == {f"t{n}" for n in range(20_000 - KEEP, 20_000)}


def test_trimming_keeps_the_newest_that_fit_the_tag_limit() -> None:
    body, newest = big_rss(100_000)
    parsed = parse.parse_feed(body, "http://example.org/big.xml")
    assert len(parsed.entries) == KEEP
    assert {e.title for e in parsed.entries} == {f"t{n}" for n in newest[:KEEP]}
    assert parsed.trimmed.startswith(f"took the {KEEP} newest of 100000 items")

    # a document whose tags are not its items' cannot be cut within the limit: refused
    junk = b"<x>y</x>" * 100_000
    item = b"<item><title>t</title><link>http://example.org/1</link></item>"
    body = b'<rss version="2.0"><channel><title>j</title>' + junk + item * 10 + b"</channel></rss>"
    with pytest.raises(ParseError, match=f"more than the {parse.MAX_MARKUP} accepted"):
        parse.parse_feed(body, "http://example.org/junk.xml")
