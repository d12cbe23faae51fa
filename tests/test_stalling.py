"""Hosts that stall or crawl cannot stretch a run: a host that gave no answer three times
in a row is given up for the run, one feed's pages and images get a few request timeouts
in all, and a run's pages, images and revisits a time of their own; what is left waits
for the next run, and every article is stored with what was had.

Each fetch runs in a thread of its own with a generous bound (the code before these
rules took minutes to hours here): a test fails on a run that does not end, not on one
that is a little slow."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from conftest import make_source, rss
from newsmirror.jobs.archive import Archive
from servers import HTTPServer, RawServer, Reply, Seen
from test_images import picture

RFC822 = "Sun, 09 Apr 2023 11:15:02 GMT"
PAGE = ("<html><body><article>" + "<p>" + "完整的报道内容。" * 40 + "</p>" * 3).encode()
HTML = {"Content-Type": "text/html; charset=utf-8"}
BOUND = 60.0  # seconds: far more than any of these runs takes now


async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accept the connection, read the request, and say nothing, ever."""
    await reader.read(65536)
    await asyncio.sleep(3600)


@pytest.fixture
def stalling() -> Iterator[RawServer]:
    with RawServer(never_answer) as server:
        yield server


def fast(archive: Archive, **settings: Any) -> Archive:
    """Small request timeouts (a stalled request ends in half a second), and ``settings``."""
    small = {"timeout": 1.0, "read_timeout": 0.5, "connect_timeout": 0.5}
    archive.fetch_settings = replace(archive.fetch_settings, **(small | settings))
    return archive


def opener(make_archive: Callable[..., Archive], sources: tuple[Any, ...], home: Path) -> Any:
    """What opens the archive in the thread that runs the job (a store is one thread's)."""
    config = make_archive(sources, home=home).config
    return lambda: Archive(config)


def bounded(job: Callable[[], Any]) -> Any:
    """``job()`` in a thread of its own; fails the test when it has not ended in BOUND s."""
    done: list[Any] = []
    thread = threading.Thread(target=lambda: done.append(job()), daemon=True)
    thread.start()
    thread.join(BOUND)
    assert done, f"still running after {BOUND:g} s"
    return done[0]


def summaries(links: list[str]) -> str:
    items = [
        {"title": f"摘要 {n}", "link": link, "guid": f"urn:{n}", "pubDate": RFC822}
        | {"description": "<p>摘要……</p>"}
        for n, link in enumerate(links)
    ]
    return rss(items)


def test_pages_on_a_stalling_host_are_given_up_and_every_item_is_stored(
    stalling: RawServer, make_archive: Callable[..., Archive], tmp_path: Path
) -> None:
    """Ten pages whose host accepts and never answers: after three attempts without an
    answer the others are not asked; the run ends, the ten items are stored."""
    with HTTPServer() as feeds:
        feed = feeds.set(
            "/feed.xml",
            summaries([stalling.url(f"/{n}.html") for n in range(10)]).encode(),
            Content_Type="application/rss+xml",
        )

        open_archive = opener(make_archive, (make_source("s", [feed], full_text="page"),), tmp_path)

        def run() -> Any:
            with open_archive() as archive:
                return fast(archive).fetch()[0], archive.store.fetch_log(100)

        report, log = bounded(run)
    assert report.new == 10 and not report.failed
    assert stalling.connections <= 5  # 3 in a row, and those already on their way
    errors = [row[4] for row in log if row[1].startswith(stalling.url())]
    assert sum(e.startswith("gave up on 127.0.0.1:") for e in errors) >= 5
    assert "(and 9 more items whose page was not read)" in report.errors[0]


