"""The lxml fast path gives exactly what the feedparser path gives, or declines."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsmirror.parse.fast import parse_fast
from newsmirror.parse.feeds import normalise_charset, parse_feed, parse_slow

DATA = Path(__file__).parent / "data"
DOCUMENTS = sorted(
    p for p in [*(DATA / "feeds").glob("*.xml"), *(DATA / "feedparser").rglob("*.xml")]
)
URL = "https://feeds.example/rss/feed.xml"


def test_there_are_documents_to_compare() -> None:
    assert len(DOCUMENTS) > 1500


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(DATA)))
def test_fast_path_equals_feedparser_path(path: Path) -> None:
    body = path.read_bytes()
    fast = parse_fast(normalise_charset(body, "")[0], URL, "application/xml")
    if fast is None:
        return  # declined: the feedparser path decides, nothing to compare
    slow = parse_slow(body, URL, "")
    assert fast.entries == slow.entries
    assert fast.version == slow.version


def test_the_fast_path_takes_the_real_news_feeds() -> None:
    taken = [
        p.name
        for p in (DATA / "feeds").glob("greatfire*.xml")
        if parse_fast(p.read_bytes(), URL) is not None
    ]
    assert len(taken) >= 4, taken


@pytest.mark.parametrize(
    "body",
    [
        b"<rss version='2.0'><channel><item><title>a &nbsp; b</title></item></channel></rss>",
        b"<!DOCTYPE rss [<!ENTITY e 'x'>]><rss version='2.0'><channel></channel></rss>",
        b"<rss version='2.0'><channel><item><title><b>bold</b></title></item></channel></rss>",
        b"<html><body>no</body></html>",
        b"<rss version='9'><channel></channel></rss>",
    ],
)
def test_the_fast_path_declines_what_it_cannot_promise(body: bytes) -> None:
    assert parse_fast(body, URL) is None


def test_parse_feed_reports_the_same_with_either_path() -> None:
    body = (DATA / "feeds" / "greatfire__feeds__cdt.xml").read_bytes()
    assert parse_feed(body, URL).entries == parse_slow(body, URL).entries
