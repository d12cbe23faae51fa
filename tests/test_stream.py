"""Ingest that streams: the items of a fetch go to the store a part at a time, and those
built ahead of it stay within the archive's ``pending_items``, whatever the size of a
feed or of a run; nothing is lost, and a second run stores nothing again."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from conftest import make_source, rss
from newsmirror.jobs.archive import Archive
from servers import HTTPServer

XML = {"Content-Type": "application/rss+xml; charset=utf-8"}


@pytest.fixture
def http() -> Iterator[HTTPServer]:
    with HTTPServer() as server:
        yield server


def feed(name: str, count: int) -> bytes:
    items = [
        {
            "title": f"{name} 新闻 {i}",
            "link": f"http://news.example.org/{name}/{i}.html",
            "guid": f"{name}-{i}",
            "pubDate": f"Mon, 01 Jan 2024 {i // 60 % 24:02d}:{i % 60:02d}:00 GMT",
            "description": f"<p>{name} 第{i}条新闻的内容。</p>",
        }
        for i in range(count)
    ]
    return rss(items).encode()


@pytest.mark.parametrize("workers", [0, 1])
def test_items_built_ahead_of_the_store_stay_within_the_setting(
    http: HTTPServer,
    make_archive: Callable[..., Archive],
    monkeypatch: pytest.MonkeyPatch,
    workers: int,
) -> None:
    from newsmirror.collect import stream as streaming

    waiting: list[int] = []
    put = streaming.Stream.put

    async def noting(self: streaming.Stream, part: streaming.Part) -> None:
        await put(self, part)
        waiting.append(self.waiting)

    monkeypatch.setattr(streaming.Stream, "put", noting)
    sources = tuple(
        make_source(f"s{n}", [http.set(f"/s{n}.xml", feed(f"s{n}", 400), **XML)]) for n in range(3)
    )
    archive = make_archive(sources, pending_items=150)
    archive.workers = workers
    reports = archive.fetch()
    assert [r.new for r in reports] == [400, 400, 400]
    assert [r.errors for r in reports] == [(), (), ()]
    assert max(waiting) <= 150  # (all 1,200 at once before)
    assert len(waiting) > 3 * 3  # parts, not a batch per source
    assert archive.search("第399条").total == 3
    assert archive.evidence_stats().captures == 3  # each feed's once, over several commits
    again = archive.fetch()
    assert [(r.new, r.changed) for r in again] == [(0, 0)] * 3


def test_feeds_are_requested_at_once_and_only_their_parsing_waits_its_turn(
    http: HTTPServer, make_archive: Callable[..., Archive]
) -> None:
    """The parsing slots (collect.stream.FEEDS_AT_ONCE) are taken once a feed's answer
    is in hand: every source's request goes out at once. When a slot was held over the
    request too, no more than FEEDS_AT_ONCE requests were ever in flight, and 200 feeds
    answering after 300 ms took 30 s where they take 1."""
    import asyncio

    from newsmirror.collect.stream import FEEDS_AT_ONCE
    from servers import Reply, Seen

    in_flight, most = [0], [0]

    def slow(body: bytes) -> Callable[[Seen], object]:
        async def handler(seen: Seen) -> Reply:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
            await asyncio.sleep(0.3)  # long enough for every request to arrive meanwhile
            in_flight[0] -= 1
            return Reply(200, body, XML)

        return handler

    sources = tuple(
        make_source(f"s{n}", [http.route(f"/s{n}.xml", slow(feed(f"s{n}", 3)))])  # type: ignore[arg-type]
        for n in range(8)
    )
    archive = make_archive(sources, fetch={"per_host": 8})
    reports = archive.fetch()
    assert [r.new for r in reports] == [3] * 8
    assert most[0] > FEEDS_AT_ONCE  # 8 when every request goes out at once
