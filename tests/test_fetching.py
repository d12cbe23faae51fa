"""Fetching through the whole archive against misbehaving loopback servers."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conftest import DATA, make_source, rss
from newsmirror.cli.main import EXIT_OK, main
from newsmirror.jobs.archive import Archive
from servers import HTTPProxy, HTTPServer, Reply, Seen, SOCKS5Proxy, closed_port

RFC822 = "Sun, 09 Apr 2023 11:15:02 GMT"
FEED = rss(
    [
        {
            "title": "标题",
            "link": "http://example.org/1",
            "guid": "g1",
            "pubDate": RFC822,
            "description": "<p>正文</p>",
        }
    ]
).encode("utf-8")
XML = {"Content-Type": "application/rss+xml; charset=utf-8"}


@pytest.fixture
def http() -> HTTPServer:
    with HTTPServer() as server:
        yield server


def conditional(seen: list[Seen]) -> Callable[[Seen], object]:
    async def handler(request: Seen) -> Reply:
        seen.append(request)
        if request.headers.get("if-none-match") == '"v1"':
            return Reply(304, b"", {"ETag": '"v1"'})
        return Reply(200, FEED, {**XML, "ETag": '"v1"', "Last-Modified": RFC822})

    return handler


def test_unchanged_feed_answers_304_and_costs_no_body(
    http: HTTPServer, make_archive: Callable[..., Archive]
) -> None:
    seen: list[Seen] = []
    url = http.route("/feed.xml", conditional(seen))  # type: ignore[arg-type]
    archive = make_archive((make_source("a", [url]),))
    [first] = archive.fetch()
    assert first.new == 1 and not first.not_modified
    [second] = archive.fetch()
    assert second.not_modified and (second.new, second.unchanged, second.failed) == (0, 0, False)
    assert seen[1].headers["if-none-match"] == '"v1"'
    assert seen[1].headers["if-modified-since"] == RFC822
    last = archive.store.fetch_log(1)[0]
    assert last[2] == 304 and last[3] == 0 and last[5] is True  # status, bytes, from cache
    assert sum(s.versions for s in archive.stats()) == 1


def test_a_server_error_is_retried_and_archived(
    http: HTTPServer, make_archive: Callable[..., Archive]
) -> None:
    calls = []

    async def flaky(request: Seen) -> Reply:
        calls.append(request)
        return Reply(500, b"oops") if len(calls) == 1 else Reply(200, FEED, XML)

    url = http.route("/feed.xml", flaky)
    archive = make_archive((make_source("a", [url]),))
    [report] = archive.fetch()
    assert report.new == 1 and len(calls) == 2
    assert [row[2] for row in reversed(archive.store.fetch_log(2))] == [500, 200]


def test_429_with_a_long_retry_after_defers_past_the_run(
    http: HTTPServer, make_archive: Callable[..., Archive]
) -> None:
    url = http.set("/feed.xml", b"slow down", 429, Retry_After="3600")
    archive = make_archive((make_source("a", [url]),))
    before = datetime.now(UTC)
    [report] = archive.fetch()  # asked to wait: deferred, not a failure (exit code 0)
    assert not report.failed and "next try after" in report.errors[0]
    assert "longer wait than a run makes" in report.errors[0]
    [state] = archive.feed_states()
    assert report.deferred_until == state.next_due
    assert state.next_due >= before + timedelta(seconds=3590)
    asked = len(http.seen)
    [again] = archive.fetch()  # not due: not asked again, and not a failure
    assert len(http.seen) == asked
    assert again.deferred_until == state.next_due and not again.failed


def test_a_feed_asked_to_wait_leaves_the_next_feed_to_answer(
    http: HTTPServer, make_archive: Callable[..., Archive]
) -> None:
    busy = http.set("/busy.xml", b"slow down", 429, Retry_After="3600")
    down = http.set("/down.xml", b"gone", 404)
    live = http.set("/live.xml", FEED, **XML)
    archive = make_archive((make_source("a", [busy, live]), make_source("b", [busy, down])))
    a, b = archive.fetch()
    assert a.feed_url == live and a.new == 1 and not a.failed
    assert b.failed and not b.deferred_until  # one feed asked to wait, the other failed


def test_a_failing_feed_is_backed_off_not_hammered(
    http: HTTPServer, make_archive: Callable[..., Archive]
) -> None:
    url = http.set("/feed.xml", b"down", 503)
    archive = make_archive((make_source("a", [url]),))
    archive.fetch()
    [state] = archive.feed_states()
    first_wait = state.next_due - state.last_checked
    asked = len(http.seen)
    archive.fetch()
    assert len(http.seen) == asked  # backed off
    archive.fetch(force=True)
    [state] = archive.feed_states()
    assert state.failures == 2
    second_wait = state.next_due - state.last_checked
    assert second_wait == 2 * first_wait == timedelta(minutes=30)


def test_fallback_feed_and_sources_health(
    http: HTTPServer,
    make_archive: Callable[..., Archive],
    tmp_path: object,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dead = http.set("/dead.xml", b"gone", 410)
    live = http.set("/live.xml", FEED, **{"Content_Type": "application/rss+xml"})
    archive = make_archive((make_source("a", [dead, live]),))
    [report] = archive.fetch()
    assert report.feed_url == live
    states = {s.url: s for s in archive.feed_states()}
    assert states[dead].failures == 1 and states[dead].last_status == "410"
    assert states[live].failures == 0 and states[live].last_status == "200"
    [again] = archive.fetch()  # the dead one is backed off; the live one answers
    assert again.feed_url == live and again.unchanged == 1


def test_sources_names_a_feed_failure_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    names = ("reuters", "nyt", "voa", "ft", "bbc", "rfi", "dw", "rfa", "cdt")
    tables = [f"[sources.{n}]\nenabled = false" for n in names]
    tables.append(f'[sources.x]\nname = "x"\nfeeds = ["http://127.0.0.1:{closed_port()}/feed.xml"]')
    (home / "newsmirror.toml").write_text("\n".join(tables), "utf-8")
    assert main(["--home", str(home), "fetch"]) == 1
    capsys.readouterr()
    assert main(["--home", str(home), "sources"]) == EXIT_OK
    listed = capsys.readouterr().out
    assert "failing 1×" in listed and "(unreachable)" in listed and "Error" not in listed


def test_wrong_declared_charset_is_decoded_right(
    http: HTTPServer, make_archive: Callable[..., Archive]
) -> None:
    body = FEED.replace(b'encoding="UTF-8"', b'encoding="iso-8859-1"')
    latin = http.set("/latin.xml", body, Content_Type="text/xml; charset=iso-8859-1")
    gbk_body = (
        FEED.decode("utf-8")
        .replace("UTF-8", "gb2312")
        .replace("http://example.org/1", "http://example.org/2")
        .replace("g1", "g2")
        .encode("gbk")
    )
    gbk = http.set("/gbk.xml", gbk_body, Content_Type="text/xml; charset=utf-8")
    archive = make_archive((make_source("l", [latin]), make_source("g", [gbk])))
    reports = {r.source: r for r in archive.fetch()}
    assert reports["l"].new == 1 and reports["g"].new == 1
    for ref in ("g1", "g2"):
        article = archive.show(ref)
        assert article is not None and article.versions[0].title == "标题"
        assert "正文" in article.versions[0].raw_html


def test_sources_through_an_http_proxy_and_a_socks5_proxy(
    http: HTTPServer, make_archive: Callable[..., Archive]
) -> None:
    url = http.set("/feed.xml", FEED, **{"Content_Type": "application/rss+xml"})
    with HTTPProxy() as proxy, SOCKS5Proxy() as socks:
        archive = make_archive(
            (
                make_source("viahttp", [url], proxy=proxy.url),
                make_source("viasocks", [url], proxy=socks.url),
                make_source("direct", [url], direct=True),
            )
        )
        reports = {r.source: r for r in archive.fetch()}
        assert all(r.new == 1 for r in reports.values()), reports
        assert proxy.seen == [url]
        assert socks.seen == [("127.0.0.1", http.port)]


def test_cli_exit_code_is_0_when_a_source_is_only_deferred(
    http: HTTPServer, tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathlib import Path

    home = Path(str(tmp_path)) / "home"
    home.mkdir()
    url = http.set("/feed.xml", b"later", 429, Retry_After="7200")
    names = ("reuters", "nyt", "voa", "ft", "bbc", "rfi", "dw", "rfa", "cdt")
    tables = [f"[sources.{n}]\nenabled = false" for n in names]
    tables.append(f'[sources.x]\nname = "x"\nfeeds = ["{url}"]')
    (home / "newsmirror.toml").write_text("\n".join(tables), "utf-8")
    assert main(["--home", str(home), "fetch"]) == EXIT_OK  # asked to wait: deferred
    assert "failed:" not in capsys.readouterr().err
    assert main(["--home", str(home), "fetch"]) == EXIT_OK  # then not due
    printed = capsys.readouterr()
    # the table and the error lines write times alike: 2026-11-27 16:31 UTC
    assert re.search(r"not due until \d{4}-\d\d-\d\d \d\d:\d\d UTC", printed.out)
    assert main(["--home", str(home), "sources"]) == EXIT_OK
    listed = capsys.readouterr().out
    assert "failing 1×" in listed and "next due (UTC)" in listed
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", listed)


def test_a_source_named_twice_is_fetched_once(
    http: HTTPServer, make_archive: Callable[..., Archive]
) -> None:
    archive = make_archive((make_source("a", [http.set("/a.xml", FEED, **XML)]),))
    assert [(r.source, r.new) for r in archive.fetch(["a", "a"])] == [("a", 1)]
    assert len(http.seen) == 1


def test_batches_are_stored_as_they_come_and_committed_together(
    http: HTTPServer, make_archive: Callable[..., Archive], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Feeds answering together share a commit; a late feed does not hold them back: they
    are committed (visible to another connection) while it is still on its way."""
    import sqlite3

    from newsmirror.jobs import fetch as archivefetch

    quick = [http.set(f"/q{i}.xml", FEED, **XML) for i in range(6)]
    seen_meanwhile: list[int] = []
    archive: Archive

    async def late(request: Seen) -> Reply:
        await asyncio.sleep(archivefetch.COMMIT_EVERY * 2 + 0.5)
        with contextlib.closing(sqlite3.connect(archive.config.database_path)) as other:
            seen_meanwhile.append(other.execute("SELECT COUNT(*) FROM articles").fetchone()[0])
        return Reply(200, FEED, XML)

    slow = http.route("/late.xml", late)
    sources = [make_source(f"q{i}", [url]) for i, url in enumerate(quick)]
    archive = make_archive((*sources, make_source("late", [slow])))
    archive.workers = 0
    commits = traced_commits(archive)
    reports = archive.fetch()
    assert [r.new for r in reports] == [1] * 7
    assert seen_meanwhile == [6]  # the six quick ones were committed before the late one came
    assert len(commits) == 2  # the six together, then the late one

    # Each source is a part of one item (2) and its batch (1): 4 makes two to a commit.
    monkeypatch.setattr(archivefetch, "COMMIT_ITEMS", 4)
    for i in range(6):
        http.set(f"/q{i}.xml", FEED.replace(b"<p>", b"<p>2 "), **XML)
    commits.clear()
    assert sum(r.changed for r in archive.fetch()) == 6
    assert len(commits) >= 4  # at most two batches to a commit, then the late one