def test_an_article_of_5000_images_on_a_stalling_host_is_stored(
    stalling: RawServer, make_archive: Callable[..., Archive], tmp_path: Path
) -> None:
    """5,000 images on a host that never answers: a few attempts, then the host is given
    up; the article is stored, its images deferred to the next run, which asks again."""
    images = "".join(f'<img src="{stalling.url(f"/{n}.png")}">' for n in range(5000))
    content = "<p>" + "很长的正文。" * 60 + "</p>" + images
    with HTTPServer() as feeds:
        feed = feeds.set(
            "/feed.xml",
            rss(
                [
                    {"title": "图", "link": "http://example.org/1", "guid": "g", "pubDate": RFC822}
                    | {"description": content}
                ]
            ).encode(),
            Content_Type="application/rss+xml",
        )
        open_archive = opener(
            make_archive, (make_source("s", [feed], mirror_images=True),), tmp_path
        )

        def run() -> Any:
            with open_archive() as archive:
                report = fast(archive).fetch()[0]
                failures = archive.store.media_failures()
                again = fast(archive).fetch(force=True)[0]  # the next run asks again
                return report, failures, again

        report, failures, again = bounded(run)
    assert report.new == 1 and not report.failed
    assert stalling.connections <= 2 * 5  # each run: three in a row and those on their way
    deferred = [f for f in failures if f[1] == "deferred"]
    assert len(deferred) >= 4990 and len(failures) == 5000
    assert any(
        line.startswith(f"{len(deferred)} images deferred to the next run")
        for line in report.errors
    )
    assert any("images deferred to the next run" in line for line in again.errors)


def slow(seconds: float, body: bytes, headers: dict[str, str]) -> Callable[[Seen], Any]:
    """A handler that answers after ``seconds``: well within every request timeout."""

    async def handler(seen: Seen) -> Reply:
        await asyncio.sleep(seconds)
        return Reply(200, body, headers)

    return handler


def test_one_feed_s_images_end_in_time_on_a_crawling_host(
    make_archive: Callable[..., Archive], tmp_path: Path
) -> None:
    """200 images, each answered in 0.3 s (never a timeout, so the host is never given
    up): at 2 at a time they would take 30 s; one feed's images get 4 request timeouts
    (4 s here), the article is stored, the rest is deferred and asked for next time."""
    with HTTPServer() as host:
        host.route("/img", slow(0.3, picture(), {"Content-Type": "image/png"}))
        images = "".join(f'<img src="{host.url("/img")}?n={n}">' for n in range(200))
        item = {"title": "图", "link": "http://example.org/1", "guid": "g", "pubDate": RFC822}
        feed = host.set(
            "/feed.xml",
            rss([item | {"description": "<p>" + "正文。" * 100 + "</p>" + images}]).encode(),
            Content_Type="application/rss+xml",
        )
        open_archive = opener(
            make_archive, (make_source("s", [feed], mirror_images=True),), tmp_path
        )

        def run() -> Any:
            with open_archive() as archive:
                report = fast(archive).fetch()[0]
                asked = len(host.seen)
                again = fast(archive).fetch(force=True)[0]
                return report, asked, again, len(host.seen) - asked

        report, asked, again, asked_again = bounded(run)
    assert report.new == 1
    assert 10 < asked < 100  # the feed, and what 4 s allowed
    [line] = [e for e in report.errors if "images deferred" in e]
    assert "the time for one feed's images (4 s) ran out" in line
    assert asked_again > 10  # the next run asked for deferred ones
    assert any("images deferred" in line for line in again.errors)


def test_a_run_s_time_for_pages_bounds_its_pages_and_a_watch_s_its_revisits(
    make_archive: Callable[..., Archive], tmp_path: Path
) -> None:
    """Pages on three hosts, each answered in 0.5 s: the run's time for pages (1.5 s
    here) ends them, whatever the hosts; the items are stored, the pages read by the next
    run. A watch likewise leaves the revisits it has no time for due, and says so."""
    with HTTPServer() as a, HTTPServer("127.0.0.2") as b, HTTPServer("127.0.0.3") as c:
        links = []
        for host in (a, b, c):
            host.route("/page", slow(0.5, PAGE, HTML))
            links += [host.url(f"/page?n={n}") for n in range(15)]
        feed = a.set("/feed.xml", summaries(links).encode(), Content_Type="application/rss+xml")
        open_archive = opener(make_archive, (make_source("s", [feed], full_text="auto"),), tmp_path)

        def run() -> Any:
            with open_archive() as archive:
                fast(archive, timeout=5.0, read_timeout=2.0, time_for_pages=1.5)
                report = archive.fetch()[0]
                watched = archive.watch(everything=True)
                return report, watched

        report, watched = bounded(run)
    assert report.new == 45
    [line] = [e for e in report.errors if "article pages deferred" in e]
    assert "the run's time for pages (1.5 s) ran out" in line
    assert int(line.split()[0]) >= 15  # at most 3 hosts × 2 × 3 rounds were read
    assert watched.deferred >= 15 and "revisits deferred to the next run" in watched.deferred_line
    assert sum(watched.outcomes.values()) + watched.deferred == 45
