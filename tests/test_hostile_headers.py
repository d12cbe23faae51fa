"""Response headers from a hostile or broken server: numbers and dates out of every range,
validators of bytes that cannot be sent back. A valid feed is taken whatever they hold,
and later fetches of it keep working."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from conftest import make_source, rss
from newsmirror import decide
from newsmirror.fetch.policy import (
    MAX_HEADER_SECONDS,
    parse_max_age,
    parse_retry_after,
    sendable_date,
    sendable_etag,
)
from newsmirror.jobs.archive import Archive
from servers import HTTPServer, Reply, Seen

RFC822 = "Sun, 09 Apr 2023 11:15:02 GMT"
FEED = rss(
    [{"title": "标题", "link": "http://example.org/1", "guid": "g1", "pubDate": RFC822}]
).encode()
XML = {"Content-Type": "application/rss+xml; charset=utf-8"}
HUGE = "99999999999999999999"
BAD_NUMBERS = [HUGE, "-5", "soon", "1e400", "²", "١٢٣", " 12 ", "0x10", ""]
BAD_DATES = [
    "Fri, 31 Dec 9999 23:59:59 GMT",
    "Fri, 31 Dec 9999 23:59:59 -1200",
    "Mon, 01 Jan 0001 00:00:00 GMT",
    "Mon, 01 Jan 0001 00:00:00 +1400",
    "Sun, 09 Apr 99999999999 11:15:02 GMT",
]


@pytest.fixture
def http() -> Iterator[HTTPServer]:
    with HTTPServer() as server:
        yield server


def test_numbers_and_dates_from_headers_are_clamped() -> None:
    now = datetime(2023, 4, 9, tzinfo=UTC)
    for value in [*BAD_NUMBERS, *BAD_DATES]:
        for seconds in (parse_retry_after(value, now), parse_max_age(f"max-age={value}")):
            assert seconds is None or 0 <= seconds <= MAX_HEADER_SECONDS
    assert parse_max_age(f"max-age={HUGE}") == MAX_HEADER_SECONDS
    assert parse_retry_after(HUGE) == MAX_HEADER_SECONDS
    assert parse_retry_after("²") is None and parse_retry_after("-5") is None
    # whatever a header or a failure count says, the next due time is a time
    assert decide.next_due(now, True, 0, max_age=1e300) == now + decide.MAX_AGE_CAP
    assert decide.next_due(now, False, 10_000, retry_after=1e300) == now + decide.BACKOFF_CAP
    assert decide.next_due(now, False, 10_000) == now + decide.BACKOFF_CAP


@pytest.mark.parametrize(
    ("name", "value"),
    [("Cache-Control", f"max-age={HUGE}"), ("Retry-After", "²")],
)
def test_a_feed_with_a_header_out_of_range_is_taken_and_fetched_again(
    http: HTTPServer, make_archive: Callable[..., Archive], name: str, value: str
) -> None:
    sent = value.encode("utf-8").decode("latin-1")  # the bytes of its UTF-8, as a server sends
    url = http.set("/feed.xml", FEED, **XML, **{name.replace("-", "_"): sent})
    archive = make_archive((make_source("a", [url]),))
    [first] = archive.fetch()
    assert (first.new, first.errors, first.failed) == (1, (), False)
    [second] = archive.fetch(force=True)
    assert (second.unchanged, second.errors, second.failed) == (1, (), False)
    [state] = archive.feed_states()
    assert state.failures == 0
    due = state.next_due
    assert due is None or due <= datetime.now(UTC) + decide.MAX_AGE_CAP + timedelta(minutes=1)


def test_a_503_asking_for_an_endless_wait_defers_the_feed_a_day_at_most(
    http: HTTPServer, make_archive: Callable[..., Archive]
) -> None:
    url = http.set("/feed.xml", b"busy", 503, Retry_After=HUGE)
    archive = make_archive((make_source("a", [url]),))
    [report] = archive.fetch()
    assert report.deferred_until and not report.failed
    assert report.deferred_until <= datetime.now(UTC) + timedelta(days=1)
    assert not any("internal error" in e for e in report.errors)


def validators(etag: str, last_modified: str) -> Callable[[Seen], object]:
    async def handler(seen: Seen) -> Reply:
        return Reply(200, FEED, {**XML, "ETag": etag, "Last-Modified": last_modified})

    return handler


@pytest.mark.parametrize(
    ("etag", "last_modified", "sent_etag", "sent_date"),
    [
        ('"\xff\xfe\x80"', RFC822, '"\xff\xfe\x80"', RFC822),  # obs-text: sent back as is
        ('"v1"', "Sun, 09 Apr 2023 \xff\xfe\x80 GMT", '"v1"', None),
        ('"v1"', "Sun, 09 Apr 2023\x01 11:15:02 GMT", '"v1"', None),
        ('"v\x01"', "x" * 5000, None, None),
        ("W/" + '"' + "e" * 5000 + '"', RFC822, None, RFC822),
    ],
)
def test_validators_of_any_bytes_never_break_the_feed(
    http: HTTPServer,
    make_archive: Callable[..., Archive],
    etag: str,
    last_modified: str,
    sent_etag: str | None,
    sent_date: str | None,
) -> None:
    url = http.route("/feed.xml", validators(etag, last_modified))  # type: ignore[arg-type]
    archive = make_archive((make_source("a", [url]),))
    [first] = archive.fetch()
    assert first.new == 1 and not first.errors
    [state] = archive.feed_states()
    assert (state.etag, state.last_modified) == (etag, last_modified)  # kept as received
    for _ in range(2):
        [again] = archive.fetch(force=True)
        assert (again.unchanged, again.errors, again.failed) == (1, (), False)
    [state] = archive.feed_states()
    assert state.failures == 0 and state.etag == etag
    for seen in http.seen[1:]:  # what was sent back: only what is valid to send
        assert seen.headers.get("if-none-match") == sent_etag
        assert seen.headers.get("if-modified-since") == sent_date


def test_what_is_valid_to_send_back() -> None:
    assert sendable_etag('"\xff\xfe\x80"') == b'"\xff\xfe\x80"'
    assert sendable_etag('W/"a b"') == b'W/"a b"'
    assert sendable_etag("abc") == b"abc"  # unquoted, as many servers send: sent back
    for bad in ("", '"a\x00"', '"a\r\nX-Evil: 1"', '"a\x7f"', '"中"', " a", "a" * 2000):
        assert sendable_etag(bad) is None
    assert sendable_date(RFC822) == RFC822.encode()
    for bad in ("", "yesterday", "Sun, 09 Apr 2023 11:15:02 GMT\x01", "é" + RFC822, "x" * 200):
        assert sendable_date(bad) is None