def test_a_batch_is_stored_while_later_feeds_are_still_on_their_way(
    http: HTTPServer, make_archive: Callable[..., Archive], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store works while the network does: a batch is stored when its feed has
    answered, not when the commit it joins is made."""
    from newsmirror.jobs import fetch as archivefetch

    monkeypatch.setattr(archivefetch, "COMMIT_EVERY", 30.0)  # one commit for the run
    answered: list[str] = []
    stored: list[tuple[str, list[str]]] = []

    async def late(request: Seen) -> Reply:
        await asyncio.sleep(1.0)
        answered.append("late")
        return Reply(200, FEED, XML)

    quick = [make_source(f"q{i}", [http.set(f"/q{i}.xml", FEED, **XML)]) for i in range(3)]
    archive = make_archive((*quick, make_source("late", [http.route("/late.xml", late)])))
    archive.workers = 0
    store_batch = archivefetch.FetchJob._store_batch

    def noting(job: object, batch: object, now: datetime, *rest: object) -> object:
        stored.append((batch.source.slug, list(answered)))  # type: ignore[attr-defined]
        return store_batch(job, batch, now, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(archivefetch.FetchJob, "_store_batch", noting)
    commits = traced_commits(archive)
    assert [r.new for r in archive.fetch()] == [1, 1, 1, 1]
    assert sorted(stored) == [("late", ["late"]), ("q0", []), ("q1", []), ("q2", [])]
    assert len(commits) == 1


def traced_commits(archive: Archive) -> list[str]:
    """The COMMITs the archive's store makes from now on, as they are made."""
    commits: list[str] = []

    def note(sql: str) -> None:
        if sql == "COMMIT":
            commits.append(sql)

    archive.store.db.set_trace_callback(note)
    return commits


def test_fetch_of_an_unknown_source_is_refused_before_anything_is_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"  # an archive (a missing home is refused before any name)
    home.mkdir()
    (home / "newsmirror.toml").write_text("", "utf-8")
    assert main(["--home", str(home), "fetch", "--source", "nosuch"]) == 2
    assert "no source named 'nosuch'" in capsys.readouterr().err
    assert sorted(p.name for p in home.iterdir()) == ["newsmirror.toml"]  # nothing made


def test_captures_and_the_fetch_log_have_the_time_each_answer_came(
    http: HTTPServer, make_archive: Callable[..., Archive]
) -> None:
    """Not the run's start: a feed that answers late is filed under its own time."""

    async def late(request: Seen) -> Reply:
        await asyncio.sleep(1.5)
        return Reply(200, FEED.replace(b"g1", b"g2"), XML)

    quick = make_source("quick", [http.set("/quick.xml", FEED, **XML)])
    archive = make_archive((quick, make_source("late", [http.route("/late.xml", late)])))
    began = datetime.now(UTC)
    archive.fetch()
    logged = dict(archive.store.db.execute("SELECT source, at FROM fetch_log").fetchall())
    captured = dict(archive.store.db.execute("SELECT source, at FROM captures").fetchall())
    for times in (logged, captured):
        quick_at, late_at = (datetime.fromisoformat(times[s]) for s in ("quick", "late"))
        assert began <= quick_at < began + timedelta(seconds=1.2) <= late_at


def test_a_cut_off_feed_is_read_as_far_as_it_goes_and_said_so(
    http: HTTPServer, make_archive: Callable[..., Archive]
) -> None:
    whole = (DATA / "feeds" / "C4droid__rss__voa.xml").read_bytes()
    cut = http.set("/cut.xml", whole[: len(whole) // 2], ETag='"cut"', **XML)
    archive = make_archive(
        (make_source("cut", [cut]), make_source("whole", [http.set("/whole.xml", whole, **XML)]))
    )
    cut_off, full = archive.fetch()
    assert 0 < cut_off.new < full.new and not cut_off.failed and not full.errors
    [line] = cut_off.errors
    assert "not well-formed (SAXParseException" in line
    assert f"took the {cut_off.new} items read whole before the fault" in line
    # whole again: the items it held whole were stored as the whole feed gives them; the
    # cut document's validators were not kept (a 304 would answer for a document in part)
    http.set("/cut.xml", whole, ETag='"cut"', **XML)
    [again] = archive.fetch(["cut"], force=True)
    asked = [r.headers.get("if-none-match") for r in http.seen if r.path == "/cut.xml"]
    assert asked == [None, None]
    assert (again.new, again.changed, again.new + again.unchanged) == (
        full.new - cut_off.new,
        0,
        full.new,
    )


def test_a_feed_cut_off_before_its_first_item_fails_over_to_the_next(
    http: HTTPServer, make_archive: Callable[..., Archive]
) -> None:
    whole = (DATA / "feeds" / "C4droid__rss__voa.xml").read_bytes()
    cut = http.set("/cut.xml", whole[: whole.index(b"<item")], **XML)
    archive = make_archive((make_source("s", [cut, http.set("/next.xml", whole, **XML)]),))
    [report] = archive.fetch()
    assert report.feed_url.endswith("/next.xml") and report.new > 0 and not report.failed
    assert any("no item whole before it" in e for e in report.errors)
    states = {s.url: s for s in archive.feed_states()}
    assert states[cut].failures == 1  # a failed feed: backed off, not a 200 with no news
